"""A run of the pipeline: what ran (NLP pipeline, codebook, model), what it did, how it ended.

Nothing heavy is loaded here until a run has work: `start_run` reads only the codebook,
and :class:`Coding` looks the model up (once per run) when the first new file needs it.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from qualcode.store import schema
from qualcode.store.schema import utcnow

STALE_AFTER = timedelta(minutes=30)  # a run on another host that wrote nothing for this long is presumed dead


def start_run(factory, command: str, *, code: bool = True, codebook_path=None) -> schema.Run:
    """Record the start of a run and who runs it (the codebook and model are recorded when
    the first new file needs them: `Coding.spec`)."""
    run = schema.Run(command=command, stats={}, state="running", host=socket.gethostname()[:200], pid=os.getpid())
    with factory.begin() as session:
        session.add(run)
    return run


def finish_run(factory, run: schema.Run, stats: Mapping[str, int], *, state: str = "finished") -> None:
    """Close the run's record; ``state`` "interrupted" for a run stopped by Ctrl-C or TERM, "failed" by an error."""
    with factory.begin() as session:
        row = session.get(schema.Run, run.id)
        row.finished_at = utcnow()
        row.state = state
        row.stats = {**(row.stats or {}), **dict(stats)}
        for name in ("nlp_pipeline", "model_version"):
            if getattr(run, name) and not getattr(row, name):
                setattr(row, name, getattr(run, name))
    run.state = state


def run_state(run: schema.Run) -> str:
    """finished | interrupted | failed | running, telling a killed run (dead pid, same host) from a live one."""
    if run.state in ("finished", "interrupted", "failed") or (run.state is None and run.finished_at is not None):
        return run.state or "finished"
    if run.state is None:  # a run from before runs had a state, never finished
        return "interrupted"
    if run.host == socket.gethostname()[:200] and run.pid:
        return "running" if _alive(run.pid) else "interrupted"
    last = run.heartbeat_at or run.started_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=utcnow().tzinfo)
    return "running" if last is None or utcnow() - last < STALE_AFTER else "interrupted"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Coding:
    """How a run codes new segments: the codebook, and the store's model looked up once.

    ``spec`` is called by `ingest` only when a file is new, so an unchanged re-run never
    imports spaCy or scikit-learn.
    """

    codebook_path: Path | str | None = None
    store: str | None = None  # without a path: the store's own codebook if it has one, else the shipped one
    _book: object = field(default=None, repr=False)

    @property
    def codebook(self):
        if self._book is None:
            from qualcode.coding.codebook import load_codebook

            if self.codebook_path is None and self.store is not None:
                from qualcode.coding.store_codebook import codebook_path_for

                self.codebook_path = codebook_path_for(self.store)
            self._book = load_codebook(self.codebook_path)
        return self._book

    def spec(self, factory, run: schema.Run):
        """Sync the codebook into the store, choose the model once, and record both on the run."""
        from sqlalchemy.exc import IntegrityError

        from qualcode.coding.apply import sync_codebook
        from qualcode.worker import CoderSpec

        book = self.codebook
        for attempt in (1, 2):  # another run may add the same codebook version at the same moment
            try:
                with factory.begin() as session:
                    sync_codebook(session, book)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        model, version, reason = _model(factory, book)
        run.model_version = version
        run.codebook_version = book.version
        with factory.begin() as session:
            row = session.get(schema.Run, run.id)
            row.codebook_version, row.model_version = book.version, run.model_version
            row.stats = {**(row.stats or {}), "model": reason}
        run.stats = {**(run.stats or {}), "model": reason}
        path = str(self.codebook_path) if self.codebook_path else None
        return CoderSpec(path, model)


def _model(factory, book):
    """(model, version, reason): the store's usable model, looked up once per run.

    scikit-learn (some 200 MB once imported) is loaded only when the store holds a model of
    its own, so a run without one keeps the writing process small; then the workers code with
    the base model shipped beside the codebook (None is returned, its version recorded).
    """
    from sqlalchemy import select

    with factory() as session:
        if session.scalar(select(schema.ModelArtifact.id).limit(1)) is None:
            from qualcode.coding.base import described  # the header only: the workers load the model

            version, reason = described(book)
            return None, version, reason
        from qualcode.coding.training import model_status

        status = model_status(session, book)
    return status.model, status.version if status.usable else None, status.reason

