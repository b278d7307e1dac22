"""PostgreSQL as the team store: the pipeline, two app instances and racing reviewers on one server.

Needs ``$QUALCODE_TEST_DB`` (``.ci/run`` starts a local PostgreSQL 15 and sets it); without
it these tests skip, and under ``CI=true`` they fail. The store, review and export tests
run against the same server through the ``db``/``new_store`` fixtures (see conftest.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fixtures.store import build_store
from sqlalchemy import select
from sqlalchemy.engine import make_url

from conftest import ON_CI, TEST_DB
from qualcode.review import actions
from qualcode.store import schema, session_factory

ROOT = Path(__file__).resolve().parents[1]

if not TEST_DB:
    if ON_CI:
        pytest.fail("$QUALCODE_TEST_DB is not set on CI (.ci/run starts PostgreSQL and sets it)", pytrace=False)
    pytest.skip("$QUALCODE_TEST_DB is not set (a PostgreSQL server for team-store tests)", allow_module_level=True)


@pytest.fixture(scope="module")
def backend() -> str:
    return "postgresql"  # every store in this module is a fresh database on the test server


def with_password(url: str, password: str = "hemmelig") -> str:
    """The same store, with a password in the URL (the test server trusts local connections)."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def qualcode(*args: str, cwd: Path, env_db: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QUALCODE_DB"}
    if env_db:
        env["QUALCODE_DB"] = env_db
    return subprocess.run([sys.executable, "-c", "from qualcode.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_pipeline_runs_on_postgresql_and_never_prints_the_password(db, tmp_path):
    secret = with_password(db)
    demo = qualcode("demo", "--db", secret, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    status = qualcode("status", "--db", secret, cwd=tmp_path)
    report = qualcode("report", "--include-machine", "-o", "r.html", "--db", secret, cwd=tmp_path)
    export = qualcode("export", "--include-machine", "-o", "p.qdpx", "--db", secret, cwd=tmp_path)
    for result in (demo, status, report, export):
        assert result.returncode == 0, result.stderr
        assert "hemmelig" not in result.stdout + result.stderr
    assert "Ingested 9 file(s)" in demo.stdout and "qualcode:***@" in demo.stdout
    assert "qualcode:***@" in status.stdout
    assert (tmp_path / "r.html").stat().st_size > 10_000 and (tmp_path / "p.qdpx").stat().st_size > 10_000
    assert "hemmelig" not in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_an_unreachable_server_is_one_plain_line_without_the_password(tmp_path):
    url = make_url(TEST_DB).set(password="hemmelig", port=1).render_as_string(hide_password=False)
    result = qualcode("status", "--db", url, cwd=tmp_path)
    assert result.returncode != 0
    assert "cannot open the store" in result.stderr and "hemmelig" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2


def test_the_app_banner_and_sidebar_mask_the_password(db, monkeypatch):
    from streamlit.testing.v1 import AppTest
    from typer.testing import CliRunner

    from qualcode.cli import app_cmds
    from qualcode.cli.app import app

    build_store(db)
    secret = with_password(db)

    class Server:  # stands in for the Streamlit process: the banner is printed before it starts
        def __init__(self, cmd, **kwargs):
            self.cmd, self.env = cmd, kwargs.get("env", {})

        def wait(self):
            return 0
    monkeypatch.setattr(app_cmds.subprocess, "Popen", Server)
    banner = CliRunner().invoke(app, ["app", "--db", secret, "--port", "8599"])
    assert banner.exit_code == 0, banner.output
    assert "qualcode:***@" in banner.output and "hemmelig" not in banner.output
    monkeypatch.setenv("QUALCODE_DB", secret)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["reviewer"] = "Kari"
    at.run()
    assert not at.exception, at.exception
    sidebar = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "***" in sidebar and "hemmelig" not in sidebar


INSTANCE = textwrap.dedent('''
    """One app instance (its own process, Streamlit runtime and connection pool), driven over stdin."""
    import json, sys
    from streamlit.testing.v1 import AppTest

    app_script, reviewer, document = sys.argv[1], sys.argv[2], int(sys.argv[3])
    at = AppTest.from_file(app_script, default_timeout=120)
    at.session_state["reviewer"] = reviewer
    at.session_state["f_document"] = document
    at.run()
    at.switch_page("qualcode/app/pages/gjennomgang.py").run()

    def report():
        state = at.session_state["_queue"]
        messages = " ".join(str(m.value) for kind in (at.warning, at.info, at.success, at.error) for m in kind)
        print(json.dumps({"segment": state.ids[state.pos], "messages": messages,
                          "markdown": " ".join(m.value for m in at.markdown),
                          "exception": [str(e.value) for e in at.exception]}), flush=True)

    report()
    for line in sys.stdin:
        step = json.loads(line)
        if step["op"] == "select":
            at.selectbox(key=step["key"]).set_value(step["value"]).run()
        elif step["op"] == "click":
            at.button(key=step["key"]).click().run()
        else:
            at.run()
        report()
''')


class Instance:
    def __init__(self, store: str, reviewer: str, document: int, cwd: Path):
        env = {**os.environ, "QUALCODE_DB": store}
        self.proc = subprocess.Popen([sys.executable, "-c", INSTANCE, str(ROOT / "app.py"), reviewer, str(document)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, cwd=cwd)
        self.state = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the app instance stopped: {self.proc.stderr.read()[-3000:]}")
        state = json.loads(line)
        assert not state["exception"], state["exception"]
        return state

    def do(self, **step) -> dict:
        self.proc.stdin.write(json.dumps(step) + "\n")
        self.proc.stdin.flush()
        self.state = self._read()
        return self.state

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _reviewer_codes(store: str, segment: int, reviewer: str) -> list[str]:
    with session_factory(store)() as s:
        return list(s.scalars(select(schema.Coding.code).where(
            schema.Coding.segment_id == segment, schema.Coding.source == "reviewer",
            schema.Coding.created_by == reviewer, schema.Coding.active)))


def test_two_reviewers_on_two_app_instances(new_store, tmp_path):
    """Kari and Ola each run their own app process against one PostgreSQL store and open the same segment."""
    from test_app import fill_store

    store = fill_store(new_store(), tmp_path / "corpus")
    with session_factory(store)() as s:
        document = s.scalar(select(schema.Document.id).where(schema.Document.doc_type == "intervju"))
    kari = Instance(store, "Kari", document, tmp_path)
    ola = Instance(store, "Ola", document, tmp_path)
    try:
        segment = kari.state["segment"]
        assert ola.state["segment"] == segment
        ola.do(op="select", key=f"add_{segment}", value="suksess.samarbeid")  # Ola, on the other instance, saves first
        state = kari.do(op="select", key=f"add_{segment}", value="plan.samarbeid")  # ... Kari's page is older
        assert "Segmentet ble endret av en annen (Ola)" in state["messages"]
        assert _reviewer_codes(store, segment, "Kari") == [] and _reviewer_codes(store, segment, "Ola") == [
            "suksess.samarbeid"]
        kari.do(op="select", key=f"add_{segment}", value="plan.samarbeid")  # she has seen Ola's change; now hers goes through
        assert _reviewer_codes(store, segment, "Kari") == ["plan.samarbeid"]
        assert "Segmentet ble endret av en annen (Kari)" in ola.do(op="run")["messages"]
    finally:
        kari.close()
        ola.close()
    with session_factory(store)() as s:
        audit = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.segment_id == segment)).all()
    assert {(a.actor, a.action) for a in audit} >= {("Kari", "add"), ("Ola", "add")}


RACER = textwrap.dedent('''
    """Accept a code on each segment, racing another process: prints "won" or "stale" per segment."""
    import sys, time
    from qualcode.review import actions
    from qualcode.store import session_factory, schema

    store, reviewer, start_at, code = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    segments = [int(s) for s in sys.argv[5].split(",")]
    factory = session_factory(store)
    versions = {}
    with factory() as s:
        for seg in segments:
            versions[seg] = s.get(schema.Segment, seg).review_version
    time.sleep(max(0.0, start_at - time.time()))
    for seg in segments:
        try:
            actions.accept(factory, seg, code, reviewer, versions[seg])
            print("won", seg, flush=True)
        except actions.StaleWriteError:
            print("stale", seg, flush=True)
''')


def test_reviewers_racing_in_two_processes_never_both_win(new_store, tmp_path):
    import time

    store = new_store()
    build_store(store)
    with session_factory(store)() as s:
        segments = [seg.id for seg in s.scalars(select(schema.Segment).where(schema.Segment.codable))]
    start_at = time.time() + 8  # both processes read every version first, then write at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", RACER, store, name, str(start_at), "plan.mal",
                               ",".join(map(str, segments))], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for name in ("Kari", "Ola")]
    outcomes = {}
    for name, proc in zip(("Kari", "Ola"), procs):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outcomes[name] = dict((int(seg), result) for result, seg in (line.split() for line in out.splitlines()))
    for seg in segments:
        assert sorted([outcomes["Kari"][seg], outcomes["Ola"][seg]]) == ["stale", "won"], seg
    with session_factory(store)() as s:
        accepted = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "accept")).all()
    assert len(accepted) == len(segments)  # one audited write per segment, never two
    assert actions.StaleWriteError  # the error the loser got
