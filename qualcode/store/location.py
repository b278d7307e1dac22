"""Which store to open, decided without importing SQLAlchemy (keeps `--help` fast)."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "qualcode.db"


def default_db() -> str:
    """The store named by $QUALCODE_DB, else qualcode.db in the working folder."""
    return os.environ.get("QUALCODE_DB", DEFAULT_DB)


def database_url(db: str | os.PathLike) -> str:
    text = str(db)
    return text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"
