"""The qualcode store: documents, segments, codes, codings and the audit log."""
from qualcode.store.db import default_db, get_engine, session_factory, transaction

__all__ = ["default_db", "get_engine", "session_factory", "transaction"]
