"""Which segment comes next: filters, document order (keyset-paginated) and the active-learning order.

Every query returns a page of ids, never the whole corpus, so the review page
stays fast on large stores. The active-learning order comes from
``qualcode.coding.active.review_queue`` when that module is available.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import exists, func, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from qualcode.review.actions import MACHINE_SOURCES
from qualcode.store import schema

log = logging.getLogger(__name__)

STATUSES = {
    "todo": "Ikke gjennomgått",
    "todo_me": "Ikke gjennomgått av meg",
    "done": "Gjennomgått",
    "all": "Alle",
}
# band -> (label, lowest max-score included, highest excluded)
BANDS = {
    "high": ("Høy (≥ 0,75)", 0.75, None),
    "medium": ("Middels (0,5–0,75)", 0.5, 0.75),
    "low": ("Lav – bare mulige koder (< 0,5)", None, 0.5),
    "none": ("Uten forslag", None, None),
}


@dataclass(frozen=True)
class Filters:
    document_id: int | None = None
    code: str | None = None
    status: str = "todo"
    band: str | None = None
    reviewer: str | None = None  # for status "todo_me"

    @property
    def is_default(self) -> bool:
        return self.document_id is None and self.code is None and self.band is None and self.status == "todo"


def _conditions(f: Filters) -> list:
    S, C, R = schema.Segment, schema.Coding, schema.SegmentReview
    where = [S.codable]
    if f.document_id is not None:
        where.append(S.document_id == f.document_id)
    reviewed = select(R.id).where(R.segment_id == S.id, R.active)
    if f.status == "todo":
        where.append(not_(exists(reviewed)))
    elif f.status == "todo_me":
        where.append(not_(exists(reviewed.where(R.reviewer == (f.reviewer or "")))))
    elif f.status == "done":
        where.append(exists(reviewed))
    if f.code:
        where.append(exists(select(C.id).where(C.segment_id == S.id, C.code == f.code, C.active,
                                               or_(C.applied, C.source != "reviewer"))))
    if f.band:
        best = (select(func.max(C.score)).where(C.segment_id == S.id, C.source.in_(MACHINE_SOURCES), C.active)
                .scalar_subquery())
        if f.band == "none":
            where.append(best.is_(None))
        else:
            _label, low, high = BANDS[f.band]
            where.append(best.is_not(None))
            if low is not None:
                where.append(best >= low)
            if high is not None:
                where.append(best < high)
    return where


def document_order(session: Session, f: Filters, after: tuple[int, int] | None = None,
                   limit: int = 100) -> list[tuple[int, int, int]]:
    """Up to ``limit`` (id, document_id, seq) in reading order, starting after the (document_id, seq) key."""
    S = schema.Segment
    query = select(S.id, S.document_id, S.seq).where(*_conditions(f))
    if after is not None:
        query = query.where(tuple_(S.document_id, S.seq) > tuple_(*after))
    return [tuple(r) for r in session.execute(query.order_by(S.document_id, S.seq).limit(limit))]


def keep_matching(session: Session, ids: list[int], f: Filters) -> list[int]:
    """The ids that pass the filters, in the order given."""
    if not ids:
        return []
    S = schema.Segment
    ok = set(session.scalars(select(S.id).where(S.id.in_(ids), *_conditions(f))))
    return [i for i in ids if i in ok]


def count_matching(session: Session, f: Filters) -> int:
    S = schema.Segment
    return session.scalar(select(func.count()).select_from(S).where(*_conditions(f))) or 0


def active_learning_order(session: Session, n: int, codebook, f: Filters,
                          ranker=None) -> list[tuple[int, str]] | None:
    """(segment id, reason) in the order whose review teaches the model most; None when unavailable.

    ``ranker(session, n, codebook)`` defaults to ``qualcode.coding.active.review_queue``
    (the app passes a cached one)."""
    try:
        if ranker is None:
            from qualcode.coding.active import review_queue as ranker
        items = ranker(session, n, codebook)
    except ImportError:
        return None
    except Exception:  # the model side failing must not block reviewing
        log.warning("active-learning queue failed; falling back to document order", exc_info=True)
        return None
    reasons = {item.segment_id: getattr(item, "reason", "") for item in items}
    return [(i, reasons[i]) for i in keep_matching(session, list(reasons), f)]


def position_key(session: Session, segment_id: int) -> tuple[int, int] | None:
    S = schema.Segment
    row = session.execute(select(S.document_id, S.seq).where(S.id == segment_id)).first()
    return tuple(row) if row else None


__all__ = ["BANDS", "STATUSES", "Filters", "active_learning_order", "count_matching", "document_order",
           "keep_matching", "position_key"]
