"""`qualcode run` under stress: killed, terminated, raced, fed hostile sizes, with a reviewer at work.

The kill tests run the real command in a subprocess and signal it, as a user (or the OOM
killer, or a batch scheduler) would.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fixtures.corpus import write_corpus
from qualcode.ingest import ingest
from qualcode.paths import DEMO_CORPUS
from qualcode.pipeline import Coding, finish_run, start_run
from qualcode.store import schema, session_factory

CLI = [sys.executable, "-c", "from qualcode.cli import main; main()"]
ENV = {**os.environ, "COLUMNS": "400"}


def _cli(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=ENV)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


BUSY = 36  # plans in the corpus a run is killed in: on a quiet host 12 were all in before the signal


def _busy_corpus(folder: Path, copies: int = BUSY) -> Path:
    """Demo plans, each copied with a different trailing comment: same PDF, new content hash."""
    folder.mkdir(parents=True)
    plans = sorted(DEMO_CORPUS.glob("*-plan-*.pdf"))
    for i in range(copies):
        source = plans[i % len(plans)]
        (folder / f"{i:02d}-{source.name}").write_bytes(source.read_bytes() + f"\n%copy {i}\n".encode())
    return folder


def _count(db: str, model) -> int:
    with session_factory(db)() as s:
        return s.scalar(select(func.count()).select_from(model))


def _start_and_wait_for_workers(corpus: Path, db: str) -> tuple[subprocess.Popen, list[int]]:
    session_factory(db)  # the store exists and is migrated before the run starts
    proc = subprocess.Popen([*CLI, "run", str(corpus), "--db", db, "--workers", "2"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _children(proc.pid)
        assert proc.poll() is None, proc.stdout.read()
    assert len(workers) >= 2, "the run never started its workers"
    time.sleep(1.5)  # let them get to work
    return proc, workers


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "term"])
def test_workers_die_with_the_run_and_status_says_it_was_interrupted(tmp_path, db, sig):
    corpus = _busy_corpus(tmp_path / "corpus")
    proc, workers = _start_and_wait_for_workers(corpus, db)
    try:
        proc.send_signal(sig)
        proc.wait(timeout=30)
        assert _gone_within(workers, 10), f"workers {workers} outlived the run"
    finally:
        for pid in [proc.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    status = _cli("status", "--db", db)
    assert status.returncode == 0, status.stderr
    assert "interrupted" in _line(status.stdout, "Last run:")
    rerun = _cli("run", corpus, "--db", db, "--no-code")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _count(db, schema.Document) == BUSY  # what was committed stays, the rest comes now
    status = _cli("status", "--db", db).stdout
    assert "interrupted" not in _line(status, "Last run:") and "interrupted" in _line(status, "Earlier")


def _line(text: str, start: str) -> str:
    return next((line for line in text.splitlines() if line.startswith(start)), "")


@pytest.mark.parametrize("new_store", [False, True], ids=["existing-store", "new-store"])
def test_two_simultaneous_runs_store_each_file_once_without_raw_sql(tmp_path, db, new_store):
    corpus = _busy_corpus(tmp_path / "corpus", copies=6)
    if not new_store:
        session_factory(db)
    procs = [subprocess.Popen([*CLI, "run", str(corpus), "--db", db, "--workers", "1"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output
        assert "IntegrityError" not in output and "INSERT" not in output and "Traceback" not in output
    assert _count(db, schema.Document) == 6
    with session_factory(db)() as s:
        per_doc = s.execute(select(schema.Segment.document_id, func.count()).group_by(schema.Segment.document_id)).all()
        assert len(per_doc) == 6
        codings = s.scalar(select(func.count()).select_from(schema.Coding))
    single = str(tmp_path / "single.db")
    assert _cli("run", corpus, "--db", single, "--workers", "1").returncode == 0
    assert codings == _count(single, schema.Coding)  # no document coded twice


def test_one_worker_or_two_give_the_same_segments_and_codings(tmp_path):
    stores = {}
    for workers in (1, 2):
        db = str(tmp_path / f"w{workers}.db")
        factory = session_factory(db)
        run = start_run(factory, "test")
        results = ingest(factory, [DEMO_CORPUS], run, workers=workers, coding=Coding())
        finish_run(factory, run, {})
        assert all(r.status == "ingested" for r in results), [(r.path.name, r.reason) for r in results]
        stores[workers] = _content(db)
    assert stores[1] == stores[2]
    assert len(stores[1][1]) > 500  # the demo corpus is coded, not empty


def _content(db: str):
    """Segments and codings keyed by file and position (ids differ between stores)."""
    with session_factory(db)() as s:
        segments = s.execute(select(schema.Document.file_name, schema.Segment.seq, schema.Segment.kind,
                                    schema.Segment.start, schema.Segment.end, schema.Segment.text,
                                    schema.Segment.role, schema.Segment.codable, schema.Segment.context_segment_id
                                    .is_(None))
                             .join(schema.Segment.document).order_by(schema.Document.file_name, schema.Segment.seq)
                             ).all()
        codings = s.execute(select(schema.Document.file_name, schema.Segment.seq, schema.Coding.code,
                                   schema.Coding.source, schema.Coding.applied, schema.Coding.score,
                                   schema.Coding.evidence)
                            .join(schema.Segment, schema.Coding.segment_id == schema.Segment.id)
                            .join(schema.Segment.document)).all()
    evidence = lambda ev: sorted(tuple(sorted(e.items())) for e in ev)  # noqa: E731
    return [tuple(r) for r in segments], sorted((*r[:6], evidence(r[6])) for r in codings)


def test_a_million_character_paragraph_does_not_stop_the_run(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus", manifest=False)
    words = ("barn skole samarbeid tiltak familie helsestasjon kommune plan tidlig innsats " * 14_000).split()
    (corpus / "eksport.txt").write_text("Plan for forebygging\n\n" + " ".join(words) + "\n\nEt siste avsnitt.\n",
                                        encoding="utf-8")
    assert len(" ".join(words)) > 1_000_000
    result = _cli("run", corpus, "--db", db, "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ingested 4 file(s)" in result.stdout
    with session_factory(db)() as s:
        doc = s.scalars(select(schema.Document).where(schema.Document.file_name == "eksport.txt")).one()
        assert len(doc.segments) > 50
        assert all(len(seg.text) <= 20_000 and doc.text[seg.start:seg.end] == seg.text for seg in doc.segments)
        coded = s.scalar(select(func.count()).select_from(schema.Coding).join(schema.Segment)
                         .where(schema.Segment.document_id == doc.id))
        assert coded > 0


def test_a_file_that_crashes_its_worker_is_named_and_the_batch_goes_on(tmp_path, db, monkeypatch):
    import qualcode.prepare

    corpus = _busy_corpus(tmp_path / "corpus", copies=5)
    (corpus / "02-krasj.pdf").write_bytes(b"%PDF-1.4\n% a file the reader dies on\n")
    real = qualcode.prepare.prepare

    def crash_on_krasj(path, *args, **kwargs):  # a segfault in a PDF library, as the worker sees it
        if "krasj" in Path(path).name:
            os._exit(139)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(qualcode.prepare, "prepare", crash_on_krasj)  # forked workers inherit it
    factory = session_factory(db)
    run = start_run(factory, "test", code=False)
    results = ingest(factory, [corpus], run, workers=2)
    by_name = {r.path.name: r for r in results}
    assert by_name["02-krasj.pdf"].status == "failed" and "crashed" in by_name["02-krasj.pdf"].reason
    assert sum(r.status == "ingested" for r in results) == 5


def test_files_that_failed_are_never_reported_as_unchanged(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus", manifest=False)
    for name in ("tom.pdf", "tom-kopi.pdf", "tom.docx"):
        (corpus / name).write_bytes(b"")
    for attempt in (1, 2):
        result = _cli("run", corpus, "--db", db, "--no-code")
        lines = [line for line in result.stdout.splitlines() if "tom" in line]
        assert len(lines) == 3 and all("failed" in line for line in lines), result.stdout
        assert "unchanged" not in " ".join(lines)


def test_a_reviewer_never_waits_while_a_run_codes(tmp_path, db, monkeypatch):
    """Coding happens before the short write transaction: a slow coder holds no lock."""
    from qualcode.coding.coder import Coder
    from qualcode.review import actions

    factory = session_factory(db)
    first = start_run(factory, "test", code=False)
    ingest(factory, [write_corpus(tmp_path / "a")], first)
    with factory() as s:
        segment_id = s.scalars(select(schema.Segment.id).where(schema.Segment.codable)).first()
    real = Coder.suggest

    def slow_suggest(self, texts):
        time.sleep(1.5)  # a 30-page plan on a busy machine
        return real(self, texts)

    monkeypatch.setattr(Coder, "suggest", slow_suggest)
    second = start_run(factory, "test")
    corpus = write_corpus(tmp_path / "b")
    for path in corpus.iterdir():  # new content: every file of the second run is new
        if path.suffix in (".md", ".txt"):
            path.write_text(path.read_text(encoding="utf-8") + "\nRevidert.\n", encoding="utf-8")
    (corpus / "nordby-plan.pdf").write_bytes((corpus / "nordby-plan.pdf").read_bytes() + b"\n%revidert\n")
    thread = threading.Thread(target=ingest, args=(factory, [corpus], second), kwargs={"coding": Coding()})
    thread.start()
    waits, version = [], 0
    while thread.is_alive():
        started = time.perf_counter()
        version = actions.memo(factory, segment_id, "kari", f"notat {len(waits)}", version)
        waits.append(time.perf_counter() - started)
        time.sleep(0.05)
    thread.join()
    assert _count(db, schema.Document) == 6
    assert len(waits) > 10 and max(waits) < 1.0, f"longest wait {max(waits):.2f} s"


def test_at_most_two_files_per_worker_are_in_flight(tmp_path):
    """Memory stays flat in the number of files: results are not buffered ahead of the writer."""
    from qualcode.worker import IN_FLIGHT_PER_WORKER, Job, outcomes

    folder = write_corpus(tmp_path / "corpus", manifest=False)
    paths = sorted(p for p in folder.iterdir() if p.suffix in (".md", ".txt")) * 10
    pulled = []

    def jobs():
        for path in paths:
            pulled.append(path)
            yield Job(path)

    seen = 0
    for job, outcome in outcomes(jobs(), 2, None):
        seen += 1
        assert not outcome.failed, outcome.reason
        assert len(pulled) - seen <= IN_FLIGHT_PER_WORKER * 2
        time.sleep(0.02)  # a writer slower than the workers
    assert seen == len(paths)


def test_a_write_cut_short_by_an_interrupt_does_not_keep_the_run_from_being_recorded(tmp_path):
    """A TERM that lands inside a commit leaves the interrupted session, and SQLite's write lock,
    in the frames the KeyboardInterrupt unwound; recording the run then failed ("database is
    locked") unless that connection is given back first."""
    from sqlalchemy import update

    from qualcode.cli.ingest_cmds import _release_cut_writes

    factory = session_factory(str(tmp_path / "store.db"))
    run = start_run(factory, "run")

    def cut_write():
        session = factory()
        session.execute(update(schema.Run).where(schema.Run.id == run.id).values(command="run"))  # holds the lock
        raise KeyboardInterrupt  # never committed, never closed: as when the signal hits mid-commit

    try:
        cut_write()
    except KeyboardInterrupt as err:
        _release_cut_writes(err)
        started = time.monotonic()
        finish_run(factory, run, {"ingested": 1}, state="interrupted")
        assert time.monotonic() - started < 2  # it did not wait for a lock
    with factory() as session:
        assert session.get(schema.Run, run.id).state == "interrupted"
