"""Segment text as safe HTML with the evidence terms marked.

Evidence offsets are relative to the segment text. Everything from the text is
HTML-escaped; only our own <mark>/<br> tags are added. Overlapping spans merge.
"""
from __future__ import annotations

from html import escape

MARK_STYLE = "background:#ffe08a;padding:0 2px;border-radius:3px"


def merge_spans(spans, length: int) -> list[tuple[int, int, list[str]]]:
    """Clip spans to [0, length), drop empty ones and merge overlaps, keeping every label."""
    clean = sorted((max(0, int(s)), min(length, int(e)), label) for s, e, label in spans
                   if min(length, int(e)) > max(0, int(s)))
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, label in clean:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2] + ([label] if label not in last[2] else []))
        else:
            merged.append((start, end, [label]))
    return merged


def _text(part: str) -> str:
    return escape(part).replace("\n", "<br>")


def highlight_html(text: str, spans=()) -> str:
    """HTML for ``text`` with ``spans`` ((start, end, label) offsets into it) wrapped in <mark>."""
    out, pos = [], 0
    for start, end, labels in merge_spans(spans, len(text)):
        out.append(_text(text[pos:start]))
        title = escape("; ".join(label for label in labels if label), quote=True)
        out.append(f'<mark title="{title}" style="{MARK_STYLE}">{_text(text[start:end])}</mark>')
        pos = end
    out.append(_text(text[pos:]))
    return "".join(out)
