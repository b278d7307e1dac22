"""What every page needs: the store, its session factory, the codebook in use and who is reviewing.

Pages receive an ``AppContext`` (``ctx``) in ``render(ctx)``. Stable attributes:
``ctx.db`` (store path or URL), ``ctx.factory`` (SQLAlchemy sessionmaker),
``ctx.codebook`` / ``ctx.codebook_path``, ``ctx.store_dir`` (local folder for
files the app writes) and ``ctx.reviewer`` (name given this session, or None).

The store comes from ``--db FILE`` after ``--`` (``streamlit run app.py -- --db FILE``),
else ``$QUALCODE_DB``, else ``./qualcode.db``.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import streamlit as st

from qualcode.coding.codebook import DEFAULT_PATH, Codebook, load_codebook
from qualcode.store.db import DEFAULT_DB, session_factory

REVIEWER_KEY = "reviewer"


def db_from_args(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.db or os.environ.get("QUALCODE_DB") or DEFAULT_DB


def is_url(db: str) -> bool:
    return "://" in db


def store_codebook_path(db: str) -> Path:
    """The store's own codebook file, beside the store (the shipped one is never overwritten)."""
    from qualcode.coding.store_codebook import own_codebook_path

    return own_codebook_path(db)


@lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int) -> Codebook:
    return load_codebook(path)


@dataclass(frozen=True)
class AppContext:
    db: str

    @property
    def factory(self):
        return _factory(self.db)

    @property
    def store_exists(self) -> bool:
        return is_url(self.db) or Path(self.db).expanduser().is_file()

    @property
    def store_dir(self) -> Path:
        return Path.cwd() if is_url(self.db) else Path(self.db).expanduser().resolve().parent

    @property
    def codebook_path(self) -> Path:
        own = store_codebook_path(self.db)
        return own if own.is_file() else DEFAULT_PATH

    @property
    def own_codebook_path(self) -> Path:
        return store_codebook_path(self.db)

    @property
    def codebook(self) -> Codebook:
        path = self.codebook_path
        return _load(str(path), path.stat().st_mtime_ns)

    @property
    def reviewer(self) -> str | None:
        name = " ".join(str(st.session_state.get(REVIEWER_KEY) or "").split())
        return name or None


@st.cache_resource(show_spinner=False)
def _factory(db: str):
    return session_factory(db)


def get_context() -> AppContext:
    return AppContext(db_from_args())
