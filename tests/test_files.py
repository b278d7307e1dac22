"""Outputs are complete or absent: a kill -9 in the middle of writing a report or an export, or an
exception half-way through a workbook, leaves the previous good file (or none), never a cut one.

The kill is real: the command runs in a child process whose file writes into the output folder
are wrapped so that the first sizeable write puts half its bytes on disk, flushes them and then
sends SIGKILL to the process itself.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fixtures.store import build_store

from qualcode.analysis import load
from qualcode.analysis.tables import report_tables
from qualcode.export.report_tables import write_xlsx
from qualcode.files import write_text_atomic

KILLER = textwrap.dedent('''
    """Run the qualcode CLI; die by SIGKILL half-way through the first write into OUT."""
    import builtins, io, os, signal, sys

    OUT = os.path.realpath(sys.argv[1])

    def inside(path):
        try:
            return os.path.realpath(path).startswith(OUT + os.sep)
        except (TypeError, ValueError):
            return False

    class DieMidWrite:
        def __init__(self, handle):
            self._handle = handle
        def write(self, data):
            if len(data) > 16:
                self._handle.write(data[: len(data) // 2])
                self._handle.flush()
                os.fsync(self._handle.fileno())
                os.kill(os.getpid(), signal.SIGKILL)
            return self._handle.write(data)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self._handle.__exit__(*exc)
        def __iter__(self):
            return iter(self._handle)
        def __getattr__(self, name):
            return getattr(self._handle, name)

    def writable(mode):
        return any(flag in mode for flag in "wax+")

    real_open, real_fdopen = builtins.open, os.fdopen

    def open_(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        return DieMidWrite(handle) if writable(mode) and isinstance(file, (str, os.PathLike)) and inside(file) else handle

    def fdopen(fd, mode="r", *args, **kwargs):
        handle = real_fdopen(fd, mode, *args, **kwargs)
        return DieMidWrite(handle) if writable(mode) and inside(os.readlink(f"/proc/self/fd/{fd}")) else handle

    builtins.open = io.open = open_
    os.fdopen = fdopen
    from qualcode.cli import main
    sys.argv = ["qualcode", *sys.argv[2:]]
    main()
''')

CASES = {
    "html": (["report", "-o", "{out}/rapport.html"], "rapport.html"),
    "xlsx": (["report", "-o", "{out}/tabeller.xlsx"], "tabeller.xlsx"),
    "csv": (["report", "--format", "csv", "-o", "{out}/tabeller"], "tabeller"),
    "qdpx": (["export", "-o", "{out}/prosjekt.qdpx"], "prosjekt.qdpx"),
    "qdc": (["export", "-o", "{out}/kodebok.qdc"], "kodebok.qdc"),
}


@pytest.fixture(scope="module")
def store(new_store) -> str:
    db = new_store()
    build_store(db)
    return db


def _qualcode(args: list[str], out: Path, store: str, kill: bool) -> subprocess.CompletedProcess:
    argv = [a.format(out=out) for a in args] + ["--db", store]
    cmd = [sys.executable, "-c", KILLER, str(out), *argv] if kill else \
        [sys.executable, "-c", "from qualcode.cli import main; main()", *argv]
    env = {k: v for k, v in os.environ.items() if k != "QUALCODE_DB"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def _snapshot(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    return {path.name: path.read_bytes()} if path.exists() else {}


@pytest.mark.parametrize("kind", list(CASES))
def test_a_kill_while_writing_keeps_the_previous_file(kind, store, tmp_path):
    args, name = CASES[kind]
    out = tmp_path / "out"
    out.mkdir()
    good = _qualcode(args, out, store, kill=False)
    assert good.returncode == 0, good.stderr
    before = _snapshot(out / name)
    assert before and all(before.values())
    if kind == "csv":  # a previous file the new run will not write again must survive too
        (out / name / "egen-notat.txt").write_text("mitt")
        before = _snapshot(out / name)
    killed = _qualcode(args, out, store, kill=True)
    assert killed.returncode == -signal.SIGKILL, (killed.stdout, killed.stderr)
    assert _snapshot(out / name) == before  # byte for byte the previous output
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == [name]  # no half-written file under any visible name


@pytest.mark.parametrize("kind", ["html", "qdpx", "csv"])
def test_a_kill_on_the_first_write_leaves_no_file(kind, store, tmp_path):
    args, name = CASES[kind]
    out = tmp_path / "out"
    out.mkdir()
    killed = _qualcode(args, out, store, kill=True)
    assert killed.returncode == -signal.SIGKILL, (killed.stdout, killed.stderr)
    assert not (out / name).exists()


def test_an_exception_mid_workbook_leaves_the_previous_workbook(store, tmp_path, monkeypatch):
    data = load(store)
    tables = report_tables(data)
    target = tmp_path / "tabeller.xlsx"
    write_xlsx(data, target, tables)
    before = target.read_bytes()
    broken = tables[len(tables) // 2]

    def fail():
        raise RuntimeError("a table that cannot be drawn")
    monkeypatch.setattr(broken, "display", fail)
    with pytest.raises(RuntimeError):
        write_xlsx(data, target, tables)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["tabeller.xlsx"]  # the temporary file is gone too


def test_atomic_text_write_replaces_whole_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "første")
    with pytest.raises(ZeroDivisionError):
        from qualcode.files import atomic_write
        with atomic_write(target) as handle:
            handle.write("andre, halvveis")
            1 / 0
    assert target.read_text() == "første" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
