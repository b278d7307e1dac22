"""Open a store: SQLite file by default (WAL, foreign keys), any SQLAlchemy URL otherwise.

The schema is brought up to date with Alembic on every open, so an old store
keeps working after an upgrade of qualcode.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from qualcode.store.location import DEFAULT_DB, database_url, default_db  # noqa: F401  (re-exported)

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (a no-op when current)."""
    cfg = _alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=8)
def get_engine(db: str | None = None) -> Engine:
    """One migrated engine per store; cached so every caller shares its pool."""
    url = database_url(db or default_db())
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return engine


def session_factory(db: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(get_engine(db), expire_on_commit=False)


@contextmanager
def transaction(db: str | None = None) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    with session_factory(db).begin() as session:
        yield session
