"""Settle disagreements: list where reviewers differ on a code, record the agreed decision, take it back.

An adjudication is a row of its own (never a reviewer's coding), audited, and it wins
over the reviewers' positions in ``review.labels`` - so reports, training and agreement
use the agreed coding. Like every review action it bumps the segment's
``review_version``: an adjudication made on an outdated view is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qualcode.review.actions import _bump, _check_code, _reviewer
from qualcode.review.labels import adjudicated, positions
from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.schema import utcnow


@dataclass
class Disagreement:
    """Reviewers' positions on one code for one segment (and the agreed decision, once there is one)."""

    segment_id: int
    code: str
    positions: dict[str, bool]
    review_version: int
    document_id: int
    seq: int
    text: str
    file_name: str
    municipality: str | None
    year: int | None
    doc_type: str | None
    page_start: int
    page_end: int
    settled: bool | None = None  # the adjudicated decision, None while open
    adjudication_id: int | None = None

    @property
    def applied_by(self) -> list[str]:
        return sorted(r for r, applied in self.positions.items() if applied)

    @property
    def not_applied_by(self) -> list[str]:
        return sorted(r for r, applied in self.positions.items() if not applied)


def disagreements(session: Session, *, include_settled: bool = False) -> list[Disagreement]:
    """Every (segment, code) where reviewers' positions differ, open ones first, in document order."""
    settled = adjudicated(session)
    found = [(seg, code, pos) for seg, codes in positions(session).items() for code, pos in codes.items()
             if len(set(pos.values())) > 1 and (include_settled or (seg, code) not in settled)]
    if not found:
        return []
    S, D = schema.Segment, schema.Document
    info = {r.id: r for r in session.execute(
        select(S.id, S.review_version, S.document_id, S.seq, S.text, S.page_start, S.page_end, D.file_name,
               D.municipality, D.year, D.doc_type).join(D, D.id == S.document_id)
        .where(S.id.in_({seg for seg, _, _ in found})))}
    latest_ids = {(seg, code): i for seg, code, i in session.execute(
        select(schema.Adjudication.segment_id, schema.Adjudication.code, schema.Adjudication.id)
        .where(schema.Adjudication.active).order_by(schema.Adjudication.created_at, schema.Adjudication.id))}
    out = []
    for seg, code, pos in found:
        r = info[seg]
        out.append(Disagreement(seg, code, dict(sorted(pos.items())), r.review_version, r.document_id, r.seq, r.text,
                                r.file_name, r.municipality, r.year, r.doc_type, r.page_start, r.page_end,
                                settled.get((seg, code)), latest_ids.get((seg, code))))
    return sorted(out, key=lambda d: (d.settled is not None, d.municipality or d.file_name, d.year or 0,
                                      d.document_id, d.seq, d.code))


def adjudicate(factory, segment_id: int, code: str, applied: bool, adjudicator: str, expected_version: int,
               note: str = "") -> int:
    """Record the agreed decision on ``code`` for the segment; returns its new review_version.

    An earlier adjudication of the same code and segment is superseded (kept, inactive).
    """
    adjudicator = _reviewer(adjudicator)
    with factory.begin() as session:
        version = _bump(session, segment_id, expected_version)
        _check_code(session, code)
        reviewers = positions(session, [segment_id]).get(segment_id, {}).get(code, {})
        A = schema.Adjudication
        earlier = list(session.scalars(select(A.id).where(A.segment_id == segment_id, A.code == code, A.active)))
        if earlier:
            session.execute(update(A).where(A.id.in_(earlier)).values(active=False))
        row = A(segment_id=segment_id, code=code, applied=bool(applied), adjudicator=adjudicator,
                note=(note or "").strip(), created_at=utcnow())
        session.add(row)
        session.flush()
        record(session, adjudicator, "adjudicate", "adjudication", row.id, segment_id=segment_id, code=code,
               applied=bool(applied), positions=reviewers, superseded=earlier, note=row.note,
               review_version=version)
    return version


def undo_adjudication(factory, adjudication_id: int, actor: str) -> int:
    """Withdraw an adjudication (the disagreement is open again); returns the segment's new review_version."""
    actor = _reviewer(actor)
    with factory.begin() as session:
        row = session.get(schema.Adjudication, adjudication_id)
        if row is None or not row.active:
            raise LookupError(f"no active adjudication {adjudication_id}")
        row.active = False
        table = schema.Segment.__table__
        session.execute(update(table).where(table.c.id == row.segment_id)
                        .values(review_version=table.c.review_version + 1))
        version = session.scalar(select(table.c.review_version).where(table.c.id == row.segment_id))
        record(session, actor, "adjudication_undo", "adjudication", row.id, segment_id=row.segment_id,
               code=row.code, applied=row.applied, review_version=version)
    return version
