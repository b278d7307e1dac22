"""A command that succeeds ends without Python's teardown (cli.leave_at_once), but completely:
its output whole, its exit handlers run, the store closed (no write-ahead log left beside it)."""
import os
import subprocess
import sys

from fixtures.corpus import write_corpus

QUALCODE = [sys.executable, "-c", "from qualcode.cli import main; main()"]
ENV = {**os.environ, "COLUMNS": "200"}


def test_a_finished_run_leaves_the_store_whole_and_its_output_complete(tmp_path):
    db = tmp_path / "store.db"
    run = subprocess.run([*QUALCODE, "run", str(write_corpus(tmp_path / "corpus")), "--db", str(db)],
                         capture_output=True, text=True, timeout=300, env=ENV)
    assert run.returncode == 0, run.stderr
    assert "Ingested 3 file(s)" in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("store.db")) == ["store.db"]
    queue = subprocess.run([*QUALCODE, "queue", "-n", "3", "--db", str(db)], capture_output=True, text=True,
                           timeout=300, env=ENV)
    assert queue.returncode == 0, queue.stderr
    assert queue.stdout.rstrip().endswith("┘")  # the table's last line: nothing cut off


def test_a_reader_that_stops_early_is_no_error(tmp_path):
    db = tmp_path / "store.db"
    subprocess.run([*QUALCODE, "run", str(write_corpus(tmp_path / "corpus")), "--db", str(db)],
                   capture_output=True, timeout=300, env=ENV, check=True)
    shell = f"{' '.join(QUALCODE[:2])} '{QUALCODE[2]}' queue -n 20 --db {db} | head -n 1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=300,
                          env=ENV)
    assert done.stdout.startswith("Next") and "Traceback" not in done.stderr
