"""Commands that take results out (and back in): report, export, import."""
from __future__ import annotations

from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, err_console, existing_store


class ReportFormat(str, Enum):
    html = "html"
    xlsx = "xlsx"
    csv = "csv"


class RefiFormat(str, Enum):
    qdpx = "qdpx"
    qdc = "qdc"



REPORT_SUFFIXES = {".html": ReportFormat.html, ".htm": ReportFormat.html, ".xlsx": ReportFormat.xlsx}


def report_format(output: Path | None, fmt: ReportFormat | None) -> tuple[ReportFormat, Path]:
    """The format and target of `report`: from --format, from the output's suffix, or both when they agree."""
    if output is None:
        fmt = fmt or ReportFormat.html
        return fmt, Path("report" if fmt is ReportFormat.csv else f"report.{fmt.value}")
    suffix = output.suffix.lower()
    if output.is_dir() or not suffix:
        implied = ReportFormat.csv
    elif suffix in REPORT_SUFFIXES:
        implied = REPORT_SUFFIXES[suffix]
    elif suffix == ".csv":
        raise UserError(f"{output}: csv writes one file per table into a folder; give a folder, e.g. -o tabeller/")
    else:
        raise UserError(f"{output}: cannot tell the format from '{suffix}'; use .html, .xlsx or a folder (csv)")
    if fmt is not None and fmt is not implied:
        raise UserError(f"--format {fmt.value} does not match {output} (that would be {implied.value}); "
                        "change the file name or the format")
    return implied, output


