"""Analysis tables on the fixture store, whose counts were designed by hand (tests/fixtures/store.py)."""
from __future__ import annotations

import pandas as pd
import pytest
from fixtures.store import CODABLE_SEGMENTS, CONFIRMED_ROWS, LABELLED_SEGMENTS, MACHINE_ONLY_ROWS, build_store

from qualcode.analysis import load
from qualcode.analysis.completeness import completeness, completeness_matrix
from qualcode.analysis.cooccurrence import cooccurrence, cooccurrence_pairs
from qualcode.analysis.drill import segments_behind
from qualcode.analysis.frequencies import frequencies, totals
from qualcode.analysis.matrix import code_document_matrix
from qualcode.analysis.quotes import citation, quotes, shorten
from qualcode.analysis.years import corpus_by_year, municipality_changes, years_overview
from qualcode.store import transaction
from qualcode.store.schema import Coding, SegmentReview


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("analysis") / "store.db")
    build_store(db)
    return db


@pytest.fixture(scope="module")
def data(store):
    return load(store)


@pytest.fixture(scope="module")
def machine(store):
    return load(store, include_machine=True)


def count(frame: pd.DataFrame, key: str, column: str, key_col: str = "code"):
    return frame.loc[frame[key_col] == key, column].item()


# -- the tidy frame ---------------------------------------------------------------------

def test_frame_holds_only_confirmed_codings_by_default(data):
    assert len(data.codings) == CONFIRMED_ROWS
    assert set(data.codings["source"]) == {"reviewer"}
    assert data.codings["confirmed"].all()
    assert int(data.segments["labelled"].sum()) == LABELLED_SEGMENTS
    assert int(data.segments["in_scope"].sum()) == LABELLED_SEGMENTS
    # rejected (plan.ansvar on Nordby), undone (perspektiv.barn) and not-done (barriere.tiltak) codings stay out
    nordby = data.codings[data.codings["place"] == "Nordby kommune"]
    assert "plan.ansvar" not in set(nordby["code"])
    assert "perspektiv.barn" not in set(data.codings["code"])
    assert "barriere.tiltak" not in set(data.codings["code"])


def test_latest_reviewer_decision_wins(data):
    seg = data.codings[(data.codings["document"] == "Fjordvik kommune 2024 (plan)") & (data.codings["page_start"] == 3)]
    assert set(seg["code"]) == {"barriere.styring"}  # ola applied okonomi, kari later rejected it


def test_machine_codings_only_on_request_and_marked(machine):
    assert len(machine.codings) == CONFIRMED_ROWS + MACHINE_ONLY_ROWS
    extra = machine.codings[~machine.codings["confirmed"]]
    assert set(zip(extra["code"], extra["source"])) == {("plan.organisering", "model+rule"),
                                                         ("barriere.tiltak", "rule")}
    assert int(machine.segments["in_scope"].sum()) == CODABLE_SEGMENTS
    # a reviewed segment keeps the reviewer's decision: the rejected rule coding does not come back
    nordby = machine.codings[machine.codings["place"] == "Nordby kommune"]
    assert "plan.ansvar" not in set(nordby["code"])


def test_filter_by_place_year_type_and_source(data, machine):
    fjordvik = data.filter(municipalities=["Fjordvik kommune"])
    assert len(fjordvik.codings) == 12 and fjordvik.documents["document_id"].nunique() == 2
    assert len(data.filter(years=[2025]).codings) == 7
    assert len(data.filter(doc_types=["intervju"]).codings) == 3
    assert len(machine.filter(sources=["machine"]).codings) == MACHINE_ONLY_ROWS
    assert len(machine.filter(sources=["reviewer"]).codings) == CONFIRMED_ROWS


def test_file_name_stands_in_for_missing_municipality(data):
    assert "ukjent-plan.txt" in set(data.documents["place"])


# -- tables -------------------------------------------------------------------------------

def test_code_totals(data):
    t = totals(data, "code")
    expected = {"plan.mal": 4, "niva.universell": 3, "plan.ansvar": 2, "plan.samarbeid": 2, "suksess.samarbeid": 2,
                "barriere.kapasitet": 2, "barriere.styring": 1, "plan.organisering": 1, "niva.selektiv": 1,
                "begrep.tidlig_innsats": 1, "barriere.okonomi": 1}
    for code, n in expected.items():
        assert count(t, code, "segments") == n, code
    assert t["segments"].sum() == CONFIRMED_ROWS
    assert count(t, "mandat.kjernebarnevern", "segments") == 0  # unused codes are listed with zero
    assert count(t, "plan.mal", "documents") == 4
    assert count(t, "plan.mal", "share") == round(100 * 4 / LABELLED_SEGMENTS, 1)


