"""Reviewer actions: accept, reject, add, mark done, memo, undo.

Plain functions over a session factory so the app, the CLI and tests share them.
Each action is one transaction that (1) bumps the segment's ``review_version``
with a compare-and-set UPDATE, (2) writes new rows (nothing is edited or
deleted) and (3) writes the audit row. A write carrying an outdated version is
refused with ``StaleWriteError``: two reviewers on the same segment never
silently overwrite each other. The UPDATE comes first so that on SQLite the
write lock is taken before anything is read (no stale snapshot can be upgraded).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.schema import utcnow

MACHINE_SOURCES = ("rule", "model")


class StaleWriteError(Exception):
    """The segment changed since the reviewer loaded it; reload and decide again."""

    def __init__(self, segment_id: int, expected: int, current: int | None, changed_by: str | None):
        self.segment_id, self.expected, self.current, self.changed_by = segment_id, expected, current, changed_by
        super().__init__(f"segment {segment_id} is at version {current}, not {expected} "
                         f"(last changed by {changed_by or 'unknown'})")


class UnknownCodeError(ValueError):
    """The code is not in the store's current codebook."""


@dataclass
class UndoResult:
    segment_id: int
    codings: list[int] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    version: int = 0


def _reviewer(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("a reviewer name is required")
    return name


def last_changed_by(session: Session, segment_id: int) -> str | None:
    """Who made the newest audited change to a segment (for the stale-write message)."""
    return session.scalar(select(schema.AuditEntry.actor).where(schema.AuditEntry.segment_id == segment_id)
                          .order_by(schema.AuditEntry.id.desc()).limit(1))


def _bump(session: Session, segment_id: int, expected_version: int) -> int:
    """Compare-and-bump review_version; the new version, or StaleWriteError."""
    table = schema.Segment.__table__
    result = session.execute(
        update(table).where(table.c.id == segment_id, table.c.review_version == expected_version)
        .values(review_version=table.c.review_version + 1))
    if result.rowcount != 1:
        current = session.scalar(select(table.c.review_version).where(table.c.id == segment_id))
        if current is None:
            raise LookupError(f"no segment {segment_id}")
        raise StaleWriteError(segment_id, expected_version, current, last_changed_by(session, segment_id))
    return expected_version + 1


def _take_write_lock(session: Session) -> None:
    """Start the write transaction before reading (a no-op UPDATE), so what undo reads cannot change under it."""
    table = schema.Segment.__table__
    session.execute(update(table).where(table.c.id == -1).values(review_version=table.c.review_version))


def _check_code(session: Session, code: str) -> None:
    known = session.scalar(select(schema.Code.code).where(schema.Code.code == code, schema.Code.active))
    if known is None:
        raise UnknownCodeError(f"unknown code {code!r}")


def _machine_evidence(session: Session, segment_id: int, code: str) -> tuple[list, str | None]:
    """Evidence of the strongest machine suggestion, kept on the reviewer's coding for exports."""
    row = session.execute(
        select(schema.Coding.evidence, schema.Coding.codebook_version)
        .where(schema.Coding.segment_id == segment_id, schema.Coding.code == code,
               schema.Coding.source.in_(MACHINE_SOURCES), schema.Coding.active)
        .order_by(schema.Coding.score.desc()).limit(1)).first()
    return (list(row.evidence or []), row.codebook_version) if row else ([], None)


def _decide(session: Session, segment_id: int, code: str, reviewer: str, applied: bool, action: str,
            version: int, at) -> schema.Coding:
    _check_code(session, code)
    evidence, book_version = _machine_evidence(session, segment_id, code)
    coding = schema.Coding(segment_id=segment_id, code=code, source="reviewer", applied=applied,
                           evidence=evidence if applied else [], codebook_version=book_version,
                           created_by=reviewer, created_at=at)
    session.add(coding)
    session.flush()
    record(session, reviewer, action, "coding", coding.id, segment_id=segment_id, code=code,
           applied=applied, review_version=version)
    return coding


def _coding_action(factory, segment_id: int, code: str, reviewer: str, expected_version: int,
                   applied: bool, action: str) -> int:
    reviewer = _reviewer(reviewer)
    with factory.begin() as session:
        version = _bump(session, segment_id, expected_version)
        _decide(session, segment_id, code, reviewer, applied, action, version, utcnow())
    return version


def accept(factory, segment_id: int, code: str, reviewer: str, expected_version: int) -> int:
    """Confirm a suggested code; returns the segment's new review_version."""
    return _coding_action(factory, segment_id, code, reviewer, expected_version, True, "accept")


def reject(factory, segment_id: int, code: str, reviewer: str, expected_version: int) -> int:
    """Record that a code does not apply (a reviewer coding with applied=False)."""
    return _coding_action(factory, segment_id, code, reviewer, expected_version, False, "reject")


def add(factory, segment_id: int, code: str, reviewer: str, expected_version: int) -> int:
    """Apply a code the machine did not suggest."""
    return _coding_action(factory, segment_id, code, reviewer, expected_version, True, "add")


def mark_done(factory, segment_id: int, reviewer: str, expected_version: int,
              accept_codes: tuple[str, ...] | list[str] = ()) -> int:
    """Mark a segment reviewed; ``accept_codes`` (suggestions left as they were) are confirmed in the same step.

    Once done, codes the reviewer did not apply count as absent (see review.labels),
    which is why still-undecided suggestions must be confirmed together with the mark.
    """
    reviewer = _reviewer(reviewer)
    codes = list(dict.fromkeys(accept_codes))
    if not codes and _is_done(factory, segment_id, reviewer, expected_version):
        return expected_version  # nothing new to record
    with factory.begin() as session:
        version = _bump(session, segment_id, expected_version)
        at = utcnow()
        for code in codes:
            _decide(session, segment_id, code, reviewer, True, "accept", version, at)
        already = session.scalar(select(schema.SegmentReview.id).where(
            schema.SegmentReview.segment_id == segment_id, schema.SegmentReview.reviewer == reviewer,
            schema.SegmentReview.active).limit(1))
        if already is None:
            review = schema.SegmentReview(segment_id=segment_id, reviewer=reviewer, created_at=at)
            session.add(review)
            session.flush()
            record(session, reviewer, "done", "segment_review", review.id, segment_id=segment_id,
                   accepted=codes, review_version=version)
    return version


def _is_done(factory, segment_id: int, reviewer: str, expected_version: int) -> bool:
    """Already marked done by ``reviewer`` (at the version they saw; a newer one is a stale write)."""
    with factory() as session:
        current = session.scalar(select(schema.Segment.review_version).where(schema.Segment.id == segment_id))
        if current is None:
            raise LookupError(f"no segment {segment_id}")
        done = session.scalar(select(schema.SegmentReview.id).where(
            schema.SegmentReview.segment_id == segment_id, schema.SegmentReview.reviewer == reviewer,
            schema.SegmentReview.active).limit(1)) is not None
        if done and current != expected_version:
            raise StaleWriteError(segment_id, expected_version, current, last_changed_by(session, segment_id))
    return done


def memo(factory, segment_id: int, reviewer: str, text: str, expected_version: int) -> int:
    """Save a memo; the newest memo of an author is their current one (an empty text clears it)."""
    reviewer = _reviewer(reviewer)
    with factory.begin() as session:
        version = _bump(session, segment_id, expected_version)
        row = schema.Memo(segment_id=segment_id, author=reviewer, text=text.strip())
        session.add(row)
        session.flush()
        record(session, reviewer, "memo", "memo", row.id, segment_id=segment_id, chars=len(row.text),
               review_version=version)
    return version


def undo_last(factory, reviewer: str) -> UndoResult | None:
    """Deactivate the reviewer's most recent action (its codings and done mark); None if nothing is left.

    Rows written by one action share their timestamp, so "Ferdig" with its
    implicit confirmations is undone as a whole. Nothing is deleted.
    """
    reviewer = _reviewer(reviewer)
    C, R = schema.Coding, schema.SegmentReview
    with factory.begin() as session:
        _take_write_lock(session)
        last_coding = session.execute(
            select(C.created_at, C.segment_id).where(C.source == "reviewer", C.created_by == reviewer, C.active)
            .order_by(C.created_at.desc(), C.id.desc()).limit(1)).first()
        last_review = session.execute(
            select(R.created_at, R.segment_id).where(R.reviewer == reviewer, R.active)
            .order_by(R.created_at.desc(), R.id.desc()).limit(1)).first()
        candidates = [row for row in (last_coding, last_review) if row is not None]
        if not candidates:
            return None
        at, segment_id = max(candidates, key=lambda row: row.created_at)
        codings = session.scalars(select(C).where(C.source == "reviewer", C.created_by == reviewer, C.active,
                                                  C.segment_id == segment_id, C.created_at == at)).all()
        reviews = session.scalars(select(R).where(R.reviewer == reviewer, R.active, R.segment_id == segment_id,
                                                  R.created_at == at)).all()
        for row in [*codings, *reviews]:
            row.active = False
        table = schema.Segment.__table__
        session.execute(update(table).where(table.c.id == segment_id)
                        .values(review_version=table.c.review_version + 1))
        version = session.scalar(select(table.c.review_version).where(table.c.id == segment_id))
        result = UndoResult(segment_id, [c.id for c in codings], [r.id for r in reviews],
                            [c.code for c in codings], version)
        record(session, reviewer, "undo", "segment", segment_id, segment_id=segment_id, codings=result.codings,
               reviews=result.reviews, codes=result.codes, review_version=version)
    return result


@dataclass
class BatchResult:
    """What ``add_many`` did: the codings written, and the segments it left alone and why."""

    audit_id: int | None = None
    code: str = ""
    codings: list[int] = field(default_factory=list)
    segments: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)  # the reviewer had applied the code already
    changed: list[int] = field(default_factory=list)  # changed by someone since the reviewer saw them
    versions: dict[int, int] = field(default_factory=dict)  # segment → new review_version


