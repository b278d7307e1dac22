"""Reliabilitet: who reviewed what, how far reviewers agree (per code and per pair), and the disagreements to settle.

Each open disagreement shows the segment and every reviewer's position; «Gjelder» /
«Gjelder ikke» records the agreed decision (``qualcode.review.adjudication``), which
reports, training and the agreement with the machine then use.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from qualcode.app.escape import md as _md
from qualcode.formats import MISSING, integer, names, number, segment_ref
from qualcode.app.widgets import code_label, flash, show_flash, text_box
from qualcode.review.actions import StaleWriteError
from qualcode.review.labels import labels_by_reviewer

PAGE_SIZE = 10
ALL = "__alle__"
AGREEMENT_COLUMNS = {  # column → (heading, help)
    "n_double": ("dobbeltkodet", "Segmenter som minst to gjennomgåere har markert som ferdige."),
    "n_disputed": ("uenige", "Segmenter der gjennomgåerne er uenige om koden og ingen har avgjort ennå."),
    "kappa_reviewers": ("κ gjennomgåere", "Cohens kappa mellom gjennomgåere, snitt over par vektet med felles segmenter."),
    "alpha_reviewers": ("α gjennomgåere", "Krippendorffs alfa (nominal) over alle gjennomgåere."),
    "n_segments": ("avgjort", "Gjennomgåtte segmenter der koden er avgjort (enige eller avgjort ved uenighet)."),
    "n_positive": ("med koden", "Av dem: segmenter der koden gjelder."),
    "kappa_rule_reviewer": ("κ regler", "Reglene i kodeboken mot de avgjorte kodene."),
    "kappa_model_reviewer": ("κ modell", "Modellens forslag (gitt før gjennomgangen) mot de avgjorte kodene."),
}


def render(ctx) -> None:
    st.title("Reliabilitet")
    show_flash()
    from qualcode.coding.agreement import agreement_table, reviewer_pairs
    from qualcode.review.adjudication import disagreements

    with ctx.factory() as session:
        by_reviewer = labels_by_reviewer(session)
        table = agreement_table(session)
        pairs = reviewer_pairs(session)
        cases = disagreements(session, include_settled=True)
    open_cases = [c for c in cases if c.settled is None]
    shared: dict[int, int] = {}
    for labels in by_reviewer.values():
        for seg in labels:
            shared[seg] = shared.get(seg, 0) + 1
    cols = st.columns(4)
    cols[0].metric("Gjennomgåere", integer(len(by_reviewer)))
    cols[1].metric("Gjennomgåtte segmenter", integer(len(shared)))
    cols[2].metric("Kodet av flere", integer(sum(1 for n in shared.values() if n > 1)),
                   help="Segmenter som minst to gjennomgåere har markert som ferdige.")
    cols[3].metric("Uenigheter å avgjøre", integer(len(open_cases)))
    if not by_reviewer:
        st.info("Ingen har gjennomgått segmenter ennå. Samsvar kan beregnes når segmenter er markert som ferdige "
                "(og mellom gjennomgåere når to personer har kodet de samme segmentene).")
        return
    _reviewers(by_reviewer, pairs)
    _disagreements(ctx, open_cases, [c for c in cases if c.settled is not None])
    _per_code(ctx, table)


def _reviewers(by_reviewer: dict, pairs: pd.DataFrame) -> None:
    st.subheader("Gjennomgåere")
    people = pd.DataFrame([{"gjennomgåer": name, "segmenter": integer(len(labels)),
                            "koder satt": integer(sum(len(c) for c in labels.values()))}
                           for name, labels in sorted(by_reviewer.items())])
    left, right = st.columns([1, 1.4], gap="large")
    left.dataframe(people, hide_index=True, width="stretch")
    if pairs.empty:
        right.caption("Ingen segmenter er kodet av to gjennomgåere ennå, så samsvar mellom gjennomgåere kan ikke "
                      "beregnes.")
        return
    shown = pd.DataFrame({"par": pairs["reviewer_a"] + " og " + pairs["reviewer_b"],
                          "felles segmenter": pairs["n_common"].map(integer),
                          "kodet ulikt": pairs["n_differ"].map(integer),
                          "κ (alle koder)": pairs["kappa_pooled"].map(number)})
    right.dataframe(shown, hide_index=True, width="stretch")


def _where(case) -> str:
    """«Nordby 2024 plan, §1 · s. 1»: the segment named as everywhere (qualcode.formats), with its pages."""
    pages = f"s. {case.page_start}" if case.page_end in (None, case.page_start) else \
        f"s. {case.page_start}–{case.page_end}"
    return f"{segment_ref(case.municipality, case.year, case.doc_type, case.seq, case.file_name)} · {pages}"


def _disagreements(ctx, open_cases: list, settled: list) -> None:
    st.subheader("Uenigheter")
    if not open_cases:
        st.success("Ingen åpne uenigheter: der flere har kodet samme segment, er de enige eller uenigheten er avgjort.")
    else:
        st.caption("Segmenter der gjennomgåerne har kodet ulikt. Til uenigheten er avgjort, regnes koden ikke som "
                   "kodet i rapporter og sitater. Avgjørelsen lagres med navnet ditt og kan angres.")
        book = ctx.codebook
        codes = sorted({c.code for c in open_cases})
        if st.session_state.get("adj_code") not in (ALL, *codes):
            st.session_state.pop("adj_code", None)
        chosen = st.selectbox("Kode", [ALL, *codes], key="adj_code",
                              format_func=lambda c: "Alle koder" if c == ALL else code_label(book, c))
        shown = [c for c in open_cases if chosen == ALL or c.code == chosen]
        limit = st.session_state.get("adj_limit", PAGE_SIZE)
        for case in shown[:limit]:
            _case(ctx, case)
        if len(shown) > limit:
            st.button(f"Vis flere ({integer(len(shown) - limit)} til)", key="adj_more",
                      on_click=lambda: st.session_state.update(adj_limit=limit + PAGE_SIZE))
    if settled:
        with st.expander(f"Avgjorte uenigheter ({integer(len(settled))})"):
            for case in settled:
                verdict = "gjelder" if case.settled else "gjelder ikke"
                text_col, button_col = st.columns([5, 1], vertical_alignment="center")
                text_col.markdown(f"**{_md(code_label(ctx.codebook, case.code))}**: {verdict}  \n"
                                  f":gray[{_md(_where(case))}]")
                button_col.button("Angre", key=f"adj_undo_{case.adjudication_id}", disabled=not ctx.reviewer,
                                  on_click=_undo, args=(ctx, case.adjudication_id))


def _case(ctx, case) -> None:
    reviewer = ctx.reviewer
    with st.container(border=True):
        st.markdown(f"**{_md(code_label(ctx.codebook, case.code))}**  \n:gray[{_md(_where(case))}]")
        said = []
        if case.applied_by:
            said.append(f"{_md(names(case.applied_by))}: **gjelder**")
        if case.not_applied_by:
            said.append(f"{_md(names(case.not_applied_by))}: **gjelder ikke**")
        st.markdown(" · ".join(said))
        text_box(case.text if len(case.text) <= 900 else case.text[:900].rsplit(" ", 1)[0] + " …")
        key = f"{case.segment_id}_{case.code}"
        note_col, yes_col, no_col = st.columns([3, 1.2, 1.2], vertical_alignment="bottom")
        note_col.text_input("Begrunnelse (valgfritt)", key=f"adj_note_{key}", placeholder="Hvorfor dere ble enige …")
        yes_col.button("Gjelder", key=f"adj_yes_{key}", type="primary", disabled=not reviewer, width="stretch",
                       on_click=_decide, args=(ctx, case, True))
        no_col.button("Gjelder ikke", key=f"adj_no_{key}", disabled=not reviewer, width="stretch",
                      on_click=_decide, args=(ctx, case, False))
        if not reviewer:
            st.caption("Skriv navnet ditt i feltet til venstre for å avgjøre.")


def _decide(ctx, case, applied: bool) -> None:
    from qualcode.review.adjudication import adjudicate

    note = st.session_state.get(f"adj_note_{case.segment_id}_{case.code}", "")
    try:
        adjudicate(ctx.factory, case.segment_id, case.code, applied, ctx.reviewer, case.review_version, note=note)
    except StaleWriteError as err:
        flash("warning", f"Segmentet ble endret av {err.changed_by or 'en annen'} i mellomtiden. "
                         "Se oppdatert versjon og avgjør på nytt.")
        return
    flash("success", f"Avgjort: {code_label(ctx.codebook, case.code)} {'gjelder' if applied else 'gjelder ikke'}.")


def _undo(ctx, adjudication_id: int) -> None:
    from qualcode.review.adjudication import undo_adjudication

    try:
        undo_adjudication(ctx.factory, adjudication_id, ctx.reviewer)
    except LookupError:
        flash("info", "Avgjørelsen var allerede angret.")
        return
    flash("success", "Avgjørelsen er angret; uenigheten er åpen igjen.")


def _per_code(ctx, table: pd.DataFrame) -> None:
    st.subheader("Samsvar per kode")
    st.caption("Cohens κ: regler og modell mot gjennomgåernes avgjorte koder, og gjennomgåere mot hverandre "
               "(snitt over par). Krippendorffs α over alle gjennomgåere på dobbeltkodede segmenter. "
               f"{MISSING} = kan ikke beregnes (ingen variasjon å måle, eller ingen dobbeltkoding).")
    used = table[(table["n_positive"] > 0) | (table["n_disputed"] > 0) | table["kappa_reviewers"].notna()]
    if used.empty:
        st.info("Ingen koder er satt i gjennomgåtte segmenter ennå.")
        return
    book = ctx.codebook
    shown = pd.DataFrame({"kode": used["code"].map(lambda c: book.code(c).name if c in book.code_ids else c)})
    for column, (heading, _help) in AGREEMENT_COLUMNS.items():
        shown[heading] = used[column].map(number if column.startswith(("kappa", "alpha")) else integer).to_numpy()
    config = {heading: st.column_config.TextColumn(heading, help=help_text)
              for heading, help_text in AGREEMENT_COLUMNS.values()}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config)

