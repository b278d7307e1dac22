"""Write machine suggestions into the store as codings.

A suggestion whose score reaches the code's threshold is stored as applied;
weaker ones with some evidence are kept (applied = False) so the review app can
offer them as "possible" codes. Reviewer codings are never touched here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.coding.codebook import Codebook, load_codebook
from qualcode.coding.rules import RuleCoder
from qualcode.nlp import load_nlp, pipeline_name
from qualcode.store import schema
from qualcode.store.audit import record

KEEP_WEAK_ABOVE = 0.2  # weaker rule suggestions are noise, not worth a reviewer's glance


@dataclass
class Coder:
    """The codebook and rule coder one run uses, named for the run's record."""

    codebook: Codebook
    rules: RuleCoder
    pipeline: str


@lru_cache(maxsize=4)
def current_coder(codebook_path: Path | str | None = None) -> Coder:
    nlp = load_nlp()
    book = load_codebook(codebook_path)
    return Coder(book, RuleCoder(book, nlp), pipeline_name(nlp))


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
    """Store rule suggestions for ``segments``; returns how many codings were written."""
    if not segments:
        return 0
    sync_codebook(session, coder.codebook)
    book = coder.codebook
    written = 0
    for seg, suggestions in zip(segments, coder.rules.code_texts([s.text for s in segments])):
        for sug in suggestions:
            applied = sug.score >= book.code(sug.code).min_score
            if not applied and sug.score < KEEP_WEAK_ABOVE:
                continue
            session.add(schema.Coding(
                segment_id=seg.id, code=sug.code, source="rule", applied=applied, score=round(sug.score, 4),
                evidence=[{"start": e.start, "end": e.end, "text": e.text, "pattern": e.pattern} for e in sug.evidence],
                codebook_version=book.version, created_by="qualcode-rules",
            ))
            written += 1
    record(session, "qualcode-rules", "code", "document", segments[0].document_id,
           codings=written, codebook_version=book.version)
    written += _model_codings(session, coder, segments)
    return written


# -- learned model: when the store holds a current model (see coding/training.py), it codes too
def _model_codings(session: Session, coder: Coder, segments: list[schema.Segment]) -> int:
    from qualcode.coding.training import apply_model, load_current_model

    model = load_current_model(session, coder.codebook)
    return 0 if model is None else apply_model(session, model, segments, rules=coder.rules)
