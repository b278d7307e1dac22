"""Commands that bring text in: run, extract, status, demo."""
from __future__ import annotations

import json
import os
import signal
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, err_console, progress_bar
from qualcode.paths import DEMO_CORPUS
from qualcode.store.location import default_db, display_name

# The store, extraction and NLP load lazily inside commands so that `--help`
# and `classify` start fast.

RUNS_SHOWN = 10  # `status` looks this far back for interrupted runs
STATUS_STYLE = {"ingested": "green", "unchanged": "dim", "failed": "red", "skipped": "yellow"}
PSEUDONYMISE_HELP = ("Replace names, phone numbers, e-mail and street addresses and fødselsnummer in interview "
                     "transcripts with placeholders ([PERSON 1], …) before anything is stored or printed; the "
                     "mapping stays in the local store and is never exported. Plans are public documents and "
                     "are not pseudonymised. Use --no-pseudonymise only for transcripts already anonymised.")
NAMES_HELP = ("A text file with names to replace, one per line (besides those found automatically). "
              "Also read: the file named by $QUALCODE_NAMES and a names.txt beside the files.")
OCR_HELP = ("When to read PDF pages with OCR (Tesseract, Norwegian): auto = pages without a text layer "
            "(scanned plans), always = every page, never = skip scanned pages. Needs "
            "`apt-get install tesseract-ocr tesseract-ocr-nor`.")
OCR_MODES = ("never", "auto", "always")


def _ocr_mode(value: str) -> str:
    if value not in OCR_MODES:
        raise typer.BadParameter(f"use one of {', '.join(OCR_MODES)}")
    return value


def _page_progress():
    """A per-page bar for `extract`, shown once a page goes to OCR (text pages take milliseconds)."""
    state: dict = {}

    def tick(done: int, total: int, ocr: bool) -> None:
        if "bar" not in state and ocr:
            state["bar"] = progress_bar()
            state["bar"].start()
            state["task"] = state["bar"].add_task("OCR, page by page", total=total)
        if "bar" in state:
            state["bar"].update(state["task"], completed=done)

    def close() -> None:
        if "bar" in state:
            state["bar"].stop()

    return tick, close



def ingest_paths(paths: list[Path], db: str, workers: int, code: bool = True, pseudonymise: bool = True,
                 names_file: Path | None = None, command: str = "run", ocr: str = "auto") -> list:
    """Ingest with a progress bar; shared by `run` and `demo`.

    The run is recorded as interrupted when Ctrl-C or TERM stops it; documents already
    committed stay, and the next run goes on from there.
    """
    from qualcode.ingest import FileResult, discover, ingest
    from qualcode.pipeline import Coding, finish_run, start_run

    found = discover(paths)
    from qualcode.store import session_factory

    factory = session_factory(db)  # a second process creating the same new store waits (store.db.migrate)
    run = start_run(factory, command, code=code)
    results: list = []
    with progress_bar() as bar, _term_as_interrupt():
        task = bar.add_task("Reading files", total=len(found[0]))

        def tick(result: FileResult) -> None:
            results.append(result)
            if result.status != "skipped":
                bar.advance(task)
            if result.status == "failed":
                bar.console.print(f"[red]✗[/red] {result.path.name}: {result.reason}", soft_wrap=True, highlight=False)

        try:
            ingest(factory, paths, run, workers=workers, coding=Coding(store=db) if code else None, progress=tick,
                   pseudonymise=pseudonymise, names_file=names_file, ocr=ocr, discovered=found)
        except BaseException as err:
            state = "interrupted" if isinstance(err, (KeyboardInterrupt, SystemExit)) else "failed"
            _release_cut_writes(err)
            finish_run(factory, run, Counter(r.status for r in results), state=state)
            raise
    finish_run(factory, run, Counter(r.status for r in results))
    if code and run.nlp_pipeline:
        model = f"model {run.model_version}" if run.model_version else f"codebook only: {run.stats.get('model')}"
        err_console.print(f"Coded with NLP pipeline {run.nlp_pipeline}; codebook {run.codebook_version}; {model}",
                          soft_wrap=True, highlight=False)
    return results


def _release_cut_writes(err: BaseException) -> None:
    """Give back a store connection whose write the interrupt cut short (say, inside a commit):
    the frames it unwound still hold it, and with it SQLite's write lock, so recording the run
    as interrupted waited for that lock and failed ("database is locked") in 1 of 10 TERMs."""
    import gc
    import traceback

    traceback.clear_frames(err.__traceback__)
    gc.collect()  # the connection goes back to its pool, which rolls its transaction back


