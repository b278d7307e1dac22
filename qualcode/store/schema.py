"""Tables of the qualcode store (SQLAlchemy 2 ORM).

Codings never change in place: a reviewer's decision is a new row, undo
deactivates a row, and every change is mirrored in the append-only audit log.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import true


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Run(Base):
    """One invocation of a pipeline command, with the tools that ran."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    command: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    nlp_pipeline: Mapped[str | None] = mapped_column(String(200))
    codebook_version: Mapped[str | None] = mapped_column(String(40))
    model_version: Mapped[str | None] = mapped_column(String(40))
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    # running | finished | interrupted | failed; a run killed outright stays "running" with a dead pid
    state: Mapped[str | None] = mapped_column(String(20))
    host: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last document written


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(500))
    source_path: Mapped[str] = mapped_column(String(2000))
    municipality: Mapped[str | None] = mapped_column(String(200), index=True)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    doc_type: Mapped[str | None] = mapped_column(String(40))
    size_class: Mapped[str | None] = mapped_column(String(40))
    informant_role: Mapped[str | None] = mapped_column(String(80))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    size_bytes: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(80))
    is_transcript: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)  # frozen: offsets of segments and codings point into it
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # metadata fields guessed from the file name / title page, not yet confirmed by a person (0007)
    metadata_inferred: Mapped[list | None] = mapped_column(JSON, default=list)

    segments: Mapped[list[Segment]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Segment.seq"
    )


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("document_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    page_start: Mapped[int] = mapped_column(Integer)
    page_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(20))
    speaker: Mapped[str | None] = mapped_column(String(80))
    turn: Mapped[int | None] = mapped_column(Integer)
    timestamp: Mapped[str | None] = mapped_column(String(20))
    context_segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    codable: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on every reviewer change; a write that carries an older value is refused
    review_version: Mapped[int] = mapped_column(Integer, default=0)

    document: Mapped[Document] = relationship(back_populates="segments")


class CodebookVersion(Base):
    __tablename__ = "codebook_versions"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(200))
    yaml_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Code(Base):
    """The codes of the newest codebook version (older versions live in codebook_versions)."""

    __tablename__ = "codes"
    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    theme: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text, default="")
    codebook_version: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    parent: Mapped[str | None] = mapped_column(String(80))  # code it sits under (None: under its theme)


class Coding(Base):
    """One judgment that a code applies (or, for reviewers, does not apply) to a segment."""

    __tablename__ = "codings"
    __table_args__ = (
        Index("ix_codings_segment_source", "segment_id", "source"),
        Index("ix_codings_code", "code"),
        # covering: the queue's and the analysis's reads of machine scores never touch the table (0010)
        Index("ix_codings_source_scores", "source", "model_version", "active", "segment_id", "code", "score",
              "applied"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(20))  # rule | model | reviewer
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    codebook_version: Mapped[str | None] = mapped_column(String(40))
    model_version: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # machine codings: "rule" | "model", whose decision is final for this (segment, code)
    decided_by: Mapped[str | None] = mapped_column(String(20))


class SegmentReview(Base):
    """A reviewer has finished a segment: codes they did not apply count as absent."""

    __tablename__ = "segment_reviews"
    __table_args__ = (Index("ix_segment_reviews_segment", "segment_id", "reviewer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Memo(Base):
    __tablename__ = "memos"
    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Append-only: database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    segment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Pseudonym(Base):
    """Placeholder → original value. Stays in the local store; never exported."""

    __tablename__ = "pseudonyms"
    __table_args__ = (UniqueConstraint("document_id", "placeholder"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    placeholder: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    original: Mapped[str] = mapped_column(Text)


class ModelArtifact(Base):
    __tablename__ = "models"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    codebook_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    n_labelled: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # switched on in the same transaction that activates its codings (see training.switch_over)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class CodebookChange(Base):
    """One codebook edit (add, rename, move, merge, delete, edit) and the codings it moved, so it can be undone.

    Codings are never edited: a rename or merge writes copies under the new code and
    deactivates the originals; undo reverses exactly those rows (0007).
    """

    __tablename__ = "codebook_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # codes involved, e.g. {"from": "a.b", "to": "a.c"}
    before_version: Mapped[str | None] = mapped_column(String(40))
    after_version: Mapped[str] = mapped_column(String(40))
    created_codings: Mapped[list] = mapped_column(JSON, default=list)
    deactivated_codings: Mapped[list] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_by: Mapped[str | None] = mapped_column(String(120))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Adjudication(Base):
    """The agreed decision on a code for a segment where reviewers disagreed; it wins over their codings (0007)."""

    __tablename__ = "adjudications"
    __table_args__ = (Index("ix_adjudications_segment_code", "segment_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80))
    applied: Mapped[bool] = mapped_column(Boolean)
    adjudicator: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DocumentTable(Base):
    """A table as extracted: its cells row by row, so a table-row segment can be shown in its table.

    ``[start, end)`` is the table's block in ``documents.text``; its segments are its rows
    (a header row is a ``table_header`` segment, every other row a ``table_row``).
    """

    __tablename__ = "document_tables"
    __table_args__ = (Index("ix_document_tables_document_start", "document_id", "start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    page_start: Mapped[int] = mapped_column(Integer)
    page_end: Mapped[int] = mapped_column(Integer)
    header_rows: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[list] = mapped_column(JSON, default=list)


class OcrPage(Base):
    """A page whose text came from OCR, with Tesseract's mean word confidence (0-100)."""

    __tablename__ = "ocr_pages"
    __table_args__ = (UniqueConstraint("document_id", "page"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    page: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    words: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(80))


class SearchTerms(Base):
    """A segment's words as search sees them (``qualcode.search.terms``): lemmas and compound heads,
    one per word in order (phrases and NEAR work on them), longer heads and other compound parts.

    The full-text index is built on this table: SQLite FTS5 (``search_fts``, kept in step by
    triggers) or a PostgreSQL GIN index; both are created in migration 0008.
    """

    __tablename__ = "search_terms"
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)  # the analyser that wrote the row (terms.ANALYSER_VERSION)
    lemmas: Mapped[str] = mapped_column(Text, default="")
    heads: Mapped[str] = mapped_column(Text, default="")
    tails: Mapped[str] = mapped_column(Text, default="")
    parts: Mapped[str] = mapped_column(Text, default="")


class SearchCounts(Base):
    """The word-count matrix of the whole search index, saved by the first reader that had to count it
    (0009) so that a report or the app reads it instead of counting 100,000+ segments' lemmas again;
    ``state`` names the index it counts (``qualcode.search.word_counts.index_state``), and a stale row
    is ignored."""

    __tablename__ = "search_counts"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # numpy .npz: segment ids, CSR arrays, vocabulary


class DocumentWordCounts(Base):
    """One document's word counts (its segments × content words, ``word_counts.to_payload``), written by
    ingest in the transaction that writes its search terms (0011): a reader merges them instead of
    counting the whole index (``word_counts.read_documents``)."""

    __tablename__ = "document_word_counts"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)  # the analyser of the terms counted (terms.ANALYSER_VERSION)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class SearchProposal(Base):
    """A saved search offered as patterns for a code; the codebook editor accepts or dismisses it (0008)."""

    __tablename__ = "search_proposals"
    __table_args__ = (Index("ix_search_proposals_code_status", "code", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # search options (compound parts, filters)
    patterns: Mapped[list] = mapped_column(JSON, default=list)  # codebook pattern entries derived from the query
    hits: Mapped[int] = mapped_column(Integer, default=0)  # segments the search found when it was saved
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | accepted | dismissed
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