def test_theme_counts_segments_not_codings(data):
    t = totals(data, "theme")
    # Fjordvik 2025 s1 has two plan codes but is one segment
    assert count(t, "plan", "segments", "theme") == 8
    assert count(t, "barriere", "segments", "theme") == 3
    assert count(t, "niva", "segments", "theme") == 4
    assert count(t, "begrep", "segments", "theme") == 1


def test_frequencies_by_municipality_year_type_size(data):
    by_place = frequencies(data, "place", "theme", "segments")
    assert count(by_place, "plan", "Fjordvik kommune", "theme") == 6
    assert count(by_place, "barriere", "Østby kommune", "theme") == 1
    share = frequencies(data, "place", "theme", "share")
    assert count(share, "plan", "Fjordvik kommune", "theme") == 75.0  # 6 of 8 labelled Fjordvik segments
    assert count(share, "barriere", "Nordby kommune", "theme") == round(100 / 3, 1)
    shown = frequencies(data, "place", "theme", "share_n")  # a percentage always with its counts
    assert count(shown, "plan", "Fjordvik kommune", "theme") == "75,0\u00a0% (6 av 8)"
    assert count(shown, "barriere", "Nordby kommune", "theme") == "33,3\u00a0% (1 av 3)"
    by_year = frequencies(data, "year", "code", "segments")
    assert count(by_year, "niva.universell", "2024") == 2 and count(by_year, "niva.universell", "2025") == 1
    by_type = frequencies(data, "doc_type", "theme", "documents")
    assert count(by_type, "plan", "plan", "theme") == 4 and count(by_type, "suksess", "intervju", "theme") == 1
    by_size = frequencies(data, "size_class", "code", "segments")
    assert count(by_size, "plan.mal", "liten") == 2 and count(by_size, "plan.mal", "ukjent") == 1


def test_code_document_matrix(data):
    m = code_document_matrix(data, all_codes=False)
    row = m[m["code"] == "plan.mal"].iloc[0]
    assert row["Fjordvik kommune 2024 (plan)"] == 1 and row["total"] == 4
    row = m[m["code"] == "barriere.kapasitet"].iloc[0]
    assert row["Nordby kommune 2024 (plan)"] == 1 and row["Østby kommune 2024 (intervju)"] == 1
    assert m["total"].sum() == CONFIRMED_ROWS
    assert len(code_document_matrix(data)) == len(data.codes)


def test_cooccurrence(data):
    c = cooccurrence(data)
    assert c.loc["plan.mal", "niva.universell"] == 3 == c.loc["niva.universell", "plan.mal"]
    assert c.loc["plan.mal", "plan.mal"] == 4
    assert c.loc["barriere.okonomi", "barriere.kapasitet"] == 1
    assert c.loc["plan.mal", "barriere.kapasitet"] == 0
    pairs = cooccurrence_pairs(data)
    top = pairs.iloc[0]
    assert {top["code_a"], top["code_b"]} == {"plan.mal", "niva.universell"}
    assert top["segments"] == 3 and top["jaccard"] == 0.75  # 3 both / 4 either
    assert len(pairs) == 6


def test_citation_format():
    assert citation("Fjordvik kommune", doc_type="plan", page_start=5, page_end=5) == "(Fjordvik kommune, s. 5)"
    assert citation("Fjordvik kommune", doc_type="plan", page_start=5, page_end=6) == "(Fjordvik kommune, s. 5–6)"
    assert (citation("Fjordvik kommune", doc_type="intervju", is_transcript=True, informant_role="barnevernleder",
                     page_start=1, page_end=1) == "(Fjordvik kommune, intervju, barnevernleder)")
    assert citation("Fjordvik kommune", doc_type="intervju") == "(Fjordvik kommune, intervju)"
    assert citation("plan.txt", doc_type="plan", page_start=0, page_end=0) == "(plan.txt)"


def test_quotes_have_citations_and_spread_over_documents(data):
    q = quotes(data, per_code=2)
    mal = q[q["code"] == "plan.mal"]
    assert len(mal) == 2 and mal["document"].nunique() == 2
    assert set(mal["citation"]) <= {"(Fjordvik kommune, s. 1)", "(Nordby kommune, s. 1)", "(ukjent-plan.txt, s. 1)"}
    samarbeid = q[q["code"] == "suksess.samarbeid"]
    assert set(samarbeid["citation"]) == {"(Østby kommune, intervju, barnevernleder)", "(Fjordvik kommune, s. 2–3)"}
    assert all("\n" not in text for text in q["quote"])
    assert (q.groupby("code").size() <= 2).all()


def test_shorten_cuts_at_a_word():
    text = "ord " * 100
    out = shorten(text, 50)
    assert len(out) <= 52 and out.endswith(" …") and "  " not in out


