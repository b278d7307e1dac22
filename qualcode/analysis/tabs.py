"""What each view of the Analyse page shows, computed for one view at a time.

The page asks for the view in front of the reviewer only and caches the answer per
(store version, filters, source, view options), so a yearly store (100,000+ segments)
costs one view's work per change, not seven. Pure pandas/Altair: the benchmark and the
tests call it without Streamlit.
"""
from __future__ import annotations

from qualcode.analysis import charts
from qualcode.analysis.completeness import completeness, completeness_matrix
from qualcode.analysis.cooccurrence import cooccurrence_pairs
from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import GROUPINGS, frequencies, totals
from qualcode.analysis.matrix import code_document_matrix
from qualcode.analysis.quotes import quotes
from qualcode.analysis.years import corpus_by_year, municipality_changes, years_overview

TABS = {
    "themes": "Tema og koder",
    "groups": "Fordeling",
    "matrix": "Kode × dokument",
    "cooccurrence": "Samforekomst",
    "completeness": "§ 15-1",
    "years": "Over tid",
    "quotes": "Sitater",
}


def compute(data: AnalysisData, tab: str, *, level: str = "theme", by: str = "place", measure: str = "share",
            code: str | None = None, per_code: int = 3) -> dict:
    """The tables (and chart) of one view. Options only matter to the views that have them."""
    has = not data.codings.empty
    if tab == "themes":
        return {"chart": charts.theme_bars(data) if has else None, "table": totals(data, level, all_codes=False)}
    if tab == "groups":
        if not has:
            return {"chart": None, "table": None}
        chart = None
        if level == "theme" and measure == "share":
            chart = charts.share_heatmap(data, by=by, title=f"Andel segmenter per tema ({GROUPINGS[by]}, %)")
        # a share is shown with the counts it rests on: "46,7 % (7 av 15)"
        return {"chart": chart, "table": frequencies(data, by=by, level=level,
                                                     measure="share_n" if measure == "share" else measure)}
    if tab == "matrix":
        if not has:
            return {"chart": None, "table": None}
        return {"chart": charts.code_document_heatmap(data), "table": code_document_matrix(data, all_codes=False)}
    if tab == "cooccurrence":
        if not has:
            return {"chart": None, "table": None}
        return {"chart": charts.cooccurrence_heatmap(data), "table": cooccurrence_pairs(data)}
    if tab == "completeness":
        matrix = completeness_matrix(data)
        return {"chart": charts.completeness_chart(data) if not matrix.empty else None, "table": matrix,
                "evidence": completeness(data)}
    if tab == "years":
        years = sorted(int(y) for y in data.segments["year"].dropna().unique())
        several = len(years) > 1
        return {"overview": years_overview(data), "years": years,
                "chart": charts.years_chart(data) if several and has else None,
                "table": corpus_by_year(data, level, with_counts=True) if several else None,
                "changes": municipality_changes(data, level) if several else None}
    if tab == "quotes":
        return {"table": quotes(data, codes=[code] if code else None, per_code=per_code) if has else None}
    raise ValueError(f"unknown view {tab!r}; one of {', '.join(TABS)}")
