"""The store: migrations, SQLite settings, transactions and the append-only audit log."""
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from qualcode.store import get_engine, session_factory, transaction
from qualcode.store.audit import record
from qualcode.store.schema import AuditEntry, Document


def _doc(**kw):
    base = dict(content_hash="abc", file_name="a.pdf", source_path="/a.pdf", size_bytes=1, page_count=1,
                engine="test", text="hei")
    return Document(**{**base, **kw})


def test_migrations_create_every_table(db):
    tables = set(inspect(get_engine(db)).get_table_names())
    assert {"documents", "segments", "codes", "codings", "audit_log", "runs", "memos", "pseudonyms",
            "codebook_versions", "models", "alembic_version"} <= tables


def test_migrations_create_every_index_the_schema_declares(db):
    """A store made by the migrations has the indexes the models declare, column for column
    (an index only in schema.py would exist in tests' metadata and never in a user's store)."""
    from qualcode.store.schema import Base

    get_engine(db)  # creates and migrates the store
    inspector = inspect(get_engine(db))
    for table in Base.metadata.sorted_tables:
        stored = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            assert stored.get(index.name) == [c.name for c in index.columns], (table.name, index.name)


def test_the_queue_reads_model_scores_from_the_covering_index(sqlite_db):
    """The review queue's read of ~200,000 model scores must not scan the codings table."""
    get_engine(sqlite_db)
    with get_engine(sqlite_db).connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT segment_id, code, score FROM codings "
            "WHERE active AND source = 'model' AND model_version = 'v1'")))
    assert "COVERING INDEX ix_codings_source_scores" in plan


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db):
    with get_engine(sqlite_db).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_failed_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with transaction(db) as s:
            s.add(_doc())
            s.flush()
            raise RuntimeError("interrupted")
    with session_factory(db)() as s:
        assert s.scalars(select(Document)).all() == []


def test_content_hash_is_unique(db):
    with transaction(db) as s:
        s.add(_doc())
    with pytest.raises(IntegrityError):
        with transaction(db) as s:
            s.add(_doc(file_name="copy.pdf"))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(db, statement):
    with transaction(db) as s:
        record(s, "kari", "accept", "coding", 1, segment_id=1, code="niva.universell")
    with pytest.raises(IntegrityError, match="append-only"):
        with transaction(db) as s:
            s.execute(text(statement))
    with session_factory(db)() as s:
        entry = s.scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.action, entry.detail) == ("kari", "accept", {"code": "niva.universell"})


def _cli(*args: str, cwd) -> "subprocess.CompletedProcess":
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "QUALCODE_DB"}
    return subprocess.run([sys.executable, "-c", "from qualcode.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_file_that_is_not_a_store_is_named_and_left_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# qualcode\n\nNot a database.\n")
    for command in (["status"], ["report", "-o", "r.html"], ["export", "-o", "p.qdpx"]):
        result = _cli(*command, "--db", str(readme), cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == f"Error: {readme} is not a qualcode store (not a SQLite database)"
    assert readme.read_text() == "# qualcode\n\nNot a database.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_someone_elses_sqlite_database_is_not_migrated(tmp_path):
    import sqlite3

    other = tmp_path / "andre.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE kunder (navn TEXT)")
    result = _cli("status", "--db", str(other), cwd=tmp_path)
    assert result.returncode == 2 and "is not a qualcode store (it holds other tables, e.g. kunder)" in result.stderr
    with sqlite3.connect(other) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"kunder"}


def test_a_store_from_a_newer_qualcode_is_refused(sqlite_db):
    import sqlite3

    from qualcode.store.db import NotAStoreError

    get_engine(sqlite_db).dispose()
    get_engine.cache_clear()
    with sqlite3.connect(sqlite_db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(NotAStoreError, match="newer qualcode"):
        get_engine(sqlite_db)


@pytest.mark.parametrize("db, shown", [
    ("qualcode.db", "qualcode.db"),
    ("postgresql://kari:hemmelig@db.kommune.no/qualcode", "postgresql://kari:***@db.kommune.no/qualcode"),
    ("postgresql://kari@db.kommune.no/qualcode?password=hemmelig", "postgresql://kari@db.kommune.no/qualcode?password=***"),
])
def test_passwords_are_masked_wherever_a_store_is_shown(db, shown):
    from qualcode.store.location import display_name

    assert display_name(db) == shown


def test_a_plain_postgresql_url_uses_psycopg_3():
    from qualcode.store.location import database_url

    assert database_url("postgresql://kari@h/q") == "postgresql+psycopg://kari@h/q"
    assert database_url("postgresql+psycopg2://kari@h/q") == "postgresql+psycopg2://kari@h/q"


def test_the_head_revision_from_file_names_is_alembics_head():
    from alembic.script import ScriptDirectory

    from qualcode.store.db import _alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_opening_a_current_store_does_not_import_alembic(sqlite_db):
    """Every command opens the store; when its schema is current that costs a query, not Alembic's import."""
    import subprocess
    import sys

    get_engine(sqlite_db).dispose()  # made and migrated by the fixture
    probe = ("import sys; from qualcode.store import session_factory; "
             "session_factory(sys.argv[1])().close(); print('alembic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe, sqlite_db], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
