"""The app frame: page setup, the store check, the sidebar (reviewer name, retraining) and navigation."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from qualcode.app.context import REVIEWER_KEY, AppContext, get_context
from qualcode.coding.codebook import CodebookError
from qualcode.store.location import display_name

PAGES_DIR = Path(__file__).with_name("pages")
# (file in pages/, title, icon, url path)
PAGES = [
    ("oversikt.py", "Oversikt", ":material/dashboard:", "oversikt"),
    ("importer.py", "Import", ":material/upload_file:", "import"),
    ("gjennomgang.py", "Gjennomgang", ":material/rate_review:", "gjennomgang"),
    ("sok.py", "Søk", ":material/search:", "sok"),  # search: corpus search, word frequencies, new codes
    ("kodebok.py", "Kodebok", ":material/menu_book:", "kodebok"),
    ("analyse.py", "Analyse", ":material/insights:", "analyse"),
    ("reliabilitet.py", "Reliabilitet", ":material/balance:", "reliabilitet"),
    ("eksport.py", "Eksport", ":material/download:", "eksport"),
]
# state that must survive switching pages (Streamlit drops the state of widgets a page does not draw)
PERSISTENT = ("retrain_every", "f_document", "f_code", "f_status", "f_band", "f_order")


def _keep_state() -> None:
    for key in PERSISTENT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _sidebar(ctx: AppContext) -> None:
    from qualcode.app.retrain import default_every

    with st.sidebar:
        # bound to the URL (?reviewer=Kari): a reload or a bookmark keeps the name, every page sees it
        st.text_input("Ditt navn", key=REVIEWER_KEY, placeholder="Skriv navnet ditt", bind="query-params",
                      help="Alle endringer lagres med navnet ditt og tidspunktet. Navnet står i adressen, "
                           "så det huskes når du laster siden på nytt.")
        if not ctx.reviewer:
            st.caption("Skriv navnet ditt før du gjør endringer.")
        st.session_state.setdefault("retrain_every", default_every())
        st.number_input("Tren modellen på nytt etter antall gjennomgåtte segmenter", min_value=1, max_value=1000,
                        step=1, key="retrain_every",
                        help="Segmenter du har trykket «Ferdig – neste» på, i denne økten "
                             "(standard: $QUALCODE_RETRAIN_EVERY).")
        _last_training(ctx)
        st.caption(f"Database: `{display_name(ctx.db)}`  \nKodebok: `{ctx.codebook_path.name}`")


def _last_training(ctx: AppContext) -> None:
    from qualcode.app.retrain import retrainer_for
    from qualcode.formats import number

    trainer = retrainer_for(ctx.db)
    if trainer.running:
        st.caption("⏳ Modellen trenes nå.")
    elif trainer.last is not None and trainer.last.ok and trainer.last.after is not None:
        before = number(trainer.last.before) if trainer.last.before is not None else "–"
        st.caption(f"Siste trening: makro-kappa {before} → {number(trainer.last.after)}")


STYLE = "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>"
# Streamlit's own English (placeholders, the upload box, table toolbar) replaced in the page as it appears
NORWEGIAN = "<script>" + Path(__file__).with_name("norsk.js").read_text(encoding="utf-8") + "</script>"


def _warm_ranking(ctx: AppContext) -> None:
    from qualcode.app.ranking import ranking_for

    ranking = ranking_for(ctx.db)
    if not ranking.warmed:
        ranking.warm(ctx.factory, ctx.codebook)


def _start_page() -> None:
    from qualcode.app import overview_page

    overview_page.render(get_context())


def main() -> None:
    st.set_page_config(page_title="qualcode", page_icon=":material/rate_review:", layout="wide")
    st.html(STYLE)
    with st.sidebar:
        st.html(NORWEGIAN, unsafe_allow_javascript=True)
    _keep_state()
    ctx = get_context()
    if not ctx.store_exists:
        st.error(f"Fant ingen database på {ctx.db}. Lag en med `qualcode demo --db {ctx.db}` "
                 f"(demodata) eller `qualcode run MAPPE --db {ctx.db}`, og start appen på nytt.")
        st.stop()
    try:
        ctx.codebook  # a broken codebook file stops here, with the reason, not in every page
    except CodebookError as err:
        st.error(f"Kodeboken {ctx.codebook_path} kan ikke brukes. Rett feilen og last siden på nytt:\n\n```\n{err}\n```")
        st.stop()
    _warm_ranking(ctx)
    _sidebar(ctx)
    pages = [st.Page(str(PAGES_DIR / file), title=title, icon=icon, url_path=url) for file, title, icon, url in PAGES]
    # every page has its own address (/oversikt too); the start page "/" shows Oversikt as well
    start = st.Page(_start_page, title=PAGES[0][1], url_path="start", default=True, visibility="hidden")
    st.navigation([start, *pages]).run()
