"""Keep the search index up to date: terms for new segments at ingest, and whatever is missing on demand.

Ingest calls ``index_segments`` in the transaction that writes a document's segments,
so a committed document is searchable at once. A store written by older code (or by
REFI import) has segments without terms; ``index_missing`` adds them - and rewrites
rows from an older analyser - in batches with a progress callback, and every search
runs it first, so search always sees the whole corpus.

Writing costs about 0.1 ms per segment on SQLite and stays flat as the index grows -
unless ``ANALYZE`` ran while the index was empty: FTS5 then plans its own lookups on
statistics that say its tables are empty, and each write gets slower with the index
(3 ms per segment at 100,000). Run ``ANALYZE`` after indexing, never before.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from qualcode.search.terms import ANALYSER_VERSION, index_text
from qualcode.store import schema

BATCH = 2000
Progress = Callable[[int, int], None]  # (segments done, segments to do)


def chunks(ids, size: int = 5000):
    """``ids`` in slices small enough for one SQL ``IN (...)`` on every database."""
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def segment_terms(texts: Iterable[str]) -> list[dict]:
    """The ``search_terms`` columns for each text, without a segment id. Pure (no store): a worker
    process computes them next to coding; the writing process adds the ids (``term_rows``)."""
    out = []
    for text in texts:
        cols = index_text(text or "")
        out.append({"version": ANALYSER_VERSION, "lemmas": cols.lemmas, "heads": cols.heads, "tails": cols.tails,
                    "parts": cols.parts})
    return out


def term_rows(pairs: Iterable[tuple[int, str]], computed: list[dict] | None = None) -> list[dict]:
    """``search_terms`` rows for (segment id, text) pairs; ``computed`` reuses `segment_terms` output."""
    pairs = list(pairs)
    computed = computed if computed is not None else segment_terms(text for _, text in pairs)
    return [{"segment_id": segment_id, **cols} for (segment_id, _), cols in zip(pairs, computed)]


def index_rows(session: Session, rows: list[dict]) -> int:
    """Write ``term_rows`` inside the caller's transaction (the full-text index follows by trigger)."""
    if rows:
        session.execute(insert(schema.SearchTerms.__table__), rows)
    return len(rows)


def index_segments(session: Session, pairs: Iterable[tuple[int, str]]) -> int:
    """Index (segment id, text) pairs inside the caller's transaction; returns how many."""
    return index_rows(session, term_rows(pairs))


def _stale(session: Session) -> tuple[int, int]:
    """(segments without terms, rows written by another analyser version)."""
    S, T = schema.Segment, schema.SearchTerms
    missing = session.scalar(select(func.count()).select_from(S).outerjoin(T, T.segment_id == S.id)
                             .where(T.segment_id.is_(None))) or 0
    old = session.scalar(select(func.count()).select_from(T).where(T.version != ANALYSER_VERSION)) or 0
    return missing, old


def missing_count(session: Session) -> int:
    """How many segments the index lacks (or holds from an older analyser)."""
    return sum(_stale(session))


def index_missing(factory, progress: Progress | None = None) -> int:
    """Index every segment that has no (current) terms, in batches of short transactions."""
    S, T = schema.Segment, schema.SearchTerms
    with factory() as session:
        missing, old = _stale(session)
    todo = missing + old
    if not todo:
        return 0
    if old:
        with factory.begin() as session:
            session.execute(delete(T).where(T.version != ANALYSER_VERSION))
    done, after = 0, -1
    progress and progress(0, todo)
    while True:
        with factory.begin() as session:
            batch = session.execute(select(S.id, S.text).outerjoin(T, T.segment_id == S.id)
                                    .where(T.segment_id.is_(None), S.id > after).order_by(S.id).limit(BATCH)).all()
            if not batch:
                break
            done += index_segments(session, batch)
            after = batch[-1][0]
        progress and progress(min(done, todo), todo)
    return done
