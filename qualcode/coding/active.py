"""Which segment should a reviewer look at next? The one whose answer teaches the model most.

Uncertainty sampling: a code whose probability sits at its threshold is a coin toss,
and the reviewer's verdict on it is worth most; one far from its threshold is worth
little. Rare codes (few reviewer-confirmed positives so far) count extra, because a
new positive for them moves the model most. Without a current model the rule scores
(mapped so ``min_score`` is the threshold) stand in. Segments already marked done are
never queued.

The queue is read from stored codings - never by re-running the model - so it stays
fast on big stores; `qualcode train` refreshes the model codings it reads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qualcode.coding.artifacts import newest_artifact
from qualcode.coding.codebook import Codebook
from qualcode.coding.scores import rule_prior
from qualcode.store import schema
from qualcode.store.bulk_read import read_rows

RARE_BONUS = 1.0  # a code with no confirmed positives weighs 1 + RARE_BONUS, a common one ~1
SPREAD = 0.1  # share of the other codes' uncertainty added to the most uncertain one


@dataclass(frozen=True)
class QueueItem:
    segment_id: int
    priority: float  # higher = review sooner; 0 = nothing uncertain about it
    reason: str  # Norwegian, shown in the review app


def code_weights(positives: np.ndarray) -> np.ndarray:
    """Rarity weight per code from its count of reviewer-confirmed positives."""
    return 1.0 + RARE_BONUS / np.sqrt(1.0 + np.asarray(positives, dtype=float))


def uncertainty(proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """1 at the threshold, falling linearly to 0 at probability 0 or 1."""
    proba = np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)
    thresholds = np.clip(np.asarray(thresholds, dtype=float), 1e-6, 1 - 1e-6)
    room = np.where(proba < thresholds, thresholds, 1.0 - thresholds)
    return np.clip(1.0 - np.abs(proba - thresholds) / room, 0.0, 1.0)


def priorities(proba: np.ndarray, thresholds: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Priority per row of a (segments × codes) probability matrix, and its most uncertain code."""
    u = uncertainty(proba, thresholds) * weights
    if u.shape[1] == 0:
        return np.zeros(len(u)), np.zeros(len(u), dtype=int)
    best = u.argmax(axis=1)
    top = u[np.arange(len(u)), best]
    return top + SPREAD * (u.sum(axis=1) - top), best


def rank(proba: np.ndarray, thresholds: np.ndarray, weights: np.ndarray, n: int | None = None) -> np.ndarray:
    """Row indices, most informative first (ties: earlier row first)."""
    prio, _ = priorities(proba, thresholds, weights)
    order = np.lexsort((np.arange(len(prio)), -prio))
    return order if n is None else order[:n]


def _positives(session: Session, code_ids: list[str]) -> np.ndarray:
    from qualcode.review.labels import reviewed_labels

    labels = reviewed_labels(session)
    return np.array([sum(code in codes for codes in labels.values()) for code in code_ids], dtype=float)


def review_queue(session: Session, n: int, codebook: Codebook) -> list[QueueItem]:
    """The ``n`` segments (not yet marked done) whose review would teach the model most."""
    code_ids = codebook.code_ids
    col = {c: j for j, c in enumerate(code_ids)}
    artifact = newest_artifact(session)
    use_model = artifact is not None and artifact[1] == codebook.version
    done = select(schema.SegmentReview.segment_id).where(schema.SegmentReview.active)
    seg_ids = np.array(read_rows(session, select(schema.Segment.__table__.c.id).where(
        schema.Segment.codable, schema.Segment.id.not_in(done)).order_by(schema.Segment.id)), dtype=np.int64)
    seg_ids = seg_ids.reshape(-1)
    if n <= 0 or len(seg_ids) == 0:
        return []
    proba = None
    if use_model:  # the current model's codings; none yet (trained without re-coding) → rules
        metrics = artifact[2] or {}
        thresholds = np.array([float(metrics.get("thresholds", {}).get(c, 0.5)) for c in code_ids])
        proba = _stored_scores(session, seg_ids, col, schema.Coding.source == "model",
                               schema.Coding.model_version == artifact[0])
        use_model = proba is not None
    if proba is None:
        thresholds = np.full(len(code_ids), 0.5)  # rule scores are mapped so min_score → 0.5
        scores = _stored_scores(session, seg_ids, col, schema.Coding.source == "rule")
        scores = np.zeros((len(seg_ids), len(code_ids))) if scores is None else scores
        proba = rule_prior(scores, np.array([codebook.code(c).min_score for c in code_ids]))
    weights = code_weights(_positives(session, code_ids))
    prio, best = priorities(proba, thresholds, weights)
    order = np.lexsort((seg_ids, -prio))[:n]
    items = []
    for i in order:
        j = best[i]
        if prio[i] <= 0:
            reason = "Ingen usikre koder; med for å dekke segmenter uten forslag"
        else:
            name = codebook.code(code_ids[j]).name
            who = "Modellen er usikker" if use_model else "Reglene er usikre"
            reason = (f"{who} på «{name}» ({_no(proba[i, j])} sikker, grensen går ved {_no(thresholds[j])})"
                      + (" · sjelden kode: svaret ditt teller ekstra" if weights[j] >= 1.5 else ""))
        items.append(QueueItem(int(seg_ids[i]), round(float(prio[i]), 4), reason))
    return items


def _stored_scores(session: Session, seg_ids: np.ndarray, col: dict[str, int], *conditions):
    """Segments × codes matrix of stored active coding scores (0 where none), or None if no rows.

    ~100k rows must load in a fraction of a second, so the query maps codes to column
    numbers itself and its all-numeric rows are read straight from the driver's cursor."""
    table = schema.Coding.__table__
    stmt = select(table.c.segment_id, case(col, value=table.c.code, else_=-1),
                  func.coalesce(table.c.score, 0.0)).where(table.c.active, *conditions)
    rows = read_rows(session, stmt)
    if not rows:
        return None
    data = np.array(rows, dtype=float)
    segs, cols = data[:, 0].astype(np.int64), data[:, 1].astype(np.int64)
    pos = np.minimum(np.searchsorted(seg_ids, segs), len(seg_ids) - 1)
    keep = (cols >= 0) & (seg_ids[pos] == segs)  # drops retired codes, done and non-codable segments
    matrix = np.zeros((len(seg_ids), len(col)))
    matrix[pos[keep], cols[keep]] = data[keep, 2]
    return matrix


def _no(x: float) -> str:
    """Norwegian decimal comma."""
    return f"{x:.2f}".replace(".", ",")
