"""Reliabilitet: agreement per code (model vs reviewer, reviewer vs reviewer) from qualcode.coding.agreement."""
from __future__ import annotations

import streamlit as st

from qualcode.review.labels import labels_by_reviewer


def render(ctx) -> None:
    st.title("Reliabilitet")
    with ctx.factory() as session:
        by_reviewer = labels_by_reviewer(session)
        table, problem = _agreement(session)
    shared = {}
    for labels in by_reviewer.values():
        for seg in labels:
            shared[seg] = shared.get(seg, 0) + 1
    cols = st.columns(3)
    cols[0].metric("Gjennomgåere", len(by_reviewer))
    cols[1].metric("Gjennomgåtte segmenter", len(shared))
    cols[2].metric("Kodet av flere", sum(1 for n in shared.values() if n > 1),
                   help="Segmenter som minst to gjennomgåere har markert som ferdige.")
    if problem:
        st.info(problem)
        return
    if table is None or table.empty:
        st.info("Ingen samsvarstall ennå: gjennomgå noen segmenter først (og la to personer kode de samme for "
                "samsvar mellom gjennomgåere).")
        return
    st.caption("Cohens kappa per kode (modell og regler mot gjennomgåer, gjennomgåer mot gjennomgåer) og "
               "Krippendorffs alfa når flere har kodet de samme segmentene.")
    st.dataframe(table, hide_index=True, width="stretch")


def _agreement(session):
    try:
        from qualcode.coding.agreement import agreement_table
    except ImportError:
        return None, "Reliabilitet kommer: samsvarsberegningen er ikke ferdig ennå."
    try:
        return agreement_table(session), ""
    except Exception as err:  # a failing calculation must not take the page down
        return None, f"Samsvar kunne ikke beregnes: {type(err).__name__}: {err}"
