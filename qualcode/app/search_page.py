"""Søk: search the corpus (keyword in context, code the hits, save as a pattern proposal),
word frequencies, and suggestions for new codes.

Everything is computed by ``qualcode.search`` (the same code as `qualcode search`,
`qualcode words` and `qualcode discover`); coding goes through ``qualcode.review.actions``.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import func, select

from qualcode.app.escape import md
from qualcode.app.widgets import code_label, flash, show_flash, text_box
from qualcode.formats import number
from qualcode.search.query import QueryError
from qualcode.search.search import Filters, SearchResult
from qualcode.store import schema

VIEWS = {"search": "Søk i teksten", "words": "Ordfrekvenser", "discover": "Nye koder"}
SHOWN = 200  # hits listed (all are counted and can be coded)
KWIC_WIDTH = 42  # characters of context either side: what fits the table's columns beside the keyword
SEARCH_KEY, DISCOVER_KEY, UNDO_KEY = "_sok_result", "_sok_discovery", "_sok_undo"
SYNTAX = ('Et ord finner alle bøyningsformer og sammensatte ord det er siste ledd i (*veiledning* finner '
          '*foreldreveiledningen*). "tidlig innsats" = uttrykk, NEAR(foreldre veiledning, 5) = nær hverandre, '
          'ELLER / OR, IKKE / NOT (eller -ord), forebygg* = ord som begynner slik, (…) grupperer.')
REVIEWED = {None: "Alle", True: "Gjennomgått", False: "Ikke gjennomgått"}
WORD_GROUPS = {"place": "Kommune", "theme": "Tema", "code": "Kode", "year": "År", "doc_type": "Dokumenttype"}


@dataclass
class SearchState:
    result: SearchResult
    filters: Filters
    parts: bool


def render(ctx) -> None:
    st.title("Søk")
    _warm_lemmatiser()
    _warm_word_counts(ctx.db, _fingerprint(ctx.factory))
    show_flash()
    _undo_bar(ctx)
    view = st.radio("Visning", list(VIEWS), format_func=VIEWS.get, horizontal=True, key="sok_view",
                    label_visibility="collapsed")
    if view == "search":
        _search_view(ctx)
    elif view == "words":
        _words_view(ctx)
    else:
        _discover_view(ctx)


@st.cache_resource(show_spinner=False)
def _warm_lemmatiser() -> None:
    """Load the lemmatiser's dictionary in the background once, so the first search does not wait for it."""
    import threading

    from qualcode.search.terms import term

    threading.Thread(target=term, args=("barnehagene",), daemon=True, name="qualcode-warm-lemmas").start()


@st.cache_resource(show_spinner=False, max_entries=4)
def _warm_word_counts(db: str, fingerprint: tuple) -> None:
    """Read the corpus's lemmas into memory in the background (once per state of the index), so the
    word frequencies answer from memory when the researcher opens them."""
    import threading

    def warm() -> None:
        from qualcode.search.frequencies import store_counts
        from qualcode.store.db import session_factory

        with session_factory(db)() as session:
            store_counts(session)

    threading.Thread(target=warm, daemon=True, name="qualcode-warm-words").start()


def _undo_bar(ctx) -> None:
    """Undo the last coding of many segments made on this page (search hits or a new code's group)."""
    from qualcode.review.actions import undo_many

    last = st.session_state.get(UNDO_KEY)
    if not last:
        return
    text, button = st.columns([4, 1])
    text.caption(f"Siste koding herfra: {last['n']} segment(er) med {last['code']} av {last['reviewer']}.")
    if button.button("Angre", key="sok_undo", disabled=ctx.reviewer != last["reviewer"],
                     help=None if ctx.reviewer == last["reviewer"] else f"Bare {last['reviewer']} kan angre."):
        undone = undo_many(ctx.factory, last["audit_id"], last["reviewer"])
        st.session_state.pop(UNDO_KEY, None)
        st.session_state.pop(SEARCH_KEY, None)
        flash("success", f"Angret: {len(undone.codings) if undone else 0} koding(er) med {last['code']} er fjernet.")
        st.rerun()


