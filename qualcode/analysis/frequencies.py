"""How often themes and codes occur, overall and by municipality, year, document type or size class.

The unit is the segment: a segment with two codes of one theme counts once for
that theme. Shares are percentages of the segments in scope of the group (the
labelled ones; every codable one when machine codings are included), so plans of
different length can be compared.
"""
from __future__ import annotations

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.formats import share_of

GROUPINGS = {"place": "kommune", "year": "år", "doc_type": "dokumenttype", "size_class": "størrelse"}
MEASURES = ("segments", "documents", "share", "share_n")


def units(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """One row per (segment, code) or (segment, theme): the thing every count counts."""
    if level not in ("code", "theme"):
        raise ValueError(f"level must be 'code' or 'theme', not {level!r}")
    return data.memo(("units", level), lambda: data.codings.drop_duplicates(["segment_id", level]))


def key_columns(data: AnalysisData, level: str, only: set[str] | None = None) -> pd.DataFrame:
    """The row labels of a table: themes, or codes with their theme, in codebook order."""
    codes = data.codes
    extra = set(data.codings[level].unique()) - set(codes[level])
    if level == "theme":
        keys = codes.drop_duplicates("theme")[["theme", "theme_name"]]
        keys = pd.concat([keys, pd.DataFrame({"theme": sorted(extra), "theme_name": sorted(extra)})])
        order = data.theme_order(keys["theme"])
    else:
        keys = codes[["theme_name", "code", "code_name"]]
        keys = pd.concat([keys, pd.DataFrame({"theme_name": [c.split(".")[0] for c in sorted(extra)],
                                              "code": sorted(extra), "code_name": sorted(extra)})])
        order = data.code_order(keys["code"])
    if only is not None:
        order = [k for k in order if k in only]
    return keys.set_index(level).loc[order].reset_index()[list(keys.columns)]


def totals(data: AnalysisData, level: str = "code", all_codes: bool = True) -> pd.DataFrame:
    """Segments, documents and share of in-scope segments per theme or code, for the whole selection."""
    found = units(data, level)
    in_scope = int(data.segments["in_scope"].sum())
    agg = found.groupby(level).agg(segments=("segment_id", "nunique"), documents=("document_id", "nunique"))
    confirmed = found[found["confirmed"]].groupby(level)["segment_id"].nunique().rename("confirmed")
    keys = key_columns(data, level, None if all_codes else set(found[level].unique()))
    out = keys.merge(agg.join(confirmed), left_on=level, right_index=True, how="left")
    out[["segments", "documents", "confirmed"]] = out[["segments", "documents", "confirmed"]].fillna(0).astype(int)
    out["share"] = (100 * out["segments"] / in_scope).round(1) if in_scope else 0.0
    if not data.include_machine:
        out = out.drop(columns="confirmed")
    return out.reset_index(drop=True)


def frequencies(data: AnalysisData, by: str = "place", level: str = "theme", measure: str = "segments",
                all_codes: bool = False) -> pd.DataFrame:
    """Rows: themes or codes; columns: the values of ``by``; cells: segments, documents or share (%).

    ``share_n`` gives the share as text with the counts it rests on, "46,7 % (7 av 15)", for
    people to read (a percentage is never shown without its base)."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    found = units(data, level)
    groups = sorted(data.segments.loc[data.segments["in_scope"], by].dropna().unique().tolist(), key=_sort_key)
    if measure == "documents":
        counts = found.groupby([level, by])["document_id"].nunique()
    else:
        counts = found.groupby([level, by])["segment_id"].nunique()
    wide = counts.unstack(by) if len(counts) else pd.DataFrame(index=pd.Index([], name=level))
    wide = wide.reindex(columns=groups).fillna(0)
    keys = key_columns(data, level, None if all_codes else set(found[level].unique()))
    scope = data.segments[data.segments["in_scope"]].groupby(by)["segment_id"].nunique().reindex(groups)
    if measure == "share":
        wide = (100 * wide / scope.to_numpy()).round(1)
    else:
        wide = wide.astype(int)
    wide = wide.reindex(keys[level]).fillna(0)
    if measure == "share_n":
        wide = pd.DataFrame({g: [share_of(n, scope[g]) for n in wide[g]] for g in groups}, index=wide.index)
    wide.columns = [str(c) for c in wide.columns]
    return pd.concat([keys.reset_index(drop=True), wide.reset_index(drop=True)], axis=1)


def scope_by(data: AnalysisData, by: str) -> pd.DataFrame:
    """Documents and in-scope segments per group: the denominators behind the shares."""
    seg = data.segments
    out = seg.groupby(by).agg(documents=("document_id", "nunique"))
    out["segments"] = seg[seg["in_scope"]].groupby(by)["segment_id"].nunique()
    out = out.fillna(0).astype(int).reset_index()
    return out.iloc[sorted(range(len(out)), key=lambda i: _sort_key(out[by].iloc[i]))].reset_index(drop=True)


def _sort_key(value):
    return (0, value, "") if isinstance(value, (int,)) or hasattr(value, "__index__") else (1, 0, str(value))
