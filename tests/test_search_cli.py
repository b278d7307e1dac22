"""`qualcode search`, `qualcode words` and `qualcode discover` on a small store."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fixtures.search_corpus import build_search_store
from qualcode.cli import app
from qualcode.cli.app import UserError
from qualcode.store import schema, session_factory


@pytest.fixture
def store(tmp_path):
    db = str(tmp_path / "store.db")
    ids = build_search_store(db)
    return db, ids


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def test_search_prints_keyword_in_context_lines(store):
    db, _ = store
    result = run("search", "veiledning", "--db", db)
    assert result.exit_code == 0, result.output
    assert "3 segment(s) match 'veiledning'" in result.output
    assert "foreldreveiledningen" in result.output
    assert "Askvik 2024 plan, §2 · s. 1 [id" in " ".join(result.output.split())  # named as everywhere
    narrowed = run("search", "veiledning", "--year", "2025", "--db", db)
    assert "1 segment(s) match" in narrowed.output


def test_a_bad_query_is_one_plain_line(store):
    db, _ = store
    result = run("search", "NOT skole", "--db", db)
    assert isinstance(result.exception, UserError)  # `qualcode` prints it as one "Error: …" line
    assert str(result.exception).startswith("cannot read the search 'NOT skole': ")


def test_code_all_and_propose_need_a_name_and_then_write(store):
    db, ids = store
    nameless = run("search", "skole", "--code-all", "plan.samarbeid", "--db", db)
    assert isinstance(nameless.exception, UserError) and "--reviewer" in str(nameless.exception)
    result = run("search", "skole", "--code-all", "plan.samarbeid", "--propose", "plan.samarbeid",
                 "--reviewer", "Kari", "--db", db)
    assert result.exit_code == 0, result.output
    assert "Coded 3 segment(s) with plan.samarbeid as Kari" in result.output and "proposal" in result.output
    with session_factory(db)() as s:
        coded = s.scalars(select(schema.Coding.segment_id).where(schema.Coding.created_by == "Kari")).all()
        assert sorted(coded) == sorted([ids["b1"], ids["b2"], ids["c1"]])
        assert s.scalars(select(schema.SearchProposal.code)).all() == ["plan.samarbeid"]


def test_words_and_discover_print_tables(store):
    db, _ = store
    words = run("words", "--by", "place", "-n", "3", "--db", db)
    assert words.exit_code == 0, words.output
    assert "Bøfjord kommune" in words.output and "skole" in words.output
    found = run("discover", "--among", "all", "-k", "2", "--db", db)
    assert found.exit_code == 0, found.output
    assert "group(s) among" in found.output or "For få segmenter" in found.output


def test_no_store_is_an_error_not_a_new_store(tmp_path):
    result = run("search", "skole", "--db", str(tmp_path / "nei.db"))
    assert isinstance(result.exception, UserError) and "no store at" in str(result.exception)
    assert not (tmp_path / "nei.db").exists()
