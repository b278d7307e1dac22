"""Corpus search: terms, the query language, its meaning on a designed corpus, filters, backends and the index."""
from __future__ import annotations

import itertools
import os
import sqlite3

import pytest
from sqlalchemy import delete, func, select, text

from fixtures.search_corpus import build_indexed_search_store, build_search_store
from qualcode.search.backends import PG_VECTOR, fts5_expression, tsquery
from qualcode.search.index import missing_count
from qualcode.search.query import And, Near, Not, Or, Phrase, QueryError, Word, parse, to_text
from qualcode.search.search import Filters, match_spans, search
from qualcode.search.terms import candidates, index_text, split_compound, term
from qualcode.store import schema, session_factory


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[str, dict[str, int]]:
    db = str(tmp_path_factory.mktemp("search") / "template.db")
    return db, build_indexed_search_store(db)


@pytest.fixture
def store(template, tmp_path):
    """A private copy of the indexed corpus: (sessionmaker, segment key → id, id → key)."""
    src, ids = template
    db = str(tmp_path / "store.db")
    with sqlite3.connect(src) as a, sqlite3.connect(db) as b:
        a.backup(b)
    return session_factory(db), ids, {v: k for k, v in ids.items()}


def found(store, query, filters=Filters(), **kw) -> list[str]:
    factory, _ids, keys = store
    return sorted(keys[i] for i in search(factory, query, filters, **kw).ids)


# -- terms -----------------------------------------------------------------------------------------
def test_compounds_split_at_known_words_with_linking_letters():
    assert split_compound("foreldreveiledning") == ("foreldre", "veiledning")
    assert split_compound("barnevernstjeneste") == ("barnevern", "tjeneste")  # linking -s-
    assert split_compound("veiledning") == ()  # "vei" + "ledning" is not a compound of veiledning
    assert split_compound("forebygging") == ()  # a particle as first part makes a lexicalised word


def test_a_compound_has_its_head_and_parts():
    t = term("foreldreveiledningen")
    assert (t.lemma, t.head, t.parts) == ("foreldreveiledning", "veiledning", ("foreldre",))
    three = term("familieveiledningstilbudet")
    assert three.head == "tilbud" and "veiledningstilbud" in three.tails and "veiledning" in three.parts


def test_a_query_word_is_also_read_as_a_lemma():
    assert candidates("veiledningen") == ("veiledning", "veiledningen")
    assert candidates("veiledning") == ("veiledning",)


def test_index_columns_align_lemmas_and_heads_word_by_word():
    cols = index_text("Tidlig foreldreveiledning, ja!")
    assert cols.lemmas.split() == ["tidlig", "foreldreveiledning", "ja"]
    assert cols.heads.split() == ["tidlig", "veiledning", "ja"]
    assert cols.parts.split() == ["foreldre"]


# -- the query language -------------------------------------------------------------------------------
@pytest.mark.parametrize("query, tree", [
    ("veiledning", Word("veiledning")),
    ("forebygg*", Word("forebygg", prefix=True)),
    ('"tidlig innsats"', Phrase((Word("tidlig"), Word("innsats")))),
    ("«tidlig innsats»", Phrase((Word("tidlig"), Word("innsats")))),
    ("15-1", Phrase((Word("15"), Word("1")))),
    ("NEAR(foreldre veiledning, 3)", Near(Word("foreldre"), Word("veiledning"), 3)),
    ("nær(foreldre, veiledning)", Near(Word("foreldre"), Word("veiledning"), 5)),
    ("skole barnehage", And((Word("skole"), Word("barnehage")))),
    ("skole OG barnehage", And((Word("skole"), Word("barnehage")))),
    ("skole ELLER barnehage", Or((Word("skole"), Word("barnehage")))),
    ("barnevern IKKE tiltak", And((Word("barnevern"), Not(Word("tiltak"))))),
    ("barnevern -tiltak", And((Word("barnevern"), Not(Word("tiltak"))))),
    ("(skole OR barnehage) NOT privat", And((Or((Word("skole"), Word("barnehage"))), Not(Word("privat"))))),
    ("skole or barnehage", And((Word("skole"), Word("or"), Word("barnehage")))),  # lower case: a word
])
def test_queries_parse(query, tree):
    assert parse(query) == tree
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize("query", ["", "§", "NOT tiltak", "-tiltak", "skole OR", "OR skole", '"tidlig innsats',
                                   "(skole", "skole)", "NEAR(skole)", "NEAR(a b, 99)", "skole OR NOT tiltak"])
def test_bad_queries_say_what_is_wrong(query):
    with pytest.raises(QueryError) as err:
        parse(query)
    assert str(err.value)


