"""Analyse: the analysis tables and charts, filtered, with every number opening to its segments.

Everything is computed by ``qualcode.analysis`` (the same code as ``qualcode report``),
so the app and the report never disagree. Only the view in front of the reviewer is
computed, and each answer is cached per (store version, filters, source, view options):
on a yearly store a change of view or filter costs one view's work.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import func, select

from qualcode.analysis import tabs
from qualcode.analysis.drill import segments_behind
from qualcode.analysis.frame import AnalysisData, load
from qualcode.analysis.frequencies import GROUPINGS
from qualcode.analysis.tables import HEADERS, SOURCE_NAMES
from qualcode.app.escape import md
from qualcode.formats import MISSING, integer, number
from qualcode.store import schema

SOURCES = {
    "Bekreftede kodinger": (False, None),
    "Bekreftede + maskinforslag": (True, None),
    "Bare maskinforslag": (True, ["machine"]),
}
GROUP_LABELS = {"place": "Kommune", "year": "År", "doc_type": "Dokumenttype", "size_class": "Størrelse"}
MEASURE_LABELS = {"share": "Andel av segmentene (%)", "segments": "Segmenter", "documents": "Dokumenter"}
MAX_SEGMENTS = 50
REVIEW_PAGE = "gjennomgang.py"


def _fingerprint(factory) -> tuple:
    """Changes whenever a review, coding or import changes the store, so cached tables refresh."""
    with factory() as session:
        return (session.scalar(select(func.max(schema.AuditEntry.id))),
                session.scalar(select(func.count(schema.Coding.id))),
                session.scalar(select(func.count(schema.SegmentReview.id))),
                session.scalar(select(func.count(schema.Document.id))))


# cache_resource, not cache_data: the frames are shared read-only, never pickled or hashed by content
@st.cache_resource(show_spinner="Leser kodingene …", max_entries=4)
def _load(db: str, include_machine: bool, fingerprint: tuple) -> AnalysisData:
    return load(db, include_machine=include_machine)


@st.cache_resource(show_spinner=False, max_entries=4)
def _documents(db: str, include_machine: bool, fingerprint: tuple) -> pd.DataFrame:
    return _load(db, include_machine, fingerprint).documents


@st.cache_resource(show_spinner=False, max_entries=16)
def _selected(db: str, fingerprint: tuple, source: str, places: tuple, years: tuple, types: tuple) -> AnalysisData:
    include_machine, only = SOURCES[source]
    data = _load(db, include_machine, fingerprint)
    if places or years or types or only:
        data = data.filter(municipalities=places or None, years=years or None, doc_types=types or None, sources=only)
    return data


@st.cache_resource(show_spinner="Regner ut …", max_entries=64)
def _view(key: tuple, tab: str, options: tuple) -> dict:
    return tabs.compute(_selected(*key), tab, **dict(options))


@dataclass
class Selection:
    data: AnalysisData
    label: str
    key: tuple  # (db, fingerprint, source, places, years, types): what the cached views are computed for

    def view(self, tab: str, **options) -> dict:
        return _view(self.key, tab, tuple(sorted(options.items())))


def _filters(ctx) -> Selection | None:
    cols = st.columns([2, 2, 2, 3])
    source = cols[3].selectbox("Kilde", list(SOURCES), key="an_source",
                               help="Bekreftet = segmenter en gjennomgåer har markert som ferdige. "
                                    "Maskinforslag er ikke funn, og er merket der de vises.")
    include_machine, _only = SOURCES[source]
    fingerprint = _fingerprint(ctx.factory)
    docs = _documents(ctx.db, include_machine, fingerprint)
    if docs.empty:
        st.info("Databasen har ingen dokumenter ennå. Gå til **Import** for å legge inn planer og intervjuer.")
        return None
    places = cols[0].multiselect("Kommune", sorted(docs["place"].unique()), key="an_place", placeholder="Alle")
    years = cols[1].multiselect("År", sorted(int(y) for y in docs["year"].dropna().unique()), key="an_year",
                                placeholder="Alle")
    types = cols[2].multiselect("Type", sorted(docs["doc_type"].unique()), key="an_type", placeholder="Alle")
    key = (ctx.db, fingerprint, source, tuple(places), tuple(years), tuple(types))
    return Selection(_selected(*key), source, key)


def _show_segments(rows: pd.DataFrame, heading: str) -> None:
    """The segments behind a number, named as everywhere («Fjordvik 2024 plan, §12»), each opening on Gjennomgang."""
    from qualcode.app.main import PAGES_DIR
    from qualcode.app.widgets import text_box

    st.markdown(f"**{md(heading)}** – {integer(len(rows))} segment(er)")
    if rows.empty:
        st.caption("Ingen segmenter.")
        return
    for row in rows.head(MAX_SEGMENTS).itertuples():
        kinds = {SOURCE_NAMES.get(s.strip(), s.strip()) for s in str(row.source).split(",")}
        flag = "" if kinds == {"bekreftet"} else " · " + ", ".join(sorted(kinds))
        text_box(row.text, label=f"{row.ref} · {row.citation} · {row.code_name}{flag}")
        _open_link(PAGES_DIR, row.segment_id, row.ref)
    if len(rows) > MAX_SEGMENTS:
        st.caption(f"… og {integer(len(rows) - MAX_SEGMENTS)} til. Avgrens med filtrene over.")


def _open_link(pages_dir, segment_id, ref: str) -> None:
    st.page_link(str(pages_dir / REVIEW_PAGE), label=f"Åpne {ref} i Gjennomgang", icon=":material/rate_review:",
                 query_params={"segment": str(int(segment_id))})


def _norwegian(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal commas and "–" for missing values, for display (the numbers themselves stay in the report/Excel)."""
    out = frame.copy()
    for column in out.columns:
        kind = out[column].dtype.kind
        if kind == "f":
            digits = 2 if column == "jaccard" else 1
            out[column] = [number(v, digits) for v in out[column]]
        elif kind in "iu" and isinstance(out[column].dtype, pd.api.extensions.ExtensionDtype):
            out[column] = [MISSING if pd.isna(v) else str(int(v)) for v in out[column]]
        elif kind == "O" or str(out[column].dtype).startswith("str"):
            out[column] = out[column].where(out[column].notna(), MISSING)
    return out