def add_many(factory, code: str, reviewer: str, versions: dict[int, int], **detail) -> BatchResult:
    """Apply ``code`` to many segments at once (e.g. every hit of a search) in one transaction.

    ``versions`` maps each segment to the review_version the reviewer saw. Segments changed
    since are skipped (reported in ``changed``), never overwritten; segments where the
    reviewer's latest decision already applies the code are skipped too. Every coding is
    audited like a single "add", plus one summary row (with ``detail``, e.g. the query)
    whose id ``undo_many`` takes.
    """
    reviewer = _reviewer(reviewer)
    C = schema.Coding
    result = BatchResult(code=code)
    with factory.begin() as session:
        _take_write_lock(session)
        _check_code(session, code)
        latest: dict[int, bool] = {}
        ids = list(versions)
        for start in range(0, len(ids), 500):
            for seg, applied in session.execute(
                    select(C.segment_id, C.applied).where(C.segment_id.in_(ids[start:start + 500]), C.code == code,
                                                          C.source == "reviewer", C.created_by == reviewer, C.active)
                    .order_by(C.created_at, C.id)):
                latest[seg] = applied
        at = utcnow()
        for segment_id, expected in versions.items():
            if latest.get(segment_id):
                result.already.append(segment_id)
                continue
            try:
                version = _bump(session, segment_id, expected)
            except StaleWriteError:
                result.changed.append(segment_id)
                continue
            coding = _decide(session, segment_id, code, reviewer, True, "add", version, at)
            result.codings.append(coding.id)
            result.segments.append(segment_id)
            result.versions[segment_id] = version
        entry = record(session, reviewer, "add_many", "code", code, codings=result.codings,
                       segments=result.segments, skipped_changed=result.changed, skipped_already=result.already,
                       **detail)
        session.flush()
        result.audit_id = entry.id
    return result


