"""Altair charts of the analysis tables, shared by the app (interactive) and the report (inline SVG).

Data is embedded in each spec (no URLs), so the same chart renders offline in
the browser and through vl-convert.
"""
from __future__ import annotations

import altair as alt

from qualcode.analysis.completeness import completeness
from qualcode.analysis.cooccurrence import cooccurrence_long
from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import frequencies, totals, units

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CONFIRMED_COLOR = "#2f6f8f"
MACHINE_COLOR = "#e0a458"


def clipped(chars: int) -> dict:
    """Axis label settings that cut a label at ``chars`` characters with an ellipsis. Vega's own
    ``labelLimit`` measures every label in pixels: that alone took 0.7 s of the 1.2 s vl-convert
    spent drawing the code × document chart of a yearly store."""
    return {"labelLimit": 0,
            "labelExpr": f"length(datum.label) > {chars} ? slice(datum.label, 0, {chars - 1}) + '…' : datum.label"}


def _finish(chart: alt.Chart, title: str = "") -> alt.Chart:
    return (chart.properties(title=title) if title else chart).configure(font=FONT).configure_view(stroke=None) \
        .configure_axis(labelFontSize=11, titleFontSize=11, **clipped(44)).configure_title(fontSize=13, anchor="start")


def theme_bars(data: AnalysisData, title: str = "Segmenter per tema") -> alt.Chart:
    """Horizontal bars: segments per theme, split into confirmed and machine when machine codings are shown."""
    found = units(data, "theme")
    present = set(found["theme"].unique())
    order = [n for t, n in zip(*_theme_names(data)) if t in present]
    frame = (found.assign(kilde=found["confirmed"].map({True: "bekreftet", False: "maskin"}))
             .groupby(["theme_name", "kilde"])["segment_id"].nunique().rename("segmenter").reset_index())
    frame = frame.rename(columns={"theme_name": "tema"})
    chart = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("tema:N", sort=order, title=None),
        x=alt.X("segmenter:Q", title="segmenter", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("kilde:N", scale=alt.Scale(domain=["bekreftet", "maskin"],
                                                   range=[CONFIRMED_COLOR, MACHINE_COLOR]),
                        legend=alt.Legend(title=None, orient="bottom") if data.include_machine else None),
        tooltip=["tema", "kilde", "segmenter"],
    ).properties(width=420, height=alt.Step(24))
    return _finish(chart, title)


def code_bars(data: AnalysisData, title: str = "Andel segmenter per kode (%)") -> alt.Chart:
    frame = totals(data, "code", all_codes=False).rename(columns={"code_name": "kode", "theme_name": "tema",
                                                                   "share": "andel", "segments": "segmenter"})
    chart = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("kode:N", sort=list(frame["kode"]), title=None),
        x=alt.X("andel:Q", title="andel av segmentene i grunnlaget (%)"),
        color=alt.Color("tema:N", legend=alt.Legend(orient="bottom", columns=2, title=None)),
        tooltip=["tema", "kode", "segmenter", "andel"],
    ).properties(width=420, height=alt.Step(18))
    return _finish(chart, title)


