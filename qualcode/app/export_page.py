"""Eksport: download the report (HTML, Excel, CSV) and REFI-QDA files for NVivo, ATLAS.ti and MAXQDA.

Files are made when a button is pressed (deferred), from the same functions as
``qualcode report`` and ``qualcode export``.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from qualcode.analysis.frame import load
from qualcode.review.labels import labels_by_reviewer

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stem(ctx) -> str:
    name = "qualcode" if "://" in ctx.db else Path(ctx.db).stem
    return f"{name}-{date.today().isoformat()}"


def _html(db: str, include_machine: bool, store_name: str):
    def make() -> bytes:
        from qualcode.export.report_html import render_report

        data = load(db, include_machine=include_machine)
        return render_report(data, store_name=store_name, codebook_version=data.codebook_version).encode("utf-8")
    return make


def _xlsx(db: str, include_machine: bool):
    def make() -> bytes:
        import io

        from qualcode.export.report_tables import write_xlsx

        buffer = io.BytesIO()
        write_xlsx(load(db, include_machine=include_machine), buffer)
        return buffer.getvalue()
    return make


def _csv(db: str, include_machine: bool):
    def make() -> bytes:
        from qualcode.export.report_tables import csv_zip_bytes

        return csv_zip_bytes(load(db, include_machine=include_machine))
    return make


def _qdpx(factory, name: str):
    def make() -> bytes:
        from qualcode.export.refi import export_qdpx

        with factory() as session:
            return export_qdpx(session, name)[0]
    return make


def _qdc(factory):
    def make() -> bytes:
        from qualcode.export.refi import export_qdc

        with factory() as session:
            return export_qdc(session)
    return make


def render(ctx) -> None:
    st.title("Eksport")
    stem = _stem(ctx)
    store_name = "" if "://" in ctx.db else Path(ctx.db).name

    st.subheader("Rapport")
    st.write("Analysen som rapport: tema og koder per kommune, år, type og størrelse, kode × dokument, "
             "samforekomst, § 15-1-fullstendighet med belegg, endring over tid og sitater med kildehenvisning.")
    include_machine = st.toggle(
        "Ta med maskinforslag for segmenter ingen har gått gjennom", key="ex_machine",
        help="Uten dette bygger tallene bare på bekreftede kodinger. Med det er maskinforslagene merket «maskin».")
    cols = st.columns(3)
    cols[0].download_button("HTML-rapport", _html(ctx.db, include_machine, store_name), file_name=f"{stem}.html",
                            mime="text/html", icon=":material/description:", on_click="ignore",
                            help="Én fil som åpnes i nettleseren, også uten nett. Henter ingenting utenfra.")
    cols[1].download_button("Excel (xlsx)", _xlsx(ctx.db, include_machine), file_name=f"{stem}.xlsx", mime=XLSX_MIME,
                            icon=":material/table_view:", on_click="ignore", help="Ett ark per tabell.")
    cols[2].download_button("CSV (zip)", _csv(ctx.db, include_machine), file_name=f"{stem}-csv.zip",
                            mime="application/zip", icon=":material/folder_zip:", on_click="ignore",
                            help="Én CSV-fil per tabell (UTF-8).")

    st.subheader("REFI-QDA: NVivo, ATLAS.ti, MAXQDA")
    from qualcode.review.counts import store_counts

    with ctx.factory() as session:
        labels = labels_by_reviewer(session)
        reviewed = store_counts(session).reviewed  # segments, not (reviewer, segment) pairs: as Oversikt counts
    codings = sum(len(c) for v in labels.values() for c in v.values())
    st.write(f"Prosjektet tar med alle dokumentene som ren tekst, kodeboken (tema med koder under) og "
             f"**{codings} bekreftede kodinger** i {reviewed} gjennomgåtte segmenter fra "
             f"{len(labels)} gjennomgåer(e). Dokumentopplysninger (kommune, år, type, størrelse, informantrolle) "
             f"følger med som variabler.")
    st.caption("Koblingen mellom pseudonymer og ekte navn blir aldri eksportert, og heller ikke maskinforslag. "
               "Filene kontrolleres mot REFI-QDA-skjemaet før de lages.")
    cols = st.columns(3)
    cols[0].download_button("Prosjekt (.qdpx)", _qdpx(ctx.factory, stem), file_name=f"{stem}.qdpx",
                            mime="application/zip", icon=":material/inventory_2:", on_click="ignore")
    cols[1].download_button("Kodebok (.qdc)", _qdc(ctx.factory), file_name=f"{stem}.qdc", mime="application/xml",
                            icon=":material/menu_book:", on_click="ignore")
    st.caption("Les inn en .qdpx- eller .qdc-fil igjen med `qualcode import --format qdpx FIL --db NY.db`.")