def undo_many(factory, audit_id: int, reviewer: str) -> UndoResult | None:
    """Deactivate what one ``add_many`` wrote (those of its codings still active); None if nothing is left."""
    reviewer = _reviewer(reviewer)
    C = schema.Coding
    with factory.begin() as session:
        _take_write_lock(session)
        entry = session.get(schema.AuditEntry, audit_id)
        if entry is None or entry.action != "add_many" or entry.actor != reviewer:
            raise LookupError(f"no coding of many segments by {reviewer} with audit id {audit_id}")
        ids = list((entry.detail or {}).get("codings", []))
        codings = []
        for start in range(0, len(ids), 500):
            codings += session.scalars(select(C).where(C.id.in_(ids[start:start + 500]), C.active)).all()
        if not codings:
            return None
        table = schema.Segment.__table__
        result = UndoResult(codings[0].segment_id, [c.id for c in codings], [], [entry.entity_id or ""])
        for coding in codings:
            coding.active = False
            session.execute(update(table).where(table.c.id == coding.segment_id)
                            .values(review_version=table.c.review_version + 1))
            record(session, reviewer, "undo", "segment", coding.segment_id, segment_id=coding.segment_id,
                   codings=[coding.id], reviews=[], codes=[coding.code], batch=audit_id)
        record(session, reviewer, "undo_many", "code", entry.entity_id, batch=audit_id, codings=result.codings)
    return result
