"""Document metadata: guessed from file name and title page, refreshed from a manifest, corrected by hand."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fixtures.corpus import write_pdf
from qualcode.cli import UserError, app
from qualcode.metadata import MetadataError, confirm_metadata, edit_metadata, infer_metadata
from qualcode.store import schema, session_factory

runner = CliRunner()


@pytest.mark.parametrize("file_name, first_page, municipality, year", [
    ("plan.pdf", "Plan for forebyggende arbeid\ni Tjernåsen kommune\n2024–2027", "Tjernåsen kommune", 2024),
    ("scan.pdf", "TJERNÅSEN KOMMUNE\nPLAN FOR FOREBYGGING 2023", "Tjernåsen kommune", 2023),
    ("x.pdf", "Nordre Follo kommune – handlingsplan 2025", "Nordre Follo kommune", 2025),
    ("x.pdf", "Forebyggingsplan for Aurskog-Høland kommune", "Aurskog-Høland kommune", None),
    ("tjernasen-kommune-plan-2024.pdf", "", "Tjernasen kommune", 2024),
    ("plan-kommune-a.pdf", "Plan for forebyggende arbeid", None, None),  # nothing to go on: nothing guessed
    ("vestland.pdf", "Vestland fylkeskommune, 2022", None, 2022),  # a county is not a municipality
    ("x.pdf", "Planen gjelder for hele kommunen.", None, None),
])
def test_municipality_and_year_are_guessed_from_title_page_then_file_name(file_name, first_page, municipality, year):
    guess = infer_metadata(file_name, first_page)
    assert (guess.municipality, guess.year) == (municipality, year)


def _run(*args):
    return runner.invoke(app, ["run", *map(str, args), "--no-code"])


def _doc(db, file_name):
    with session_factory(db)() as s:
        return s.scalars(select(schema.Document).where(schema.Document.file_name == file_name)).one()


def test_without_a_manifest_guesses_are_stored_marked_and_a_manifest_given_again_replaces_them(tmp_path, db):
    folder = tmp_path / "opplasting"
    folder.mkdir()
    write_pdf(folder / "plan-kommune-a.pdf", [["Plan for forebyggende arbeid i Tjernåsen kommune 2024–2027",
                                               "Alle barn skal få hjelp tidlig."], ["Side to har mer tekst."]])
    assert _run(folder, "--db", db).exit_code == 0
    doc = _doc(db, "plan-kommune-a.pdf")
    assert (doc.municipality, doc.year, doc.metadata_inferred) == ("Tjernåsen kommune", 2024, ["municipality", "year"])

    (folder / "manifest.csv").write_text("file,municipality,year,type,informant_role,size_class\n"
                                         "plan-kommune-a.pdf,Tjernåsen kommune,2025,plan,,liten\n", encoding="utf-8")
    result = _run(folder, "--db", db)
    assert result.exit_code == 0 and "0 failed" in result.output
    doc = _doc(db, "plan-kommune-a.pdf")
    assert (doc.municipality, doc.year, doc.doc_type, doc.size_class) == ("Tjernåsen kommune", 2025, "plan", "liten")
    assert doc.metadata_inferred == []
    with session_factory(db)() as s:
        audit = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "metadata_manifest")).one()
    assert audit.detail["changes"]["year"] == [2024, 2025] and set(audit.detail["confirmed"]) == {"municipality", "year"}
    assert _run(folder, "--db", db).exit_code == 0  # the same manifest again changes nothing
    with session_factory(db)() as s:
        assert len(s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "metadata_manifest")).all()) == 1


def test_edits_are_validated_confirm_guesses_and_are_audited(tmp_path, db):
    folder = tmp_path / "filer"
    folder.mkdir()
    write_pdf(folder / "fjordvik-kommune-2023.pdf", [["Plan for forebyggende arbeid.", "Alle barn."]])
    _run(folder, "--db", db)
    factory = session_factory(db)
    doc = _doc(db, "fjordvik-kommune-2023.pdf")
    assert (doc.municipality, doc.year) == ("Fjordvik kommune", 2023)
    with pytest.raises(MetadataError, match="year"):
        edit_metadata(factory, doc.id, "Kari", year="tjuefire")
    with pytest.raises(MetadataError, match="outside"):
        edit_metadata(factory, doc.id, "Kari", year=1800)
    assert edit_metadata(factory, doc.id, "Kari", year="2024", doc_type=" Plan ") == ["year", "doc_type"]
    doc = _doc(db, "fjordvik-kommune-2023.pdf")
    assert (doc.year, doc.doc_type, doc.metadata_inferred) == (2024, "plan", ["municipality"])
    assert confirm_metadata(factory, doc.id, "Kari") == ["municipality"]
    assert _doc(db, "fjordvik-kommune-2023.pdf").metadata_inferred == []
    with factory() as s:
        entries = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "metadata")).all()
    assert [e.actor for e in entries] == ["Kari", "Kari"]
    assert entries[0].detail["changes"] == {"year": [2023, 2024], "doc_type": [None, "plan"]}


def test_meta_command_shows_and_corrects_a_document(tmp_path, db, monkeypatch):
    folder = tmp_path / "filer"
    folder.mkdir()
    write_pdf(folder / "plan-a.pdf", [["Plan for forebyggende arbeid.", "Alle barn."]])
    _run(folder, "--db", db)
    monkeypatch.setenv("QUALCODE_USER", "Kari")
    shown = runner.invoke(app, ["meta", "plan-a.pdf", "--db", db])
    assert shown.exit_code == 0 and "municipality    –" in shown.output
    result = runner.invoke(app, ["meta", "plan-a.pdf", "--db", db, "--municipality", "Tjernåsen kommune",
                                 "--year", "2024", "--type", "plan", "--size-class", "liten"])
    assert result.exit_code == 0, result.output
    doc = _doc(db, "plan-a.pdf")
    assert (doc.municipality, doc.year, doc.doc_type, doc.size_class) == ("Tjernåsen kommune", 2024, "plan", "liten")
    cleared = runner.invoke(app, ["meta", str(doc.id), "--db", db, "--size-class", ""])
    assert cleared.exit_code == 0 and _doc(db, "plan-a.pdf").size_class is None
    bad = runner.invoke(app, ["meta", "finnes-ikke.pdf", "--db", db])
    assert isinstance(bad.exception, UserError) and "finnes-ikke.pdf: no such document" in str(bad.exception)
    bad = runner.invoke(app, ["meta", "plan-a.pdf", "--db", db, "--year", "20x4"])
    assert isinstance(bad.exception, UserError) and str(bad.exception).startswith("plan-a.pdf: year")
