"""Open a store: SQLite file by default (WAL, foreign keys), any SQLAlchemy URL otherwise.

The schema is brought up to date with Alembic on every open, so an old store
keeps working after an upgrade of qualcode. A file or database that is not a
qualcode store (a README, someone else's database) is refused, never migrated.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from qualcode.store.location import DEFAULT_DB, database_url, default_db, display_name  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(ValueError):
    """The store cannot be opened; the message names it (password masked) and says why."""


class NotAStoreError(StoreError):
    """The file or database exists but is not a qualcode store."""


BUSY_TIMEOUT_MS = 10000  # how long a SQLite write waits for another writer


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _check_sqlite_file(engine: Engine, shown: str) -> None:
    """Refuse a path that is a folder or a file that is not a SQLite database, before SQLite touches it."""
    path = Path(engine.url.database or "")
    if not engine.url.database or engine.url.database == ":memory:" or not path.exists():
        return
    if path.is_dir():
        raise NotAStoreError(f"{shown} is a folder, not a qualcode store")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise NotAStoreError(f"{shown} is not a qualcode store (not a SQLite database)")


def migrate(engine: Engine, shown: str | None = None) -> None:
    """Upgrade the schema to the newest migration (a no-op when current).

    A database with tables but no qualcode revision, or with a revision this qualcode
    does not know (made by a newer version), is refused rather than changed. The upgrade
    holds the write lock from the first look to the commit, so two processes creating the
    same new store wait for each other instead of seeing each other's half-made tables.
    """
    if _stored_revision(engine) == head_revision():
        return  # current: decided without importing Alembic (~0.2 s of every command's start)
    from alembic import command
    from alembic.script import ScriptDirectory

    shown = shown or display_name(engine.url.render_as_string(hide_password=True))
    cfg = _alembic_config()
    scripts = ScriptDirectory.from_config(cfg)
    head = scripts.get_current_head()
    try:
        with engine.connect() as conn:
            if _revision(conn, scripts, shown) == head:
                return
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":  # pysqlite runs DDL outside transactions unless told
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            if _revision(conn, scripts, shown) != head:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            conn.commit()
    except OperationalError as err:
        raise StoreError(f"cannot open the store {shown}: {_first_line(err)}") from None
    except DatabaseError as err:
        raise NotAStoreError(f"{shown} is not a qualcode store ({_first_line(err)})") from None


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision, read from the file names (``0008_search.py`` → "0008")."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _stored_revision(engine: Engine) -> str | None:
    """The revision the store records, or None when it cannot be read cheaply (new, foreign, unreachable:
    the full check then says what is wrong)."""
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DatabaseError:
        return None


def _revision(conn, scripts: ScriptDirectory, shown: str) -> str | None:
    """The store's revision; refuses a database that is someone else's or from a newer qualcode."""
    from alembic.runtime.migration import MigrationContext
    from alembic.util.exc import CommandError

    current = MigrationContext.configure(conn).get_current_revision()
    tables = set(inspect(conn).get_table_names())
    if current is None and tables - {"alembic_version"}:
        raise NotAStoreError(f"{shown} is not a qualcode store (it holds other tables, e.g. {sorted(tables - {'alembic_version'})[0]})")
    if current is not None:
        try:
            scripts.get_revision(current)
        except CommandError:
            raise NotAStoreError(f"{shown} was made by a newer qualcode (schema {current}); upgrade qualcode") from None
    return current


def _first_line(err: Exception) -> str:
    message = str(getattr(err, "orig", None) or err).strip()
    return message.splitlines()[0] if message else type(err).__name__


_OPENED: list[Engine] = []  # every engine get_engine made, for close_stores


@lru_cache(maxsize=8)
def get_engine(db: str | None = None) -> Engine:
    """One migrated engine per store; cached so every caller shares its pool."""
    db = db or default_db()
    engine = create_engine(database_url(db), pool_pre_ping=not database_url(db).startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        _check_sqlite_file(engine, display_name(db))
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine, display_name(db))
    _OPENED.append(engine)
    return engine


def close_stores() -> None:
    """Close the pooled connections of every store opened here (SQLite then folds its write-ahead
    log back into the store file, as it does when a process ends normally)."""
    for engine in _OPENED:
        engine.dispose()


def session_factory(db: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(get_engine(db), expire_on_commit=False)


@contextmanager
def transaction(db: str | None = None) -> Iterator[Session]:
    """A session whose work is committed together or not at all."""
    with session_factory(db).begin() as session:
        yield session
