"""Oversikt: which documents the store holds and how far review has come, per document and per code."""
from __future__ import annotations

import streamlit as st

from qualcode.app.extraction_context import show_ocr_documents
from qualcode.app.widgets import flash, number, show_flash
from qualcode.review.progress import code_counts, document_progress, overall


def render(ctx) -> None:
    st.title("Oversikt")
    show_flash()
    with ctx.factory() as session:
        totals = overall(session, ctx.reviewer)
        docs = document_progress(session)
        codes = code_counts(session, ctx.codebook)
    if docs.empty:
        st.info("Databasen har ingen dokumenter ennå. Gå til **Import** for å legge inn planer og intervjuer.")
        return
    cols = st.columns(4)
    cols[0].metric("Dokumenter", len(docs))
    cols[1].metric("Segmenter å kode", totals["codable"])
    share = totals["done"] / totals["codable"] if totals["codable"] else 0.0
    cols[2].metric("Gjennomgått", totals["done"], help=f"{number(100 * share, 1)} % av segmentene")
    cols[3].metric("Gjennomgått av deg", totals["mine"] if ctx.reviewer else "–")

    st.subheader("Dokumenter")
    shown = docs.assign(type=docs["type"].fillna("–"), informant=docs["informant"].fillna("–"),
                        kommune=docs["kommune"].fillna(docs["fil"]), år=docs["år"].astype("Int64"))
    shown = _mark_inferred(ctx, shown)  # researcher loop: guessed municipality says so
    st.dataframe(
        shown[["kommune", "år", "type", "informant", "fil", "kodbare", "ferdig", "andel"]],
        hide_index=True, width="stretch",
        column_config={
            "år": st.column_config.NumberColumn("år", format="%d"),
            "kodbare": st.column_config.NumberColumn("segmenter å kode"),
            "ferdig": st.column_config.NumberColumn("gjennomgått"),
            "andel": st.column_config.ProgressColumn("fremdrift", min_value=0.0, max_value=1.0, format="percent"),
        },
    )
    show_ocr_documents(ctx)  # scanned documents and Tesseract's confidence

    _metadata_editor(ctx)

    st.subheader("Koder")
    st.caption("Forslag = segmenter der regler/modell foreslår koden; mulige = svakere forslag; "
               "bekreftet/avvist = avgjort i gjennomgåtte segmenter.")
    st.dataframe(codes, hide_index=True, width="stretch")


# -- document metadata (researcher loop) -------------------------------------------------------
def _mark_inferred(ctx, shown):
    """«Tjernåsen kommune (antatt)» where the municipality was guessed and nobody has confirmed it."""
    from qualcode.metadata import metadata_table

    with ctx.factory() as session:
        guessed = {r.id for r in metadata_table(session).itertuples() if "municipality" in r.inferred}
    if not guessed:
        return shown
    mark = shown["id"].isin(guessed)
    return shown.assign(kommune=shown["kommune"].where(~mark, shown["kommune"].astype(str) + " (antatt)"))


def _metadata_editor(ctx) -> None:
    """Correct municipality, year, type, informant role and size class of one document; confirm guesses."""
    from qualcode.app.format import md_escape
    from qualcode.metadata import FIELDS, MetadataError, confirm_metadata, edit_metadata, metadata_table

    with ctx.factory() as session:
        table = metadata_table(session)
    guessed = table[table["inferred"].map(bool)]
    title = "Rett dokumentopplysninger" + (f" ({len(guessed)} med antatte verdier)" if len(guessed) else "")
    with st.expander(title, expanded=bool(len(guessed))):
        if len(guessed):
            st.caption("Antatt = gjettet fra filnavnet eller forsiden fordi ingen manifest.csv beskrev filen. "
                       "Kontroller og lagre, eller bekreft verdiene som de er.")
        rows = {r.id: r for r in table.itertuples()}

        def label(doc_id: int) -> str:
            r = rows[doc_id]
            mark = " – antatte verdier" if r.inferred else ""
            return f"{r.file_name} ({r.municipality or 'kommune ukjent'}, {r.year or 'år ukjent'}){mark}"

        order = [*guessed["id"], *[i for i in table["id"] if i not in set(guessed["id"])]]
        doc_id = st.selectbox("Dokument", order, format_func=label, key="meta_doc")
        if doc_id is None:
            return
        row = rows[doc_id]
        inferred = set(row.inferred)
        values = {}
        cols = st.columns(5)
        for col, (field, (_column, name)) in zip(cols, FIELDS.items()):
            current = getattr(row, field)
            shown = "" if current is None or (isinstance(current, float) and current != current) else str(current)
            values[field] = col.text_input(name.capitalize() + (" (antatt)" if field in inferred else ""), value=shown,
                                           key=f"meta_{field}_{doc_id}")
        save, confirm = st.columns([1, 1])
        if save.button("Lagre opplysninger", type="primary", key="meta_save", disabled=not ctx.reviewer):
            def norm(v):
                return "" if v is None or (isinstance(v, float) and v != v) else str(v)

            changes = {f: v for f, v in values.items() if v.strip() != norm(getattr(row, f)).strip() or f in inferred}
            try:
                changed = edit_metadata(ctx.factory, doc_id, ctx.reviewer, **changes)
            except MetadataError as err:
                st.error(f"{row.file_name}: {err}")
            else:
                names = ", ".join(FIELDS[f][1] for f in changed)
                flash("success", f"Lagret for {md_escape(row.file_name)}: {names or 'ingen endringer'}.")
                st.rerun()
        if inferred and confirm.button("Bekreft antatte verdier", key="meta_confirm", disabled=not ctx.reviewer):
            confirm_metadata(ctx.factory, doc_id, ctx.reviewer)
            flash("success", f"Bekreftet for {md_escape(row.file_name)}.")
            st.rerun()
        if not ctx.reviewer:
            st.caption("Skriv navnet ditt i feltet til venstre for å lagre endringer.")
