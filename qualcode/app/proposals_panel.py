"""Pattern proposals saved from Søk, shown beside a code in the codebook editor: take them in or dismiss them."""
from __future__ import annotations

import streamlit as st

from qualcode.app.widgets import flash, show_flash


def render(ctx, code_id: str) -> None:
    """The code's pending proposals (nothing when there are none)."""
    from qualcode.search.coding import accept_proposal, dismiss_proposal, fragment_yaml, pending_proposals

    show_flash()  # the outcome of the last accept/dismiss
    with ctx.factory() as session:
        proposals = pending_proposals(session, code_id)
    if not proposals:
        return
    st.markdown(f"**Mønsterforslag fra Søk ({len(proposals)})**")
    for p in proposals:
        with st.container(border=True):
            when = p.created_at.strftime("%d.%m.%Y")
            st.caption(f"Søket «{p.query}» ga {p.hits} treff · foreslått av {p.created_by} {when}"
                       + (f" · {p.note}" if p.note else ""))
            st.code(fragment_yaml(p.patterns[0]), language="yaml")
            take, drop = st.columns(2)
            if take.button("Ta inn i koden", key=f"prop_accept_{p.id}", disabled=not ctx.reviewer):
                try:
                    book = accept_proposal(ctx.factory, p.id, ctx.reviewer, ctx.codebook_path, ctx.own_codebook_path)
                except (ValueError, LookupError) as err:
                    st.error(f"Forslaget kan ikke tas inn: {err}")
                    continue
                flash("success", f"Mønstrene er lagt til i {code_id} (kodebok versjon {book.version}).")
                st.rerun()
            if drop.button("Avvis", key=f"prop_dismiss_{p.id}", disabled=not ctx.reviewer):
                dismiss_proposal(ctx.factory, p.id, ctx.reviewer)
                flash("info", f"Forslaget «{p.query}» er avvist.")
                st.rerun()
