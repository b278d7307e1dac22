"""The Søk page through Streamlit's AppTest: search, code all hits and undo, open a hit, words, new codes,
and pattern proposals in Kodebok."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from fixtures.search_corpus import build_indexed_search_store
from test_app import _app as open_app
from qualcode.store import schema, session_factory

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[str, dict[str, int]]:
    db = str(tmp_path_factory.mktemp("search-app") / "template.db")
    return db, build_indexed_search_store(db)


@pytest.fixture
def store(template, tmp_path, monkeypatch) -> tuple[str, dict[str, int]]:
    src, ids = template
    db = str(tmp_path / "store.db")
    with sqlite3.connect(src) as a, sqlite3.connect(db) as b:
        a.backup(b)
    monkeypatch.setenv("QUALCODE_DB", db)
    return db, ids


def _app(reviewer: str | None = "Kari", page: str = "sok", **state) -> AppTest:
    at = open_app(page, reviewer, **state)
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="sok_query").input(query)
    at.button(key="sok_submit").click().run()
    _ok(at)
    return at


def _reviewer_codings(db: str, code: str) -> list[schema.Coding]:
    with session_factory(db)() as s:
        return s.scalars(select(schema.Coding).where(schema.Coding.code == code, schema.Coding.source == "reviewer",
                                                     schema.Coding.active)).all()


def test_search_shows_keyword_in_context(store):
    db, ids = store
    at = _search(_app(), "veiledning")
    assert at.title[0].value == "Søk"
    assert "**3 treff** i 2 dokument(er)" in at.markdown[0].value
    table = at.dataframe[0].value.data if hasattr(at.dataframe[0].value, "data") else at.dataframe[0].value
    assert list(table["treff"]) == ["foreldreveiledningen", "Veiledning", "foreldreveiledning"]
    assert list(table["segment"]) == [ids["a1"], ids["a2"], ids["c0"]]
    assert table["kilde"].iloc[0] == "Askvik 2024 plan, §2 · s. 1"  # the segment named as on every page


def test_a_query_that_cannot_be_read_is_explained(store):
    at = _search(_app(), '"tidlig innsats')
    assert "anførselstegn" in at.error[0].value
    assert not at.dataframe


def test_filters_narrow_the_search(store):
    at = _app()
    at.multiselect(key="sok_type").set_value(["intervju"])
    _search(at, "skole")
    assert "**2 treff** i 1 dokument(er)" in at.markdown[0].value


def test_code_all_hits_then_undo(store):
    db, ids = store
    at = _search(_app(), "skole")
    at.selectbox(key="sok_code_pick").set_value("plan.samarbeid")
    at.button(key="sok_code_all").click().run()
    _ok(at)
    assert sorted(c.segment_id for c in _reviewer_codings(db, "plan.samarbeid")) == sorted(
        [ids["b1"], ids["b2"], ids["c1"]])
    assert "Kodet 3 segment(er)" in at.success[0].value
    at.button(key="sok_undo").click().run()
    _ok(at)
    assert _reviewer_codings(db, "plan.samarbeid") == []
    assert "Angret: 3 koding(er)" in at.success[0].value


def test_without_a_name_nothing_can_be_coded(store):
    at = _search(_app(reviewer=None), "skole")
    assert at.button(key="sok_code_all").disabled


def test_a_hit_opens_on_the_review_page(store):
    db, ids = store
    at = _search(_app(), "skole")
    at.selectbox(key="sok_show").set_value(ids["b2"]).run()
    _ok(at)
    (link,) = [link for link in at.get("page_link") if "Gjennomgang" in link.proto.label]
    assert "gjennomgang" in link.proto.page and link.proto.query_string == f"segment={ids['b2']}"
    review = _app(page="gjennomgang")  # what the link opens
    review.query_params["segment"] = str(ids["b2"])
    review.run()
    _ok(review)
    state = review.session_state["_queue"]
    assert state.ids[state.pos] == ids["b2"]
    assert any("Barnevernstjenestene samarbeider" in h.proto.body for h in review.get("html"))


def test_a_search_saved_as_a_proposal_is_taken_in_from_kodebok(store, tmp_path):
    db, _ = store
    at = _search(_app(), "ventetid* OR kurs")
    at.selectbox(key="sok_prop_code").set_value("barriere.kapasitet")
    at.button(key="sok_prop_save").click().run()
    _ok(at)
    with session_factory(db)() as s:
        (proposal,) = s.scalars(select(schema.SearchProposal)).all()
    assert proposal.code == "barriere.kapasitet" and proposal.hits == 1
    kb = _app(page="kodebok")
    kb.selectbox(key="cb_code").set_value("barriere.kapasitet").run()
    assert any("ventetid*" in c.value for c in kb.code)
    kb.button(key=f"prop_accept_{proposal.id}").click().run()
    _ok(kb)
    own = Path(db + ".codebook.yaml")
    assert own.is_file() and "ventetid*" in own.read_text(encoding="utf-8")
    assert "Mønstrene er lagt til" in kb.success[0].value
    assert not any(b.key == f"prop_accept_{proposal.id}" for b in kb.button)


def test_word_frequencies_per_municipality(store):
    at = _app(sok_view="words")
    at.selectbox(key="ord_by").set_value("place").run()
    _ok(at)
    table = at.dataframe[0].value
    bofjord = table[table["gruppe"] == "Bøfjord kommune"]
    assert bofjord.iloc[0]["ord"] == "skole" and bofjord.iloc[0]["antall"] == 2
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_new_codes_from_a_group(tmp_path, monkeypatch):
    from test_discover import planted

    factory, topic = planted.__wrapped__(tmp_path)
    db = str(factory.kw["bind"].url.database)
    monkeypatch.setenv("QUALCODE_DB", db)
    at = _app(sok_view="discover")
    at.number_input(key="ny_k").set_value(2)
    at.button(key="ny_run").click().run()
    _ok(at)
    assert "**2 grupper**" in at.markdown[0].value, [m.value for m in (*at.info, *at.error, *at.caption)]
    at.text_input(key="ny_name_1").input("Første gruppe")
    at.selectbox(key="ny_theme_1").set_value("_new")
    at.text_input(key="ny_theme_id_1").input("nytt")
    at.text_input(key="ny_theme_name_1").input("Nye tema")
    at.button(key="ny_make_1").click().run()
    _ok(at)
    assert "nytt.forste_gruppe" in at.success[0].value
    coded = _reviewer_codings(db, "nytt.forste_gruppe")
    assert len(coded) >= 18 and {c.created_by for c in coded} == {"Kari"}
    assert "nytt.forste_gruppe" in Path(db + ".codebook.yaml").read_text(encoding="utf-8")
