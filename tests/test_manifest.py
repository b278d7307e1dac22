"""manifest.csv as researchers write it: Excel's semicolons and Windows-1252, and mistakes named plainly."""
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fixtures.corpus import write_corpus
from qualcode.cli import app
from qualcode.manifest import ManifestError, read_manifest
from qualcode.store import session_factory
from qualcode.store.schema import Document

runner = CliRunner()
HEADER = "file;municipality;year;type;informant_role;size_class"


def _write(folder, *lines, encoding="utf-8"):
    (folder / "manifest.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def _cli(*args) -> subprocess.CompletedProcess:
    """The real `qualcode` command (its error handling included), in a fresh process."""
    return subprocess.run([sys.executable, "-c", "from qualcode.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "400"})


def _documents(db) -> int:
    with session_factory(db)() as s:
        return s.scalar(select(func.count()).select_from(Document))


def test_a_semicolon_manifest_saved_by_excel_on_windows_works(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus", manifest=False)
    _write(corpus, HEADER, "testvik-plan.md;Testvik kommune;2024;Plan;;liten",
           "provedal-plan.txt;Prøvedal kommune;2025;plan;;Stor", ";;;;;",
           "nordby-plan.pdf;Nordby kommune;2024;plan;;mellomstor", encoding="cp1252")
    result = runner.invoke(app, ["run", str(corpus), "--db", db, "--no-code"])
    assert result.exit_code == 0, result.output
    with session_factory(db)() as s:
        docs = {d.file_name: d for d in s.scalars(select(Document))}
    assert docs["provedal-plan.txt"].municipality == "Prøvedal kommune"
    assert (docs["provedal-plan.txt"].year, docs["provedal-plan.txt"].size_class) == (2025, "stor")
    assert docs["testvik-plan.md"].doc_type == "plan"


def test_norwegian_column_names_are_understood(tmp_path):
    _write(tmp_path, "fil;kommune;år;type;størrelse", "a.pdf;Testvik kommune;2024;plan;liten")
    row = read_manifest(tmp_path)["a.pdf"]
    assert (row.municipality, row.year, row.size_class) == ("Testvik kommune", 2024, "liten")


@pytest.mark.parametrize("line, words", [
    ("testvik-plan.md;Testvik kommune;20245;plan;;liten", ["line 2", "year", "20245"]),
    ("testvik-plan.md;Testvik kommune;1024;plan;;liten", ["line 2", "year 1024 is out of range"]),
    ("testvik-plan.md;Testvik kommune;2024;brosjyre;;liten", ["line 2", "unknown type 'brosjyre'", "plan"]),
    ("testvik-plan.md;Testvik kommune;2024;plan;;enorm", ["line 2", "unknown size class 'enorm'", "mellomstor"]),
])
def test_a_bad_value_is_named_with_file_line_and_reason_and_nothing_is_stored(tmp_path, db, line, words):
    corpus = write_corpus(tmp_path / "corpus", manifest=False)
    _write(corpus, HEADER, line)
    result = _cli("run", corpus, "--db", db, "--no-code")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "manifest.csv" in output and "Traceback" not in output
    for word in words:
        assert word in " ".join(output.split())
    assert _documents(db) == 0


def test_a_file_listed_twice_names_both_lines(tmp_path):
    _write(tmp_path, HEADER, "a.pdf;Testvik kommune;2024;plan;;liten", "b.pdf;Nordby kommune;2024;plan;;liten",
           "a.pdf;Nordby kommune;2025;plan;;stor")
    with pytest.raises(ManifestError, match=r"line 4: a\.pdf is listed twice \(also on line 2\)"):
        read_manifest(tmp_path)


def test_every_problem_is_reported_at_once(tmp_path):
    _write(tmp_path, HEADER, "a.pdf;X;3025;plan;;liten", "b.pdf;Y;2024;flyer;;liten")
    with pytest.raises(ManifestError) as err:
        read_manifest(tmp_path)
    assert "line 2" in str(err.value) and "line 3" in str(err.value)


@pytest.mark.parametrize("content", ["", HEADER + "\r\n", HEADER + "\r\n;;;;;\r\n"])
def test_an_empty_manifest_is_an_error(tmp_path, content):
    (tmp_path / "manifest.csv").write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match="empty|lists no files"):
        read_manifest(tmp_path)


def test_a_manifest_without_a_file_column_says_so(tmp_path):
    _write(tmp_path, "name|municipality|year", "a.pdf|X|2024")
    with pytest.raises(ManifestError, match="no 'file' column"):
        read_manifest(tmp_path)
