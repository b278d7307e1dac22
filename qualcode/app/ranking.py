"""The active-learning ranking, shared by every session of the app and computed ahead of time.

``review_queue`` reads every unreviewed segment's scores (~0.5 s on 50,000
segments, plus a few seconds of imports the first time), so the app keeps one
ranking per store, warms it in a background thread at start, and refreshes it
when the codebook or the corpus changes, when the app's retraining has re-coded
the store (``invalidate``), or after a few minutes (labels shift the rare-code
weights; a model trained elsewhere shows up). Segments finished since are dropped by
the queue's filters, so a slightly old ranking is still a correct queue.
"""
from __future__ import annotations

import logging
import threading
import time

import streamlit as st
from sqlalchemy import func, select

from qualcode.store import schema

log = logging.getLogger(__name__)
MAX_AGE = 300.0  # seconds
SIZE = 1000


class Ranking:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key = None
        self._at = 0.0
        self._items: list = []
        self._asked = 0
        self.warmed = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def _state(session, codebook) -> tuple:
        return codebook.version, session.scalar(select(func.max(schema.Segment.id)))

    def invalidate(self) -> None:
        with self._lock:
            self._key = None

    def items(self, session, n: int, codebook) -> list:
        """The first ``n`` QueueItems; raises ImportError when active learning is not available."""
        from qualcode.coding.active import review_queue

        key = self._state(session, codebook)
        with self._lock:
            valid = self._key == key and time.monotonic() - self._at < MAX_AGE
            more_exist = len(self._items) >= self._asked  # a full answer may have more behind it
            if not valid or (n > len(self._items) and more_exist):
                self._asked = max(n, SIZE)
                self._items = review_queue(session, self._asked, codebook)
                self._key, self._at = key, time.monotonic()
            return self._items[:n]

    def warm(self, factory, codebook) -> None:
        """Compute the ranking in the background (imports included) so the first reviewer need not wait."""
        self.warmed = True

        def work() -> None:
            try:
                with factory() as session:
                    self.items(session, SIZE, codebook)
            except Exception:  # unavailable or failing: the page falls back to document order
                log.debug("could not warm the active-learning ranking", exc_info=True)

        self._thread = threading.Thread(target=work, name="qualcode-ranking", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


@st.cache_resource(show_spinner=False)
def ranking_for(db: str) -> Ranking:
    return Ranking()