def test_completeness_with_evidence(data, machine):
    c = completeness(data)
    assert len(c) == 4 * 4  # four plans (the interview is not a plan) × four elements
    f24 = c[c["document"] == "Fjordvik kommune 2024 (plan)"].set_index("element")
    assert list(f24["addressed"]) == [True, True, False, True]
    assert f24.loc["plan.samarbeid", "page"] == "s. 2–3"
    assert f24.loc["plan.ansvar", "quote"].startswith("Kommunalsjef for oppvekst")
    seg_id = f24.loc["plan.ansvar", "segment_id"]
    assert seg_id in set(data.segments["segment_id"])
    assert data.segments.set_index("segment_id").loc[seg_id, "text"].startswith("Kommunalsjef")
    matrix = completeness_matrix(data).set_index("document")
    assert matrix.loc["Fjordvik kommune 2025 (plan)", "covered"] == 4
    assert matrix.loc["Nordby kommune 2024 (plan)", "covered"] == 1
    assert matrix.loc["Fjordvik kommune 2024 (plan)", "Organisering og koordinering"] == "ikke funnet"
    assert f24.loc["plan.ansvar", "ref"] == data.segments.set_index("segment_id").loc[seg_id, "ref"]
    # with machine codings the gap is filled, but only as a marked machine suggestion
    mm = completeness_matrix(machine).set_index("document")
    assert mm.loc["Fjordvik kommune 2024 (plan)", "Organisering og koordinering"] == "s. 4 (maskin)"
    cm = completeness(machine)
    row = cm[(cm["document"] == "Fjordvik kommune 2024 (plan)") & (cm["element"] == "plan.organisering")].iloc[0]
    assert row["source"] == "model+rule"


def test_a_plan_nobody_reviewed_is_not_reviewed_rather_than_not_found(data):
    """Honest analysis: with confirmed codings only, a plan without reviewed segments says nothing either way."""
    from dataclasses import replace

    doc_id = data.segments.loc[data.segments["document"] == "Nordby kommune 2024 (plan)", "document_id"].iloc[0]
    seg = data.segments.assign(in_scope=data.segments["in_scope"] & (data.segments["document_id"] != doc_id))
    data = replace(data, segments=seg, codings=data.codings[data.codings["document_id"] != doc_id])  # unreviewed
    c = completeness(data)
    basis = c.drop_duplicates("document").set_index("document")
    unreviewed = basis[basis["in_scope"] == 0].index
    assert list(unreviewed) == ["Nordby kommune 2024 (plan)"]
    assert set(c[c["document"].isin(unreviewed)]["status"]) == {"ikke gjennomgått"}
    reviewed = c[~c["document"].isin(unreviewed)]
    assert set(reviewed["status"]) <= {"omtalt", "ikke funnet"}
    matrix = completeness_matrix(data).set_index("document")
    doc = unreviewed[0]
    assert matrix.loc[doc, "basis"] == f"0 av {basis.loc[doc, 'codable']}"
    assert "ikke funnet" not in set(matrix.loc[doc])


def test_years_for_corpus_and_municipality(data):
    overview = years_overview(data).set_index("year")
    assert overview.loc[2024, "documents"] == 3 and overview.loc[2025, "documents"] == 2
    assert overview.loc[2024, "segments"] == 9 and overview.loc[2025, "segments"] == 5
    by_year = corpus_by_year(data, "theme").set_index("theme")
    assert by_year.loc["plan", "2024"] == round(100 * 4 / 9, 1)
    assert by_year.loc["plan", "2025"] == 80.0
    assert by_year.loc["plan", "change"] == round(80.0 - round(100 * 4 / 9, 1), 1)
    changes = municipality_changes(data, "code")
    assert set(changes["place"]) == {"Fjordvik kommune"}  # the only place with two years of the same type
    status = dict(zip(changes["code"], changes["status"]))
    assert status["plan.organisering"] == "ny" and status["niva.selektiv"] == "ny"
    assert status["barriere.styring"] == "borte" and status["suksess.samarbeid"] == "borte"
    assert status["plan.mal"] == "uendret"


def test_click_through_lists_the_segments_behind_a_cell(data):
    rows = segments_behind(data, code="plan.mal", place="Fjordvik kommune")
    assert len(rows) == 2 and set(rows["citation"]) == {"(Fjordvik kommune, s. 1)"}
    m = code_document_matrix(data, all_codes=False)
    doc = data.documents.set_index("document").loc["Nordby kommune 2024 (plan)", "document_id"]
    assert len(segments_behind(data, code="niva.universell", document_id=doc)) == \
        m.loc[m["code"] == "niva.universell", "Nordby kommune 2024 (plan)"].item()
    theme_rows = segments_behind(data, theme="barriere")
    assert len(theme_rows) == 3 and "barriere.okonomi, barriere.kapasitet" in set(theme_rows["code"])


