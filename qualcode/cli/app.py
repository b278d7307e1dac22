"""The `qualcode` command: one Typer app that the command modules register on."""
from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    name="qualcode",
    help=(
        "Qualitative coding of Norwegian child-welfare prevention plans (barnevernsloven § 15-1) "
        "and interviews.\n\n"
        "Typical day: `qualcode run plans/` ingests and codes a folder, `qualcode app` opens the "
        "review app, `qualcode report -o report.html` writes the analysis. Try `qualcode demo` first. "
        "Everything runs locally; nothing is sent anywhere."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console()
err_console = Console(stderr=True)
state = {"debug": False}

DB_HELP = "Store to use: a SQLite file (default: $QUALCODE_DB or ./qualcode.db) or a SQLAlchemy URL."


@app.callback()
def _global(debug: bool = typer.Option(False, "--debug", help="Show full tracebacks and debug logging.")) -> None:
    state["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


class UserError(Exception):
    """A problem the user can fix; shown as one plain line, no traceback."""


def existing_store(db: str | None) -> str:
    """The store a command reads or changes: a missing SQLite file is an error, never a new empty store."""
    from qualcode.store.location import default_db

    db = db or default_db()
    if "://" not in db and not Path(db).expanduser().is_file():
        raise UserError(f"no store at {db}: run `qualcode run FOLDER` (or `qualcode demo`) first, or pass --db")
    return db


def progress_bar():
    """The commands' progress bar on stderr (gone when done): what, bar, n of total, time left."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err_console, transient=True)
