"""The one definition of the store's counts, shared by the app, `qualcode status`, `demo`, reports and exports.

- **segmenter**: every stored segment (headings and interviewer questions too);
- **segmenter å kode**: the codable ones (what a reviewer goes through);
- **med maskinforslag**: codable segments with at least one rule/model suggestion that
  reached its threshold (active);
- **gjennomgått**: codable segments a reviewer has marked done («Ferdig»); only these
  carry confirmed codes in the analysis.

Labels come from ``LABELS`` so every screen and file says the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, distinct, exists, func, select
from sqlalchemy.orm import Session

from qualcode.review.actions import MACHINE_SOURCES
from qualcode.store import schema

# key -> (Norwegian label used in the app and reports, English label used by the CLI)
LABELS = {
    "documents": ("dokumenter", "documents"),
    "segments": ("segmenter", "segments"),
    "codable": ("segmenter å kode", "segments to code"),
    "suggested": ("med maskinforslag", "with machine suggestions"),
    "reviewed": ("gjennomgått", "reviewed (marked done)"),
    "mine": ("gjennomgått av deg", "reviewed by you"),
}


@dataclass(frozen=True)
class Counts:
    documents: int = 0
    segments: int = 0
    codable: int = 0
    suggested: int = 0
    reviewed: int = 0
    mine: int = 0

    @property
    def share_reviewed(self) -> float:
        return self.reviewed / self.codable if self.codable else 0.0

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in LABELS}


def _suggested(S):
    C = schema.Coding
    return exists(select(C.id).where(C.segment_id == S.id, C.source.in_(MACHINE_SOURCES), C.applied, C.active))


def _reviewed(S, reviewer: str | None = None):
    R = schema.SegmentReview
    query = select(R.id).where(R.segment_id == S.id, R.active)
    return exists(query.where(R.reviewer == reviewer) if reviewer else query)


def store_counts(session: Session, reviewer: str | None = None) -> Counts:
    """The counts of the whole store (``mine``: segments ``reviewer`` marked done)."""
    S = schema.Segment
    codable = S.codable
    row = session.execute(select(
        func.count(),
        func.coalesce(func.sum(codable.cast(Integer)), 0),
        func.coalesce(func.sum((codable & _suggested(S)).cast(Integer)), 0),
        func.coalesce(func.sum((codable & _reviewed(S)).cast(Integer)), 0),
        func.coalesce(func.sum((codable & _reviewed(S, reviewer)).cast(Integer)), 0) if reviewer else 0,
    ).select_from(S)).one()
    documents = session.scalar(select(func.count()).select_from(schema.Document)) or 0
    return Counts(documents, *(int(v or 0) for v in row))


def document_counts(session: Session) -> dict[int, Counts]:
    """The same counts per document id."""
    S = schema.Segment
    codable = S.codable
    rows = session.execute(select(
        S.document_id, func.count(), func.coalesce(func.sum(codable.cast(Integer)), 0),
        func.coalesce(func.sum((codable & _suggested(S)).cast(Integer)), 0),
        func.coalesce(func.sum((codable & _reviewed(S)).cast(Integer)), 0),
    ).group_by(S.document_id))
    return {doc: Counts(1, int(n), int(c), int(s), int(r)) for doc, n, c, s, r in rows}


def reviewers(session: Session) -> int:
    """How many people have marked at least one segment done."""
    R = schema.SegmentReview
    return session.scalar(select(func.count(distinct(R.reviewer))).where(R.active)) or 0
