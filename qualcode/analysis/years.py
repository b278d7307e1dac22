"""What changed between years: for the whole corpus, and for each municipality's own documents.

Corpus shares are percentages of in-scope segments per year, so a year with more
or longer plans does not look more "about" everything. A municipality's change
compares its documents of the same type year by year: a code that appears is
"ny", one that disappears is "borte".
"""
from __future__ import annotations

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import frequencies, key_columns, scope_by, units


def years_overview(data: AnalysisData) -> pd.DataFrame:
    """Per year: documents, in-scope segments and coded segments."""
    out = scope_by(data, "year")
    coded = data.codings.groupby("year")["segment_id"].nunique()
    out["coded_segments"] = out["year"].map(coded).fillna(0).astype(int)
    return out


def corpus_by_year(data: AnalysisData, level: str = "theme", with_counts: bool = False) -> pd.DataFrame:
    """Rows: themes or codes; one share column per year; ``change`` = last year minus first (percentage points).

    ``with_counts`` writes each share with its counts, "46,7 % (7 av 15)" (for people, not for pivoting)."""
    wide = frequencies(data, by="year", level=level, measure="share")
    year_cols = [c for c in wide.columns if c.isdigit()]
    if len(year_cols) >= 2:
        wide["change"] = (wide[year_cols[-1]] - wide[year_cols[0]]).round(1)
    else:
        wide["change"] = pd.NA
    if with_counts:
        shown = frequencies(data, by="year", level=level, measure="share_n")
        wide[year_cols] = shown[year_cols].to_numpy()
    return wide


def municipality_changes(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """For every municipality and document type with more than one year: each code's segments year to year.

    Rows compare consecutive years (from_year → to_year); ``status`` is "ny" or "borte"
    (the code appears or disappears), else "økt", "redusert" or "uendret" by share of segments.
    """
    columns = ["place", "doc_type", "from_year", "to_year", level, "name", "from_segments", "to_segments",
               "from_share", "to_share", "change", "status"]
    found = units(data, level)
    seg = data.segments[data.segments["in_scope"] & data.segments["year"].notna()]
    name_col = "code_name" if level == "code" else "theme_name"
    names = key_columns(data, level).set_index(level)[name_col].to_dict()
    rank = _rank(data, level)
    # one grouping each, then a walk over the (few) municipalities with more than one year
    scope: dict[tuple, dict[int, int]] = {}
    for (place, doc_type, year), n in seg.groupby(["place", "doc_type", "year"])["segment_id"].nunique().items():
        scope.setdefault((place, doc_type), {})[int(year)] = int(n)
    counted: dict[tuple, dict[tuple, int]] = {}
    for (place, doc_type, key, year), n in (found.groupby(["place", "doc_type", level, "year"])["segment_id"]
                                            .nunique().items()):
        counted.setdefault((place, doc_type), {})[(key, int(year))] = int(n)
    rows = []
    for (place, doc_type), per_year in sorted(scope.items()):
        years = sorted(per_year)
        counts = counted.get((place, doc_type), {})
        for y1, y2 in zip(years, years[1:]):
            keys = sorted({k for (k, y) in counts if y in (y1, y2)}, key=rank)
            for key in keys:
                n1, n2 = counts.get((key, y1), 0), counts.get((key, y2), 0)
                s1, s2 = round(100 * n1 / per_year[y1], 1), round(100 * n2 / per_year[y2], 1)
                rows.append({"place": place, "doc_type": doc_type, "from_year": y1, "to_year": y2, level: key,
                             "name": names.get(key, key), "from_segments": n1, "to_segments": n2,
                             "from_share": s1, "to_share": s2, "change": round(s2 - s1, 1),
                             "status": _status(n1, n2, s1, s2)})
    return pd.DataFrame(rows, columns=columns)


def _status(before: int, after: int, share_before: float, share_after: float) -> str:
    """Presence decides "ny"/"borte"; otherwise the share, since a shorter plan has fewer segments of everything."""
    if before == 0:
        return "ny"
    if after == 0:
        return "borte"
    return "økt" if share_after > share_before else "redusert" if share_after < share_before else "uendret"


def _rank(data: AnalysisData, level: str):
    order = data.code_order(data.codes["code"]) if level == "code" else data.theme_order(data.codes["theme"])
    rank = {k: i for i, k in enumerate(order)}
    return lambda k: (rank.get(k, 10**6), k)