def _fingerprint(factory) -> tuple:
    """Changes whenever codings, reviews, documents or the index change, so cached tables refresh."""
    with factory() as session:
        return (session.scalar(select(func.max(schema.AuditEntry.id))),
                session.scalar(select(func.count(schema.Segment.id))),
                session.scalar(select(func.count(schema.SearchTerms.segment_id))))


@st.cache_data(show_spinner=False, max_entries=16)
def _choices(db: str, fingerprint: tuple) -> dict[str, list]:
    from qualcode.search.search import place_column
    from qualcode.store.db import session_factory

    D = schema.Document
    with session_factory(db)() as session:
        places = sorted(p for p in session.scalars(select(place_column()).distinct()) if p)
        years = sorted(y for y in session.scalars(select(D.year).distinct()) if y)
        types = sorted(t for t in session.scalars(select(D.doc_type).distinct()) if t)
    return {"places": places, "years": years, "types": types}


def _filter_widgets(ctx, prefix: str, codes: bool = True) -> Filters:
    choices = _choices(ctx.db, _fingerprint(ctx.factory))
    c1, c2, c3 = st.columns(3)
    places = c1.multiselect("Kommune", choices["places"], key=f"{prefix}_place", placeholder="Alle")
    years = c2.multiselect("År", choices["years"], key=f"{prefix}_year", placeholder="Alle")
    types = c3.multiselect("Type", choices["types"], key=f"{prefix}_type", placeholder="Alle")
    code = without = reviewed = None
    if codes:
        book = ctx.codebook
        c4, c5, c6 = st.columns(3)
        code = c4.selectbox("Har koden", [None, *book.code_ids], key=f"{prefix}_code",
                            format_func=lambda c: "Alle" if c is None else code_label(book, c))
        without = c5.selectbox("Har ikke koden", [None, *book.code_ids], key=f"{prefix}_without",
                               format_func=lambda c: "Alle" if c is None else code_label(book, c))
        reviewed = c6.selectbox("Gjennomgått", list(REVIEWED), format_func=REVIEWED.get, key=f"{prefix}_reviewed")
    return Filters(tuple(places), tuple(years), tuple(types), code, without, reviewed)


# -- search -------------------------------------------------------------------------------------
def _search_view(ctx) -> None:
    with st.form("sok_form", border=False):
        query = st.text_input("Søk etter", key="sok_query", help=SYNTAX,
                              placeholder='f.eks. veiledning, "tidlig innsats", NEAR(foreldre veiledning, 5)')
        with st.expander("Filtre og valg"):
            filters = _filter_widgets(ctx, "sok")
            parts = st.checkbox("Finn også ordet inne i sammensatte ord (ikke bare som siste ledd)", key="sok_parts",
                                help="«veiledning» finner da også «veiledningstilbud».")
        submitted = st.form_submit_button("Søk", type="primary", key="sok_submit")
    st.caption(SYNTAX)
    if submitted:
        _run_search(ctx, query, filters, parts)
    state: SearchState | None = st.session_state.get(SEARCH_KEY)
    if state is not None:
        _results(ctx, state)


def _run_search(ctx, query: str, filters: Filters, parts: bool) -> None:
    from qualcode.search.search import search

    bar = st.empty()

    def progress(done: int, todo: int) -> None:
        bar.progress(done / max(todo, 1), text=f"Bygger søkeindeksen: {done} av {todo} segmenter")

    try:
        result = search(ctx.factory, query, filters, parts=parts, limit=SHOWN, progress=progress)
    except QueryError as err:
        st.session_state.pop(SEARCH_KEY, None)
        st.error(f"Søket kan ikke leses: {err}")
        return
    finally:
        bar.empty()
    st.session_state[SEARCH_KEY] = SearchState(result, filters, parts)


def hits_frame(result: SearchResult, width: int = KWIC_WIDTH) -> pd.DataFrame:
    """The keyword-in-context table: source, left context, the matching words, right context."""
    rows = []
    for n, hit in enumerate(result.hits, start=1):
        left, keyword, right = hit.kwic(width)
        rows.append({"nr": n, "kilde": hit.citation, "før": left,
                     "treff": keyword, "etter": right, "segment": hit.segment_id})
    return pd.DataFrame(rows, columns=["nr", "kilde", "før", "treff", "etter", "segment"])


