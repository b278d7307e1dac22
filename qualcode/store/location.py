"""Which store to open, decided without importing SQLAlchemy at module level (keeps `--help` fast)."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "qualcode.db"


def default_db() -> str:
    """The store named by $QUALCODE_DB, else qualcode.db in the working folder."""
    return os.environ.get("QUALCODE_DB", DEFAULT_DB)


def is_url(db: str | os.PathLike) -> bool:
    return "://" in str(db)


def database_url(db: str | os.PathLike) -> str:
    """A SQLAlchemy URL: a file path becomes SQLite; a plain ``postgresql://`` URL uses psycopg 3."""
    text = str(db)
    if not is_url(text):
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    scheme, rest = text.split("://", 1)
    if scheme in ("postgresql", "postgres"):  # SQLAlchemy's default driver would be psycopg2
        return f"postgresql+psycopg://{rest}"
    return text


def display_name(db: str | os.PathLike) -> str:
    """The store as it may be printed or shown: a URL with its password masked ("***")."""
    text = str(db)
    if not is_url(text):
        return text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
        if "password" in url.query:  # libpq also takes the password as a query parameter
            url = url.update_query_dict({"password": "***"})
        return url.render_as_string(hide_password=True).replace("password=%2A%2A%2A", "password=***")
    except (ArgumentError, ValueError):
        return text.split("://", 1)[0] + "://***"  # unparsable: show the scheme only