def _headers(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "source" in out.columns:
        out["source"] = out["source"].map(lambda s: SOURCE_NAMES.get(s, s))
    return _norwegian(out).rename(columns=lambda c: HEADERS.get(c, c))


def _selected_row(event) -> int | None:
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    return rows[0] if rows else None


def _selected_cell(event) -> tuple[int, str] | None:
    cells = getattr(getattr(event, "selection", None), "cells", None) or []
    return tuple(cells[0]) if cells else None


def _chart(chart) -> None:
    if chart is not None:
        st.altair_chart(chart, theme=None)


def _themes_tab(sel: Selection) -> None:
    level = st.radio("Nivå", ["theme", "code"], format_func={"theme": "Tema", "code": "Kode"}.get, horizontal=True,
                     key="an_level")
    view = sel.view("themes", level=level)
    _chart(view["chart"])
    table = view["table"]
    st.caption("Andel = segmenter med koden / segmenter i grunnlaget. Velg en rad for å se segmentene bak tallet.")
    event = st.dataframe(_headers(table), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"an_totals_{level}", width="stretch")
    row = _selected_row(event)
    if row is not None:
        value = table.iloc[row][level]
        name = table.iloc[row]["theme_name" if level == "theme" else "code_name"]
        _show_segments(segments_behind(sel.data, **{level: value}), name)


def _groups_tab(sel: Selection) -> None:
    cols = st.columns(3)
    by = cols[0].selectbox("Fordelt på", list(GROUPINGS), format_func=GROUP_LABELS.get, key="an_by")
    level = cols[1].radio("Nivå", ["theme", "code"], format_func={"theme": "Tema", "code": "Kode"}.get,
                          horizontal=True, key="an_group_level")
    measure = cols[2].selectbox("Mål", list(MEASURE_LABELS), format_func=MEASURE_LABELS.get, key="an_measure")
    view = sel.view("groups", by=by, level=level, measure=measure)
    if view["table"] is None:
        st.info("Ingen kodinger i utvalget.")
        return
    _chart(view["chart"])
    table = view["table"]
    name = "theme_name" if level == "theme" else "code_name"
    groups = [c for c in table.columns if c not in ("theme", "theme_name", "code", "code_name")]
    st.caption("Andel = segmenter med koden / segmenter i grunnlaget for gruppen, med antallene i parentes. "
               "Velg en celle for å se segmentene bak tallet.")
    event = st.dataframe(_norwegian(table[[name, *groups]]).rename(columns=HEADERS), hide_index=True,
                         on_select="rerun", selection_mode="single-cell", key=f"an_groups_{by}_{level}_{measure}",
                         width="stretch",
                         column_config={HEADERS[name]: st.column_config.TextColumn(pinned=True, width="medium")})
    cell = _selected_cell(event)
    if cell is not None and cell[1] in groups:
        row, column = cell
        value = int(column) if by == "year" else column
        _show_segments(segments_behind(sel.data, **{level: table.iloc[row][level], by: value}),
                       f"{table.iloc[row][name]} · {column}")


def _matrix_tab(sel: Selection) -> None:
    view = sel.view("matrix")
    if view["table"] is None:
        st.info("Ingen kodinger i utvalget.")
        return
    _chart(view["chart"])
    table = view["table"]
    docs = sel.data.documents.set_index("document")["document_id"]
    shown = table.drop(columns=["theme_name", "code"]).rename(columns={"code_name": "kode", "total": "sum"})
    st.caption("Segmenter per kode og dokument (alle dokumentene). Velg en celle for å se segmentene.")
    event = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-cell", key="an_matrix",
                         width="stretch",
                         column_config={"kode": st.column_config.TextColumn(pinned=True, width="medium")})
    cell = _selected_cell(event)
    if cell is not None:
        row, column = cell
        code = table.iloc[row]["code"]
        if column in docs.index:
            _show_segments(segments_behind(sel.data, code=code, document_id=int(docs[column])),
                           f"{table.iloc[row]['code_name']} · {column}")
        elif column == "sum":
            _show_segments(segments_behind(sel.data, code=code), table.iloc[row]["code_name"])