def _results(ctx, state: SearchState) -> None:
    result = state.result
    where = f" · {md(state.filters.describe())}" if state.filters.describe() else ""
    seconds = number(result.seconds, 2)
    if not result.total:
        st.info(f"Ingen treff på «{md(result.query)}»{where}. Prøv ord* for andre endelser, eller slå på «inne i "
                f"sammensatte ord» under Filtre og valg.")
        return
    st.markdown(f"**{result.total} treff** i {result.documents} dokument(er) på «{md(result.query)}»{where} "
                f"({seconds} s)" + (f" – viser de første {SHOWN}" if result.total > SHOWN else ""))
    frame = hits_frame(result)
    styled = frame.style.set_properties(subset=["treff"], **{"background-color": "#ffe08a", "font-weight": "bold"})
    event = st.dataframe(
        styled, hide_index=True, key="sok_table", on_select="rerun", selection_mode="multi-row",
        column_order=["kilde", "før", "treff", "etter"],
        column_config={"kilde": st.column_config.TextColumn("kilde", width=235),
                       "før": st.column_config.TextColumn("før", width=255, alignment="right"),
                       "treff": st.column_config.TextColumn("treff", width=140),
                       "etter": st.column_config.TextColumn("etter", width=255)},
        height=min(38 + 35 * len(frame), 520))
    selected = [int(frame["segment"].iloc[i]) for i in (event.selection.rows if event is not None else [])]
    _show_hit(ctx, result, selected)
    _code_panel(ctx, state, selected)
    _proposal_panel(ctx, state)


def _show_hit(ctx, result: SearchResult, selected: list[int]) -> None:
    by_id = {h.segment_id: h for h in result.hits}
    options = selected or [h.segment_id for h in result.hits]
    key = "sok_show"
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    chosen = st.selectbox("Vis treff", options, key=key,
                          format_func=lambda s: f"{by_id[s].citation}: {by_id[s].kwic(30)[1]}")
    hit = by_id[chosen]
    text_box(hit.text, [(a, b, "treff") for a, b in hit.spans], label=hit.citation)
    from qualcode.app.main import PAGES_DIR

    # the same link as everywhere (Analyse, quotes): /gjennomgang?segment=ID opens it there
    st.page_link(str(PAGES_DIR / "gjennomgang.py"), label="Åpne i Gjennomgang", icon=":material/rate_review:",
                 query_params={"segment": str(int(chosen))})


def _code_panel(ctx, state: SearchState, selected: list[int]) -> None:
    from qualcode.search.coding import code_hits

    result, book = state.result, ctx.codebook
    st.subheader("Kod treffene")
    if not ctx.reviewer:
        st.caption("Skriv navnet ditt i feltet til venstre for å kode treffene.")
    code = st.selectbox("Kode", book.code_ids, key="sok_code_pick", format_func=lambda c: code_label(book, c))
    left, right = st.columns(2)
    every = left.button(f"Kod alle {result.total} treff", key="sok_code_all", type="primary",
                        disabled=not ctx.reviewer)
    chosen = right.button(f"Kod valgte ({len(selected)})", key="sok_code_selected",
                          disabled=not ctx.reviewer or not selected,
                          help="Velg rader i tabellen (klikk i venstre kant) for å kode bare dem.")
    if every or chosen:
        batch = code_hits(ctx.factory, result, code, ctx.reviewer, only=selected if chosen else None,
                          filters=state.filters)
        st.session_state[UNDO_KEY] = {"audit_id": batch.audit_id, "n": len(batch.segments), "code": code,
                                      "reviewer": ctx.reviewer}
        st.session_state.pop(SEARCH_KEY, None)  # versions changed: search again before coding again
        note = "".join([f" {len(batch.already)} hadde koden fra før." if batch.already else "",
                        f" {len(batch.changed)} var endret av andre i mellomtiden og ble ikke kodet."
                        if batch.changed else ""])
        flash("success", f"Kodet {len(batch.segments)} segment(er) med {code_label(book, code)} som "
                         f"{ctx.reviewer}.{note} Søk på nytt for å se treffene.")
        st.rerun()


