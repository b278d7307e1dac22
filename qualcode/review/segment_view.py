"""Everything the review page shows about one segment, read with a handful of indexed queries.

Never touches ``documents.text`` (whole documents can be large); neighbours are
read by (document_id, seq), which the unique index answers directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.review.actions import MACHINE_SOURCES
from qualcode.store import schema


@dataclass
class Suggestion:
    """A code the machine proposed: ``applied`` when a source reached the code's threshold, else "mulig"."""

    code: str
    applied: bool
    scores: dict[str, float] = field(default_factory=dict)  # source -> best score
    evidence: list[dict] = field(default_factory=list)
    decisions: dict[str, bool] = field(default_factory=dict)  # source -> applied ("rule", "model")
    decided_by: str | None = None  # "model" | "rule": whose decision is final (None: older codings)

    @property
    def overruled(self) -> bool:
        """The model's final decision differs from the rule's: the app must say the model decided."""
        return "model" in self.decisions and self.decisions["model"] != self.decisions.get("rule", False)

    @property
    def score(self) -> float:
        return max(self.scores.values(), default=0.0)


@dataclass
class Decision:
    applied: bool
    at: datetime


@dataclass
class SegmentView:
    id: int
    document_id: int
    seq: int
    kind: str
    text: str
    page_start: int
    page_end: int
    role: str | None
    speaker: str | None
    codable: bool
    review_version: int
    file_name: str
    municipality: str | None
    year: int | None
    doc_type: str | None
    informant_role: str | None
    is_transcript: bool
    previous: str | None = None
    following: str | None = None
    question: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    decisions: dict[str, dict[str, Decision]] = field(default_factory=dict)  # reviewer -> code -> latest
    done_by: list[str] = field(default_factory=list)
    memos: dict[str, str] = field(default_factory=dict)  # author -> newest memo

    @property
    def citation(self) -> str:
        return citation(self.municipality, self.file_name, self.doc_type, self.is_transcript,
                        self.informant_role, self.page_start, self.page_end)

    def decision(self, reviewer: str, code: str) -> bool | None:
        found = self.decisions.get(reviewer, {}).get(code)
        return None if found is None else found.applied

    def reviewer_codes(self, reviewer: str) -> dict[str, bool]:
        return {code: d.applied for code, d in self.decisions.get(reviewer, {}).items()}

    def pending(self, reviewer: str) -> list[str]:
        """Machine-applied suggestions this reviewer has not decided on (confirmed by "Ferdig")."""
        return [s.code for s in self.suggestions if s.applied and self.decision(reviewer, s.code) is None]

    def evidence_spans(self) -> list[tuple[int, int, str]]:
        """(start, end, label) inside the segment text, from every suggestion's evidence."""
        spans = []
        for sug in self.suggestions:
            for ev in sug.evidence:
                try:
                    start, end = int(ev["start"]), int(ev["end"])
                except (KeyError, TypeError, ValueError):
                    continue
                spans.append((start, end, f"{sug.code}: {ev.get('pattern', '')}".rstrip(": ")))
        return spans


def citation(municipality: str | None, file_name: str, doc_type: str | None, is_transcript: bool,
             informant_role: str | None, page_start: int, page_end: int) -> str:
    """"Fjordvik kommune, s. 5" for plans; "(Fjordvik kommune, intervju, barnevernleder)" for interviews."""
    who = municipality or file_name
    if is_transcript or doc_type == "intervju":
        return "(" + ", ".join(p for p in (who, "intervju", informant_role) if p) + ")"
    pages = f"s. {page_start}" if page_end in (None, page_start) else f"s. {page_start}–{page_end}"
    return f"{who}, {pages}"


def load_segment(session: Session, segment_id: int) -> SegmentView | None:
    S, D = schema.Segment, schema.Document
    row = session.execute(
        select(S.id, S.document_id, S.seq, S.kind, S.text, S.page_start, S.page_end, S.role, S.speaker,
               S.codable, S.review_version, S.context_segment_id, D.file_name, D.municipality, D.year,
               D.doc_type, D.informant_role, D.is_transcript)
        .join(D, D.id == S.document_id).where(S.id == segment_id)).first()
    if row is None:
        return None
    view = SegmentView(**{k: v for k, v in row._mapping.items() if k != "context_segment_id"})
    neighbours = dict(session.execute(
        select(S.seq, S.text).where(S.document_id == row.document_id, S.seq.in_([row.seq - 1, row.seq + 1]))).all())
    view.previous, view.following = neighbours.get(row.seq - 1), neighbours.get(row.seq + 1)
    if row.context_segment_id is not None:
        view.question = session.scalar(select(S.text).where(S.id == row.context_segment_id))
        if view.question == view.previous:
            view.previous = None
    _add_codings(session, view)
    view.done_by = sorted(set(session.scalars(select(schema.SegmentReview.reviewer).where(
        schema.SegmentReview.segment_id == segment_id, schema.SegmentReview.active))))
    for author, text in session.execute(select(schema.Memo.author, schema.Memo.text)
                                        .where(schema.Memo.segment_id == segment_id)
                                        .order_by(schema.Memo.created_at, schema.Memo.id)):
        view.memos[author] = text
    view.memos = {a: t for a, t in view.memos.items() if t}
    return view


def _add_codings(session: Session, view: SegmentView) -> None:
    C = schema.Coding
    rows = session.execute(
        select(C.code, C.source, C.applied, C.score, C.evidence, C.created_by, C.created_at, C.decided_by)
        .where(C.segment_id == view.id, C.active).order_by(C.created_at, C.id)).all()
    by_code: dict[str, Suggestion] = {}
    # once a model has coded the segment, its decision is final for every code (it has
    # weighed the rule's); a rule hit the model rejected is shown as such, not as applied
    model_coded = any(r.source == "model" for r in rows)
    for r in rows:
        if r.source in MACHINE_SOURCES:
            sug = by_code.setdefault(r.code, Suggestion(r.code, False))
            sug.decisions[r.source] = sug.decisions.get(r.source, False) or bool(r.applied)
            if r.source == "model" or not model_coded:
                sug.applied = sug.applied or bool(r.applied)
            if r.source == "model" or sug.decided_by is None:
                sug.decided_by = r.decided_by or sug.decided_by
            score = float(r.score or 0.0)
            sug.scores[r.source] = max(score, sug.scores.get(r.source, 0.0))
            seen = {(e.get("start"), e.get("end")) for e in sug.evidence}
            sug.evidence += [e for e in (r.evidence or []) if isinstance(e, dict)
                             and (e.get("start"), e.get("end")) not in seen]
        elif r.source == "reviewer":
            view.decisions.setdefault(r.created_by, {})[r.code] = Decision(bool(r.applied), r.created_at)
    view.suggestions = sorted(by_code.values(), key=lambda s: (not s.applied, -s.score, s.code))
