"""Train the model from reviewers' decisions, keep it versioned in the store, and use it.

A model artefact is tied to the codebook version it learned (a content hash of the
YAML). When the codebook changes, the old model is *stale*: it is refused with a
reason - never silently used - until `qualcode train` builds one for the new codebook.
Model codings are written for segments nobody has marked done yet, so a segment's
model coding always predates the reviewer's verdict on it (agreement stays honest).
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qualcode.coding.codebook import Codebook
from qualcode.coding.model import CodeModel
from qualcode.review.labels import reviewed_labels
from qualcode.store import schema
from qualcode.store.audit import record

log = logging.getLogger(__name__)

MODEL_ACTOR = "qualcode-model"
KEEP_WEAK_ABOVE = 0.2  # as for rule suggestions: weaker ones are noise in the review app
APPLY_BATCH = 2000  # segments per transaction when re-coding the store

_CACHE: dict[str, CodeModel] = {}  # artefact version → unpickled model (artefacts never change)


class NothingToTrain(ValueError):
    """No reviewer-confirmed segments: the model would only learn from itself."""


@dataclass
class TrainResult:
    version: str
    n_labelled: int
    seconds: float
    metrics: dict = field(default_factory=dict)
    recoded: int = 0  # model codings written afterwards


@dataclass
class ModelStatus:
    """The store's newest model and whether it may be used with the current codebook."""

    model: CodeModel | None
    version: str | None
    reason: str  # why there is no usable model, or "current"

    @property
    def usable(self) -> bool:
        return self.model is not None


# -- training ------------------------------------------------------------------------------

def training_data(session: Session, codebook: Codebook) -> tuple[list[int], list[str], list[set[str]]]:
    """Segment ids, texts and reviewer-confirmed codes (machine codings never count)."""
    labels = reviewed_labels(session)
    if not labels:
        return [], [], []
    ids = sorted(labels)
    done = select(schema.SegmentReview.segment_id).where(schema.SegmentReview.active)
    texts = {i: t for i, t in session.execute(select(schema.Segment.id, schema.Segment.text)
                                              .where(schema.Segment.id.in_(done)))}
    known = set(codebook.code_ids)
    ids = [i for i in ids if i in texts]
    return ids, [texts[i] for i in ids], [labels[i] & known for i in ids]


def train_from_store(factory, actor: str = "system", *, coder=None, seed: int = 0,
                     apply: bool = False) -> TrainResult:
    """Fit a model on every reviewed segment (+ codebook examples) and store it as a new version.

    With ``apply``, segments not yet reviewed get fresh model codings afterwards."""
    from qualcode.coding.apply import current_coder, sync_codebook

    coder = coder or current_coder()
    book = coder.codebook
    started = time.perf_counter()
    with factory() as session:
        ids, texts, label_sets = training_data(session, book)
    if not ids:
        raise NothingToTrain("no reviewed segments to learn from: mark segments as done in the review app "
                             "(`qualcode app`) first - rule and model suggestions never count as labels")
    model = CodeModel(seed=seed).fit(texts, label_sets, book, rules=coder.rules)
    payload = model.to_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    version = f"m{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{digest[:8]}"
    model.version = version
    seconds = time.perf_counter() - started
    metrics = _metrics(model, label_sets, seconds, digest)
    with factory.begin() as session:
        sync_codebook(session, book, actor)
        session.add(schema.ModelArtifact(version=version, codebook_version=book.version,
                                         n_labelled=len(ids), metrics=metrics, payload=payload))
        record(session, actor, "train", "model", version, codebook_version=book.version, n_labelled=len(ids),
               macro_cv_kappa=metrics["macro_cv_kappa"], seconds=metrics["seconds"])
    _CACHE[version] = model
    result = TrainResult(version, len(ids), seconds, metrics)
    if apply:
        result.recoded = recode_store(factory, model, coder, actor=actor)
    return result


def _metrics(model: CodeModel, label_sets: list[set[str]], seconds: float, digest: str) -> dict:
    """What `train` reports and the queue reads: inner-CV kappas, thresholds, label counts."""
    per_code = model.summary()
    learned = {c: v for c, v in per_code.items() if v["cv_kappa"] is not None}
    mean = (lambda xs: round(float(np.mean(xs)), 4) if xs else None)
    return {
        "seconds": round(seconds, 2),
        "n_examples": model.n_examples,
        "payload_sha256": digest,
        "thresholds": model.thresholds,
        "positives": {c: int(sum(c in ls for ls in label_sets)) for c in model.code_ids},
        "codes": per_code,
        # out-of-fold kappa on the codes with enough labels to judge (optimistic: the
        # blend and threshold were chosen on the same folds); rule kappa on the same rows
        "macro_cv_kappa": mean([v["cv_kappa"] for v in learned.values()]),
        "macro_rule_kappa": mean([v["rule_kappa"] for v in learned.values()]),
        "codes_learned": sum(v["weight"] > 0 for v in per_code.values()),
    }


