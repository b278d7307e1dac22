"""Word frequencies and distinguishing words: hand-computed values, stop words, and the report's tables."""
from __future__ import annotations

import math

import pytest

from fixtures.search_corpus import build_indexed_search_store, build_search_store
from qualcode.search.frequencies import PRIOR, Counts, content_words, distinguishing, groups_of, top_words
from qualcode.search.stopwords import stop_words

# four segments, two groups; "og" is a stop word, "2024" a number
LEMMAS = {1: ["barn", "skole", "skole", "og"], 2: ["barn", "barnehage"], 3: ["tiltak", "barn", "2024"],
          4: ["tiltak", "tiltak", "ventetid"]}
GROUPS = {"A": [1, 2], "B": [3, 4]}


@pytest.fixture
def counts() -> Counts:
    return Counts.build(list(LEMMAS), LEMMAS.values())


def test_stop_words_cover_bokmal_and_nynorsk_but_keep_domain_nouns():
    stop = stop_words()
    assert {"og", "ikke", "hvordan", "ikkje", "korleis", "eg", "berre", "kva"} <= stop
    assert not {"mål", "leder", "barn", "tiltak", "kontakt", "tid"} & stop
    assert content_words(["og", "barn", "2024", "x", "ikkje", "mål"]) == ["barn", "mål"]


def test_most_frequent_words_per_group(counts):
    table = top_words(counts, GROUPS, n=3)
    rows = [tuple(r) for r in table[["group", "rank", "word", "count", "per_1000", "segments"]].itertuples(index=False)]
    assert rows == [
        ("A", 1, "barn", 2, 400.0, 2), ("A", 2, "skole", 2, 400.0, 1), ("A", 3, "barnehage", 1, 200.0, 1),
        ("B", 1, "tiltak", 3, 600.0, 2), ("B", 2, "barn", 1, 200.0, 1), ("B", 3, "ventetid", 1, 200.0, 1),
    ]


def _hand_z(y_g: int, y_r: int, n_g: int, n_r: int, y_w: int, n: int) -> tuple[float, float]:
    a0 = PRIOR
    alpha = a0 * y_w / n
    delta = math.log((y_g + alpha) / (n_g + a0 - y_g - alpha)) - math.log((y_r + alpha) / (n_r + a0 - y_r - alpha))
    return delta, delta / math.sqrt(1 / (y_g + alpha) + 1 / (y_r + alpha))


def test_distinguishing_words_are_log_odds_z_against_the_rest(counts):
    table = distinguishing(counts, GROUPS, n=10, all_words=True)
    a = table[table["group"] == "A"].set_index("word")
    # group A has 5 words (barn 2, skole 2, barnehage 1), the rest 5 (tiltak 3, barn 1, ventetid 1); n = 10
    for word, y_g, y_r, y_w in (("skole", 2, 0, 2), ("barn", 2, 1, 3), ("tiltak", 0, 3, 3)):
        delta, z = _hand_z(y_g, y_r, 5, 5, y_w, 10)
        assert a.loc[word, "log_odds"] == pytest.approx(delta, abs=1e-3)
        assert a.loc[word, "z"] == pytest.approx(z, abs=0.01)
    assert list(a.index[:2]) == ["skole", "barnehage"] and a.index[-1] == "tiltak"
    assert a.loc["skole", "per_1000"] == 400.0 and a.loc["skole", "rest_per_1000"] == 0.0
    assert distinguishing(counts, GROUPS, n=10).empty  # four segments prove nothing at z > 1.96


def test_a_strong_difference_is_significant():
    docs = {i: ["fosterhjem", "barn"] for i in range(40)} | {i: ["rus", "barn"] for i in range(40, 80)}
    counts = Counts.build(list(docs), docs.values())
    table = distinguishing(counts, {"fosterhjem": range(40), "rus": range(40, 80)})
    assert list(zip(table["group"], table["word"])) == [("fosterhjem", "fosterhjem"), ("rus", "rus")]
    assert (table["z"] > 1.96).all()