def _proposal_panel(ctx, state: SearchState) -> None:
    from qualcode.search.coding import fragment_yaml, proposal_fragment, save_proposal

    book = ctx.codebook
    with st.expander("Foreslå søket som mønstre for en kode"):
        try:
            fragment = proposal_fragment(state.result.query, state.parts)
        except ValueError as err:
            st.caption(f"Dette søket kan ikke uttrykkes som kodebokmønstre ({err}).")
            return
        st.caption("Forslaget dukker opp under Kodebok → Rediger en kode, der det kan tas inn i koden eller avvises.")
        st.code(fragment_yaml(fragment), language="yaml")
        code = st.selectbox("For koden", book.code_ids, key="sok_prop_code", format_func=lambda c: code_label(book, c))
        note = st.text_input("Merknad (valgfritt)", key="sok_prop_note")
        if st.button("Lagre forslaget", key="sok_prop_save", disabled=not ctx.reviewer):
            pid = save_proposal(ctx.factory, code, state.result.query, ctx.reviewer, parts=state.parts,
                                filters=state.filters, hits=state.result.total, note=note)
            flash("success", f"Forslag {pid} er lagret for {code_label(book, code)}.")
            st.rerun()


# -- word frequencies ------------------------------------------------------------------------------
@st.cache_data(show_spinner="Teller ord …", max_entries=16)
def _word_table(db: str, by: str, n: int, distinguishing: bool, include_machine: bool, places: tuple, years: tuple,
                types: tuple, fingerprint: tuple) -> pd.DataFrame:
    from qualcode.search.frequencies import word_frequencies
    from qualcode.store.db import session_factory

    return word_frequencies(session_factory(db), by, n, distinguishing_words=distinguishing,
                            include_machine=include_machine, places=places, years=years, doc_types=types)


def _words_view(ctx) -> None:
    from qualcode.search.charts import word_bars

    c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
    by = c1.selectbox("Grupper etter", list(WORD_GROUPS), format_func=WORD_GROUPS.get, key="ord_by")
    kind = c2.radio("Vis", ["frequent", "distinguishing"], key="ord_kind",
                    format_func={"frequent": "Vanligste ord", "distinguishing": "Kjennetegnende ord"}.get,
                    help="Kjennetegnende: ord gruppen bruker mer enn resten av materialet (log-odds, z > 1,96).")
    n = c3.number_input("Antall ord", min_value=5, max_value=50, value=15, step=5, key="ord_n")
    include_machine = c4.checkbox("Ta med maskinforslag", key="ord_machine",
                                  help="For tema og kode: tell også segmenter ingen har gått gjennom, "
                                       "etter maskinens forslag.")
    filters = _filter_widgets(ctx, "ord", codes=False)
    table = _word_table(ctx.db, by, int(n), kind == "distinguishing", include_machine, filters.places,
                        filters.years, filters.doc_types, _fingerprint(ctx.factory))
    if table.empty:
        st.info("Ingen ord å vise for dette utvalget" + (" – ingen bekreftede kodinger ennå (prøv «Ta med "
                "maskinforslag»)." if by in ("theme", "code") and not include_machine else "."))
        return
    groups = list(dict.fromkeys(table["group"]))
    group = st.selectbox("Vis diagram for", groups, key=f"ord_group_{by}")
    part = table[table["group"] == group]
    measure = "z" if kind == "distinguishing" else "count"
    st.altair_chart(word_bars(part, f"{VIEWS['words']}: {group}", measure), theme=None)
    st.dataframe(_word_display(table), hide_index=True)
    st.caption("Ord = grunnform (lemma). Stoppord (bokmål og nynorsk), tall og enkeltbokstaver er utelatt. "
               "Tabellene er også i rapporten (HTML og Excel).")


def _word_display(table: pd.DataFrame) -> pd.DataFrame:
    names = {"group": "gruppe", "rank": "nr", "word": "ord", "count": "antall", "per_1000": "per 1000 ord",
             "segments": "segmenter", "rest_per_1000": "resten per 1000 ord", "log_odds": "log-odds", "z": "z"}
    return table.rename(columns=names)


