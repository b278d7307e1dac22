"""Everything the review page shows about one segment, read with a handful of indexed queries.

Never touches ``documents.text`` (whole documents can be large); neighbours are
read by (document_id, seq), which the unique index answers directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.formats import number, segment_ref
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

    def words(self) -> list[str]:
        """The evidence words in the order they occur, each once."""
        seen, out = set(), []
        for ev in sorted(self.evidence, key=lambda e: (e.get("start", 0) if isinstance(e.get("start"), int) else 0)):
            word = " ".join(str(ev.get("text") or "").split())
            if word and word.lower() not in seen:
                seen.add(word.lower())
                out.append(word)
        return out

    def why(self, max_words: int = 4) -> str:
        """Plain Norwegian: «nevner «foreldreveiledning» og «alle foreldre» · modellen 0,82 sikker»."""
        parts = []
        words = self.words()
        if words:
            quoted = [f"«{w}»" for w in words[:max_words]]
            listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " og " + quoted[-1]
            parts.append("nevner " + listed + (f" (+{len(words) - max_words})" if len(words) > max_words else ""))
        elif "model" in self.scores:
            parts.append("ligner segmenter gjennomgåere har gitt koden")
        for source, name in (("model", "modellen"), ("rule", "reglene")):
            if source in self.scores:
                parts.append(f"{name} {number(self.scores[source])} sikker")
        return " · ".join(parts)


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

    @property
    def ref(self) -> str:
        """«Fjordvik 2024 plan, §12»: how the segment is named everywhere."""
        return segment_ref(self.municipality, self.year, self.doc_type, self.seq, self.file_name)

    def evidence_spans(self, colours: dict[str, str] | None = None) -> list[tuple]:
        """(start, end, label) inside the segment text, from every suggestion's evidence;
        (start, end, label, colour) when ``colours`` (code -> colour) is given."""
        spans = []
        for sug in self.suggestions:
            for ev in sug.evidence:
                try:
                    start, end = int(ev["start"]), int(ev["end"])
                except (KeyError, TypeError, ValueError):
                    continue
                label = f"{sug.code}: {ev.get('pattern', '')}".rstrip(": ")
                spans.append((start, end, label) if colours is None else (start, end, label, colours.get(sug.code)))
        return spans


def citation(municipality: str | None, file_name: str, doc_type: str | None, is_transcript: bool,
             informant_role: str | None, page_start: int, page_end: int) -> str:
    """"Fjordvik kommune, s. 5" for plans; "(Fjordvik kommune, intervju, barnevernleder)" for interviews."""
    who = municipality or file_name
    if is_transcript or doc_type == "intervju":
        return "(" + ", ".join(p for p in (who, "intervju", informant_role) if p) + ")"
    pages = f"s. {page_start}" if page_end in (None, page_start) else f"s. {page_start}–{page_end}"
    return f"{who}, {pages}"


def segment_ref_of(session: Session, segment_id: int) -> str:
    """The name of one segment («Fjordvik 2024 plan, §12») straight from the store."""
    S, D = schema.Segment, schema.Document
    row = session.execute(select(D.municipality, D.year, D.doc_type, S.seq, D.file_name)
                          .join(D, D.id == S.document_id).where(S.id == segment_id)).first()
    return segment_ref(*row) if row else f"segment {segment_id}"


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


# -- extraction context: the table around a table row, and OCR marks ------------------------------

@dataclass
class TableAround:
    """The table a table-row segment comes from, for showing the row in its table."""

    headers: list[str]      # one label per column ("" where the table has none)
    rows: list[list[str]]   # the body rows (header rows left out)
    row: int | None         # index in ``rows`` of the segment's row; None for a header segment
    page_start: int
    page_end: int

    @property
    def labelled(self) -> str | None:
        """The segment's row with its column headers: "Tiltak: PMTO | Målgruppe: … | Ansvar: …"."""
        if self.row is None:
            return None
        from qualcode.segment import labelled_row

        return labelled_row(self.headers, self.rows[self.row]) if any(self.headers) else None


def table_around(session: Session, segment_id: int) -> TableAround | None:
    """The table holding a ``table_row`` / ``table_header`` segment, or None for other segments."""
    S, T = schema.Segment, schema.DocumentTable
    seg = session.execute(select(S.document_id, S.start, S.kind).where(S.id == segment_id)).first()
    if seg is None or seg.kind not in ("table_row", "table_header"):
        return None
    table = session.execute(
        select(T.start, T.rows, T.header_rows, T.page_start, T.page_end)
        .where(T.document_id == seg.document_id, T.start <= seg.start, T.end > seg.start)
        .order_by(T.start.desc()).limit(1)).first()
    if table is None:
        return None
    rows = [[str(c) for c in row] for row in table.rows]
    index, offset = None, table.start
    for i, row in enumerate(rows):  # the table's text is its rows joined: "a | b\nc | d"
        end = offset + len(" | ".join(row))
        if offset <= seg.start <= end:
            index = i
            break
        offset = end + 1
    from qualcode.segment import column_labels

    width = max((len(r) for r in rows), default=0)
    headers = column_labels(rows, table.header_rows) or [""] * width
    body_index = None if index is None or index < table.header_rows else index - table.header_rows
    return TableAround(headers + [""] * (width - len(headers)), rows[table.header_rows:], body_index,
                       table.page_start, table.page_end)


@dataclass
class OcrMark:
    """The segment's pages were read with OCR: Tesseract's lowest mean confidence on them."""

    pages: list[int]
    confidence: float
    engine: str


def ocr_mark(session: Session, segment_id: int) -> OcrMark | None:
    """OCR facts for a segment whose pages were scanned, or None when its text came from a text layer."""
    S, O = schema.Segment, schema.OcrPage
    seg = session.execute(select(S.document_id, S.page_start, S.page_end).where(S.id == segment_id)).first()
    if seg is None:
        return None
    rows = session.execute(select(O.page, O.confidence, O.engine).where(
        O.document_id == seg.document_id, O.page >= seg.page_start, O.page <= seg.page_end).order_by(O.page)).all()
    if not rows:
        return None
    return OcrMark([r.page for r in rows], min(r.confidence for r in rows), rows[0].engine)
