"""Command-line interface. Each module registers the commands of one area."""
from __future__ import annotations

import sys

from qualcode.cli.app import UserError, app, err_console, state
# Importing a module registers its commands; `--help` lists them in this order (the order of a day's work).
from qualcode.cli import ingest_cmds  # noqa: E402,F401,I001  demo, run, extract, status
from qualcode.cli import coding_cmds  # noqa: E402,F401  classify
from qualcode.cli import model_cmds  # noqa: E402,F401  train, evaluate, queue
from qualcode.cli import meta_cmds  # noqa: E402,F401  meta
from qualcode.cli import codebook_cmds  # noqa: E402,F401  codebook list|add|rename|move|merge|delete|undo|recode
from qualcode.cli import app_cmds  # noqa: E402,F401  app
from qualcode.cli import analysis_cmds  # noqa: E402,F401  report, export, import
from qualcode.cli import search_cmds  # noqa: E402,F401  search, words, discover


def main() -> None:
    """Entry point: run the app; turn unexpected errors into one readable line unless --debug."""
    try:
        app()
    except SystemExit as done:
        if done.code in (None, 0):
            leave_at_once()
        raise
    except (UserError, FileNotFoundError, PermissionError, ValueError) as err:
        if state["debug"]:
            raise
        err_console.print(f"[red]Error:[/red] {err}", soft_wrap=True, highlight=False)  # one line, as written
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("Interrupted. Documents already committed are kept; run the command again to continue.")
        sys.exit(130)
    except Exception as err:  # pragma: no cover - last line of defence
        if state["debug"]:
            raise
        err_console.print(f"[red]Unexpected error:[/red] {type(err).__name__}: {err} (run with --debug for details)")
        sys.exit(1)


def leave_at_once() -> None:
    """End the process as soon as a command has succeeded.

    Python's own shutdown clears every module of a process that imported pandas, pyarrow,
    Altair and SQLAlchemy: 0.2-0.4 s after each command, doing nothing a finished command
    needs. What does matter is done here: the exit handlers run (worker pools, temporary
    folders, logging), stores are closed (SQLite folds its log into the file), output is
    flushed; then the process ends."""
    import atexit
    import os

    atexit._run_exitfuncs()
    db = sys.modules.get("qualcode.store.db")
    if db is not None:
        db.close_stores()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`qualcode queue | head`): nothing more to say
            pass
    os._exit(0)