def _cooccurrence_tab(sel: Selection) -> None:
    view = sel.view("cooccurrence")
    if view["table"] is None:
        st.info("Ingen kodinger i utvalget.")
        return
    _chart(view["chart"])
    pairs = view["table"]
    st.caption("Kodepar i samme segment. Jaccard = begge / minst én. Velg et par for å se segmentene.")
    event = st.dataframe(_headers(pairs), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="an_pairs", width="stretch")
    row = _selected_row(event)
    if row is not None:
        data = sel.data
        a, b = pairs.iloc[row]["code_a"], pairs.iloc[row]["code_b"]
        both = set(data.codings.loc[data.codings["code"] == a, "segment_id"]) & \
            set(data.codings.loc[data.codings["code"] == b, "segment_id"])
        rows = segments_behind(data)
        _show_segments(rows[rows["segment_id"].isin(both)].reset_index(drop=True),
                       f"{pairs.iloc[row]['name_a']} + {pairs.iloc[row]['name_b']}")


def _completeness_tab(sel: Selection) -> None:
    from qualcode.app.main import PAGES_DIR

    st.caption("Barnevernsloven § 15-1: mål og strategier, ansvarsfordeling, organisering og samarbeid. "
               "For hvert element vises et segment som viser det. «ikke funnet» = ikke i segmentene i grunnlaget; "
               "«ikke gjennomgått» = ingen av planens segmenter er gjennomgått ennå, så ingenting kan sies.")
    view = sel.view("completeness")
    matrix = view["table"]
    if matrix.empty:
        st.info("Ingen planer i utvalget.")
        return
    _chart(view["chart"])
    event = st.dataframe(_headers(matrix), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="an_complete", width="stretch")
    row = _selected_row(event)
    if row is not None:
        document = matrix.iloc[row]["document"]
        evidence = view["evidence"]
        evidence = evidence[(evidence["document"] == document)]
        st.markdown(f"**{md(document)}**")
        for item in evidence.itertuples():
            if item.addressed:
                flag = "" if item.source == "reviewer" else f" ({SOURCE_NAMES.get(item.source, item.source)})"
                st.markdown(f"- **{md(item.element_name)}**: «{md(item.quote)}» {md(item.citation)}{flag}")
                _open_link(PAGES_DIR, item.segment_id, item.ref)
            else:
                st.markdown(f"- **{md(item.element_name)}**: {item.status} "
                            f"({item.in_scope} av {item.codable} segmenter å kode i grunnlaget)")