@contextmanager
def _term_as_interrupt():
    """TERM stops a run the way Ctrl-C does: workers ended, the run marked interrupted."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. inside a test runner's thread): leave TERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _summarise(results: list, db: str) -> None:
    counts = Counter(r.status for r in results)
    pages = sum(r.pages for r in results if r.status == "ingested")
    segments = sum(r.segments for r in results if r.status == "ingested")
    console.print(
        f"Ingested {counts['ingested']} file(s) ({pages} pages, {segments} segments), "
        f"{counts['unchanged']} unchanged, {counts['failed']} failed, {counts['skipped']} skipped → {display_name(db)}",
        soft_wrap=True, highlight=False,
    )
    if counts["ingested"] == 0 and counts["unchanged"] and not counts["failed"]:
        console.print("Nothing new: every file is already in the store with the same content.")
    for r in results:
        if r.status in ("failed", "skipped"):
            console.print(f"  [{STATUS_STYLE[r.status]}]{r.status}[/]: {r.path}: {r.reason}", soft_wrap=True,
                          highlight=False)


@app.command()
def run(
    paths: list[Path] = typer.Argument(..., help="Files and folders to ingest (folders are searched recursively)."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), help="Worker processes that read, analyse and code files in parallel (1: all in this process)."),
    code: bool = typer.Option(True, "--code/--no-code", help="Code new segments with the codebook (and model)."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero if any file failed."),
    pseudonymise: bool = typer.Option(True, "--pseudonymise/--no-pseudonymise", help=PSEUDONYMISE_HELP),
    names: Path = typer.Option(None, "--names", help=NAMES_HELP, exists=True, dir_okay=False),
    ocr: str = typer.Option("auto", "--ocr", help=OCR_HELP, callback=_ocr_mode),
) -> None:
    """Ingest plans and transcripts into the store, then code every new segment.

    Incremental: files already in the store (same content hash) are skipped. A
    `manifest.csv` beside the files (columns file, municipality, year, type,
    informant_role, size_class) describes them; a folder named after a year
    (corpus/2025/) sets the year. A file that cannot be read is reported with
    the reason and the batch goes on. Interview transcripts are split into
    speaker turns (only informant turns are coded) and pseudonymised.

    Files are read and coded in `--workers` processes; the store is written from
    this process only, one short transaction per document. Ctrl-C (or kill) keeps
    what was committed and marks the run interrupted; run again to continue.

    Example: `qualcode run corpus/2025/ --db kommuner.db --workers 2`
    """
    db = db or default_db()
    results = ingest_paths(paths, db, workers, code, pseudonymise, names, ocr=ocr)
    _summarise(results, db)
    failed = any(r.status == "failed" for r in results)
    ingested = any(r.status in ("ingested", "unchanged") for r in results)
    if (strict and failed) or (failed and not ingested):
        raise typer.Exit(1)


@app.command()
def extract(
    file: Path = typer.Argument(..., help="A PDF, DOCX, TXT or MD file.", exists=True, dir_okay=False),
    pseudonymise: bool = typer.Option(True, "--pseudonymise/--no-pseudonymise", help=PSEUDONYMISE_HELP),
    names: Path = typer.Option(None, "--names", help=NAMES_HELP, exists=True, dir_okay=False),
    ocr: str = typer.Option("auto", "--ocr", help=OCR_HELP, callback=_ocr_mode),
) -> None:
    """Print the segments of one file as JSON Lines, without touching a store.

    Each line has text, page, page_end, start, end (offsets into the frozen
    document text) and kind; interview turns add role, speaker, turn, timestamp;
    a table row (kind table_row) adds context, the row with its column headers.
    Transcripts are printed pseudonymised. A manifest.csv beside the file gives
    its document type (type intervju makes it a transcript). Scanned pages are
    read with OCR (see --ocr); the pages and Tesseract's confidence go to stderr.

    Example: `qualcode extract plan.pdf > plan.jsonl`
    """
    from qualcode.extract import ExtractionError
    from qualcode.prepare import prepare

    meta = None
    if (file.parent / "manifest.csv").is_file():  # the manifest's pydantic models cost ~0.1 s to load
        from qualcode.manifest import read_manifest

        meta = (read_manifest(file.parent) or {}).get(file.name)
    tick, close = _page_progress()
    try:
        prepared = prepare(file, meta.type if meta else None, pseudonymise, names, ocr=ocr, progress=tick)
    except ExtractionError as err:
        raise UserError(f"{file.name}: {err}") from None
    finally:
        close()
    ocr_pages = prepared.document.ocr_pages
    if ocr_pages:
        mean = sum(p.confidence for p in ocr_pages) / len(ocr_pages)
        err_console.print(f"OCR ({ocr_pages[0].engine}) read {len(ocr_pages)} page(s), mean confidence {mean:.0f} %",
                          highlight=False)
    out = typer.get_text_stream("stdout")
    for seq, seg in enumerate(prepared.segments):
        out.write(json.dumps({"seq": seq, **seg.as_json()}, ensure_ascii=False) + "\n")


@app.command()
def status(db: str = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Summarise the store: documents by type and year, segments, codings, review progress."""
    from sqlalchemy import func, select

    from qualcode.review.counts import store_counts
    from qualcode.store import schema, session_factory

    db = db or default_db()
    if "://" not in db and not Path(db).exists():
        raise UserError(f"no store at {db} — run `qualcode run FOLDER --db {db}` or `qualcode demo` first")
    with session_factory(db)() as s:
        docs = s.execute(select(schema.Document.doc_type, schema.Document.year, func.count())
                         .group_by(schema.Document.doc_type, schema.Document.year)).all()
        counts = store_counts(s)
        codings = dict(s.execute(select(schema.Coding.source, func.count()).where(schema.Coding.active)
                                 .group_by(schema.Coding.source)).all())
        runs = list(s.scalars(select(schema.Run).order_by(schema.Run.id.desc()).limit(RUNS_SHOWN)))
        ocr = s.execute(select(func.count(func.distinct(schema.OcrPage.document_id)), func.count(),
                               func.avg(schema.OcrPage.confidence), func.min(schema.OcrPage.confidence))).one()
    from rich.table import Table

    from qualcode.pipeline import run_state

    table = Table(title=f"Store {display_name(db)}")
    for col in ("type", "year", "documents"):
        table.add_column(col)
    for doc_type, year, n in docs:
        table.add_row(doc_type or "–", str(year or "–"), str(n))
    console.print(table)
    console.print(counts_line(counts), soft_wrap=True, highlight=False)
    console.print("Codings: " + (", ".join(f"{k} {v}" for k, v in sorted(codings.items())) or "none"), highlight=False)
    if ocr[1]:
        console.print(f"OCR: {ocr[1]} scanned page(s) in {ocr[0]} document(s) read with Tesseract, "
                      f"mean confidence {ocr[2]:.0f} % (lowest page {ocr[3]:.0f} %)", highlight=False)
    if runs:
        last, state = runs[0], run_state(runs[0])
        note = {"interrupted": " — interrupted: the documents it committed are kept; run it again to add the rest",
                "failed": " — stopped by an error: the documents it committed are kept",
                "running": " — still running"}.get(state, "")
        console.print(f"Last run: {last.command} at {last.started_at:%Y-%m-%d %H:%M}, NLP: {last.nlp_pipeline or '–'}, "
                      f"codebook {last.codebook_version or '–'}{note}", soft_wrap=True, highlight=False)
        earlier = [r for r in runs[1:] if run_state(r) == "interrupted"]
        if earlier:
            console.print("Earlier interrupted runs: " + ", ".join(
                f"{r.command} at {r.started_at:%Y-%m-%d %H:%M}" for r in earlier), soft_wrap=True, highlight=False)


