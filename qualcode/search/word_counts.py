"""The search index's word counts as CSR arrays: counted by pyarrow and numpy, saved in the store.

Counting the lemmas of a yearly store's 100,000+ segments takes about a second. The first
reader after a change counts and saves (``save_counts``); later readers (reports, the app)
take the saved counts while they still describe the index (``read_saved``): whatever
changes the index changes its state, and stale counts are simply not used. Ingest does not
count: its writing process must stay small however large the store grows.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qualcode.search.stopwords import is_content, stop_words
from qualcode.store import schema
from qualcode.store.bulk_read import read_columns
from qualcode.store.db import BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)
ROW_ID = 1  # the one row of search_counts


@dataclass(frozen=True)
class CountArrays:
    """Segments × words counts in CSR form (row i: ``indices``/``data`` from ``indptr[i]`` to ``indptr[i+1]``,
    columns sorted), the segment of each row and the word of each column."""

    segment_ids: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    vocabulary: np.ndarray


def count_joined(segment_ids: Sequence[int], joined: Sequence[str]) -> CountArrays:
    """Count the content words of whitespace-joined lemmas (the index's form), split and hashed by
    pyarrow in C++: 2-3x faster than splitting 100,000 strings in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = pc.utf8_split_whitespace(pa.array(joined, type=pa.large_string()))
    words = pc.dictionary_encode(pc.list_flatten(lists))
    return count_codes(segment_ids, words.indices.to_numpy(zero_copy_only=False), words.dictionary.to_pylist(),
                       pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64))


def count_codes(segment_ids, codes: np.ndarray, uniques, lengths: np.ndarray) -> CountArrays:
    """The counts from every token's word number (``codes`` into ``uniques``) and each segment's length."""
    stop = stop_words()
    keep = np.fromiter((is_content(w, stop) for w in uniques), dtype=bool, count=len(uniques))
    vocabulary = np.asarray(uniques, dtype=object)[keep]
    column = np.full(len(uniques), -1, dtype=np.int64)
    column[keep] = np.arange(keep.sum())
    cols = column[np.asarray(codes, dtype=np.int64)] if len(codes) else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    wanted = cols >= 0
    width = max(len(vocabulary), 1)
    # one key per (segment, word); sorted unique keys are the CSR entries, row by row, columns ascending
    keys, data = np.unique(rows[wanted] * width + cols[wanted], return_counts=True)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // width, minlength=len(lengths)), out=indptr[1:])
    return CountArrays(np.asarray(segment_ids, dtype=np.int64), indptr, (keys % width).astype(np.int32),
                       data.astype(np.int64), vocabulary)


def index_state(session: Session) -> str:
    """What the index holds, in one line: rows, sum and range of segment ids, analyser versions."""
    T = schema.SearchTerms
    row = session.execute(select(func.count(), func.coalesce(func.sum(T.segment_id), 0), func.min(T.segment_id),
                                 func.max(T.segment_id), func.min(T.version), func.max(T.version))).one()
    return "/".join(str(v) for v in row)


def count_index(session: Session) -> CountArrays:
    """Count the lemmas of every segment in the search index."""
    T = schema.SearchTerms
    segment_ids, joined = read_columns(session, select(T.segment_id, T.lemmas).order_by(T.segment_id))
    return count_joined(segment_ids, joined)


def read_saved(session: Session, state: str) -> CountArrays | None:
    """The saved counts if they count the index in ``state``; else None."""
    row = session.execute(select(schema.SearchCounts.state, schema.SearchCounts.payload)
                          .where(schema.SearchCounts.id == ROW_ID)).first()
    if row is None or row.state != state:
        return None
    try:
        with np.load(io.BytesIO(row.payload)) as parts:
            words = bytes(parts["vocabulary"]).decode("utf-8")
            return CountArrays(parts["segment_ids"], parts["indptr"], parts["indices"],
                               parts["data"].astype(np.int64),
                               np.array(words.split("\n") if words else [], dtype=object))
    except Exception:  # damaged counts cost a recount, never a report
        log.warning("the saved word counts cannot be read; counting again", exc_info=True)
        return None


def save_counts(engine, state: str, counts: CountArrays) -> None:
    """Save ``counts`` of the index in ``state`` (replacing what was saved), in a transaction of its own;
    a store that cannot take the write (read-only, locked) keeps what it had."""
    buffer = io.BytesIO()
    np.savez(buffer, segment_ids=counts.segment_ids, indptr=counts.indptr, indices=counts.indices,
             data=counts.data.astype(np.int32),
             vocabulary=np.frombuffer("\n".join(counts.vocabulary).encode("utf-8"), dtype=np.uint8))
    table = schema.SearchCounts.__table__
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as conn:
            if sqlite:  # a run writing right now: give up at once rather than keep a report waiting
                conn.exec_driver_sql("PRAGMA busy_timeout=200")
            try:
                conn.execute(table.delete().where(table.c.id == ROW_ID))
                conn.execute(table.insert().values(id=ROW_ID, state=state, payload=buffer.getvalue()))
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except Exception:  # a cache: not saving it costs the next reader a recount, nothing else
        log.warning("could not save the word counts", exc_info=True)
