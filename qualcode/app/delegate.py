"""Pages owned by other modules: call their ``render(ctx)`` when present, else say the page is coming."""
from __future__ import annotations

import importlib
import importlib.util

import streamlit as st


def render_optional(module: str, title: str, ctx) -> None:
    if importlib.util.find_spec(module) is None:
        st.title(title)
        st.info(f"{title} kommer: denne siden er ikke ferdig ennå.")
        return
    importlib.import_module(module).render(ctx)
