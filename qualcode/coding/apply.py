"""Write machine suggestions into the store as codings.

A suggestion whose score reaches the code's threshold is stored as applied;
weaker ones with some evidence are kept (applied = False) so the review app can
offer them as "possible" codes. Reviewer codings are never touched here.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qualcode.coding.codebook import Codebook
from qualcode.coding.coder import Coder, MachineCoding
from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.schema import utcnow

ACTORS = {"rule": "qualcode-rules", "model": "qualcode-model"}  # who wrote a machine coding


def sync_codebook(session: Session, book: Codebook, actor: str = "system") -> None:
    """Make the store's code table and version history match ``book``."""
    if session.get(schema.CodebookVersion, book.version) is None:
        session.add(schema.CodebookVersion(version=book.version, label=book.version_label,
                                           yaml_text=_yaml_text(book), created_by=actor))
        record(session, actor, "codebook_version", "codebook", book.version, codes=len(book.code_ids))
    existing = {c.code: c for c in session.scalars(select(schema.Code))}
    for code in book.codes:
        row = existing.pop(code.id, None) or schema.Code(code=code.id)
        row.theme, row.name, row.definition = code.id.split(".")[0], code.name, code.definition
        row.codebook_version, row.active = book.version, True
        session.add(row)
    for retired in existing.values():
        retired.active = False


def _yaml_text(book: Codebook) -> str:
    source = Path(book.source)
    return source.read_text(encoding="utf-8") if source.is_file() else book.to_yaml()


def code_new_segments(session: Session, coder: Coder, segments: list[schema.Segment]) -> int:
    """Store machine suggestions for ``segments``; returns how many codings were written."""
    if not segments:
        return 0
    sync_codebook(session, coder.codebook)
    if not coder.model_checked:
        coder = coder.with_store_model(session)
    return write_machine_codings(session, segments, coder.suggest([s.text for s in segments]), coder.codebook)


def write_machine_codings(session: Session, segments: list[schema.Segment],
                          suggestions: list[list[MachineCoding]], book: Codebook) -> int:
    """Insert suggestions in one batch (SQLAlchemy Core executemany), audited per source."""
    rows, per_source = [], {}
    version, now = book.version, utcnow()  # once per batch, not per row (the version is a hash)
    for seg, found in zip(segments, suggestions):
        for mc in found:
            rows.append({"segment_id": seg.id, "code": mc.code, "source": mc.source, "applied": mc.applied,
                         "score": mc.score, "evidence": list(mc.evidence), "codebook_version": version,
                         "model_version": mc.model_version, "created_by": ACTORS[mc.source],
                         "created_at": now, "active": True, "decided_by": mc.decided_by})
            per_source[mc.source] = per_source.get(mc.source, 0) + 1
    if rows:
        session.execute(insert(schema.Coding.__table__), rows)  # Core: one executemany (the ORM splits batches at every change of which values are None)
    document_id = segments[0].document_id
    record(session, ACTORS["rule"], "code", "document", document_id,
           codings=per_source.get("rule", 0), codebook_version=book.version)
    if "model" in per_source:
        version = next(mc.model_version for found in suggestions for mc in found if mc.source == "model")
        record(session, ACTORS["model"], "code", "model", version, segments=len(segments),
               codings=per_source["model"], first_segment=segments[0].id, document_ids=[document_id])
    return len(rows)
