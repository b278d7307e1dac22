"""Import: bring plans and transcripts into the store from uploaded files or a local folder.

Uploads are saved under a folder beside the store (the data never leaves the
machine), then go through the same ingestion as `qualcode run`.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from qualcode.app.escape import md

STATUS_NO = {"ingested": "importert", "unchanged": "uendret (finnes fra før)", "failed": "feilet",
             "skipped": "hoppet over"}
ACCEPTED = ["pdf", "docx", "txt", "md", "csv"]


def upload_folder(ctx) -> Path:
    name = Path(ctx.db).name if "://" not in ctx.db else "qualcode"
    return ctx.store_dir / f"{name}.opplastinger" / datetime.now().strftime("%Y%m%d-%H%M%S")


def save_uploads(files, folder: Path) -> list[Path]:
    """Write uploaded files (file name only, never a path from the browser) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for upload in files:
        target = folder / Path(upload.name).name
        target.write_bytes(upload.getvalue())
        saved.append(target)
    return saved


def render(ctx) -> None:
    st.title("Import")
    st.write("Legg inn kommunale planer (PDF, DOCX, TXT, MD) og intervjutranskripsjoner. "
             "En `manifest.csv` med kolonnene file, municipality, year, type, informant_role, size_class "
             "beskriver filene. Filer som allerede finnes (samme innhold) hoppes over.")
    uploads = st.file_uploader("Last opp filer", type=ACCEPTED, accept_multiple_files=True, key="uploads")
    folder = st.text_input("… eller skriv en mappe på denne maskinen", key="import_folder",
                           placeholder="/sti/til/planer")
    code = st.checkbox("Kod nye segmenter med kodeboken", value=True, key="import_code")
    if not st.button("Importer", type="primary", key="import_go"):
        return
    paths: list[Path] = []
    if uploads:
        target = upload_folder(ctx)
        paths.append(target)
        save_uploads(uploads, target)
        st.caption(f"Opplastede filer er lagret i `{target}`.")
    if folder.strip():
        path = Path(folder.strip()).expanduser()
        if not path.exists():
            st.error(f"Mappen eller filen {path} finnes ikke.")
            return
        paths.append(path)
    if not paths:
        st.warning("Velg filer å laste opp eller skriv en mappe først.")
        return
    results = run_import(ctx, paths, code)
    show_results(results)


def run_import(ctx, paths: list[Path], code: bool) -> list:
    from qualcode.ingest import discover, ingest
    from qualcode.manifest import ManifestError
    from qualcode.pipeline import Coding, finish_run, start_run

    try:
        files, _ = discover(paths)
    except ManifestError as err:
        st.error(f"manifest.csv kan ikke brukes: {md(err)}")
        return []
    total = max(1, len(files))
    bar = st.progress(0.0, text=f"Leser {len(files)} fil(er) …")
    done = {"n": 0}

    def tick(result) -> None:
        if result.status != "skipped":
            done["n"] += 1
        bar.progress(min(1.0, done["n"] / total), text=f"{done['n']} av {len(files)}: {md(result.path.name)}")

    with st.spinner("Importerer …"):
        run = start_run(ctx.factory, "app-import", code=code, codebook_path=ctx.codebook_path if code else None)
        coding = Coding(ctx.codebook_path) if code else None
        try:
            results = ingest(ctx.factory, paths, run, workers=1, coding=coding, progress=tick)
        except ManifestError as err:
            st.error(f"manifest.csv kan ikke brukes: {md(err)}")
            return []
        finish_run(ctx.factory, run, Counter(r.status for r in results))
    bar.progress(1.0, text="Ferdig")
    return results


def show_results(results: list) -> None:
    if not results:
        return
    counts = Counter(r.status for r in results)
    st.success(f"{counts['ingested']} importert, {counts['unchanged']} uendret, {counts['failed']} feilet, "
               f"{counts['skipped']} hoppet over.")
    for r in results:
        if r.status == "failed":
            st.error(f"{md(r.path.name)}: kunne ikke leses – {md(r.reason)}")
        elif r.status == "skipped":
            st.warning(f"{md(r.path.name)}: hoppet over – {md(r.reason)}")
    table = pd.DataFrame([{"fil": r.path.name, "status": STATUS_NO.get(r.status, r.status), "sider": r.pages,
                           "segmenter": r.segments, "merknad": r.reason} for r in results])
    st.dataframe(table, hide_index=True, width="stretch")
