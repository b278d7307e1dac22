"""The qualcode store: documents, segments, codes, codings and the audit log.

Names load on first use (PEP 562) so that importing ``qualcode.store.schema`` or
``qualcode.store.location`` does not pull in Alembic.
"""
from __future__ import annotations

import importlib

__all__ = ["default_db", "get_engine", "session_factory", "transaction"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("qualcode.store.db"), name)
    raise AttributeError(f"module 'qualcode.store' has no attribute {name!r}")
