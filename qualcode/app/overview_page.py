"""Oversikt: which documents the store holds and how far review has come, per document and per code."""
from __future__ import annotations

import streamlit as st

from qualcode.formats import integer, share_of
from qualcode.review.progress import code_counts, document_progress, overall


def render(ctx) -> None:
    st.title("Oversikt")
    with ctx.factory() as session:
        totals = overall(session, ctx.reviewer)
        docs = document_progress(session)
        codes = code_counts(session, ctx.codebook)
    if docs.empty:
        st.info("Databasen har ingen dokumenter ennå. Gå til **Import** for å legge inn planer og intervjuer.")
        return
    cols = st.columns(4)
    cols[0].metric("Dokumenter", len(docs))
    cols[1].metric("Segmenter å kode", integer(totals["codable"]))
    cols[2].metric("Gjennomgått", integer(totals["done"]), help=share_of(totals["done"], totals["codable"]))
    cols[3].metric("Gjennomgått av deg", totals["mine"] if ctx.reviewer else "–")

    st.subheader("Dokumenter")
    shown = docs.assign(type=docs["type"].fillna("–"), informant=docs["informant"].fillna("–"),
                        kommune=docs["kommune"].fillna(docs["fil"]), år=docs["år"].astype("Int64"))
    st.dataframe(
        shown[["kommune", "år", "type", "informant", "fil", "kodbare", "ferdig", "fremdrift"]],
        hide_index=True, width="stretch",
        column_config={
            "år": st.column_config.NumberColumn("år", format="%d"),
            "kodbare": st.column_config.NumberColumn("segmenter å kode"),
            "ferdig": st.column_config.NumberColumn("gjennomgått"),
            "fremdrift": st.column_config.TextColumn("fremdrift", help="Gjennomgått av segmenter å kode"),
        },
    )

    st.subheader("Koder")
    st.caption("Forslag = segmenter der regler/modell foreslår koden; mulige = svakere forslag; "
               "bekreftet/avvist = avgjort i gjennomgåtte segmenter.")
    st.dataframe(codes, hide_index=True, width="stretch")
