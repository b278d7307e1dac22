"""The coder one run uses: codebook, rule coder and (optionally) a learned model.

Coding is pure - texts in, suggestions or probabilities out, no store - so it runs in
worker processes and in `classify`, which never imports the database layer;
`qualcode.coding.apply` writes what it produces into a store.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qualcode.coding.codebook import Codebook, load_codebook

if TYPE_CHECKING:  # spaCy loads in `current_coder`: the process that only writes codings never imports it
    from sqlalchemy.orm import Session

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
    decided_by: str = "rule"  # "rule" | "model": whose decision is final for this segment and code


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
        """This coder plus the store's current model (its own, else the shipped base model)."""
        from qualcode.coding.training import load_current_model

        return self.with_model(load_current_model(session, self.codebook))

    def suggest(self, texts: list[str]) -> list[list[MachineCoding]]:
        """Rule (and model) suggestions per text, weak noise dropped; one NLP pass for both.

        With a model, every code's final decision is the model's (``decided_by`` says
        whether its learned part or the rule decision it passes through decides); the rule
        rows stay as the reviewer's evidence. Where the model overrules the rule, its row
        is written even when weak, so the app can show that the model said no."""
        from qualcode.coding.features import analyse

        book, model = self.codebook, self.model
        data = analyse(list(texts), self.rules)
        decider = {c: (model.decided_by(c) if model is not None else "rule") for c in book.code_ids}
        cut = {c.id: c.min_score for c in book.codes}
        out: list[list[MachineCoding]] = []
        evidence_of: list[dict[str, tuple[dict, ...]]] = []
        for suggestions in data.suggestions:
            row, ev = [], {}
            for sug in suggestions:
                ev[sug.code] = tuple({"start": e.start, "end": e.end, "text": e.text, "pattern": e.pattern}
                                     for e in sug.evidence)
                applied = sug.score >= cut[sug.code]
                if applied or sug.score >= KEEP_WEAK_ABOVE:
                    row.append(MachineCoding(sug.code, "rule", applied, round(sug.score, 4), ev[sug.code],
                                             decided_by=decider[sug.code]))
            out.append(row)
            evidence_of.append(ev)
        if model is not None and texts:
            proba = model.predict_analysis(data)
            thresholds = [model.thresholds[c] for c in model.code_ids]
            finder = model.term_finder()
            for i, (row, probs) in enumerate(zip(out, proba)):
                scores = data.rule_scores[i]
                learned = finder.evidence(texts[i], data.lemmas[i], data.offsets[i]) if finder else {}
                for j, (code, p, t) in enumerate(zip(model.code_ids, probs, thresholds)):
                    applied = bool(p >= t)
                    overruled = applied != bool(scores[j] >= cut[code])
                    if applied or p > KEEP_WEAK_ABOVE or overruled:
                        row.append(MachineCoding(code, "model", applied, round(float(p), 4),
                                                 _with_learned(evidence_of[i].get(code, ()), learned.get(code, ())),
                                                 model.version, decider[code]))
        return out


    def predict_records(self, records: list[dict], workers: int | None = None) -> list[dict]:
        """`{"id", "codes", "scores"}` per record ({"id", "text"}), scores for every code:
        the model's probabilities, or the rule scores when there is no model. Large inputs are
        split over ``workers`` forked processes (default: 2 from PARALLEL_FROM texts on)."""
        texts = [r.get("text") or "" for r in records]
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if len(texts) >= PARALLEL_FROM else 1
        matrix, cut = self.matrix(texts) if workers <= 1 else _in_processes(self, texts, workers)
        ids = self.codebook.code_ids
        return [{"id": rec.get("id"), "codes": [c for c, hit in zip(ids, row >= cut) if hit],
                 "scores": {c: round(float(p), 4) for c, p in zip(ids, row)}} for rec, row in zip(records, matrix)]

    def matrix(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores (texts × codes) and the cut per code at which a code applies."""
        from qualcode.coding.features import analyse

        data = analyse(texts, self.rules)
        if self.model is None:
            return data.rule_scores, np.array([c.min_score for c in self.codebook.codes])
        return self.model.predict_analysis(data), np.array([self.model.thresholds[c] for c in self.codebook.code_ids])


def _with_learned(rule_evidence: tuple[dict, ...], learned: list[dict]) -> tuple[dict, ...]:
    """The rule's evidence, then learned terms at places the rule marked nothing (a model row shows both)."""
    if not learned:
        return rule_evidence
    marked = [(e["start"], e["end"]) for e in rule_evidence]
    extra = [e for e in learned if not any(s < e["end"] and e["start"] < t for s, t in marked)]
    return rule_evidence + tuple(extra)


PARALLEL_FROM = 2000  # below this, starting a second process costs more than it saves
_FORKED: list = []  # the coder a forked worker inherits (never pickled)


def _matrix_of(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return _FORKED[0].matrix(texts)


def _in_processes(coder: "Coder", texts: list[str], workers: int) -> tuple[np.ndarray, np.ndarray]:
    """`Coder.matrix` over chunks in forked processes (they inherit the loaded pipeline and model)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(texts) // workers)
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    coder.matrix(texts[:1])  # load lazily loaded parts (simplemma's dictionary) once, before forking
    _FORKED[:] = [coder]
    try:
        with ProcessPoolExecutor(len(chunks), mp_context=multiprocessing.get_context("fork")) as pool:
            parts = list(pool.map(_matrix_of, chunks))
    finally:
        _FORKED.clear()
    return np.vstack([m for m, _ in parts]), parts[0][1]


@lru_cache(maxsize=4)
def current_coder(codebook_path: Path | str | None = None) -> Coder:
    """The codebook's rules plus its shipped base model (when one fits this codebook version);
    a store's own model replaces the base via `with_store_model`."""
    from qualcode.coding.base import base_model_for
    from qualcode.coding.rules import RuleCoder
    from qualcode.nlp import load_nlp, pipeline_name

    nlp = load_nlp()
    book = load_codebook(codebook_path)
    return Coder(book, RuleCoder(book, nlp), pipeline_name(nlp), base_model_for(book))
