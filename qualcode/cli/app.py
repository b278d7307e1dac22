"""The `qualcode` command: one Typer app that the command modules register on."""
from __future__ import annotations

import logging

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