def test_the_backends_write_the_same_query_their_own_way():
    node = parse('"tidlig innsats" NEAR(foreldre veiledning, 2) -skole')
    expr = fts5_expression(node)
    assert 'lemmas : (("tidlig" + "innsats"))' in expr and "NEAR(" in expr and " NOT " in expr
    q = tsquery(node)
    assert "'tidlig':A <-> 'innsats':A" in q and "<3>" in q and "!" in q


# -- what search finds -------------------------------------------------------------------------------------------
def test_a_word_finds_its_inflections_and_the_compounds_it_heads(store):
    assert found(store, "veiledning") == ["a1", "a2", "c0"]
    assert found(store, "veiledningene") == ["a1", "a2", "c0"]  # an inflected query word
    assert found(store, "tjeneste") == ["a4", "b2"]  # tjenestene, Barnevernstjenestene
    assert found(store, "veileder") == ["b1"]  # veiledere


def test_compound_parts_and_non_codable_segments_are_opt_in(store):
    assert found(store, "veiledning", parts=True) == ["a1", "a2", "a3", "c0"]  # + veiledningstilbud
    assert found(store, "veiledning", Filters(codable_only=False)) == ["a1", "a2", "b0", "c0"]  # + the question


def test_phrases_near_and_prefixes(store):
    assert found(store, '"tidlig innsats"') == ["a4", "c0"]
    assert found(store, "NEAR(tidlig innsats, 2)") == ["a4", "a5", "c0"]  # "Innsatsen kom ikke tidlig"
    assert found(store, "NEAR(innsats tidlig, 1)") == ["a4", "c0"]
    assert found(store, "barneh*") == ["b1", "c0"]


def test_and_or_not(store):
    assert found(store, "skole") == ["b1", "b2", "c1"]
    assert found(store, "skole NOT mobbing") == ["b1", "b2"]
    assert found(store, "mobbing OR kurs") == ["b3", "c1"]
    assert found(store, "skole barnehage") == ["b1"]
    assert found(store, "(kurs OR mobbing) -tiltak") == ["b3"]


def test_filters_on_documents(store):
    assert found(store, "veiledning", Filters(places=("Askvik kommune",), years=(2025,))) == ["c0"]
    assert found(store, "skole", Filters(doc_types=("intervju",))) == ["b1", "b2"]


def test_filters_on_codes_follow_review(store):
    # a4 had the machine's suggestion but its reviewer finished it without codes; c0 was never reviewed
    assert found(store, '"tidlig innsats"', Filters(code="begrep.tidlig_innsats")) == ["c0"]
    assert found(store, '"tidlig innsats"', Filters(without_code="begrep.tidlig_innsats")) == ["a4"]
    assert found(store, "veiledning", Filters(code="niva.selektiv")) == ["a1"]
    assert found(store, "veiledning", Filters(reviewed=True)) == ["a1"]
    assert found(store, "veiledning", Filters(reviewed=False)) == ["a2", "c0"]


def test_hits_come_in_document_order_with_the_matching_words_marked(store):
    factory, ids, keys = store
    result = search(factory, "veiledning OR tjeneste")
    assert [keys[h.segment_id] for h in result.hits] == ["a1", "a2", "a4", "c0", "b2"]  # Askvik 2024, 2025, Bøfjord
    first = result.hits[0]
    assert [first.text[a:b] for a, b in first.spans] == ["foreldreveiledningen"]
    assert first.kwic() == ("Kommunen tilbyr ", "foreldreveiledningen", " ICDP til alle familier.")
    assert first.citation == "Askvik 2024 plan, §2 · s. 1"
    assert result.documents == 3 and result.versions[first.segment_id] == 0


def test_a_phrase_is_marked_as_one_stretch_of_text():
    text = "Planen skal sikre tidlig innsats, og mer."
    assert [text[a:b] for a, b in match_spans(parse('"tidlig innsats"'), text)] == ["tidlig innsats"]
    assert [text[a:b] for a, b in match_spans(parse("NEAR(sikre innsats, 3)"), text)] == ["sikre", "innsats"]


def test_a_long_segment_is_cut_around_the_keyword(store):
    factory, ids, _ = store
    with factory.begin() as s:
        s.get(schema.Segment, ids["c1"]).text = ("Innledning " * 30) + "mobbing " + ("avslutning " * 30)
        s.execute(delete(schema.SearchTerms).where(schema.SearchTerms.segment_id == ids["c1"]))
    hit = search(factory, "mobbing").hits[0]
    left, keyword, right = hit.kwic(40)
    assert keyword == "mobbing" and left.startswith("…") and right.endswith("…")
    assert len(left) <= 41 and len(right) <= 41