def share_heatmap(data: AnalysisData, by: str = "place", level: str = "theme",
                  title: str = "Andel segmenter per tema og kommune (%)") -> alt.Chart:
    wide = frequencies(data, by=by, level=level, measure="share")
    name = "theme_name" if level == "theme" else "code_name"
    groups = [c for c in wide.columns if c not in ("theme", "theme_name", "code", "code_name")]
    long = wide.melt(id_vars=[name], value_vars=groups, var_name="gruppe", value_name="andel")
    long = long.rename(columns={name: "navn"})
    base = alt.Chart(long).encode(
        x=alt.X("gruppe:N", sort=groups, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("navn:N", sort=list(wide[name]), title=None),
    )
    cells = base.mark_rect().encode(color=alt.Color("andel:Q", scale=alt.Scale(scheme="blues"),
                                                    legend=alt.Legend(title="%")),
                                    tooltip=["navn", "gruppe", "andel"])
    text = base.transform_joinaggregate(topp="max(andel)").mark_text(fontSize=10).encode(
        text=alt.Text("andel:Q", format=".0f"),
        color=alt.condition("datum.andel > 0.6 * datum.topp", alt.value("white"), alt.value("#222")))
    chart = (cells + text).properties(width=alt.Step(76), height=alt.Step(24))
    return _finish(chart, title)


def cooccurrence_heatmap(data: AnalysisData, title: str = "Samforekomst av koder (segmenter)") -> alt.Chart:
    """Pairs coloured by how often they meet; the diagonal (the code alone) is grey so it does not drown them."""
    long = cooccurrence_long(data)
    order = list(dict.fromkeys(long["name_a"]))
    long = long.rename(columns={"name_a": "kode A", "name_b": "kode B", "segments": "segmenter"})
    long["alene"] = long["a"] == long["b"]
    base = alt.Chart(long).encode(
        x=alt.X("kode B:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("kode A:N", sort=order, title=None),
    )
    pairs = base.transform_filter("!datum.alene && datum.segmenter > 0").mark_rect().encode(
        color=alt.Color("segmenter:Q", scale=alt.Scale(scheme="oranges"), legend=alt.Legend(title="begge", format="d")),
        tooltip=["kode A", "kode B", "segmenter"])
    alone = base.transform_filter("datum.alene").mark_rect(color="#d5d9de").encode(
        tooltip=["kode A", alt.Tooltip("segmenter:Q", title="segmenter med koden")])
    text = base.transform_filter("datum.segmenter > 0").mark_text(fontSize=9).encode(text="segmenter:Q")
    return _finish((alone + pairs + text).properties(width=alt.Step(20), height=alt.Step(20)), title)


MAX_DOCUMENTS = 40  # more columns than this and a heatmap stops being readable (and fast)


def code_document_heatmap(data: AnalysisData, title: str = "Segmenter per kode og dokument",
                          max_documents: int = MAX_DOCUMENTS) -> alt.Chart:
    """Codes × documents; a large corpus shows the ``max_documents`` documents with most coded segments
    (the title says how many of how many), the full table being beside it."""
    found = units(data, "code")
    long = found.groupby(["code_name", "code", "document"])["segment_id"].nunique().rename("segmenter").reset_index()
    codes_present = set(long["code"].unique())
    order = [n for c, n in zip(data.codes["code"], data.codes["code_name"]) if c in codes_present]
    present = set(long["document"].unique())
    docs = [d for d in data.documents["document"] if d in present]
    if len(docs) > max_documents:
        top = found.groupby("document")["segment_id"].nunique().sort_values(ascending=False, kind="stable")
        keep = set(top.index[:max_documents])
        title = f"{title}: de {max_documents} dokumentene med flest kodede segmenter (av {len(docs)})"
        docs = [d for d in docs if d in keep]
        long = long[long["document"].isin(keep)]
    long = long.rename(columns={"code_name": "kode", "document": "dokument"})
    base = alt.Chart(long).encode(
        x=alt.X("dokument:N", sort=docs, title=None, axis=alt.Axis(labelAngle=-35, **clipped(34))),
        y=alt.Y("kode:N", sort=order, title=None),
    )
    cells = base.mark_rect().encode(color=alt.Color("segmenter:Q", scale=alt.Scale(scheme="blues"),
                                                    legend=alt.Legend(title="segmenter", format="d")),
                                    tooltip=["kode", "dokument", "segmenter"])
    text = base.transform_joinaggregate(topp="max(segmenter)").mark_text(fontSize=9).encode(
        text="segmenter:Q",
        color=alt.condition("datum.segmenter > 0.6 * datum.topp", alt.value("white"), alt.value("#222")))
    chart = (cells + text).properties(width=alt.Step(48), height=alt.Step(18))
    return _finish(chart, title)


def completeness_chart(data: AnalysisData, title: str = "§ 15-1: hva planene omtaler",
                       max_documents: int = MAX_DOCUMENTS) -> alt.Chart:
    """Plans × elements; beyond ``max_documents`` plans, how many plans per element are omtalt / ikke funnet /
    ikke gjennomgått (the table lists every plan)."""
    long = completeness(data)
    if long["document_id"].nunique() > max_documents:
        return _completeness_summary(long, title)
    long = long.assign(omtalt=long["status"],
                       merke=[(p or "ja") if a else "–" for a, p in zip(long["addressed"], long["page"])])
    long = long[["document", "element_name", "omtalt", "merke", "quote"]].rename(
        columns={"document": "plan", "element_name": "element", "quote": "sitat"})
    elements = list(dict.fromkeys(long["element"]))
    base = alt.Chart(long).encode(
        x=alt.X("element:N", sort=elements, title=None, axis=alt.Axis(labelAngle=0, **clipped(30))),
        y=alt.Y("plan:N", title=None),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("omtalt:N", scale=alt.Scale(domain=["omtalt", "ikke funnet", "ikke gjennomgått"],
                                                    range=["#5a9e6f", "#e8e8e8", "#f6f0dc"]),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=["plan", "element", "omtalt", "merke", "sitat"])
    text = base.mark_text(fontSize=10).encode(text="merke:N")
    chart = (cells + text).properties(width=alt.Step(190), height=alt.Step(26))
    return _finish(chart, title)


def _completeness_summary(long, title: str) -> alt.Chart:
    counts = long.groupby(["element_name", "status"], sort=False)["document_id"].nunique().rename("planer").reset_index()
    counts = counts.rename(columns={"element_name": "element"})
    elements = list(dict.fromkeys(long["element_name"]))
    statuses = ["omtalt", "ikke funnet", "ikke gjennomgått"]
    chart = alt.Chart(counts).mark_bar().encode(
        y=alt.Y("element:N", sort=elements, title=None),
        x=alt.X("planer:Q", title="planer", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("status:N", scale=alt.Scale(domain=statuses, range=["#5a9e6f", "#e8a0a0", "#d5d9de"]),
                        legend=alt.Legend(title=None, orient="bottom")),
        order=alt.Order("status:N"),
        tooltip=["element", "status", "planer"],
    ).properties(width=420, height=alt.Step(26))
    return _finish(chart, f"{title} ({long['document_id'].nunique()} planer)")


def years_chart(data: AnalysisData, title: str = "Andel segmenter per tema og år (%)") -> alt.Chart:
    wide = frequencies(data, by="year", level="theme", measure="share")
    years = [c for c in wide.columns if c.isdigit()]
    long = wide.melt(id_vars=["theme_name"], value_vars=years, var_name="år", value_name="andel")
    long = long.rename(columns={"theme_name": "tema"})
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y("år:N", title=None),
        x=alt.X("andel:Q", title="andel (%)"),
        color=alt.Color("år:N", legend=alt.Legend(orient="bottom", title=None)),
        row=alt.Row("tema:N", sort=list(wide["theme_name"]), title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", **clipped(34))),
        tooltip=["tema", "år", "andel"],
    ).properties(width=360, height=alt.Step(14))
    return _finish(chart, title)


def _theme_names(data: AnalysisData) -> tuple[list[str], list[str]]:
    themes = data.codes.drop_duplicates("theme")
    return list(themes["theme"]), list(themes["theme_name"])

