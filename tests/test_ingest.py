"""`qualcode run`: folders into the store, incrementally, without losing or half-writing anything."""
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fixtures.corpus import write_corpus, write_pdf
from qualcode.cli import app
from qualcode.coding.coder import current_coder
from qualcode.ingest import ingest
from qualcode.pipeline import start_run
from qualcode.store import session_factory
from qualcode.store.schema import AuditEntry, Coding, Document, Segment

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, ["run", *map(str, args)])


def _count(db, model):
    with session_factory(db)() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_run_stores_documents_with_manifest_metadata(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus")
    result = _run(corpus, "--db", db, "--no-code")
    assert result.exit_code == 0, result.output
    with session_factory(db)() as s:
        docs = {d.file_name: d for d in s.scalars(select(Document))}
        assert docs["testvik-plan.md"].municipality == "Testvik kommune"
        assert (docs["provedal-plan.txt"].year, docs["provedal-plan.txt"].size_class) == (2025, "stor")
        assert docs["nordby-plan.pdf"].page_count == 2
        for doc in docs.values():
            assert doc.segments, doc.file_name
            for seg in doc.segments:
                assert doc.text[seg.start:seg.end] == seg.text


def test_second_run_over_unchanged_files_does_no_work(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus")
    _run(corpus, "--db", db, "--no-code")
    before = (_count(db, Document), _count(db, Segment))
    again = _run(corpus, "--db", db, "--no-code")
    assert again.exit_code == 0
    assert "Nothing new" in again.output and "3 unchanged" in again.output
    assert (_count(db, Document), _count(db, Segment)) == before


def test_bad_files_are_named_with_a_reason_and_the_batch_goes_on(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus", manifest=False)
    (corpus / "tom.pdf").write_bytes(b"")
    (corpus / "notat.pdf").write_text("Dette er bare tekst, ikke en PDF.", encoding="utf-8")
    good = write_pdf(tmp_path / "x.pdf", [["Tekst på side en.", "Mer tekst her."]])
    (corpus / "avkortet.pdf").write_bytes(good.read_bytes()[:400])
    result = _run(corpus, "--db", db, "--no-code")
    assert result.exit_code == 0, result.output
    assert _count(db, Document) == 3
    for name in ("tom.pdf", "notat.pdf", "avkortet.pdf"):
        line = next(line for line in result.output.splitlines() if name in line and "failed" in line)
        assert len(line.split(": ", 2)[-1]) > 5  # a reason follows the name
    assert "Traceback" not in result.output
    strict = _run(corpus, "--db", db, "--no-code", "--strict")
    assert strict.exit_code == 1


def test_unsupported_and_unlisted_files_are_skipped_with_a_reason(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "notes.odt").write_text("x")
    result = _run(corpus, "--db", db, "--no-code")
    assert "notes.odt: not listed in" in result.output
    assert _count(db, Document) == 3


def test_year_comes_from_a_year_folder(tmp_path, db):
    folder = tmp_path / "corpus" / "2023"
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text("# Plan\n\nAlle barn skal ha gode oppvekstvilkår.\n", encoding="utf-8")
    _run(tmp_path / "corpus", "--db", db, "--no-code")
    with session_factory(db)() as s:
        assert s.scalars(select(Document.year)).one() == 2023


def test_an_interrupted_run_leaves_no_half_ingested_document(tmp_path, db, monkeypatch):
    import qualcode.ingest as ingest_module

    corpus = write_corpus(tmp_path / "corpus")
    factory = session_factory(db)
    run = start_run(factory, "run", code=False)
    calls = []
    real_record = ingest_module.record

    def crash_on_second(session, *args, **kwargs):  # the last write of a document's transaction
        calls.append(kwargs.get("file"))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_record(session, *args, **kwargs)

    monkeypatch.setattr(ingest_module, "record", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        ingest(factory, [corpus], run)
    monkeypatch.undo()
    with factory() as s:
        assert s.scalars(select(Document.file_name)).all() == [calls[0]]
        doc_ids = set(s.scalars(select(Segment.document_id)))
        assert len(doc_ids) == 1  # no orphan segments of the interrupted document
    rerun = _run(corpus, "--db", db, "--no-code")
    assert "Ingested 2 file(s)" in rerun.output and "1 unchanged" in rerun.output


def test_run_codes_new_segments_and_audits_it(tmp_path, db):
    corpus = write_corpus(tmp_path / "corpus")
    result = _run(corpus, "--db", db)
    assert result.exit_code == 0, result.output
    with session_factory(db)() as s:
        codings = s.scalars(select(Coding).where(Coding.applied)).all()
        # the rules and the base model that ships with the codebook both code
        assert codings and {c.source for c in codings} == {"rule", "model"}
        assert all(c.codebook_version and c.created_by for c in codings)
        assert {c.model_version for c in codings if c.source == "model"} == {current_coder().model.version}
        coded = {c.code for c in codings}
        assert "begrep.tidlig_innsats" in coded  # "rett hjelp til rett tid" / "tidlig innsats" in the plan
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"ingest", "code"} <= actions


def test_extract_prints_json_lines_without_a_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = write_corpus(tmp_path / "corpus")
    result = runner.invoke(app, ["extract", str(corpus / "testvik-plan.md")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {"text", "page", "start", "end", "kind"} <= set(rows[0])
    assert any(r["kind"] == "list" for r in rows) and any(r["kind"] == "heading" for r in rows)
    assert not list(tmp_path.glob("*.db"))


def test_a_run_walks_its_folders_once(tmp_path, monkeypatch):
    """`qualcode run` sizes its progress bar from the same discovery that ingest then uses."""
    import qualcode.ingest as ingest_module

    walks = []
    real = ingest_module.discover

    def counted(paths):
        walks.append(paths)
        return real(paths)

    monkeypatch.setattr(ingest_module, "discover", counted)
    corpus = write_corpus(tmp_path / "corpus")
    result = runner.invoke(app, ["run", str(corpus), "--db", str(tmp_path / "store.db"), "--workers", "1", "--no-code"])
    assert result.exit_code == 0, result.output
    assert "Ingested 3 file(s)" in result.output and len(walks) == 1