# -- backends agree ----------------------------------------------------------------------------------------
def _queries() -> list[str]:
    words = ["veiledning", "tidlig", "innsats", "skole", "barnehage", "tjeneste", "foreldre", "kurs", "tilbud",
             "familie"]
    out = list(words) + [w[:4] + "*" for w in words]
    out += [f'"{a} {b}"' for a, b in itertools.permutations(words[:5], 2)]
    out += [f"NEAR({a} {b}, {n})" for a, b in itertools.combinations(words, 2) for n in (0, 2)]
    out += [f"{a} -{b}" for a, b in itertools.permutations(words[:6], 2)]
    out += [f"{a} OR {b}" for a, b in itertools.combinations(words[:6], 2)]
    return out


def test_fts5_and_the_python_scan_agree_on_every_query(store):
    factory = store[0]
    for query in _queries():
        for parts in (False, True):
            fts = search(factory, query, Filters(codable_only=False), parts=parts, backend="fts5").ids
            scan = search(factory, query, Filters(codable_only=False), parts=parts, backend="scan").ids
            assert fts == scan, (query, parts)


@pytest.mark.skipif(not os.environ.get("QUALCODE_TEST_DB"), reason="set QUALCODE_TEST_DB to a PostgreSQL server")
def test_postgresql_agrees_with_the_python_scan(tmp_path):
    import uuid

    from sqlalchemy import create_engine

    from qualcode.store.location import database_url

    admin_url = os.environ["QUALCODE_TEST_DB"]
    name = f"qualcode_search_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        ids = build_search_store(url)
        factory = session_factory(url)
        keys = {v: k for k, v in ids.items()}
        assert sorted(keys[i] for i in search(factory, "veiledning").ids) == ["a1", "a2", "c0"]
        for query in _queries():
            pg = search(factory, query, Filters(codable_only=False), backend="postgresql").ids
            scan = search(factory, query, Filters(codable_only=False), backend="scan").ids
            assert pg == scan, query
        with factory() as s:  # the query's expression is the GIN index's (else PostgreSQL could not use it)
            s.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(r[0] for r in s.execute(text(
                f"EXPLAIN SELECT segment_id FROM search_terms WHERE ({PG_VECTOR}) @@ to_tsquery('simple', 'a:ABC')")))
        assert "ix_search_terms_fts" in plan
    finally:
        from qualcode.store.db import get_engine

        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- the index -----------------------------------------------------------------------------------------------
def test_a_store_without_an_index_is_indexed_on_demand_with_progress(store):
    factory, ids, keys = store
    with factory.begin() as s:
        s.execute(delete(schema.SearchTerms))
        assert s.execute(text("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'veiledning'")).scalar() == 0
    with factory() as s:
        assert missing_count(s) == len(ids)
    calls = []
    result = search(factory, "veiledning", progress=lambda done, todo: calls.append((done, todo)))
    assert sorted(keys[i] for i in result.ids) == ["a1", "a2", "c0"]
    assert result.indexed == len(ids) and calls[0] == (0, len(ids)) and calls[-1] == (len(ids), len(ids))


def test_rows_of_an_older_analyser_are_rewritten(store):
    factory, ids, _ = store
    with factory.begin() as s:
        s.execute(schema.SearchTerms.__table__.update().values(version=0, lemmas="", heads=""))
    assert search(factory, "veiledning").indexed == len(ids)
    with factory() as s:
        assert missing_count(s) == 0


def test_a_deleted_document_leaves_the_index_with_it(store):
    factory, ids, _ = store
    with factory.begin() as s:
        s.delete(s.get(schema.Document, s.get(schema.Segment, ids["b1"]).document_id))
    with factory() as s:
        left = s.execute(text("SELECT rowid FROM search_fts WHERE search_fts MATCH 'skole'")).scalars().all()
        assert ids["b1"] not in left and ids["c1"] in left
        assert s.scalar(select(func.count()).select_from(schema.SearchTerms)) == len(ids) - 4


def test_ingest_indexes_segments_in_the_same_transaction(tmp_path):
    from fixtures.corpus import write_corpus
    from qualcode.ingest import ingest
    from qualcode.pipeline import finish_run, start_run

    factory = session_factory(str(tmp_path / "ingest.db"))
    run = start_run(factory, "test")
    ingest(factory, [write_corpus(tmp_path / "corpus")], run)
    finish_run(factory, run, {})
    with factory() as s:
        segments = s.scalar(select(func.count()).select_from(schema.Segment))
        assert segments > 0 and missing_count(s) == 0
    result = search(factory, "tjeneste")  # "Barneverntjenesten" in two of the files
    assert result.indexed == 0 and result.documents == 2
