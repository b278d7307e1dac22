"""Which codes occur together in the same segment.

A pair counts once per segment that carries both codes; the diagonal holds the
number of segments with the code at all. Jaccard (both / either) tells whether a
pair is more than two frequent codes meeting by chance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import units


def incidence(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """Segment × code (or theme) 0/1 matrix, columns in codebook order."""
    found = units(data, level)
    rows, segments = pd.factorize(found["segment_id"], sort=True)
    cols, keys = pd.factorize(found[level])
    table = np.zeros((len(segments), len(keys)), dtype=np.int32)  # numpy, not crosstab: 100,000+ rows stay quick
    table[rows, cols] = 1
    frame = pd.DataFrame(table, index=pd.Index(segments, name="segment_id"), columns=pd.Index(list(keys), name=level))
    order = data.code_order(frame.columns) if level == "code" else data.theme_order(frame.columns)
    return frame.reindex(columns=order)


def cooccurrence(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """Square matrix over the codes that occur: segments in which both occur (diagonal: the code alone)."""
    return data.memo(("cooccurrence", level), lambda: _cooccurrence(data, level))


def _cooccurrence(data: AnalysisData, level: str) -> pd.DataFrame:
    table = incidence(data, level)
    if table.empty:
        return pd.DataFrame(index=pd.Index([], name=level), dtype=int)
    values = table.to_numpy()
    matrix = pd.DataFrame(values.T @ values, index=pd.Index(table.columns, name=level), columns=list(table.columns))
    return matrix.astype(int)


def cooccurrence_pairs(data: AnalysisData, level: str = "code", min_segments: int = 1) -> pd.DataFrame:
    """One row per pair of different codes occurring together, most frequent first."""
    matrix = cooccurrence(data, level)
    names = _names(data, level)
    keys = list(matrix.index)
    values = matrix.to_numpy()
    rows = []
    for i, a in enumerate(keys):
        for j in range(i + 1, len(keys)):
            b, both = keys[j], int(values[i, j])
            if both >= min_segments and both > 0:
                either = int(values[i, i] + values[j, j] - both)
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
    named = data.codings[[level, column]].drop_duplicates(level)
    return dict(zip(data.codes[level], data.codes[column])) | dict(zip(named[level], named[column]))