def test_counts_follow_the_store(tmp_path):
    """A new confirmed coding changes the tables (the numbers are read, not fixed)."""
    db = str(tmp_path / "s.db")
    build_store(db)
    before = totals(load(db), "code")
    seg = load(db).segments
    target = int(seg[(seg["place"] == "Nordby kommune") & (seg["seq"] == 1)]["segment_id"].item())
    with transaction(db) as session:
        session.add(Coding(segment_id=target, code="plan.ansvar", source="reviewer", applied=True, created_by="ola"))
    after = totals(load(db), "code")
    assert count(after, "plan.ansvar", "segments") == count(before, "plan.ansvar", "segments") + 1
    with transaction(db) as session:  # a segment only counts once someone marked it done
        extra = int(seg[(seg["place"] == "Fjordvik kommune") & (seg["year"] == 2025) & (seg["seq"] == 4)]
                    ["segment_id"].item())
        session.add(SegmentReview(segment_id=extra, reviewer="kari"))
    data = load(db)
    assert count(totals(data, "code"), "barriere.tiltak", "segments") == 1
    assert int(data.segments["labelled"].sum()) == LABELLED_SEGMENTS + 1


def test_empty_store_gives_empty_tables(db):
    data = load(db)
    assert data.codings.empty
    assert totals(data, "code")["segments"].sum() == 0
    assert cooccurrence_pairs(data).empty
    assert completeness(data).empty
    assert municipality_changes(data).empty


def test_completeness_prefers_a_segment_about_the_element(tmp_path):
    """An earlier segment that names two elements loses to a later one about this element alone."""
    db = str(tmp_path / "s.db")
    build_store(db)
    seg = load(db).segments
    first = int(seg[(seg["document"] == "Fjordvik kommune 2024 (plan)") & (seg["seq"] == 1)]["segment_id"].item())
    with transaction(db) as session:
        session.add(Coding(segment_id=first, code="plan.ansvar", source="reviewer", applied=True, created_by="ola"))
    c = completeness(load(db)).set_index(["document", "element"])
    row = c.loc[("Fjordvik kommune 2024 (plan)", "plan.ansvar")]
    assert row["page"] == "s. 2" and row["quote"].startswith("Kommunalsjef")
    assert c.loc[("Fjordvik kommune 2024 (plan)", "plan.mal"), "segment_id"] == first


APP_SCRIPT = """
from types import SimpleNamespace
from qualcode.store.db import session_factory
from qualcode.app import analyse_page
analyse_page.render(SimpleNamespace(db={db!r}, factory=session_factory({db!r})))
"""


def test_analyse_page_renders_and_filters(store):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(APP_SCRIPT.format(db=store), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Kodinger"] == str(CONFIRMED_ROWS) and metrics["Maskinforslag"] == "–"
    at.selectbox(key="an_source").set_value("Bekreftede + maskinforslag").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Maskinforslag"] == str(MACHINE_ONLY_ROWS)
    at.multiselect(key="an_place").set_value(["Fjordvik kommune"]).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Dokumenter"] == "2"


def test_source_filter_moves_the_denominator(machine):
    only_machine = machine.filter(sources=["machine"])
    assert int(only_machine.segments["in_scope"].sum()) == CODABLE_SEGMENTS - LABELLED_SEGMENTS
    only_confirmed = machine.filter(sources=["reviewer"])
    assert int(only_confirmed.segments["in_scope"].sum()) == LABELLED_SEGMENTS
    assert count(totals(only_confirmed, "code"), "plan.mal", "share") == round(100 * 4 / LABELLED_SEGMENTS, 1)


def test_analyse_computes_only_the_view_in_front_once_and_links_segments(store, monkeypatch):
    """Issue 12: one view's work per change, cached per store version/filters/source; issue 13: links to segments."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from qualcode.analysis import tabs

    from qualcode.app import analyse_page

    analyse_page._view.clear()  # earlier tests of this module may have cached views of this store
    computed = []
    real = tabs.compute
    monkeypatch.setattr(tabs, "compute", lambda data, tab, **kw: computed.append(tab) or real(data, tab, **kw))
    monkeypatch.setenv("QUALCODE_DB", store)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.session_state["reviewer"] = "Kari"
    at.switch_page("qualcode/app/pages/analyse.py").run()
    assert not at.exception
    assert computed == ["themes"]  # not all seven views
    at.run()
    assert computed == ["themes"]  # nothing changed: answered from the cache
    at.get("button_group")[0].set_value("Sitater").run()  # the «Sitater» view
    assert not at.exception and computed == ["themes", "quotes"]
    links = at.get("page_link")
    assert links and all("gjennomgang" in link.proto.page for link in links)
    assert all("segment=" in link.proto.query_string for link in links)
    quotes_shown = [m.value for m in at.markdown if m.value.startswith("> «")]
    assert len(links) == len(quotes_shown)  # every quote opens on the review page
