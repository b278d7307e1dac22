"""Worker processes: read, segment, analyse and code one file each, never touching the store.

A worker builds its coder (codebook, rule coder, spaCy pipeline, the run's model) once, in
the pool initializer, and then turns each file into an :class:`Outcome`: the document, its
segments and the machine suggestions for its codable segments.  The main process only
writes, so a write transaction holds the store for milliseconds, not for the coding.

At most ``2 × workers`` files are in flight, so memory stays flat however many files a run
has.  Workers die with the run: each watches its parent and exits when it is gone (kill -9
of `qualcode run` included), and the pool is torn down on any exit of the main process.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qualcode.coding.coder import Coder, MachineCoding
    from qualcode.prepare import Prepared
    from qualcode.search.word_counts import CountArrays

log = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 2  # files submitted ahead per worker: keeps both cores busy, memory bounded
PARENT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Job:
    """One file to read (and code)."""

    path: Path
    doc_type: str | None = None
    pseudonymise: bool = True
    names_file: Path | None = None
    ocr: str = "auto"  # when scanned PDF pages are read with Tesseract: never | auto | always


@dataclass(frozen=True)
class CoderSpec:
    """What a worker needs to build the run's coder once: the codebook and the model chosen
    by the main process (looked up once per run; None = codebook only)."""

    codebook_path: str | None = None
    model: object | None = None  # a CodeModel; plain object here so this module stays light


@dataclass
class Outcome:
    """A file read (and coded), or the one-line reason it could not be."""

    prepared: "Prepared | None" = None
    suggestions: "list[list[MachineCoding]] | None" = None  # per codable segment, in segment order
    reason: str = ""
    search_terms: "list[dict] | None" = None  # per segment, its search-index columns (qualcode.search)
    word_counts: "CountArrays | None" = None  # the document's word counts, rows in segment order
    pipeline: str | None = None  # the NLP pipeline that ran, for the run's record
    codebook_version: str | None = None

    @property
    def failed(self) -> bool:
        return self.prepared is None


# -- inside a worker -------------------------------------------------------------------------

_CODER: "Coder | None" = None


def setup(spec: CoderSpec | None) -> None:
    """Build this process's coder (once); None means the run does not code."""
    global _CODER
    if spec is None:
        _CODER = None
        return
    from qualcode.coding.coder import current_coder

    coder = current_coder(spec.codebook_path)  # rules plus the base model shipped with the codebook
    _CODER = coder if spec.model is None else coder.with_model(spec.model)  # the store's own model wins


def _init_worker(spec: CoderSpec | None, parent: int) -> None:
    """Pool initializer: die with the parent, leave Ctrl-C to it, build the coder."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides what an interrupt means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)
    setup(spec)


def _die_with(parent: int) -> None:
    """Exit as soon as ``parent`` is gone (Linux: the kernel tells us; elsewhere: we poll)."""
    try:  # PR_SET_PDEATHSIG: SIGKILL this process when its parent thread dies
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        event = threading.Event()
        while not event.wait(PARENT_POLL_SECONDS):
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="qualcode-parent-watch", daemon=True).start()


def process(job: Job) -> Outcome:
    """Read, segment and code one file; never raises (a failure is the outcome's reason)."""
    from qualcode.extract import ExtractionError
    from qualcode.prepare import prepare

    try:
        prepared = prepare(job.path, job.doc_type, job.pseudonymise, job.names_file, ocr=job.ocr)
    except ExtractionError as err:
        return Outcome(reason=str(err))
    except MemoryError:
        return Outcome(reason="the file is too large to read in memory")
    except Exception as err:  # a bug or a truly odd file: report it, keep the batch going
        log.debug("unexpected failure reading %s", job.path, exc_info=True)
        return Outcome(reason=_one_line(f"could not read the file ({type(err).__name__}: {err})"))
    from qualcode.search.index import segment_terms
    from qualcode.search.word_counts import document_counts

    terms = segment_terms(s.text for s in prepared.segments)  # the writer only inserts them
    counts = document_counts([t["lemmas"] for t in terms])
    coder = _CODER
    if coder is None:
        return Outcome(prepared, search_terms=terms, word_counts=counts)
    try:
        suggestions = coder.suggest([s.text for s in prepared.segments if s.codable])
    except Exception as err:
        log.debug("unexpected failure coding %s", job.path, exc_info=True)
        return Outcome(reason=_one_line(f"could not code the text ({type(err).__name__}: {err})"))
    return Outcome(prepared, suggestions, search_terms=terms, word_counts=counts, pipeline=coder.pipeline,
                   codebook_version=coder.codebook.version)


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text else text


# -- in the main process ---------------------------------------------------------------------

@dataclass
class _Pool:
    workers: int
    spec: CoderSpec | None
    executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                            initargs=(self.spec, os.getpid()))

    def stop(self) -> None:
        """Cancel what has not started and end the workers now (they hold no store handle)."""
        executor, self.executor = self.executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        results = getattr(executor, "_result_queue", None)
        executor.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
        if results is not None:
            # a worker ended halfway through sending a result leaves the executor's thread reading
            # the rest of it, and the process hung at exit (2 of 25 TERMs): with this end of the
            # pipe closed as well, that read meets end-of-file and the thread ends
            results._writer.close()


def outcomes(jobs: Iterable[Job], workers: int, spec: CoderSpec | None) -> Iterator[tuple[Job, Outcome]]:
    """(job, outcome) in the order of ``jobs``, computed ``workers`` at a time.

    With one worker everything runs in this process (same function, same results).  A
    worker that crashes (a segfault in a PDF library, the OOM killer) takes the files in
    flight with it: those are read again one at a time in a fresh pool, so the file that
    crashes it is the one named as failed, and the batch goes on.
    """
    if workers <= 1:
        setup(spec)
        for job in jobs:
            yield job, process(job)
        return
    pool = _Pool(workers, spec)
    window = max(2, IN_FLIGHT_PER_WORKER * workers)
    queue: deque[tuple[Job, Future, bool]] = deque()  # (job, future, read alone after a crash)
    suspects: deque[Job] = deque()  # in flight when a worker crashed: re-read one at a time
    todo = iter(jobs)
    try:
        pool.start()
        while True:
            while len(queue) < (1 if suspects or any(alone for *_, alone in queue) else window):
                alone = bool(suspects)
                job = suspects.popleft() if alone else next(todo, None)
                if job is None:
                    break
                queue.append((job, pool.executor.submit(process, job), alone))
            if not queue:
                return
            job, future, alone = queue.popleft()
            try:
                outcome = future.result()
            except BrokenProcessPool:
                pool.stop()
                pool.start()
                if not alone:
                    suspects.extendleft(reversed([job, *(j for j, *_ in queue)]))
                    queue.clear()
                    continue
                outcome = Outcome(reason="the reader crashed on this file (or ran out of memory)")
            yield job, outcome
    finally:
        pool.stop()
