"""Read many rows fast: through the driver's own cursor (sqlite3 or psycopg).

SQLAlchemy builds a Row object per row; for the 100,000+ segments or codings of a
yearly store that costs a third of the read, and the callers want tuples or columns.
"""
from __future__ import annotations

from sqlalchemy.orm import Session


def read_rows(session: Session, query) -> list[tuple]:
    """All rows of a Core select as plain tuples. Bound values are written into the SQL
    (``literal_binds``), so only for values of our own (ids, code names), never for user text."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def read_columns(session: Session, query) -> list[tuple]:
    """The result of ``query`` column by column: one tuple per selected column (empty when no rows)."""
    rows = read_rows(session, query)
    return list(zip(*rows)) if rows else [()] * len(query.selected_columns)
