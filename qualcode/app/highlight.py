"""Segment text as safe HTML with the evidence terms marked, each code in its own colour.

Evidence offsets are relative to the segment text. Everything from the text is
HTML-escaped; only our own <mark>/<br> tags are added. Overlapping spans merge; a
mark that belongs to several codes is striped in their colours.
"""
from __future__ import annotations

from html import escape

MARK_COLOUR = "#ffe08a"
MARK_STYLE = f"background:{MARK_COLOUR};padding:0 2px;border-radius:3px"
# (mark background, swatch/underline): light enough to read black text on, distinct side by side
PALETTE = [("#ffd8a8", "#e8590c"), ("#a5d8ff", "#1971c2"), ("#b2f2bb", "#2b8a3e"), ("#eebefa", "#9c36b5"),
           ("#ffec99", "#e67700"), ("#99e9f2", "#0c8599"), ("#fcc2d7", "#c2255c"), ("#d0bfff", "#6741d9"),
           ("#c0eb75", "#5c940d"), ("#ffc9c9", "#e03131")]


def code_colours(codes) -> dict[str, tuple[str, str]]:
    """One palette colour per code, in the order given (the order the suggestions are listed)."""
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(dict.fromkeys(codes))}


def merge_spans(spans, length: int) -> list[tuple[int, int, list[str]]]:
    """Clip spans to [0, length), drop empty ones and merge overlaps, keeping every label."""
    return [(start, end, [label for label, _ in marks]) for start, end, marks in _merge(spans, length)]


def _merge(spans, length: int) -> list[tuple[int, int, list[tuple[str, str]]]]:
    """Like merge_spans, keeping (label, colour) pairs; spans are (start, end, label[, colour])."""
    clean = sorted((max(0, int(s[0])), min(length, int(s[1])), s[2], s[3] if len(s) > 3 and s[3] else MARK_COLOUR)
                   for s in spans if min(length, int(s[1])) > max(0, int(s[0])))
    merged: list[tuple[int, int, list[tuple[str, str]]]] = []
    for start, end, label, colour in clean:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            extra = [] if (label, colour) in last[2] else [(label, colour)]
            merged[-1] = (last[0], max(last[1], end), last[2] + extra)
        else:
            merged.append((start, end, [(label, colour)]))
    return merged


def _text(part: str) -> str:
    return escape(part).replace("\n", "<br>")


def _background(colours: list[str]) -> str:
    colours = list(dict.fromkeys(colours))
    if len(colours) == 1:
        return f"background:{colours[0]}"
    step = 100 / len(colours)
    stops = ",".join(f"{c} {i * step:.0f}% {(i + 1) * step:.0f}%" for i, c in enumerate(colours))
    return f"background:linear-gradient(180deg,{stops})"


def highlight_html(text: str, spans=()) -> str:
    """HTML for ``text`` with ``spans`` ((start, end, label[, colour]) offsets into it) wrapped in <mark>."""
    out, pos = [], 0
    for start, end, marks in _merge(spans, len(text)):
        out.append(_text(text[pos:start]))
        title = escape("; ".join(label for label, _ in marks if label), quote=True)
        style = f"{_background([c for _, c in marks])};padding:0 2px;border-radius:3px;color:inherit"
        out.append(f'<mark title="{title}" style="{style}">{_text(text[start:end])}</mark>')
        pos = end
    out.append(_text(text[pos:]))
    return "".join(out)
