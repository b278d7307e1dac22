"""Small display helpers shared by the pages (Norwegian labels, safe text boxes, one-shot messages)."""
from __future__ import annotations

from html import escape

import streamlit as st

from qualcode.app.highlight import highlight_html

SOURCE_NAMES = {"rule": "regel", "model": "modell", "reviewer": "gjennomgang"}
FLASH_KEY = "_flash"

BOX_STYLE = ("border:1px solid #c9ccd3;border-radius:6px;padding:0.8rem 1rem;background:#fbfbfd;"
             "line-height:1.55;font-size:1.02rem")
CONTEXT_STYLE = "color:#5f6470;font-size:0.9rem;line-height:1.45;padding:0.2rem 1rem;border-left:3px solid #e2e4e9"


def code_label(codebook, code_id: str) -> str:
    """"tema › kode – navn", the way codes are named everywhere in the app."""
    try:
        code, theme = codebook.code(code_id), codebook.theme_of(code_id)
    except KeyError:
        return f"{code_id} (ikke i kodeboken)"
    return f"{theme.name} › {code.id} – {code.name}"


def text_box(text: str, spans=(), *, label: str | None = None, style: str = BOX_STYLE) -> None:
    """Segment text in a box; the text is escaped, evidence spans marked."""
    head = f'<div style="font-size:0.8rem;color:#5f6470;margin-bottom:0.2rem">{escape(label)}</div>' if label else ""
    st.html(f'{head}<div style="{style}">{highlight_html(text, spans)}</div>')


def context_box(text: str | None, label: str, limit: int = 600) -> None:
    if text:
        short = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
        text_box(short, label=label, style=CONTEXT_STYLE)


def flash(kind: str, message: str) -> None:
    """Queue a message for the next run (set from button callbacks)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(message)
