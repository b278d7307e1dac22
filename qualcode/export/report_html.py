"""The analysis as one self-contained HTML file: Norwegian text, tables, charts as inline SVG.

The file must open on an offline machine and leak nothing when opened on an
online one, so it loads no script, style sheet, font or image from anywhere:
``external_references`` checks that before the file is written.
"""
from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from qualcode.analysis import charts
from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.tables import SOURCE_NAMES, Table, report_tables
from qualcode.export.svg import SvgDrawer, spec_json
from qualcode.files import write_text_atomic
from qualcode.search.charts import word_bars

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")
_RESOURCE = re.compile(
    r"""(?:\b(?:src|href|xlink:href|poster|data|action|srcset)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""", re.IGNORECASE)


class ReportError(RuntimeError):
    """The report would not be self-contained."""


def external_references(html: str) -> list[str]:
    """Every place the page would fetch something from the network (should be none)."""
    return [html[max(0, m.start() - 40):m.end() + 40] for m in _RESOURCE.finditer(html)]


def _number(value, digits: int = 1) -> str:
    """Norwegian decimal comma and a real minus sign; missing values blank."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}".replace(".", ",").replace("-", "−")
    return str(value)


def _formatters(frame: pd.DataFrame) -> dict:
    out = {}
    for column in frame.columns:
        kind = frame[column].dtype.kind
        if kind == "f":
            digits = 2 if str(column).lower() == "jaccard" else 1
            out[column] = lambda v, d=digits: _number(v, d)
        elif isinstance(frame[column].dtype, pd.api.extensions.ExtensionDtype) and frame[column].hasnans:
            out[column] = _number
    return out


def table_html(table: Table, max_rows: int | None = None) -> Markup:
    frame = table.display()
    more = 0
    if max_rows is not None and len(frame) > max_rows:
        more, frame = len(frame) - max_rows, frame.head(max_rows)
    if frame.empty:
        return Markup('<p class="empty">Ingen data i utvalget.</p>')
    body = frame.to_html(index=False, escape=True, na_rep="", border=0, classes="data", formatters=_formatters(frame))
    if more:
        body += f'<p class="note">… og {more} rader til (se Excel-eksporten).</p>'
    return Markup(body)


def _draw_charts(wanted: dict, data: AnalysisData, drawer: SvgDrawer) -> dict:
    """Start drawing the charts: the specs here, one after another (pandas, JSON), the drawing in
    ``drawer``'s process, so it overlaps the tables. Returns key → drawing (None: no spec)."""
    started = {}
    for key, chart_fn in wanted.items():
        try:
            started[key] = drawer.submit(spec_json(chart_fn(data)))
        except Exception:  # a chart that fails must not cost the researcher the whole report
            log.warning("chart %s could not be made", key, exc_info=True)
            started[key] = None
    return started


def _drawn(key: str, drawing) -> Markup | None:
    """The SVG of one chart, or None (logged) when it cannot be drawn."""
    if drawing is None:
        return None
    try:
        return Markup(drawing.result())
    except Exception:
        log.warning("chart %s could not be drawn", key, exc_info=True)
        return None


def render_report(data: AnalysisData, *, title: str = "Tematisk analyse", store_name: str = "",
                  codebook_version: str = "", selection: str = "", drawer: SvgDrawer | None = None) -> str:
    """The report as an HTML string. ``drawer``: a drawing process already started (and warmed up)
    by the caller; one is started here if not."""
    with ExitStack() as stack:
        if drawer is None:
            drawer = stack.enter_context(SvgDrawer())
        has_codings = not data.codings.empty
        years = sorted(int(y) for y in data.segments["year"].dropna().unique())
        started = {}
        if has_codings:
            wanted = {"themes": charts.theme_bars, "codes": charts.code_bars, "places": charts.share_heatmap,
                      "cooccurrence": charts.cooccurrence_heatmap, "matrix": charts.code_document_heatmap}
            if len(years) > 1:
                wanted["years"] = charts.years_chart
            started = _draw_charts(wanted, data, drawer)
        tables = {t.key: t for t in report_tables(data, skip=frozenset({"kodinger"}))}  # while the charts draw
        later = {}
        if has_codings and not tables["fullstendighet"].frame.empty:
            later["completeness"] = charts.completeness_chart
        words = tables["ord-totalt"].frame  # search: word frequencies
        if not words.empty:
            later["words"] = lambda _data: word_bars(words, "Vanligste ord i utvalget")
        started.update(_draw_charts(later, data, drawer))
        chart = {"completeness": None, "years": None, "words": None,
                 **{key: _drawn(key, drawing) for key, drawing in started.items()}}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["table"] = table_html
    quote_rows = tables["sitater"].frame  # quotes(data), three per code
    # a grouping with nothing but "ukjent" (say, no size classes in the manifest) says nothing
    informative = {key for key, by in (("tema-per-type", "doc_type"), ("tema-per-storrelse", "size_class"))
                   if set(data.segments[by].dropna().unique()) - {"ukjent"}}
    evidence = tables["fullstendighet-belegg"].frame
    evidence_groups: dict[str, list] = {}
    for item in evidence.to_dict("records"):  # one conversion, not one per plan
        evidence_groups.setdefault(item["document"], []).append(item)
    evidence_groups = [{"document": doc, "items": items} for doc, items in evidence_groups.items()]
    html = env.get_template("report.html.j2").render(
        title=title, generated=datetime.now().strftime("%d.%m.%Y %H:%M"), store_name=store_name, selection=selection,
        codebook_version=codebook_version, data=data, tables=tables, chart=chart, has_codings=has_codings,
        years=years, quote_groups=_quote_groups(quote_rows),
        include_machine=data.include_machine, informative=informative, evidence_groups=evidence_groups,
        source_names=SOURCE_NAMES,
    )
    leaks = external_references(html)
    if leaks:
        raise ReportError(f"the report would load {len(leaks)} external resource(s), e.g. {leaks[0]!r}")
    return html


def _quote_groups(rows: pd.DataFrame) -> list[dict]:
    groups: list[dict] = []
    for (theme_name, code, code_name), part in rows.groupby(["theme_name", "code", "code_name"], sort=False):
        groups.append({"theme_name": theme_name, "code": code, "code_name": code_name,
                       "quotes": part.to_dict("records")})
    return groups


def write_report(data: AnalysisData, path: Path, **kwargs) -> Path:
    """Render, then write the file whole (a crash leaves the previous report, never half of one)."""
    path = Path(path)
    write_text_atomic(path, render_report(data, **kwargs))
    return path
