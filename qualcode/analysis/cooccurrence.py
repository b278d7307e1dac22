"""Which codes occur together in the same segment.

A pair counts once per segment that carries both codes; the diagonal holds the
number of segments with the code at all. Jaccard (both / either) tells whether a
pair is more than two frequent codes meeting by chance.
"""
from __future__ import annotations

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import units


def incidence(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """Segment × code (or theme) 0/1 matrix, columns in codebook order."""
    found = units(data, level)
    table = pd.crosstab(found["segment_id"], found[level]).clip(upper=1)
    order = data.code_order(table.columns) if level == "code" else data.theme_order(table.columns)
    return table.reindex(columns=order)


def cooccurrence(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """Square matrix over the codes that occur: segments in which both occur (diagonal: the code alone)."""
    table = incidence(data, level)
    if table.empty:
        return pd.DataFrame(index=pd.Index([], name=level), dtype=int)
    matrix = table.T.dot(table)
    matrix.index.name, matrix.columns.name = level, None
    return matrix.astype(int)


def cooccurrence_pairs(data: AnalysisData, level: str = "code", min_segments: int = 1) -> pd.DataFrame:
    """One row per pair of different codes occurring together, most frequent first."""
    matrix = cooccurrence(data, level)
    names = _names(data, level)
    keys = list(matrix.index)
    rows = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            both = int(matrix.loc[a, b])
            if both >= min_segments and both > 0:
                either = int(matrix.loc[a, a] + matrix.loc[b, b] - both)
                rows.append({f"{level}_a": a, "name_a": names.get(a, a), f"{level}_b": b, "name_b": names.get(b, b),
                             "segments": both, "jaccard": round(both / either, 3)})
    out = pd.DataFrame(rows, columns=[f"{level}_a", "name_a", f"{level}_b", "name_b", "segments", "jaccard"])
    return out.sort_values(["segments", "jaccard", f"{level}_a", f"{level}_b"],
                           ascending=[False, False, True, True]).reset_index(drop=True)


def cooccurrence_long(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """Every cell of the matrix as a row (for heatmaps): a, b, segments, with names."""
    matrix = cooccurrence(data, level)
    names = _names(data, level)
    long = matrix.stack().rename("segments").reset_index()
    long.columns = ["a", "b", "segments"]
    long["name_a"] = long["a"].map(lambda k: names.get(k, k))
    long["name_b"] = long["b"].map(lambda k: names.get(k, k))
    return long


def _names(data: AnalysisData, level: str) -> dict[str, str]:
    column = "code_name" if level == "code" else "theme_name"
    return dict(zip(data.codes[level], data.codes[column])) | dict(zip(data.codings[level], data.codings[column]))
