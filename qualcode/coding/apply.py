"""Write machine suggestions into the store as codings.

A suggestion whose score reaches the code's threshold is stored as applied;
weaker ones with some evidence are kept (applied = False) so the review app can
offer them as "possible" codes. Reviewer codings are never touched here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qualcode.coding.codebook import Codebook, load_codebook
from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.schema import utcnow

if TYPE_CHECKING:  # spaCy loads in `current_coder`: the process that only writes codings never imports it
    from qualcode.coding.model import CodeModel
    from qualcode.coding.rules import RuleCoder

KEEP_WEAK_ABOVE = 0.2  # weaker rule suggestions are noise, not worth a reviewer's glance


@dataclass(frozen=True)
class MachineCoding:
    """One machine suggestion for one segment: plain data, so it can cross process boundaries."""

    code: str
    source: str  # "rule" | "model"
    applied: bool  # score reached the code's threshold; weaker ones are "possible" codes in the app
    score: float
    evidence: tuple[dict, ...] = ()  # {"start", "end", "text", "pattern"}: offsets inside the segment
    model_version: str | None = None


ACTORS = {"rule": "qualcode-rules", "model": "qualcode-model"}


@dataclass
class Coder:
    """The codebook, rule coder and (optionally) learned model one run uses, named for the run's record.

    ``suggest`` is pure (no store), so it can run in worker processes; the store is written
    by ``write_machine_codings``.
    """

    codebook: Codebook
    rules: RuleCoder
    pipeline: str
    model: "CodeModel | None" = None
    model_checked: bool = False  # the store was asked for a model (None then means: there is none)

    def with_model(self, model) -> "Coder":
        return replace(self, model=model, model_checked=True)

    def with_store_model(self, session: Session) -> "Coder":
        """This coder plus the store's current model, if there is one for this codebook."""
        from qualcode.coding.training import load_current_model

        return self.with_model(load_current_model(session, self.codebook))

    def suggest(self, texts: list[str]) -> list[list[MachineCoding]]:
        """Rule (and model) suggestions per text, weak noise dropped."""
        book = self.codebook
        out: list[list[MachineCoding]] = []
        for suggestions in self.rules.code_texts(list(texts)):
            row = []
            for sug in suggestions:
                applied = sug.score >= book.code(sug.code).min_score
                if applied or sug.score >= KEEP_WEAK_ABOVE:
                    row.append(MachineCoding(sug.code, "rule", applied, round(sug.score, 4), tuple(
                        {"start": e.start, "end": e.end, "text": e.text, "pattern": e.pattern} for e in sug.evidence)))
            out.append(row)
        if self.model is not None and texts:
            model = self.model
            proba = model.predict_proba(list(texts), rules=self.rules)
            thresholds = [model.thresholds[c] for c in model.code_ids]
            for row, probs in zip(out, proba):
                for code, p, t in zip(model.code_ids, probs, thresholds):
                    if p >= t or p > KEEP_WEAK_ABOVE:
                        row.append(MachineCoding(code, "model", bool(p >= t), round(float(p), 4),
                                                 model_version=model.version))
        return out


@lru_cache(maxsize=4)
def current_coder(codebook_path: Path | str | None = None) -> Coder:
    from qualcode.coding.rules import RuleCoder
    from qualcode.nlp import load_nlp, pipeline_name

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
    for seg, found in zip(segments, suggestions):
        for mc in found:
            rows.append({"segment_id": seg.id, "code": mc.code, "source": mc.source, "applied": mc.applied,
                         "score": mc.score, "evidence": list(mc.evidence), "codebook_version": book.version,
                         "model_version": mc.model_version, "created_by": ACTORS[mc.source],
                         "created_at": utcnow(), "active": True})
            per_source[mc.source] = per_source.get(mc.source, 0) + 1
    if rows:
        session.execute(insert(schema.Coding), rows)
    document_id = segments[0].document_id
    record(session, ACTORS["rule"], "code", "document", document_id,
           codings=per_source.get("rule", 0), codebook_version=book.version)
    if "model" in per_source:
        version = next(mc.model_version for found in suggestions for mc in found if mc.source == "model")
        record(session, ACTORS["model"], "code", "model", version, segments=len(segments),
               codings=per_source["model"], first_segment=segments[0].id, document_ids=[document_id])
    return len(rows)
