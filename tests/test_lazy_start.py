"""What `qualcode run` loads: nothing heavy to find that nothing changed, no NLP where it only writes."""
import json
import os
import subprocess
import sys

from fixtures.corpus import write_corpus

HEAVY = ("spacy", "sklearn", "pandas", "scipy")
PROBE = """
import atexit, json, sys
from qualcode.cli import main
# an exit handler: a command that succeeds leaves without Python's teardown (cli.leave_at_once), after them
atexit.register(lambda: sys.stderr.write("LOADED " + json.dumps([m for m in {heavy} if m in sys.modules]) + "\\n"))
main()
"""


def _run_and_list_heavy_modules(*args) -> tuple[subprocess.CompletedProcess, list[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), "run", *map(str, args)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "400"})
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED "))
    return result, json.loads(line.removeprefix("LOADED "))


def test_an_unchanged_rerun_decides_from_hashes_without_loading_nlp_or_models(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus")
    first = subprocess.run([sys.executable, "-c", "from qualcode.cli import main; main()", "run", str(corpus),
                            "--db", db], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    again, loaded = _run_and_list_heavy_modules(corpus, "--db", db)
    assert again.returncode == 0 and "3 unchanged" in again.stdout, again.stdout + again.stderr
    assert loaded == []


def test_with_workers_the_writing_process_never_loads_nlp(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus")
    result, loaded = _run_and_list_heavy_modules(corpus, "--db", db, "--workers", "2")
    assert result.returncode == 0 and "Ingested 3 file(s)" in result.stdout, result.stdout + result.stderr
    assert loaded == []  # spaCy ran in the workers; this process only wrote


def test_classify_never_loads_the_database_layer(tmp_path):
    segments = tmp_path / "segments.jsonl"
    segments.write_text(json.dumps({"id": "s1", "text": "Barneverntjenesten samarbeider med skolen."}) + "\n",
                        encoding="utf-8")
    probe = PROBE.format(heavy=("sqlalchemy", "spacy"))
    result = subprocess.run([sys.executable, "-c", probe, "classify", str(segments), "-o", str(tmp_path / "out.jsonl")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED "))
    assert json.loads(line.removeprefix("LOADED ")) == ["spacy"]  # it codes, so spaCy, but no store


def test_a_workers_job_loads_no_dataframe_libraries(tmp_path):
    """A worker reads, analyses, codes and counts one document: pyarrow or pandas there would cost
    each worker ~80 MB for nothing (the document's word counts are split in Python)."""
    corpus = write_corpus(tmp_path / "corpus")
    probe = ("import json, sys; from pathlib import Path; from qualcode.worker import CoderSpec, Job, process, setup; "
             "setup(CoderSpec()); outcome = process(Job(next(Path(sys.argv[1]).glob('*.pdf')))); "
             "assert not outcome.failed and outcome.word_counts is not None, outcome.reason; "
             "print(json.dumps([m for m in ('pyarrow', 'pandas', 'sklearn') if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", probe, str(corpus)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QUALCODE_NLP": "blank"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
