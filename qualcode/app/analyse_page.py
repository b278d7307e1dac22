"""Analyse: the analysis tables and charts, filtered, with every number opening to its segments.

Everything is computed by ``qualcode.analysis`` (the same code as ``qualcode report``),
so the app and the report never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import func, select

from qualcode.analysis import charts
from qualcode.analysis.completeness import completeness, completeness_matrix
from qualcode.analysis.cooccurrence import cooccurrence_pairs
from qualcode.analysis.drill import segments_behind
from qualcode.analysis.frame import AnalysisData, load
from qualcode.analysis.frequencies import GROUPINGS, frequencies, totals
from qualcode.analysis.matrix import code_document_matrix
from qualcode.analysis.quotes import quotes
from qualcode.analysis.tables import HEADERS, SOURCE_NAMES
from qualcode.analysis.years import corpus_by_year, municipality_changes, years_overview
from qualcode.app.escape import md
from qualcode.store import schema

SOURCES = {
    "Bekreftede kodinger": (False, None),
    "Bekreftede + maskinforslag": (True, None),
    "Bare maskinforslag": (True, ["machine"]),
}
GROUP_LABELS = {"place": "Kommune", "year": "År", "doc_type": "Dokumenttype", "size_class": "Størrelse"}
MEASURE_LABELS = {"share": "Andel av segmentene (%)", "segments": "Segmenter", "documents": "Dokumenter"}
MAX_SEGMENTS = 50


def _fingerprint(factory) -> tuple:
    """Changes whenever a review, coding or import changes the store, so cached tables refresh."""
    with factory() as session:
        return (session.scalar(select(func.max(schema.AuditEntry.id))),
                session.scalar(select(func.count(schema.Coding.id))),
                session.scalar(select(func.count(schema.SegmentReview.id))),
                session.scalar(select(func.count(schema.Document.id))))


@st.cache_data(show_spinner="Leser kodingene …", max_entries=8)
def _load(db: str, include_machine: bool, fingerprint: tuple) -> AnalysisData:
    return load(db, include_machine=include_machine)


@dataclass
class Selection:
    data: AnalysisData
    label: str


def _filters(ctx) -> Selection | None:
    cols = st.columns([2, 2, 2, 3])
    source = cols[3].selectbox("Kilde", list(SOURCES), key="an_source",
                               help="Bekreftet = segmenter en gjennomgåer har markert som ferdige. "
                                    "Maskinforslag er ikke funn, og er merket der de vises.")
    include_machine, only = SOURCES[source]
    data = _load(ctx.db, include_machine, _fingerprint(ctx.factory))
    docs = data.documents
    if docs.empty:
        st.info("Databasen har ingen dokumenter ennå. Gå til **Import** for å legge inn planer og intervjuer.")
        return None
    places = cols[0].multiselect("Kommune", sorted(docs["place"].unique()), key="an_place", placeholder="Alle")
    years = cols[1].multiselect("År", sorted(int(y) for y in docs["year"].dropna().unique()), key="an_year",
                                placeholder="Alle")
    types = cols[2].multiselect("Type", sorted(docs["doc_type"].unique()), key="an_type", placeholder="Alle")
    data = data.filter(municipalities=places or None, years=years or None, doc_types=types or None, sources=only)
    return Selection(data, source)


def _show_segments(rows: pd.DataFrame, heading: str) -> None:
    """The segments behind a number, with citations; machine codings flagged."""
    from qualcode.app.widgets import text_box

    st.markdown(f"**{md(heading)}** – {len(rows)} segment(er)")
    if rows.empty:
        st.caption("Ingen segmenter.")
        return
    for row in rows.head(MAX_SEGMENTS).itertuples():
        kinds = {SOURCE_NAMES.get(s.strip(), s.strip()) for s in str(row.source).split(",")}
        flag = "" if kinds == {"bekreftet"} else " · " + ", ".join(sorted(kinds))
        text_box(row.text, label=f"{row.citation} · {row.code_name}{flag} · segment {row.segment_id}")
    if len(rows) > MAX_SEGMENTS:
        st.caption(f"… og {len(rows) - MAX_SEGMENTS} til. Avgrens med filtrene over.")


def _headers(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "source" in out.columns:
        out["source"] = out["source"].map(lambda s: SOURCE_NAMES.get(s, s))
    return out.rename(columns=lambda c: HEADERS.get(c, c))


def _selected_row(event) -> int | None:
    rows = getattr(getattr(event, "selection", None), "rows", None) or []
    return rows[0] if rows else None


def _selected_cell(event) -> tuple[int, str] | None:
    cells = getattr(getattr(event, "selection", None), "cells", None) or []
    return tuple(cells[0]) if cells else None


def _themes_tab(data: AnalysisData) -> None:
    if not data.codings.empty:
        st.altair_chart(charts.theme_bars(data), theme=None)
    level = st.radio("Nivå", ["Tema", "Kode"], horizontal=True, key="an_level")
    key = "theme" if level == "Tema" else "code"
    table = totals(data, key, all_codes=False)
    st.caption("Velg en rad for å se segmentene bak tallet.")
    event = st.dataframe(_headers(table), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"an_totals_{key}", width="stretch")
    row = _selected_row(event)
    if row is not None:
        value = table.iloc[row][key]
        name = table.iloc[row]["theme_name" if key == "theme" else "code_name"]
        _show_segments(segments_behind(data, **{key: value}), name)


def _groups_tab(data: AnalysisData) -> None:
    cols = st.columns(3)
    by = cols[0].selectbox("Fordelt på", list(GROUPINGS), format_func=GROUP_LABELS.get, key="an_by")
    level = cols[1].radio("Nivå", ["theme", "code"], format_func={"theme": "Tema", "code": "Kode"}.get,
                          horizontal=True, key="an_group_level")
    measure = cols[2].selectbox("Mål", list(MEASURE_LABELS), format_func=MEASURE_LABELS.get, key="an_measure")
    if data.codings.empty:
        st.info("Ingen kodinger i utvalget.")
        return
    if level == "theme" and measure == "share":
        title = f"Andel segmenter per tema ({GROUP_LABELS[by].lower()}, %)"
        st.altair_chart(charts.share_heatmap(data, by=by, title=title), theme=None)
    table = frequencies(data, by=by, level=level, measure=measure)
    name = "theme_name" if level == "theme" else "code_name"
    groups = [c for c in table.columns if c not in ("theme", "theme_name", "code", "code_name")]
    st.caption("Velg en celle for å se segmentene bak tallet. Andel = segmenter med koden / segmenter i grunnlaget.")
    event = st.dataframe(table[[name, *groups]].rename(columns=HEADERS), hide_index=True, on_select="rerun",
                         selection_mode="single-cell", key=f"an_groups_{by}_{level}_{measure}", width="stretch",
                         column_config={HEADERS[name]: st.column_config.TextColumn(pinned=True, width="medium")})
    cell = _selected_cell(event)
    if cell is not None and cell[1] in groups:
        row, column = cell
        value = int(column) if by == "year" else column
        _show_segments(segments_behind(data, **{level: table.iloc[row][level], by: value}),
                       f"{table.iloc[row][name]} · {column}")


def _matrix_tab(data: AnalysisData) -> None:
    if data.codings.empty:
        st.info("Ingen kodinger i utvalget.")
        return
    st.altair_chart(charts.code_document_heatmap(data), theme=None)
    table = code_document_matrix(data, all_codes=False)
    docs = data.documents.set_index("document")["document_id"]
    shown = table.drop(columns=["theme_name", "code"]).rename(columns={"code_name": "kode", "total": "sum"})
    st.caption("Segmenter per kode og dokument. Velg en celle for å se segmentene.")
    event = st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-cell", key="an_matrix",
                         width="stretch",
                         column_config={"kode": st.column_config.TextColumn(pinned=True, width="medium")})
    cell = _selected_cell(event)
    if cell is not None:
        row, column = cell
        code = table.iloc[row]["code"]
        if column in docs.index:
            _show_segments(segments_behind(data, code=code, document_id=int(docs[column])),
                           f"{table.iloc[row]['code_name']} · {column}")
        elif column == "sum":
            _show_segments(segments_behind(data, code=code), table.iloc[row]["code_name"])


def _cooccurrence_tab(data: AnalysisData) -> None:
    if data.codings.empty:
        st.info("Ingen kodinger i utvalget.")
        return
    st.altair_chart(charts.cooccurrence_heatmap(data), theme=None)
    pairs = cooccurrence_pairs(data)
    st.caption("Kodepar i samme segment. Jaccard = begge / minst én. Velg et par for å se segmentene.")
    event = st.dataframe(_headers(pairs), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="an_pairs", width="stretch")
    row = _selected_row(event)
    if row is not None:
        a, b = pairs.iloc[row]["code_a"], pairs.iloc[row]["code_b"]
        both = set(data.codings.loc[data.codings["code"] == a, "segment_id"]) & \
            set(data.codings.loc[data.codings["code"] == b, "segment_id"])
        rows = segments_behind(data)
        _show_segments(rows[rows["segment_id"].isin(both)].reset_index(drop=True),
                       f"{pairs.iloc[row]['name_a']} + {pairs.iloc[row]['name_b']}")


def _completeness_tab(data: AnalysisData) -> None:
    st.caption("Barnevernsloven § 15-1: mål og strategier, ansvarsfordeling, organisering og samarbeid. "
               "For hvert element vises et segment som viser det.")
    matrix = completeness_matrix(data)
    if matrix.empty:
        st.info("Ingen planer i utvalget.")
        return
    st.altair_chart(charts.completeness_chart(data), theme=None)
    event = st.dataframe(_headers(matrix), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="an_complete", width="stretch")
    row = _selected_row(event)
    if row is not None:
        document = matrix.iloc[row]["document"]
        evidence = completeness(data)
        evidence = evidence[(evidence["document"] == document)]
        st.markdown(f"**{md(document)}**")
        for item in evidence.itertuples():
            if item.addressed:
                flag = "" if item.source == "reviewer" else f" ({SOURCE_NAMES.get(item.source, item.source)})"
                st.markdown(f"- **{md(item.element_name)}**: «{md(item.quote)}» {md(item.citation)}{flag} "
                            f"· segment {item.segment_id}")
            else:
                st.markdown(f"- **{md(item.element_name)}**: ikke funnet")


def _years_tab(data: AnalysisData) -> None:
    st.dataframe(_headers(years_overview(data)), hide_index=True)
    years = sorted(int(y) for y in data.segments["year"].dropna().unique())
    if len(years) < 2:
        st.info("Utvalget har bare ett år; ingenting å sammenligne.")
        return
    if not data.codings.empty:
        st.altair_chart(charts.years_chart(data), theme=None)
    level = st.radio("Nivå", ["theme", "code"], format_func={"theme": "Tema", "code": "Kode"}.get, horizontal=True,
                     key="an_year_level")
    st.dataframe(_headers(corpus_by_year(data, level)), hide_index=True, width="stretch")
    st.subheader("Samme kommune, år mot år")
    changes = municipality_changes(data, level)
    if changes.empty:
        st.caption("Ingen kommune har dokumenter av samme type fra mer enn ett år i utvalget.")
        return
    event = st.dataframe(_headers(changes), hide_index=True, on_select="rerun", selection_mode="single-row",
                         key=f"an_changes_{level}", width="stretch")
    row = _selected_row(event)
    if row is not None:
        r = changes.iloc[row]
        rows = segments_behind(data, **{level: r[level]}, place=r["place"], doc_type=r["doc_type"])
        rows = rows.assign(_year=rows["segment_id"].map(data.segments.set_index("segment_id")["year"]))
        rows = rows[rows["_year"].isin([r["from_year"], r["to_year"]])].drop(columns="_year")
        _show_segments(rows.reset_index(drop=True), f"{r['name']} · {r['place']} {r['from_year']}–{r['to_year']}")


def _quotes_tab(data: AnalysisData) -> None:
    if data.codings.empty:
        st.info("Ingen kodinger i utvalget.")
        return
    names = dict(zip(data.codings["code"], data.codings["code_name"]))
    codes = data.code_order(names)
    cols = st.columns([3, 1])
    code = cols[0].selectbox("Kode", codes, format_func=lambda c: f"{names[c]} ({c})", key="an_quote_code")
    per_code = cols[1].number_input("Antall", 1, 20, 3, key="an_quote_n")
    for q in quotes(data, codes=[code], per_code=int(per_code)).itertuples():
        flag = "" if q.confirmed else " · *maskinforslag, ikke bekreftet*"
        st.markdown(f"> «{md(q.quote)}»\n>\n> {md(q.citation)}{flag} · segment {q.segment_id}")


def render(ctx) -> None:
    st.title("Analyse")
    selection = _filters(ctx)
    if selection is None:
        return
    data = selection.data
    seg = data.segments
    cols = st.columns(4)
    cols[0].metric("Dokumenter", seg["document_id"].nunique())
    cols[1].metric("Segmenter i grunnlaget", int(seg["in_scope"].sum()))
    cols[2].metric("Kodinger", len(data.codings))
    cols[3].metric("Maskinforslag", int((~data.codings["confirmed"]).sum()) if data.include_machine else "–")
    if not data.include_machine and data.codings.empty:
        st.info("Ingen bekreftede kodinger ennå: gå gjennom segmenter og merk dem som ferdige, "
                "eller velg «Bekreftede + maskinforslag» under Kilde.")
    tabs = st.tabs(["Tema og koder", "Fordeling", "Kode × dokument", "Samforekomst", "§ 15-1", "Over tid", "Sitater"])
    with tabs[0]:
        _themes_tab(data)
    with tabs[1]:
        _groups_tab(data)
    with tabs[2]:
        _matrix_tab(data)
    with tabs[3]:
        _cooccurrence_tab(data)
    with tabs[4]:
        _completeness_tab(data)
    with tabs[5]:
        _years_tab(data)
    with tabs[6]:
        _quotes_tab(data)
