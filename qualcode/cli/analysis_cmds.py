"""Commands that take results out (and back in): report, export, import."""
from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, err_console


class ReportFormat(str, Enum):
    html = "html"
    xlsx = "xlsx"
    csv = "csv"


class RefiFormat(str, Enum):
    qdpx = "qdpx"
    qdc = "qdc"


def _existing_store(db: str | None) -> str:
    """The store to read; a missing SQLite file is an error, not a new empty store."""
    from qualcode.store.location import default_db

    db = db or default_db()
    if "://" not in db and not Path(db).expanduser().is_file():
        raise UserError(f"no store at {db} (run `qualcode run FOLDER --db {db}` first, or pass --db)")
    return db


@app.command()
def report(
    output: Path = typer.Option(None, "-o", "--output",
                                help="Where to write: a .html/.xlsx file, or a folder for csv "
                                     "(default: report.html, report.xlsx or the folder report)."),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f", help="html (one self-contained file), "
                                     "xlsx (one sheet per table) or csv (a folder, one file per table)."),
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

    Examples: `qualcode report -o rapport.html`, `qualcode report --format xlsx -o tabeller.xlsx`,
    `qualcode report --format csv -o tabeller/`
    """
    store = _existing_store(db)
    output = output or Path("report" if fmt is ReportFormat.csv else f"report.{fmt.value}")
    with err_console.status("Reading the store …"):
        from qualcode.analysis.codebook_info import codebook_for_store
        from qualcode.analysis.frame import load, open_session

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

            with open_session(store) as session:
                book = codebook_for_store(session)
            write_report(data, output, store_name=Path(store).name if "://" not in store else "",
                         codebook_version=book.version if book is not None else "", selection=selection)
        elif fmt is ReportFormat.xlsx:
            from qualcode.export.report_tables import write_xlsx

            write_xlsx(data, output)
        else:
            from qualcode.export.report_tables import write_csv_folder

            write_csv_folder(data, output)
    basis = "confirmed + machine codings" if include_machine else "reviewer-confirmed codings"
    console.print(f"Report ({fmt.value}, {basis}: {len(data.codings)} coding(s) in "
                  f"{data.segments['document_id'].nunique()} document(s)) → {output}")


@app.command()
def export(
    fmt: RefiFormat = typer.Option(..., "--format", "-f", help="qdpx (REFI-QDA project: documents, codebook, "
                                   "reviewer codings) or qdc (REFI-QDA codebook only)."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write, e.g. prosjekt.qdpx."),
    db: str = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Export to NVivo, ATLAS.ti or MAXQDA through REFI-QDA.

    The project holds every document as plain text, the codebook (themes with their
    codes), and the codings reviewers confirmed (one selection per segment and
    reviewer), with reviewers as users and document attributes as variables.
    Pseudonym mappings and machine suggestions are never exported. The file is
    validated against the REFI-QDA schema before it is written.

    Example: `qualcode export --format qdpx -o prosjekt.qdpx`
    """
    from qualcode.export.refi import write_qdc, write_qdpx

    store = _existing_store(db)
    if fmt is RefiFormat.qdpx:
        summary = write_qdpx(store, output)
        console.print(f"Exported {summary.documents} document(s), {summary.codes} code(s), {summary.codings} "
                      f"coding(s) in {summary.selections} selection(s) by {len(summary.reviewers)} reviewer(s) "
                      f"→ {output}")
    else:
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
    changes nothing. Codings become reviewer codings by the user who made them.

    Example: `qualcode import --format qdpx prosjekt.qdpx --db kopi.db`
    """
    from qualcode.export.refi_common import RefiError
    from qualcode.export.refi_import import import_file
    from qualcode.store import transaction
    from qualcode.store.location import default_db

    db = db or default_db()
    try:
        with transaction(db) as session:
            result = import_file(session, path, fmt.value if fmt else None)
    except RefiError as err:
        raise UserError(str(err)) from None
    console.print(f"Imported {result.documents} document(s) ({result.segments} segments), {result.codes} new code(s), "
                  f"{result.codings} coding(s) by {len(result.reviewers)} reviewer(s)"
                  + (f", {result.memos} memo(s)" if result.memos else "")
                  + (f"; {result.skipped_documents} already in the store" if result.skipped_documents else "")
                  + f" → {db}")
    for warning in result.warnings[:20]:
        err_console.print(f"[yellow]Warning:[/yellow] {warning}")
    if len(result.warnings) > 20:
        err_console.print(f"… and {len(result.warnings) - 20} more warning(s)")
