"""`qualcode app`: start the local review app (Streamlit) on 127.0.0.1."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console
from qualcode.paths import APP_SCRIPT, STREAMLIT_HOME
from qualcode.store.location import default_db, display_name


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def streamlit_command(db: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
            "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]  # the store goes by $QUALCODE_DB: no password in `ps`


@app.command("app")
def app_command(
    db: str = typer.Option(None, "--db", help=DB_HELP),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port on 127.0.0.1 to serve the app on."),
) -> None:
    """Open the review app in your browser: accept, reject and add codes, with who and when stored.

    The app only listens on 127.0.0.1 (this machine) and sends no usage statistics.
    Stop it with Ctrl+C.

    Example: `qualcode app --db kommuner.db --port 8502`
    """
    db = db or default_db()
    if "://" not in db:
        path = Path(db).expanduser()
        if not path.is_file():
            raise UserError(f"no store at {db} — create one with `qualcode demo --db {db}` "
                            f"(demo data) or `qualcode run FOLDER --db {db}`")
        db = str(path.resolve())
    if not _port_free(port):
        raise UserError(f"port {port} is already in use — choose another with --port")
    url = f"http://127.0.0.1:{port}"
    console.print(f"qualcode review app: {url}", highlight=False, soft_wrap=True)
    console.print(f"store: {display_name(db)} — open the address in your browser; Ctrl+C stops the app.", highlight=False,
                  soft_wrap=True)
    env = {**os.environ, "QUALCODE_DB": db}
    proc = subprocess.Popen(streamlit_command(db, port), cwd=STREAMLIT_HOME, env=env)
    # a terminated `qualcode app` must not leave the server running behind it
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        console.print("Stopped. Every change was saved as it was made.")
        raise typer.Exit(0)
    if code:
        raise typer.Exit(code)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
