"""Reference sets and leave-one-document/genre-out validation: no fold ever sees what it codes."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qualcode.coding import validation
from qualcode.coding.coder import Coder
from qualcode.coding.codebook import Codebook
from qualcode.coding.reference import ReferenceSet, load_reference
from qualcode.coding.rules import RuleCoder
from test_model import BOOK, make


def write_set(path, n_docs: int = 3, per_doc: int = 50, genre=None) -> list[dict]:
    rows = []
    for d in range(n_docs):
        texts, labels = make(per_doc, seed=20 + d)
        for i, (t, ls) in enumerate(zip(texts, labels)):
            row = {"id": f"d{d}-{i}", "source": f"{'plan' if d % 2 == 0 else 'intervju'}-{d}.md", "text": t,
                   "codes": sorted(ls)}
            if genre:
                row["genre"] = genre
            rows.append(row)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def test_genres_by_field_by_prefix_and_families(tmp_path):
    write_set(tmp_path / "a.jsonl", 2, 3)
    write_set(tmp_path / "b.jsonl", 1, 3, genre="plan-nynorsk")
    recs = load_reference([ReferenceSet("a", tmp_path / "a.jsonl", genre_by_prefix={"plan": "plan", "intervju": "intervju"}),
                           ReferenceSet("b", tmp_path / "b.jsonl")])
    assert [(r["genre"], r["family"]) for r in recs][:4] == [("plan", "plan")] * 3 + [("intervju", "intervju")]
    assert {(r["genre"], r["family"]) for r in recs if r["set"] == "b"} == {("plan-nynorsk", "plan")}
    assert len({r["id"] for r in recs}) == len(recs)  # ids made unique across sets
    assert {r["doc"] for r in recs} == {"a:plan-0.md", "a:intervju-1.md", "b:plan-0.md"}


def test_shipped_sets_in_number_order(tmp_path, monkeypatch):
    """ref10 comes after ref9, not between ref1 and ref2 as text would sort it."""
    from qualcode.coding import reference

    for name in ("ref10", "ref2", "ref9", "ref11"):
        write_set(tmp_path / f"{name}.jsonl", 1, 1)
    monkeypatch.setattr(reference, "SHIPPED", tmp_path)
    assert [s.name for s in reference.shipped_sets()] == ["ref2", "ref9", "ref10", "ref11"]


def test_bad_reference_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "x", "text": "t"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl, line 1: missing field\(s\) codes"):
        load_reference([ReferenceSet("bad", path, genre="plan")])


def documents_each_fit_saw(monkeypatch) -> list[set[str]]:
    """Spy on the folds: the documents each base-model fit is given, in order."""
    seen: list[set[str]] = []
    real = validation.fit_base

    def spy(coder, data, recs, **kw):
        seen.append({r["doc"] for r in recs})
        return real(coder, data, recs, **kw)

    monkeypatch.setattr(validation, "fit_base", spy)
    return seen


def blind_hold_out(tmp_path, monkeypatch, n_docs: int):
    """Leave-one-document-out over a toy reference set, checking no fold saw its own document."""
    write_set(tmp_path / "ref.jsonl", n_docs, 45)
    records = load_reference([ReferenceSet("ref", tmp_path / "ref.jsonl", genre="plan")])
    book = Codebook.from_yaml_text(BOOK)
    seen = documents_each_fit_saw(monkeypatch)
    held = validation.hold_out(records, Coder(book, RuleCoder(book), "test"), "doc")
    docs = list(dict.fromkeys(r["doc"] for r in records))
    assert seen == [set(docs) - {d} for d in docs]
    return held, book


def test_hold_out_never_trains_on_the_held_out_group(tmp_path, monkeypatch):
    held, book = blind_hold_out(tmp_path, monkeypatch, 3)
    records = held.records
    assert [p["id"] for p in held.model] == [r["id"] for r in records]
    table = validation.genre_table(held, book.code_ids)
    assert list(table["group"]) == ["genre: plan", "family: plan", "set: ref", "all: alle"]
    assert table["coverage"].between(0, 1).all()
    codes = validation.code_table(held, book.code_ids)
    assert list(codes["code"]) == book.code_ids


def test_evaluate_by_document_cli(tmp_path):
    from qualcode.cli import app

    write_set(tmp_path / "ref.jsonl", 3, 45, genre="plan")
    (tmp_path / "book.yaml").write_text(BOOK, encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "ref.jsonl"), "--by", "document", "--codebook",
                                      str(tmp_path / "book.yaml"), "-o", str(tmp_path / "held.jsonl")])
    assert result.exit_code == 0, result.output
    assert "| group |" in result.output and "genre: plan" in result.output and "| coverage" not in result.output[:5]
    assert len((tmp_path / "held.jsonl").read_text().splitlines()) == 135
    bad = CliRunner().invoke(app, ["evaluate", str(tmp_path / "ref.jsonl"), "--by", "colour"])
    assert bad.exit_code != 0 and "--by must be one of" in str(bad.exception)


def test_folds_in_two_processes_give_the_same_predictions(tmp_path):
    write_set(tmp_path / "ref.jsonl", 2, 45)
    records = load_reference([ReferenceSet("ref", tmp_path / "ref.jsonl", genre="plan")])
    book = Codebook.from_yaml_text(BOOK)
    coder = Coder(book, RuleCoder(book), "test")
    assert validation.hold_out(records, coder, "doc", workers=2).model == validation.hold_out(records, coder, "doc").model


def test_folds_of_whole_documents_never_train_on_what_they_code(tmp_path, monkeypatch):
    write_set(tmp_path / "ref.jsonl", 4, 45)
    records = load_reference([ReferenceSet("ref", tmp_path / "ref.jsonl", genre="plan")])
    book = Codebook.from_yaml_text(BOOK)
    seen = documents_each_fit_saw(monkeypatch)
    held = validation.hold_out(records, Coder(book, RuleCoder(book), "test"), "doc", folds=2)
    docs = {r["doc"] for r in records}
    assert len(seen) == 2 and all(len(s) == 2 for s in seen)  # two fits, each without two whole documents
    assert seen[0].isdisjoint(seen[1]) and seen[0] | seen[1] == docs
    assert [p["id"] for p in held.model] == [r["id"] for r in records]


def test_evaluate_by_document_in_folds_cli(tmp_path):
    from qualcode.cli import app

    write_set(tmp_path / "ref.jsonl", 4, 45, genre="plan")
    (tmp_path / "book.yaml").write_text(BOOK, encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "ref.jsonl"), "--by", "document", "--folds", "2",
                                      "--codebook", str(tmp_path / "book.yaml")])
    assert result.exit_code == 0, result.output
    assert "Held out by document, 2 folds of whole documents" in result.output
    assert "4 groups in 2 folds" in result.output
    alone = CliRunner().invoke(app, ["evaluate", str(tmp_path / "ref.jsonl"), "--folds", "2"])
    assert alone.exit_code != 0 and "give --by document" in str(alone.exception)
