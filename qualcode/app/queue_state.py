"""The reviewer's place in the queue, kept in the browser session.

Holds a window of segment ids (never the whole corpus) and extends it on
demand: the next keyset page in document order, or a longer active-learning
queue. Changing the filters or the order starts a new queue.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st
from sqlalchemy import select

from qualcode.review import queue as q
from qualcode.store import schema

STATE_KEY = "_queue"
PAGE = 100
AL_BATCH = 200


@dataclass
class QueueState:
    key: tuple
    mode: str  # "al" | "doc"
    ids: list[int] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)
    pos: int = 0
    exhausted: bool = False
    note: str = ""
    after: tuple[int, int] | None = None  # keyset of the last row fetched in document order


def document_choices(session) -> dict[int, str]:
    D = schema.Document
    rows = session.execute(select(D.id, D.municipality, D.file_name, D.year)
                           .order_by(D.municipality, D.year, D.file_name)).all()
    return {r.id: f"{r.municipality or r.file_name} – {r.file_name}" + (f" ({r.year})" if r.year else "") for r in rows}


def ensure(session, codebook, filters: q.Filters, order: str, avoid: set[int] = frozenset(),
           ranker=None) -> QueueState:
    """The session's queue for these filters; a new one leaves out ``avoid`` (segments colleagues have open).

    ``ranker(session, n, codebook)`` gives the active-learning order (default: review_queue)."""
    key = (filters, order, codebook.version)
    state: QueueState | None = st.session_state.get(STATE_KEY)
    if state is not None and state.key == key:
        return state
    state = QueueState(key, order)
    if order == "al" and filters.status not in ("todo", "todo_me"):
        state.mode = "doc"
        state.note = "Aktiv læring gjelder segmenter som ikke er gjennomgått – viser dokumentrekkefølge."
    if state.mode == "al":
        ranked = q.active_learning_order(session, AL_BATCH, codebook, filters, ranker=ranker)
        if ranked is None:
            state.mode, state.note = "doc", "Aktiv læring er ikke tilgjengelig ennå – viser dokumentrekkefølge."
        elif not ranked:
            state.mode, state.note = "doc", "Læringskøen har ingen segmenter med disse filtrene – viser dokumentrekkefølge."
        else:
            state.ids = [i for i, _ in ranked if i not in avoid] or [i for i, _ in ranked]
            state.reasons = {i: reason for i, reason in ranked if reason}
    if state.mode == "doc":
        rows = q.document_order(session, filters, None, PAGE)
        state.ids = [row[0] for row in rows if row[0] not in avoid] or [row[0] for row in rows]
        state.exhausted = len(rows) < PAGE
        state.after = rows[-1][1:] if rows else None
    st.session_state[STATE_KEY] = state
    return state


def _extend(session, codebook, state: QueueState, ranker=None) -> None:
    filters = state.key[0]
    if state.mode == "doc":
        rows = q.document_order(session, filters, state.after, PAGE)
        seen = set(state.ids)
        more = [row[0] for row in rows if row[0] not in seen]
        state.exhausted = len(rows) < PAGE
        state.after = rows[-1][1:] if rows else state.after
    else:
        ranked = q.active_learning_order(session, AL_BATCH + len(state.ids), codebook, filters,
                                         ranker=ranker) or []
        seen = set(state.ids)
        more = [i for i, _ in ranked if i not in seen]
        state.reasons.update({i: reason for i, reason in ranked if reason and i not in seen})
        state.exhausted = not more
    state.ids += more


def current(session, codebook, state: QueueState, ranker=None) -> int | None:
    """The segment to show, fetching the next page of the queue when the window runs out."""
    while state.pos >= len(state.ids) and not state.exhausted:
        _extend(session, codebook, state, ranker)
    state.pos = min(state.pos, len(state.ids))
    return state.ids[state.pos] if state.pos < len(state.ids) else None


def rerank() -> None:
    """Keep the segments up to the current one; order the rest afresh (e.g. after the model retrained)."""
    state: QueueState | None = st.session_state.get(STATE_KEY)
    if state is not None and state.mode == "al":
        del state.ids[state.pos + 1:]
        state.exhausted = False


def move(delta: int) -> None:
    state: QueueState | None = st.session_state.get(STATE_KEY)
    if state is not None:
        state.pos = max(0, state.pos + delta)  # current() clamps at the end of the queue


def show(segment_id: int) -> None:
    """Jump to a segment (e.g. the one an undo changed), inserting it into the queue if needed."""
    state: QueueState | None = st.session_state.get(STATE_KEY)
    if state is None:
        return
    if segment_id in state.ids:
        state.pos = state.ids.index(segment_id)
    else:
        state.ids.insert(state.pos, segment_id)