def test_groups_from_the_analysis_follow_codes_and_places(tmp_path):
    from qualcode.analysis.frame import load
    from qualcode.store import session_factory

    db = str(tmp_path / "store.db")
    ids = build_search_store(db)
    data = load(session_factory(db), include_machine=True)
    themes, corpus = groups_of(data, "theme")
    assert themes["Begreper"] == [ids["c0"]]  # machine suggestion on an unreviewed segment
    assert sorted(themes["Forebyggingsnivå"]) == [ids["a1"]]
    places, everything = groups_of(data, "place")
    assert sorted(places) == ["Askvik kommune", "Bøfjord kommune"]
    assert ids["b0"] not in everything  # the interviewer's question is not counted


def test_word_tables_reach_the_report_and_the_workbook(tmp_path):
    import openpyxl

    from qualcode.analysis.frame import load
    from qualcode.analysis.tables import report_tables
    from qualcode.export.report_html import render_report
    from qualcode.export.report_tables import write_xlsx
    from qualcode.store import session_factory

    db = str(tmp_path / "store.db")
    build_search_store(db)
    data = load(session_factory(db), include_machine=True)
    tables = {t.key: t for t in report_tables(data)}
    per_place = tables["ord-per-kommune"].frame
    bofjord = per_place[per_place["place"] == "Bøfjord kommune"]
    assert tuple(bofjord.iloc[0][["word", "count", "segments"]]) == ("skole", 2, 2)
    html = render_report(data)
    assert 'id="ord"' in html and "Kjennetegnende ord per kommune" in html and "<svg" in html.split('id="ord"')[1]
    path = write_xlsx(data, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Ord per kommune"]
    assert [c.value for c in sheet[1]] == ["kommune", "nr", "ord", "antall", "per 1000 ord", "segmenter"]
    assert {"Ord totalt", "Ord per tema", "Kjennetegn per tema", "Kjennetegn per kommune"} <= set(book.sheetnames)


@pytest.mark.parametrize("by", ["theme", "code", "place", "year", "doc_type"])
@pytest.mark.parametrize("include_machine", [False, True])
def test_groups_from_the_store_equal_those_of_the_analysis(tmp_path, by, include_machine):
    """The word frequencies' light SQL grouping means what the analysis frame means."""
    from fixtures.store import build_store
    from qualcode.analysis.frame import load
    from qualcode.search.frequencies import groups_from_store
    from qualcode.store import session_factory

    db = str(tmp_path / "store.db")
    build_store(db)
    factory = session_factory(db)
    data = load(factory, include_machine=include_machine)
    with factory() as session:
        groups, corpus = groups_from_store(session, by, include_machine=include_machine)
    expected_groups, expected_corpus = groups_of(data, by)
    assert list(groups) == list(expected_groups)
    assert {k: sorted(v) for k, v in groups.items()} == {k: sorted(v) for k, v in expected_groups.items()}
    assert sorted(corpus) == sorted(expected_corpus)
    with factory() as session:
        narrowed, _ = groups_from_store(session, by, include_machine=include_machine, years=(2025,))
    expected, _ = groups_of(data.filter(years=[2025]), by)
    assert {k: sorted(v) for k, v in narrowed.items()} == {k: sorted(v) for k, v in expected.items() if v}


def test_words_outside_the_compared_segments_get_no_score(counts):
    """A corpus narrower than the counts (a filtered selection) leaves some words unseen: 0, never NaN."""
    table = distinguishing(counts, {"A": [1]}, corpus=[1, 2], n=10, all_words=True)
    assert table["z"].notna().all()
    assert set(table.loc[table["word"].isin(["tiltak", "ventetid"]), "z"]) == {0.0}


def test_the_report_counts_words_from_the_index_when_it_is_complete(tmp_path):
    """The report reads a complete search index instead of lemmatising every text again, with the same
    counts; a store whose index lacks segments is analysed from the texts."""
    from sqlalchemy import delete

    from qualcode.analysis.frame import load
    from qualcode.search import frequencies
    from qualcode.store import schema, session_factory

    db = str(tmp_path / "store.db")
    build_indexed_search_store(db)
    data = load(db, include_machine=True)
    assert data.store and data.store.endswith("store.db")
    seg = data.segments[data.segments["codable"]]
    from_texts = Counts.build(seg["segment_id"].tolist(), frequencies.lemma_lists_from_texts(seg["text"]))
    from_index = frequencies.counts_of(data)
    assert from_index is frequencies.store_counts(session_factory(db)())  # the cached index matrix

    def per_segment(counts: Counts, ids) -> dict:
        rows = counts.matrix[counts.rows(ids)]
        return {i: {counts.vocabulary[j]: int(v) for j, v in zip(r.indices, r.data)} for i, r in zip(ids, rows)}

    ids = seg["segment_id"].tolist()
    assert per_segment(from_index, ids) == per_segment(from_texts, ids)
    with session_factory(db).begin() as s:
        s.execute(delete(schema.SearchTerms).where(schema.SearchTerms.segment_id == ids[0]))
    assert frequencies.counts_of(data) is not frequencies.store_counts(session_factory(db)())


def test_counts_from_joined_lemmas_equal_counts_from_lists(counts):
    """The index's space-joined lemmas (split by pyarrow) count like lists split in Python, whatever the whitespace."""
    joined = ["  barn skole\tskole og ", "barn\u00a0barnehage", "tiltak  barn 2024", "tiltak\ntiltak ventetid"]
    fast = Counts.from_joined(list(LEMMAS), joined)
    assert list(fast.segment_ids) == list(counts.segment_ids)
    assert sorted(fast.vocabulary) == sorted(counts.vocabulary)
    order_fast, order = fast.vocabulary.argsort(), counts.vocabulary.argsort()
    assert (fast.matrix[:, order_fast] != counts.matrix[:, order]).nnz == 0
    assert Counts.from_joined([], []).matrix.shape == (0, 0)


def test_the_first_reader_saves_the_counts_and_later_readers_use_them_while_the_index_is_unchanged(
        tmp_path, monkeypatch):
    """Counted once and saved; read back equal; stale after the index changes; damaged counts cost a
    recount, not a failure; a store that cannot take the write still gets its counts."""
    from sqlalchemy import delete, func, select, update

    from qualcode.search import frequencies, word_counts
    from qualcode.store import schema, session_factory

    db = str(tmp_path / "store.db")
    build_indexed_search_store(db)  # as a run leaves the store: indexed, nothing counted yet
    factory = session_factory(db)
    frequencies._STORE_COUNTS.clear()
    with factory() as session:
        state = word_counts.index_state(session)
        assert word_counts.read_saved(session, state) is None
        counted = frequencies.store_counts(session)  # counts, and saves for the next reader
        saved = word_counts.read_saved(session, state)
    assert saved is not None and len(saved.segment_ids) == len(counted.segment_ids) > 0
    assert (Counts.of(saved).matrix != counted.matrix).nnz == 0
    assert list(saved.vocabulary) == list(counted.vocabulary)

    frequencies._STORE_COUNTS.clear()  # a new process
    monkeypatch.setattr(word_counts, "count_index", lambda _s: pytest.fail("counted although counts were saved"))
    with factory() as session:
        assert (frequencies.store_counts(session).matrix != counted.matrix).nnz == 0
    monkeypatch.undo()

    with factory.begin() as session:  # the index changes: the saved counts no longer describe it
        first = session.scalar(select(func.min(schema.SearchTerms.segment_id)))
        session.execute(delete(schema.SearchTerms).where(schema.SearchTerms.segment_id == first))
    with factory() as session:
        assert word_counts.read_saved(session, word_counts.index_state(session)) is None
        frequencies._STORE_COUNTS.clear()
        assert len(frequencies.store_counts(session).segment_ids) == len(counted.segment_ids) - 1

    with factory.begin() as session:
        session.execute(update(schema.SearchCounts).values(payload=b"not an npz file"))
    with factory() as session:
        assert word_counts.read_saved(session, word_counts.index_state(session)) is None

    def refuse(*_args, **_kwargs):
        raise RuntimeError("attempt to write a readonly database")

    frequencies._STORE_COUNTS.clear()
    with factory() as session:
        engine = session.get_bind()
        monkeypatch.setattr(engine, "begin", refuse)
        assert len(frequencies.store_counts(session).segment_ids) == len(counted.segment_ids) - 1


def _ingested_store(tmp_path):
    from fixtures.corpus import write_corpus

    from qualcode.ingest import ingest
    from qualcode.pipeline import start_run
    from qualcode.store import session_factory

    factory = session_factory(str(tmp_path / "store.db"))
    ingest(factory, [write_corpus(tmp_path / "corpus")], start_run(factory, "run", code=False))
    return factory


def test_a_run_writes_each_documents_word_counts_and_the_first_reader_merges_them(tmp_path, monkeypatch):
    """Ingest saves every document's counts (not the store's: its writing process stays small); merged,
    they equal counting the whole index, so the first report after a run need not count."""
    from sqlalchemy import func, select

    from qualcode.search import frequencies, word_counts
    from qualcode.store import schema

    factory = _ingested_store(tmp_path)
    with factory() as session:
        documents = session.scalar(select(func.count()).select_from(schema.Document))
        assert session.scalar(select(func.count()).select_from(schema.DocumentWordCounts)) == documents > 1
        assert session.scalar(select(func.count()).select_from(schema.SearchCounts)) == 0
        counted = Counts.of(word_counts.count_index(session))
        frequencies._STORE_COUNTS.clear()
        monkeypatch.setattr(word_counts, "count_index", lambda _s: pytest.fail("counted although documents had counts"))
        merged = frequencies.store_counts(session)
    assert list(merged.segment_ids) == list(counted.segment_ids)
    assert sorted(merged.vocabulary) == sorted(counted.vocabulary)
    by_word = merged.vocabulary.argsort(), counted.vocabulary.argsort()
    assert (merged.matrix[:, by_word[0]] != counted.matrix[:, by_word[1]]).nnz == 0


def test_documents_counts_that_do_not_cover_the_index_are_not_used(tmp_path):
    """A document without counts (imported, or written by an older qualcode), or counts of another
    analyser: the reader counts the index instead, and saves that."""
    from sqlalchemy import delete, func, select, update

    from qualcode.search import frequencies, word_counts
    from qualcode.store import schema

    factory = _ingested_store(tmp_path)
    with factory() as session:
        whole = len(word_counts.count_index(session).segment_ids)
        assert word_counts.read_documents(session, word_counts.index_state(session)) is not None
    with factory.begin() as session:
        first = session.scalar(select(func.min(schema.DocumentWordCounts.document_id)))
        session.execute(update(schema.DocumentWordCounts).where(schema.DocumentWordCounts.document_id == first)
                        .values(version=schema.DocumentWordCounts.version + 1))
    with factory() as session:
        assert word_counts.read_documents(session, word_counts.index_state(session)) is None
    with factory.begin() as session:
        session.execute(delete(schema.DocumentWordCounts).where(schema.DocumentWordCounts.document_id == first))
    frequencies._STORE_COUNTS.clear()
    with factory() as session:
        state = word_counts.index_state(session)
        assert word_counts.read_documents(session, state) is None
        assert len(frequencies.store_counts(session).segment_ids) == whole
        assert word_counts.read_saved(session, state) is not None  # counted, so saved for the next reader


def test_word_counts_survive_the_store_and_a_damaged_payload_is_refused():
    import numpy as np

    from dataclasses import replace

    from qualcode.search.word_counts import count_joined, document_counts, from_payload, merge, to_payload

    joined = ["barn skole skole", "", "ventetid\u00a0barn  og\tbarnehage"]
    counts = count_joined([7, 9, 12], joined)
    alone = replace(document_counts(joined), segment_ids=counts.segment_ids)  # the worker's way, without pyarrow
    for name in ("segment_ids", "indptr", "indices", "data", "vocabulary"):
        assert list(getattr(alone, name)) == list(getattr(counts, name)), name
    back = from_payload(to_payload(counts))
    for name in ("segment_ids", "indptr", "indices", "data", "vocabulary"):
        assert list(getattr(back, name)) == list(getattr(counts, name)), name
    payload = to_payload(counts)
    for damaged in (payload[:-3], payload + b"x", b"not counts", payload[:20]):
        with pytest.raises(ValueError):
            from_payload(damaged)
    # documents whose segment ids interleave: rows come back in id order, columns sorted in each row
    merged = merge([count_joined([2, 8], ["tiltak barn", "skole"]), count_joined([5], ["barn ventetid"])])
    assert list(merged.segment_ids) == [2, 5, 8]
    rows = Counts.of(merged)
    for i in range(3):
        assert list(rows.matrix[i].indices) == sorted(rows.matrix[i].indices)
    words = {w: j for j, w in enumerate(merged.vocabulary)}
    assert rows.matrix[1, words["ventetid"]] == 1 and rows.matrix[2, words["skole"]] == 1
    assert np.asarray(rows.matrix.sum(axis=1)).ravel().tolist() == [2, 2, 1]
