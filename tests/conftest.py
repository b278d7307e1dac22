"""Shared fixtures: a fresh store per test and small real input files.

Stores: ``db`` is a store that does not exist yet. In the modules listed in
``BOTH_STORES`` it is a SQLite file *and*, when ``$QUALCODE_TEST_DB`` names a
PostgreSQL server (``.ci/run`` starts one), a fresh PostgreSQL database per test;
``new_store()`` makes more of the same kind (for module-scoped stores and copies).

``../shared`` (eval data, scorers, REFI schemas): outside CI a test that needs it
skips when it is missing; under ``CI=true`` it fails instead.
"""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/fixtures is importable as `fixtures`

SHARED = Path(__file__).resolve().parents[2] / "shared"
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_DB = os.environ.get("QUALCODE_TEST_DB", "")  # postgresql://user@127.0.0.1:PORT/postgres (admin database)
# Modules whose `db`/`new_store` stores run on every backend: the store, review actions, exports.
BOTH_STORES = {"test_store", "test_review_actions", "test_refi", "test_refi_import", "test_report", "test_hostile_text"}
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DB else [])


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and len(BACKENDS) > 1 and metafunc.module.__name__ in BOTH_STORES:
        metafunc.parametrize("backend", BACKENDS, scope="module")


@pytest.fixture(scope="module")
def backend() -> str:
    """The kind of store the test runs on (parametrized over all backends in BOTH_STORES modules)."""
    return "sqlite"


class PostgresDatabases:
    """Creates a fresh database per store on the test server and drops them afterwards."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        from qualcode.store.location import database_url

        self.base = url.rsplit("/", 1)[0]
        self.admin = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def new(self) -> str:
        from sqlalchemy import text

        name = f"qualcode_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        return f"{self.base}/{name}"

    def drop_all(self) -> None:
        from sqlalchemy import text

        from qualcode.store.db import get_engine

        for name in self.made:
            url = f"{self.base}/{name}"
            if get_engine.cache_info().currsize:
                try:
                    get_engine(url).dispose()
                except Exception:  # never opened, or already gone
                    pass
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.clear()
        self.admin.dispose()


@pytest.fixture(scope="module")
def new_store(backend, tmp_path_factory):
    """A function that returns the location of a new, not yet created store on ``backend``."""
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("stores")
        counter = iter(range(1_000_000))
        yield lambda: str(folder / f"store{next(counter)}.db")
        return
    databases = PostgresDatabases(TEST_DB)
    yield databases.new
    databases.drop_all()


@pytest.fixture
def db(backend, tmp_path, new_store) -> str:
    """A store that does not exist yet (qualcode creates and migrates it): a SQLite path or a URL."""
    return str(tmp_path / "store.db") if backend == "sqlite" else new_store()


@pytest.fixture
def sqlite_db(tmp_path) -> str:
    """A SQLite store path, for tests of SQLite itself (WAL, file handling)."""
    return str(tmp_path / "store.db")


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        _missing("../shared is not beside the repository")
    return SHARED


def _missing(reason: str):
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: checks that need ../shared must run)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a test that needs ../shared may not skip: a skip there is a failure."""
    report = yield
    if ON_CI and report.skipped and "shared" in getattr(item, "fixturenames", ()) and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped on CI, but checks that need ../shared must run: {reason}"
    return report