# -- new codes -------------------------------------------------------------------------------------
def _discover_view(ctx) -> None:
    from qualcode.search.discover import AMONG

    st.caption("Finner grupper av segmenter som handler om det samme, blant segmenter ingen kode passer på "
               "(TF-IDF på grunnformer + NMF). Gi en gruppe et navn for å gjøre den til en kode.")
    c1, c2 = st.columns([3, 1])
    among = c1.radio("Blant", list(AMONG), format_func=AMONG.get, key="ny_among")
    k = c2.number_input("Antall grupper", min_value=2, max_value=20, value=8, key="ny_k")
    query = st.text_input("Bare segmenter som treffer søket (valgfritt)", key="ny_query",
                          placeholder="f.eks. frivillig* ELLER idrett*")
    if st.button("Finn grupper", type="primary", key="ny_run"):
        _run_discovery(ctx, among, int(k), query)
    found = st.session_state.get(DISCOVER_KEY)
    if found is None:
        return
    discovery, texts, citations = found
    if not discovery.groups:
        st.info(discovery.note or "Fant ingen grupper.")
        return
    st.markdown(f"**{len(discovery.groups)} grupper** blant {discovery.segments} segmenter "
                f"({number(discovery.seconds, 1)} s)")
    for group in discovery.groups:
        with st.expander(f"Gruppe {group.number} · {group.size} segmenter · {md(', '.join(group.words[:6]))}",
                         expanded=group.number == 1):
            st.markdown("**Kjennetegnende ord:** " + md(", ".join(group.words)))
            for s in group.typical:
                text_box(texts[s], label=citations[s])
            _new_code_form(ctx, group, texts)


def _run_discovery(ctx, among: str, k: int, query: str) -> None:
    from qualcode.search.discover import candidate_segments, discover
    from qualcode.search.search import load_hits, search

    bar = st.progress(0.0, text="Starter …")
    subset = None
    if query.strip():
        try:
            subset = search(ctx.factory, query, Filters(), limit=0).ids
        except QueryError as err:
            bar.empty()
            st.error(f"Søket kan ikke leses: {err}")
            return
    with ctx.factory() as session:
        ids = candidate_segments(session, among, subset)
    result = discover(ctx.factory, ids, k, progress=lambda share, what: bar.progress(min(share, 1.0), text=what))
    bar.empty()
    with ctx.factory() as session:
        hits = load_hits(session, [s for g in result.groups for s in g.typical])
    st.session_state[DISCOVER_KEY] = (result, {h.segment_id: h.text for h in hits},
                                      {h.segment_id: h.citation for h in hits})


def _new_code_form(ctx, group, texts: dict[int, str]) -> None:
    from qualcode.coding.codebook import CodebookError
    from qualcode.search.discover import create_code, draft_code

    book = ctx.codebook
    themes = {t.id: t.name for t in book.themes}
    with st.form(f"ny_form_{group.number}", border=True):
        st.markdown("**Gjør gruppen til en kode**")
        name = st.text_input("Navn på koden", key=f"ny_name_{group.number}", placeholder="f.eks. Frivillig sektor")
        theme = st.selectbox("Tema", [*themes, "_new"], key=f"ny_theme_{group.number}",
                             format_func=lambda t: "Nytt tema …" if t == "_new" else themes[t])
        c1, c2 = st.columns(2)
        new_id = c1.text_input("Nytt tema: id (a–z)", key=f"ny_theme_id_{group.number}")
        new_name = c2.text_input("Nytt tema: navn", key=f"ny_theme_name_{group.number}")
        made = st.form_submit_button(f"Lag koden og kod gruppens {group.size} segmenter", type="primary",
                                     key=f"ny_make_{group.number}",
                                     disabled=not ctx.reviewer)
    if not ctx.reviewer:
        st.caption("Skriv navnet ditt til venstre for å lage koder.")
    if not made:
        return
    theme_id = new_id.strip().lower() if theme == "_new" else theme
    try:
        code = draft_code(group, name, theme_id, texts)
        _, batch = create_code(ctx.factory, group, code, ctx.reviewer, ctx.codebook_path, ctx.own_codebook_path,
                               theme_name=new_name.strip() or None)
    except (CodebookError, ValueError) as err:
        st.error(f"Koden kan ikke lages: {err}")
        return
    st.session_state[UNDO_KEY] = {"audit_id": batch.audit_id, "n": len(batch.segments), "code": code["id"],
                                  "reviewer": ctx.reviewer}
    flash("success", f"Koden {code['id']} ({code['name']}) er lagt til i kodeboken, og {len(batch.segments)} "
                     "segmenter er kodet med den. Rediger definisjonen under Kodebok.")
    st.rerun()

