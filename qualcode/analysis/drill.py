"""The segments behind a number: every count in a table can be opened to its quotes."""
from __future__ import annotations

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.quotes import citations

COLUMNS = ["segment_id", "ref", "document", "citation", "code", "code_name", "source", "text"]


def segments_behind(data: AnalysisData, *, code: str | None = None, theme: str | None = None,
                    document_id: int | None = None, **where) -> pd.DataFrame:
    """Codings matching a code or theme and any column filters (place=…, year=…), one row per segment."""
    frame = data.codings
    if code is not None:
        frame = frame[frame["code"] == code]
    if theme is not None:
        frame = frame[frame["theme"] == theme]
    if document_id is not None:
        frame = frame[frame["document_id"] == document_id]
    for column, value in where.items():
        frame = frame[frame[column] == value]
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    merged = (frame.groupby("segment_id", sort=False)
              .agg(code=("code", ", ".join), code_name=("code_name", ", ".join), source=("source", _sources))
              .reset_index())
    first = frame.drop_duplicates("segment_id").set_index("segment_id")
    merged = merged.join(first[["ref", "document", "text", "place", "doc_type", "is_transcript", "informant_role",
                                "page_start", "page_end"]], on="segment_id")
    merged["citation"] = citations(merged)
    return merged[COLUMNS].reset_index(drop=True)


def _sources(values) -> str:
    return ", ".join(sorted(set(values)))
