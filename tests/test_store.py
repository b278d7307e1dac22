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
