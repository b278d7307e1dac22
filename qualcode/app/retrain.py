"""Retrain the model in a background thread after enough corrections, and report the change in agreement.

One ``Retrainer`` per store (shared by every browser session) so two reviewers
never train at once. ``qualcode.coding.training.train_from_store`` is optional:
without it, retraining is simply unavailable.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import streamlit as st
from sqlalchemy import select

from qualcode.store import schema

log = logging.getLogger(__name__)
DEFAULT_EVERY = 20


def default_every() -> int:
    try:
        return max(1, int(os.environ.get("QUALCODE_RETRAIN_EVERY", DEFAULT_EVERY)))
    except ValueError:
        return DEFAULT_EVERY


def macro_kappa(metrics) -> float | None:
    """Model-vs-reviewer macro kappa from a metrics dict, whatever the training module calls it."""
    if not isinstance(metrics, dict):
        return None
    for key in ("macro_cv_kappa", "macro_kappa", "kappa_macro", "cv_macro_kappa", "kappa"):
        value = metrics.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    for key in ("macro", "cv"):
        nested = metrics.get(key)
        if isinstance(nested, dict):
            found = macro_kappa(nested)
            if found is not None:
                return found
    return None


@dataclass
class Outcome:
    number: int
    ok: bool
    before: float | None = None
    after: float | None = None
    n_labelled: int = 0
    seconds: float = 0.0
    version: str = ""
    recoded: int = 0
    error: str = ""
    one_document: bool = False  # every review from one document: the base model's decisions stand


def trainer_available() -> bool:
    try:
        from qualcode.coding.training import train_from_store  # noqa: F401
    except ImportError:
        return False
    return True


class Retrainer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.last: Outcome | None = None
        self._runs = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, factory, actor: str, codebook_path=None, on_done=None) -> bool:
        """Start training unless it is already running or unavailable; True if started.

        The new model then re-codes the segments nobody has finished, so the review
        queue and the suggestions come from it; ``on_done()`` runs after a success."""
        if not trainer_available():
            return False
        with self._lock:
            if self.running:
                return False
            self._runs += 1
            self._thread = threading.Thread(target=self._train, args=(factory, actor, codebook_path, on_done, self._runs),
                                            name="qualcode-retrain", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _train(self, factory, actor: str, codebook_path, on_done, number: int) -> None:
        from qualcode.coding.coder import current_coder
        from qualcode.coding.training import train_from_store

        before = latest_model_kappa(factory)
        started = time.perf_counter()
        try:
            result = train_from_store(factory, actor, coder=current_coder(codebook_path), apply=True)
        except Exception as err:  # shown in the app; reviewing goes on
            if type(err).__name__ == "NothingToTrain":
                message = ("ingen ferdig gjennomgåtte segmenter å lære av ennå – trykk «Ferdig – neste» "
                           "når du er ferdig med et segment")
            else:
                log.warning("retraining failed", exc_info=True)
                message = f"{type(err).__name__}: {err}"
            self.last = Outcome(number, False, before=before, error=message)
            return
        self.last = Outcome(number, True, before=before, after=macro_kappa(getattr(result, "metrics", {})),
                            n_labelled=int(getattr(result, "n_labelled", 0) or 0),
                            seconds=float(getattr(result, "seconds", time.perf_counter() - started) or 0.0),
                            version=str(getattr(result, "version", "") or ""),
                            recoded=int(getattr(result, "recoded", 0) or 0),
                            one_document=bool((getattr(result, "metrics", None) or {}).get("one_document")))
        if on_done is not None:
            on_done()


def latest_model_kappa(factory) -> float | None:
    """Macro kappa of the newest stored model (the "before" of a retraining)."""
    with factory() as session:
        metrics = session.scalar(select(schema.ModelArtifact.metrics)
                                 .order_by(schema.ModelArtifact.id.desc()).limit(1))
    return macro_kappa(metrics)


@st.cache_resource(show_spinner=False)
def retrainer_for(db: str) -> Retrainer:
    """The store's one retrainer, shared by every browser session."""
    return Retrainer()
