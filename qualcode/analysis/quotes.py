"""Quotes that carry a finding, each with a citation a researcher can paste into a text.

Citations follow the project's style: plans "(Fjordvik kommune, s. 5)" or "(…, s. 5–6)",
interviews "(Fjordvik kommune, intervju, barnevernleder)"; a document without a
municipality is cited by its file name.
"""
from __future__ import annotations

import re

import pandas as pd

from qualcode.analysis.frame import AnalysisData

INTERVIEW_TYPES = {"intervju", "interview", "transkripsjon"}


def pages(page_start, page_end) -> str:
    """ "s. 5" or "s. 5–6" (en dash); empty when the page is unknown."""
    if page_start is None or pd.isna(page_start) or int(page_start) <= 0:
        return ""
    start = int(page_start)
    end = start if page_end is None or pd.isna(page_end) else int(page_end)
    return f"s. {start}" if end <= start else f"s. {start}–{end}"


def is_interview(doc_type, is_transcript) -> bool:
    return bool(is_transcript) or (isinstance(doc_type, str) and doc_type.lower() in INTERVIEW_TYPES)


def citation(place: str, *, doc_type=None, is_transcript=False, informant_role=None,
             page_start=None, page_end=None) -> str:
    """The parenthesised source of a quote."""
    if is_interview(doc_type, is_transcript):
        parts = [place, "intervju"]
        if isinstance(informant_role, str) and informant_role.strip():
            parts.append(informant_role.strip())
    else:
        parts = [place]
        where = pages(page_start, page_end)
        if where:
            parts.append(where)
    return f"({', '.join(parts)})"


def citations(frame: pd.DataFrame) -> pd.Series:
    """Citation of every row of a codings or segments frame."""
    return pd.Series([citation(r.place, doc_type=r.doc_type, is_transcript=r.is_transcript,
                               informant_role=r.informant_role, page_start=r.page_start, page_end=r.page_end)
                      for r in frame.itertuples()], index=frame.index, dtype=object)


def shorten(text: str, max_chars: int = 300) -> str:
    """One line, cut at a word boundary with an ellipsis when longer than ``max_chars``."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= max_chars:
        return flat
    cut = flat[:max_chars].rsplit(" ", 1)[0].rstrip(",;:.–- ")
    return cut + " …"


def quotes(data: AnalysisData, codes: list[str] | None = None, per_code: int = 3, max_chars: int = 300,
           ideal_chars: int = 220) -> pd.DataFrame:
    """Up to ``per_code`` quotes per code.

    Confirmed codings first; among them segments about this code rather than many
    (fewer codes), of a readable length, and spread over documents (one per
    document before a second from any).
    """
    frame = data.codings
    if codes is not None:
        frame = frame[frame["code"].isin(codes)]
    if frame.empty:
        return pd.DataFrame(columns=["theme_name", "code", "code_name", "quote", "citation", "document",
                                     "ref", "segment_id", "source", "confirmed"])
    n_codes = data.codings.groupby("segment_id")["code"].nunique()
    frame = frame.assign(
        _n=frame["segment_id"].map(n_codes),
        _len=(frame["text"].str.len() - ideal_chars).abs(),
        _unconfirmed=~frame["confirmed"],
    ).sort_values(["_unconfirmed", "_n", "_len", "document_id", "seq"])
    # per code: one quote per document before a second from any, then the order above; codes in codebook order
    rank = {code: i for i, code in enumerate(data.code_order(frame["code"]))}
    frame = frame.assign(_round=frame.groupby(["code", "document_id"], sort=False).cumcount())
    out = (frame.sort_values(["_round", "_unconfirmed", "_n", "_len", "document_id", "seq"], kind="stable")
           .groupby("code", sort=False).head(per_code))
    out = out.iloc[out["code"].map(rank).argsort(kind="stable")]
    out = out.assign(quote=out["text"].map(lambda t: shorten(t, max_chars)), citation=citations(out))
    return out[["theme_name", "code", "code_name", "quote", "citation", "document", "ref", "segment_id", "source",
                "confirmed"]].reset_index(drop=True)