@app.command()
def report(
    output: Path = typer.Option(None, "-o", "--output",
                                help="Where to write: a .html/.xlsx file, or a folder for csv; the format follows "
                                     "the name (default: report.html)."),
    fmt: ReportFormat = typer.Option(None, "--format", "-f", help="html (one self-contained file), "
                                     "xlsx (one sheet per table) or csv (a folder, one file per table); "
                                     "must match the output's name when both are given."),
    include_machine: bool = typer.Option(False, "--include-machine",
                                         help="Also count machine suggestions on segments nobody has reviewed "
                                              "(marked as such everywhere)."),
    municipality: list[str] = typer.Option(None, "--kommune", help="Only these municipalities (repeatable)."),
    year: list[int] = typer.Option(None, "--year", help="Only these years (repeatable)."),
    doc_type: list[str] = typer.Option(None, "--type", help="Only these document types, e.g. plan, intervju."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the thematic analysis: themes and codes by municipality, year, type and size; code × document;
    co-occurrence; § 15-1 completeness with evidence; change between years; quotes with citations.

    Counts rest on reviewer-confirmed codings (segments a reviewer marked done) unless
    --include-machine is given. The HTML report loads nothing from the network.

    Examples: `qualcode report -o rapport.html`, `qualcode report -o tabeller.xlsx`,
    `qualcode report --format csv -o tabeller/`
    """
    from contextlib import nullcontext

    from qualcode.export.svg import SvgDrawer

    fmt, output = report_format(output, fmt)
    store = existing_store(db)
    # the chart process warms up while the store is read
    with SvgDrawer() if fmt is ReportFormat.html else nullcontext() as drawer:
        data = _report(store, output, fmt, include_machine, municipality, year, doc_type, drawer)
    basis = "confirmed + machine codings" if include_machine else "reviewer-confirmed codings"
    console.print(f"Report ({fmt.value}, {basis}: {len(data.codings)} coding(s) in "
                  f"{data.segments['document_id'].nunique()} document(s)) → {output}")


def _report(store: str, output: Path, fmt: ReportFormat, include_machine: bool, municipality, year, doc_type,
            drawer):
    """Read, select and write the report; returns the data it rests on."""
    from qualcode.store.location import display_name

    with err_console.status("Reading the store …"):
        from qualcode.analysis.frame import load

        data = load(store, include_machine=include_machine)
    selection = "; ".join(f"{label} {', '.join(map(str, values))}" for label, values in
                          (("kommune", municipality), ("år", year), ("type", doc_type)) if values)
    if selection:
        data = data.filter(municipalities=municipality or None, years=year or None, doc_types=doc_type or None)
    if data.segments.empty:
        err_console.print("[yellow]Warning:[/yellow] the selection holds no documents; the report will be empty.")
    if fmt is ReportFormat.csv and output.exists() and not output.is_dir():
        raise UserError(f"{output} is a file; --format csv writes a folder")
    with err_console.status(f"Computing the tables{' and drawing the charts' if fmt is ReportFormat.html else ''} "
                            f"({len(data.codings)} codings, {len(data.segments)} segments) …"):
        if fmt is ReportFormat.html:
            from qualcode.export.report_html import write_report

            write_report(data, output, store_name=Path(store).name if "://" not in store else display_name(store),
                         codebook_version=data.codebook_version, selection=selection, drawer=drawer)
        elif fmt is ReportFormat.xlsx:
            from qualcode.export.report_tables import write_xlsx

            write_xlsx(data, output)
        else:
            from qualcode.export.report_tables import write_csv_folder

            write_csv_folder(data, output)
    return data


def refi_format(path: Path, fmt: RefiFormat | None) -> RefiFormat:
    """qdpx or qdc: from --format, from the file's suffix, or both when they agree."""
    implied = {".qdpx": RefiFormat.qdpx, ".qdc": RefiFormat.qdc}.get(path.suffix.lower())
    if fmt is None and implied is None:
        raise UserError(f"{path}: cannot tell the format from the name; use .qdpx or .qdc, or pass --format")
    if fmt is not None and implied is not None and fmt is not implied:
        raise UserError(f"--format {fmt.value} does not match {path} (that would be {implied.value})")
    return fmt or implied


@app.command()
def export(
    fmt: RefiFormat = typer.Option(None, "--format", "-f", help="qdpx (REFI-QDA project: documents, codebook, "
                                   "reviewer codings) or qdc (REFI-QDA codebook only); default: from the file name."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write, e.g. prosjekt.qdpx or kodebok.qdc."),
    include_machine: bool = typer.Option(False, "--include-machine",
                                         help="Also export machine suggestions on segments nobody has reviewed, "
                                              "as codings of their own user «qualcode (maskin)»."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export to NVivo, ATLAS.ti, MAXQDA or QualCoder through REFI-QDA.

    The project holds every document as plain text, the codebook (themes with their
    codes), the codings reviewers confirmed (one selection per segment and reviewer),
    reviewers as users, document attributes as variables and memos as notes on their
    segments. Pseudonym mappings are never exported; machine suggestions only with
    --include-machine. The file is validated against the REFI-QDA schema before it is
    written, and written whole or not at all.

    Examples: `qualcode export -o prosjekt.qdpx`, `qualcode export -o kodebok.qdc`,
    `qualcode export --include-machine -o uten-gjennomgang.qdpx`
    """
    from qualcode.export.refi import write_qdc, write_qdpx

    fmt = refi_format(output, fmt)
    store = existing_store(db)
    if fmt is RefiFormat.qdpx:
        summary = write_qdpx(store, output, include_machine=include_machine)
        machine = f" and {summary.machine_codings} machine suggestion(s)" if include_machine else ""
        console.print(f"Exported {summary.documents} document(s), {summary.codes} code(s), {summary.codings} "
                      f"coding(s){machine} in {summary.selections} selection(s) by {len(summary.reviewers)} "
                      f"reviewer(s), {summary.memos} memo(s) → {output}")
    else:
        if include_machine:
            raise UserError("--include-machine applies to projects (.qdpx); a codebook (.qdc) holds no codings")
        n = write_qdc(store, output)
        console.print(f"Exported the codebook ({n} code node(s), themes included) → {output}")


@app.command("import")
def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .qdpx project or .qdc codebook."),
    fmt: RefiFormat = typer.Option(None, "--format", "-f", help="qdpx or qdc (default: from the file ending)."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Read a REFI-QDA project or codebook into a store (a new one is created if needed).

    Documents whose text is already in the store are skipped, so importing twice
    changes nothing. Codings become reviewer codings by the user who made them; notes
    on selections become memos. The file is checked whole first (size limits, schema,
    GUIDs, UTF-8 text): a file that fails changes nothing and leaves no new store.

    Example: `qualcode import --format qdpx prosjekt.qdpx --db kopi.db`
    """
    from qualcode.export.refi_common import RefiError
    from qualcode.export.refi_import import import_file, read_file
    from qualcode.store import transaction
    from qualcode.store.location import default_db, display_name

    db = db or default_db()
    try:
        refi = read_file(path, fmt.value if fmt else None)  # read and checked whole before the store is touched
    except RefiError as err:
        raise UserError(str(err)) from None
    with _removed_if_new_and_failed(db):
        with transaction(db) as session:
            result = import_file(session, refi)
    console.print(f"Imported {result.documents} document(s) ({result.segments} segments), {result.codes} new code(s), "
                  f"{result.codings} coding(s) by {len(result.reviewers)} reviewer(s)"
                  + (f", {result.memos} memo(s)" if result.memos else "")
                  + (f"; {result.skipped_documents} already in the store" if result.skipped_documents else "")
                  + f" → {display_name(db)}")
    for warning in result.warnings[:20]:
        err_console.print(f"[yellow]Warning:[/yellow] {warning}")
    if len(result.warnings) > 20:
        err_console.print(f"… and {len(result.warnings) - 20} more warning(s)")


@contextmanager
def _removed_if_new_and_failed(db: str):
    """A store file this command creates is removed again when the command fails: no empty store is left."""
    path = None if "://" in db else Path(db).expanduser()
    existed = path is None or path.exists()
    try:
        yield
    except BaseException:
        if not existed:
            from qualcode.store.db import get_engine

            get_engine.cache_clear()  # close the new file's connections before removing it
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
        raise
