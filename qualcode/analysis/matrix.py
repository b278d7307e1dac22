"""Code × document matrix: how many segments of each document carry each code (or theme)."""
from __future__ import annotations

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import key_columns, units


def matrix_long(data: AnalysisData, level: str = "code") -> pd.DataFrame:
    """One row per (code or theme, document) that occurs, with the number of segments."""
    found = units(data, level)
    return (found.groupby([level, "document_id", "document"], sort=False)["segment_id"].nunique()
            .rename("segments").reset_index())


def code_document_matrix(data: AnalysisData, level: str = "code", all_codes: bool = True) -> pd.DataFrame:
    """Rows: codes (or themes) in codebook order, with their names; columns: documents; cells: segments.

    ``all_codes`` keeps codes no document uses (a zero row is a finding too).
    """
    long = matrix_long(data, level)
    docs = data.documents
    wide = long.pivot_table(index=level, columns="document_id", values="segments", aggfunc="sum", fill_value=0)
    keys = key_columns(data, level, None if all_codes else set(long[level].unique()))
    wide = wide.reindex(index=keys[level], columns=docs["document_id"], fill_value=0).fillna(0).astype(int)
    wide.columns = list(docs["document"])
    out = pd.concat([keys.reset_index(drop=True), wide.reset_index(drop=True)], axis=1)
    out["total"] = wide.sum(axis=1).to_numpy()
    return out