# -- loading -------------------------------------------------------------------------------

def newest_artifact(session: Session):
    """(version, codebook_version, metrics) of the newest artefact, without its payload."""
    return session.execute(
        select(schema.ModelArtifact.version, schema.ModelArtifact.codebook_version, schema.ModelArtifact.metrics)
        .order_by(schema.ModelArtifact.created_at.desc(), schema.ModelArtifact.id.desc()).limit(1)).first()


def model_status(session: Session, codebook: Codebook) -> ModelStatus:
    """The newest model if it belongs to ``codebook``; otherwise None and the reason."""
    row = newest_artifact(session)
    if row is None:
        return ModelStatus(None, None, "no model has been trained yet (run `qualcode train`)")
    version, book_version, metrics = row
    if book_version != codebook.version:
        return ModelStatus(None, version, f"model {version} was trained for codebook {book_version}, but the "
                                          f"codebook is now {codebook.version}: it is stale, run `qualcode train`")
    model = _CACHE.get(version)
    if model is None:
        payload = session.scalar(select(schema.ModelArtifact.payload).where(schema.ModelArtifact.version == version))
        expected = (metrics or {}).get("payload_sha256")
        if expected and hashlib.sha256(payload).hexdigest() != expected:
            return ModelStatus(None, version, f"model {version} is damaged (checksum mismatch): run `qualcode train`")
        model = CodeModel.from_bytes(payload)
        model.version = version
        if model.codebook_version != codebook.version or model.code_ids != codebook.code_ids:
            return ModelStatus(None, version, f"model {version} does not match codebook {codebook.version}")
        _CACHE[version] = model
    return ModelStatus(model, version, "current")


def load_current_model(session: Session, codebook: Codebook) -> CodeModel | None:
    """The usable model for ``codebook`` or None (the reason is logged; see `model_status`)."""
    status = model_status(session, codebook)
    if status.model is None:
        log.info("no model used: %s", status.reason)
    return status.model


def current_or_retrained(factory, coder, actor: str = "system") -> ModelStatus:
    """The current model, retraining first when the newest one is stale (or missing)."""
    with factory() as session:
        status = model_status(session, coder.codebook)
    if status.model is not None:
        return status
    result = train_from_store(factory, actor, coder=coder)
    return ModelStatus(_CACHE[result.version], result.version, "current")


# -- applying ------------------------------------------------------------------------------

def apply_model(session: Session, model: CodeModel, segments: list[schema.Segment], *, rules=None,
                actor: str = MODEL_ACTOR) -> int:
    """Write ``source="model"`` codings for ``segments``; returns how many were written.

    Applied = probability at or above the code's threshold; weaker ones above 0.2 are
    kept unapplied, as for rule suggestions. Older active model codings of these
    segments are superseded (deactivated)."""
    segments = [s for s in segments if s.codable]
    if not segments:
        return 0
    proba = model.predict_proba([s.text for s in segments], rules=rules)
    thresholds = np.array([model.thresholds[c] for c in model.code_ids])
    ids = [s.id for s in segments]
    session.execute(update(schema.Coding).where(schema.Coding.segment_id.in_(ids), schema.Coding.source == "model",
                                                schema.Coding.active).values(active=False))
    written = 0
    for seg, row in zip(segments, proba):
        for code, p, t in zip(model.code_ids, row, thresholds):
            applied = bool(p >= t)
            if not applied and p <= KEEP_WEAK_ABOVE:
                continue
            session.add(schema.Coding(segment_id=seg.id, code=code, source="model", applied=applied,
                                      score=round(float(p), 4), evidence=[], codebook_version=model.codebook_version,
                                      model_version=model.version, created_by=actor))
            written += 1
    record(session, actor, "code", "model", model.version, segments=len(segments), codings=written,
           first_segment=ids[0], document_ids=sorted({s.document_id for s in segments}))
    return written


def recode_store(factory, model: CodeModel, coder, *, actor: str = MODEL_ACTOR) -> int:
    """Model codings for every codable segment nobody has marked done, in batches."""
    done = select(schema.SegmentReview.segment_id).where(schema.SegmentReview.active)
    with factory() as session:
        ids = list(session.scalars(select(schema.Segment.id).where(schema.Segment.codable,
                                                                  schema.Segment.id.not_in(done))
                                   .order_by(schema.Segment.id)))
    written = 0
    for start in range(0, len(ids), APPLY_BATCH):
        with factory.begin() as session:
            segs = list(session.scalars(select(schema.Segment).where(
                schema.Segment.id.in_(ids[start:start + APPLY_BATCH])).order_by(schema.Segment.id)))
            written += apply_model(session, model, segs, rules=coder.rules, actor=actor)
    return written