def _years_tab(sel: Selection) -> None:
    level = st.radio("Nivå", ["theme", "code"], format_func={"theme": "Tema", "code": "Kode"}.get, horizontal=True,
                     key="an_year_level")
    view = sel.view("years", level=level)
    st.dataframe(_headers(view["overview"]), hide_index=True)
    if view["table"] is None:
        st.info("Utvalget har bare ett år; ingenting å sammenligne.")
        return
    _chart(view["chart"])
    st.caption("Andel per år med antallene i parentes (segmenter med temaet av segmentene i grunnlaget).")
    st.dataframe(_headers(view["table"]), hide_index=True, width="stretch")
    st.subheader("Samme kommune, år mot år")
    changes = view["changes"]
    if changes.empty:
        st.caption("Ingen kommune har dokumenter av samme type fra mer enn ett år i utvalget.")
        return
    event = st.dataframe(_headers(changes), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"an_changes_{level}", width="stretch")
    row = _selected_row(event)
    if row is not None:
        data = sel.data
        r = changes.iloc[row]
        rows = segments_behind(data, **{level: r[level]}, place=r["place"], doc_type=r["doc_type"])
        rows = rows.assign(_year=rows["segment_id"].map(data.segments.set_index("segment_id")["year"]))
        rows = rows[rows["_year"].isin([r["from_year"], r["to_year"]])].drop(columns="_year")
        _show_segments(rows.reset_index(drop=True), f"{r['name']} · {r['place']} {r['from_year']}–{r['to_year']}")


def _quotes_tab(sel: Selection) -> None:
    from qualcode.app.main import PAGES_DIR

    data = sel.data
    if data.codings.empty:
        st.info("Ingen kodinger i utvalget.")
        return
    names = dict(zip(data.codes["code"], data.codes["code_name"]))
    codes = [c for c in data.code_order(data.codings["code"].unique())]
    cols = st.columns([3, 1])
    code = cols[0].selectbox("Kode", codes, format_func=lambda c: f"{names.get(c, c)} ({c})", key="an_quote_code")
    per_code = cols[1].number_input("Antall", 1, 20, 3, key="an_quote_n")
    for q in sel.view("quotes", code=code, per_code=int(per_code))["table"].itertuples():
        flag = "" if q.confirmed else " · *maskinforslag, ikke bekreftet*"
        st.markdown(f"> «{md(q.quote)}»\n>\n> {md(q.citation)}{flag}")
        _open_link(PAGES_DIR, q.segment_id, q.ref)


VIEWS = {"themes": _themes_tab, "groups": _groups_tab, "matrix": _matrix_tab, "cooccurrence": _cooccurrence_tab,
         "completeness": _completeness_tab, "years": _years_tab, "quotes": _quotes_tab}


def render(ctx) -> None:
    st.title("Analyse")
    selection = _filters(ctx)
    if selection is None:
        return
    data = selection.data
    seg = data.segments
    cols = st.columns(4)
    cols[0].metric("Dokumenter", integer(seg["document_id"].nunique()))
    cols[1].metric("Segmenter i grunnlaget", integer(seg["in_scope"].sum()),
                   help="Gjennomgåtte segmenter (og med maskinforslag: alle segmenter å kode).")
    cols[2].metric("Kodinger", integer(len(data.codings)))
    cols[3].metric("Maskinforslag", integer((~data.codings["confirmed"]).sum()) if data.include_machine else MISSING)
    if not data.include_machine and data.codings.empty:
        st.info("Ingen bekreftede kodinger ennå: gå gjennom segmenter og merk dem som ferdige, "
                "eller velg «Bekreftede + maskinforslag» under Kilde.")
    # one view at a time (st.tabs would compute all seven on every rerun); the URL names the view
    # the URL names the view in Norwegian: /analyse?visning=Sitater
    labels = {label: key for key, label in tabs.TABS.items()}
    view = st.segmented_control("Visning", list(labels), key="visning", default=tabs.TABS["themes"], required=True,
                                label_visibility="collapsed", bind="query-params")
    VIEWS[labels.get(view, "themes")](selection)
