"""The analysis as one self-contained HTML file: Norwegian text, tables, charts as inline SVG.

The file must open on an offline machine and leak nothing when opened on an
online one, so it loads no script, style sheet, font or image from anywhere:
``external_references`` checks that before the file is written.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from qualcode.analysis import charts
from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.quotes import quotes
from qualcode.analysis.tables import SOURCE_NAMES, Table, report_tables
from qualcode.export.svg import chart_svg
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


def _svg(chart_fn, data: AnalysisData) -> Markup | None:
    try:
        return Markup(chart_svg(chart_fn(data)))
    except Exception:  # a chart that fails must not cost the researcher the whole report
        log.warning("chart %s could not be drawn", chart_fn.__name__, exc_info=True)
        return None


def render_report(data: AnalysisData, *, title: str = "Tematisk analyse", store_name: str = "",
                  codebook_version: str = "", selection: str = "") -> str:
    """The report as an HTML string."""
    tables = {t.key: t for t in report_tables(data)}
    has_codings = not data.codings.empty
    years = sorted(int(y) for y in data.segments["year"].dropna().unique())
    chart = {}
    if has_codings:
        chart = {
            "themes": _svg(charts.theme_bars, data),
            "codes": _svg(charts.code_bars, data),
            "places": _svg(charts.share_heatmap, data),
            "cooccurrence": _svg(charts.cooccurrence_heatmap, data),
            "matrix": _svg(charts.code_document_heatmap, data),
            "completeness": _svg(charts.completeness_chart, data) if not tables["fullstendighet"].frame.empty else None,
            "years": _svg(charts.years_chart, data) if len(years) > 1 else None,
        }
    chart["words"] = _svg(lambda _data: word_bars(tables["ord-totalt"].frame, "Vanligste ord i utvalget"), data) \
        if not tables["ord-totalt"].frame.empty else None  # search: word frequencies
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["table"] = table_html
    quote_rows = quotes(data, per_code=3)
    # a grouping with nothing but "ukjent" (say, no size classes in the manifest) says nothing
    informative = {key for key, by in (("tema-per-type", "doc_type"), ("tema-per-storrelse", "size_class"))
                   if set(data.segments[by].dropna()) - {"ukjent"}}
    evidence = tables["fullstendighet-belegg"].frame
    evidence_groups = [{"document": doc, "items": part.to_dict("records")}
                       for doc, part in evidence.groupby("document", sort=False)]
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
    path = Path(path)
    path.write_text(render_report(data, **kwargs), encoding="utf-8")
    return path