def counts_line(counts) -> str:
    """The store's counts, defined and named as in the app and the reports (qualcode.review.counts)."""
    from qualcode.review.counts import LABELS

    keys = ("documents", "segments", "codable", "suggested")
    parts = [f"{LABELS[key][1]} {getattr(counts, key)}" for key in keys]
    parts.append(f"{LABELS['reviewed'][1]} {counts.reviewed} of {counts.codable} ({100 * counts.share_reviewed:.1f} %)")
    return ("Store: " + ", ".join(parts) + "\n(in the app and reports: "
            + ", ".join(f"«{LABELS[k][0]}»" for k in (*keys, "reviewed")) + ")")


@app.command()
def demo(
    db: str = typer.Option(None, "--db", help=DB_HELP),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), help="Worker processes that read, analyse and code files in parallel (1: all in this process)."),
) -> None:
    """Run the whole pipeline on the bundled fictional demo corpus and print a summary.

    Afterwards: `qualcode status`, `qualcode app` to review, `qualcode report -o demo.html`.
    """
    if not DEMO_CORPUS.is_dir():
        raise UserError(f"the demo corpus is missing at {DEMO_CORPUS} (install qualcode from its repository)")
    db = db or default_db()
    results = ingest_paths([DEMO_CORPUS], db, workers, command="demo")
    _summarise(results, db)
    _demo_table(db)
    console.print(f"Next: `qualcode app --db {display_name(db)}` to review, or "
                  f"`qualcode report --db {display_name(db)} --include-machine -o demo.html` for the analysis.",
                  soft_wrap=True, highlight=False)


def _demo_table(db: str) -> None:
    from sqlalchemy import select

    from qualcode.review.counts import document_counts, store_counts
    from qualcode.store import schema, session_factory

    with session_factory(db)() as s:
        docs = s.execute(select(schema.Document.id, schema.Document.file_name, schema.Document.municipality,
                                schema.Document.year, schema.Document.doc_type, schema.Document.page_count)
                         .order_by(schema.Document.municipality, schema.Document.year)).all()
        per_doc = document_counts(s)
        counts = store_counts(s)
    from rich.table import Table

    from qualcode.review.counts import LABELS

    table = Table(title="Demo corpus")
    columns = ("segments", "codable", "suggested")
    for col in ("municipality", "year", "type", "pages", *(LABELS[c][1] for c in columns)):
        table.add_column(col, no_wrap=True)
    for doc_id, name, municipality, year, doc_type, pages in docs:
        c = per_doc.get(doc_id)
        table.add_row(municipality or name, str(year or "–"), doc_type or "–", str(pages),
                      *(str(getattr(c, col, 0)) for col in columns))
    console.print(table)
    console.print(counts_line(counts), soft_wrap=True, highlight=False)
