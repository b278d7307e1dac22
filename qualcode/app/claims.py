"""Who has which segment open right now, shared by the browser sessions of one app process.

A courtesy, not a lock: the page tells a reviewer that a colleague is looking
at the same segment and new queues skip such segments. Correctness never
depends on it; optimistic concurrency in ``qualcode.review.actions`` does that.
"""
from __future__ import annotations

import threading
import time

import streamlit as st

HOLD_SECONDS = 15 * 60


class Claims:
    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, tuple[str, float]] = {}
        self.hold = hold

    def claim(self, segment_id: int, reviewer: str) -> None:
        now = time.monotonic()
        with self._lock:
            for seg, (who, _at) in list(self._open.items()):
                if who == reviewer and seg != segment_id:
                    del self._open[seg]  # one open segment per reviewer
            self._open[segment_id] = (reviewer, now)

    def others(self, reviewer: str) -> dict[int, str]:
        """segment -> colleague who opened it within the hold time."""
        now = time.monotonic()
        with self._lock:
            return {seg: who for seg, (who, at) in self._open.items() if who != reviewer and now - at < self.hold}


@st.cache_resource(show_spinner=False)
def claims_for(db: str) -> Claims:
    return Claims()
