"""Command-line interface. Each module registers the commands of one area."""
from __future__ import annotations

import sys

from qualcode.cli.app import UserError, app, err_console, state
from qualcode.cli import analysis_cmds, app_cmds, coding_cmds, ingest_cmds, model_cmds  # noqa: F401  (register commands)


def main() -> None:
    """Entry point: run the app; turn unexpected errors into one readable line unless --debug."""
    try:
        app()
    except (UserError, FileNotFoundError, PermissionError, ValueError) as err:
        if state["debug"]:
            raise
        err_console.print(f"[red]Error:[/red] {err}")
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("Interrupted. Documents already committed are kept; run the command again to continue.")
        sys.exit(130)
    except Exception as err:  # pragma: no cover - last line of defence
        if state["debug"]:
            raise
        err_console.print(f"[red]Unexpected error:[/red] {type(err).__name__}: {err} (run with --debug for details)")
        sys.exit(1)
