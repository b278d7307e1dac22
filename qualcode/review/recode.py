"""Re-code machine suggestions on the segments already in the store after the codebook changed.

Only machine codings change: each batch supersedes (deactivates) the older rule
suggestions of its segments - and model suggestions too when a model for the new
codebook exists - and writes fresh ones through ``Coder.suggest`` and
``write_machine_codings``. Reviewer decisions and adjudications are never touched.
Suggesting runs outside any transaction; each batch is written in one.

``Recoder`` runs this in a background thread with progress, and starts over when the
codebook changes again while it runs.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from sqlalchemy import select, update

from qualcode.store import schema

log = logging.getLogger(__name__)
BATCH = 200  # segments per transaction: short write locks, so reviewers are not kept waiting


def codable_segments(session) -> list[tuple[int, int]]:
    """(document id, segment id) of every codable segment, in document order."""
    S = schema.Segment
    return [tuple(r) for r in session.execute(select(S.document_id, S.id).where(S.codable)
                                              .order_by(S.document_id, S.seq))]


def recode_store(factory, coder, *, progress: Callable[[int, int], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> int:
    """Fresh machine suggestions for every codable segment; returns how many codings were written.

    ``progress(done, total)`` after each batch; ``stop()`` returning True ends early
    (between batches, so the store never holds half a batch).
    """
    from qualcode.coding.apply import sync_codebook, write_machine_codings

    with factory.begin() as session:
        sync_codebook(session, coder.codebook)
    with factory() as session:
        if not coder.model_checked:
            coder = coder.with_store_model(session)
        todo = codable_segments(session)
    sources = ["rule"] + (["model"] if coder.model is not None else [])
    total, done, written = len(todo), 0, 0
    progress and progress(0, total)
    for _document, rows in groupby(todo, key=lambda r: r[0]):
        ids = [seg for _, seg in rows]
        for start in range(0, len(ids), BATCH):
            if stop is not None and stop():
                return written
            chunk = ids[start:start + BATCH]
            with factory() as session:
                texts = dict(session.execute(select(schema.Segment.id, schema.Segment.text)
                                             .where(schema.Segment.id.in_(chunk))).all())
            suggestions = coder.suggest([texts[i] for i in chunk])
            with factory.begin() as session:
                C = schema.Coding
                session.execute(update(C).where(C.segment_id.in_(chunk), C.source.in_(sources), C.active)
                                .values(active=False))
                segments = list(session.scalars(select(schema.Segment).where(schema.Segment.id.in_(chunk))))
                order = {s.id: s for s in segments}
                written += write_machine_codings(session, [order[i] for i in chunk], suggestions, coder.codebook)
            done += len(chunk)
            progress and progress(done, total)
    return written


@dataclass
class RecodeState:
    running: bool = False
    done: int = 0
    total: int = 0
    written: int = 0
    version: str = ""  # codebook version being (or last) applied
    error: str = ""


class Recoder:
    """One background re-coding per store; a new request while it runs restarts it with the newest codebook."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self.state = RecodeState()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, factory, codebook_path: Path | str) -> None:
        with self._lock:
            if self.running:
                self._again = True
                return
            self._again = False
            self.state = RecodeState(running=True)
            self._thread = threading.Thread(target=self._run, args=(factory, str(codebook_path)),
                                            name="qualcode-recode", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, factory, codebook_path: str) -> None:
        from qualcode.coding.coder import current_coder

        while True:
            try:
                coder = current_coder(codebook_path)
                self.state.version = coder.codebook.version

                def tick(done: int, total: int) -> None:
                    self.state.done, self.state.total = done, total

                self.state.written = recode_store(factory, coder, progress=tick, stop=lambda: self._again)
                self.state.error = ""
            except Exception as err:  # shown on the page; the codebook change itself is already saved
                log.warning("re-coding failed", exc_info=True)
                self.state.error = f"{type(err).__name__}: {err}"
            with self._lock:
                if not self._again:
                    self.state.running = False
                    return
                self._again = False
                self.state = RecodeState(running=True)
