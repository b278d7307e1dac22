"""The researcher's loop in the app (AppTest): codebook management, metadata, adjudication."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.review import actions
from qualcode.store import schema, session_factory
from test_app import _app, _audit, _no_exception, store, template  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _recoding_finishes(store):  # noqa: F811
    """Re-coding runs in a background thread after a change: let it finish before the store goes away."""
    yield
    from qualcode.app.codebook_page import recoder_for

    recoder_for(store).wait(180)


def _active(db, code, source=None):
    with session_factory(db)() as s:
        query = select(schema.Coding).where(schema.Coding.code == code, schema.Coding.active)
        if source:
            query = query.where(schema.Coding.source == source)
        return s.scalars(query).all()


def _messages(at) -> str:
    return " ".join(str(m.value) for kind in (at.warning, at.info, at.success, at.error) for m in kind)


def _used_code(db) -> str:
    """A code the machine suggested somewhere in the store."""
    with session_factory(db)() as s:
        return s.scalars(select(schema.Coding.code).where(schema.Coding.active, schema.Coding.applied)
                         .order_by(schema.Coding.code)).first()


# -- codebook ----------------------------------------------------------------------------------
def test_add_a_code_in_a_new_nested_place(store):
    at = _app("kodebok")
    at.selectbox(key="cb_new_theme").set_value("barriere")
    at.text_input(key="cb_new_id").input("kapasitet.rekruttering")
    at.text_input(key="cb_new_name").input("Rekruttering")
    at.text_area(key="cb_new_definition").input("Vansker med å rekruttere fagfolk.")
    at.text_area(key="cb_new_patterns").input("rekrutter*\nledige stillinger")
    at.button(key="cb_new_go").click().run()
    _no_exception(at)
    own = Path(store + ".codebook.yaml")
    assert "id: barriere.kapasitet.rekruttering" in own.read_text(encoding="utf-8")
    assert "# =====" in own.read_text(encoding="utf-8")  # the codebook's comments are still there
    with session_factory(store)() as s:
        assert s.get(schema.Code, "barriere.kapasitet.rekruttering").theme == "barriere"
    assert _audit(store, "codebook_add")[0].actor == "Kari"
    assert "La til koden «Rekruttering»" in _messages(at)


def test_a_new_code_without_patterns_is_refused_and_nothing_written(store):
    at = _app("kodebok")
    at.text_input(key="cb_new_id").input("ny")
    at.text_input(key="cb_new_name").input("Ny")
    at.button(key="cb_new_go").click().run()
    assert "definisjon" in at.error[0].value and "mønstre" in at.error[0].value
    assert not Path(store + ".codebook.yaml").exists() and not _audit(store, "codebook_add")


def test_rename_keeps_the_codings(store):
    code = _used_code(store)
    before = len(_active(store, code))
    at = _app("kodebok")
    at.selectbox(key="cb_target").set_value(code).run()
    at.radio(key="cb_action").set_value("rename").run()
    at.text_input(key=f"cb_rename_name_{code}").input("Nytt navn")
    at.text_input(key=f"cb_rename_id_{code}").input(code + "_ny")
    at.button(key="cb_rename_go").click().run()
    _no_exception(at)
    assert not _active(store, code) and len(_active(store, code + "_ny")) == before > 0
    assert _audit(store, "codebook_rename")[0].detail["renamed"] == {code: code + "_ny"}


def test_merge_moves_codings_into_the_other_code(store):
    with session_factory(store)() as s:
        seg = s.scalars(select(schema.Segment.id).where(schema.Segment.codable)).first()
    actions.add(session_factory(store), seg, "barriere.okonomi", "Kari", 0)
    at = _app("kodebok")
    at.selectbox(key="cb_target").set_value("barriere.okonomi").run()
    at.radio(key="cb_action").set_value("merge").run()
    at.selectbox(key="cb_merge_target").set_value("barriere.kapasitet").run()
    at.button(key="cb_merge_go").click().run()
    _no_exception(at)
    assert not _active(store, "barriere.okonomi")
    mine = [c for c in _active(store, "barriere.kapasitet", "reviewer") if c.segment_id == seg]
    assert [(c.created_by, c.applied) for c in mine] == [("Kari", True)]
    assert "id: barriere.okonomi\n" not in Path(store + ".codebook.yaml").read_text(encoding="utf-8")


def test_delete_asks_shows_what_it_affects_and_can_be_undone(store):
    code = _used_code(store)
    n = len(_active(store, code))
    at = _app("kodebok")
    at.selectbox(key="cb_target").set_value(code).run()
    at.radio(key="cb_action").set_value("delete").run()
    assert f"{n} maskinforslag" in at.warning[0].value or f"{n} " in at.warning[0].value
    assert at.button(key="cb_delete_go").disabled  # not before the box is ticked
    at.checkbox(key=f"cb_delete_confirm_{code}").check().run()
    at.button(key="cb_delete_go").click().run()
    _no_exception(at)
    assert not _active(store, code) and f"{n} kodinger skjult" in _messages(at)
    at.button(key="cb_undo").click().run()
    _no_exception(at)
    assert len(_active(store, code)) == n
    assert _audit(store, "codebook_undo")[0].actor == "Kari"


# -- metadata -----------------------------------------------------------------------------------
def test_metadata_edit_on_the_overview(store):
    with session_factory(store)() as s:
        doc = s.scalars(select(schema.Document).where(schema.Document.file_name == "testvik-intervju.txt")).one()
    at = _app("oversikt")
    at.selectbox(key="meta_doc").set_value(doc.id).run()
    at.text_input(key=f"meta_year_{doc.id}").input("2023")
    at.text_input(key=f"meta_informant_role_{doc.id}").input("")
    at.text_input(key=f"meta_size_class_{doc.id}").input("Liten")
    at.button(key="meta_save").click().run()
    _no_exception(at)
    with session_factory(store)() as s:
        doc = s.get(schema.Document, doc.id)
    assert (doc.year, doc.informant_role, doc.size_class) == (2023, None, "liten")
    (entry,) = _audit(store, "metadata")
    assert entry.actor == "Kari" and entry.detail["changes"]["year"] == [2025, 2023]
    at.text_input(key=f"meta_year_{doc.id}").input("tjuetjue")
    at.button(key="meta_save").click().run()
    assert "year" in at.error[0].value and len(_audit(store, "metadata")) == 1


# -- adjudication -------------------------------------------------------------------------------
def test_reliability_lists_a_disagreement_in_norwegian_and_adjudication_settles_it(store):
    factory = session_factory(store)
    with factory() as s:
        seg = s.scalars(select(schema.Segment.id).where(schema.Segment.codable).order_by(schema.Segment.id)).first()
    v = actions.add(factory, seg, "niva.universell", "Ola", 0)
    v = actions.mark_done(factory, seg, "Ola", v)
    v = actions.reject(factory, seg, "niva.universell", "Kari", v)
    actions.mark_done(factory, seg, "Kari", v)
    at = _app("reliabilitet")
    page = " ".join(m.value for m in at.markdown)
    assert "Ola: **gjelder**" in page and "Kari: **gjelder ikke**" in page
    columns = [c for frame in at.dataframe for c in frame.value.columns]
    assert "gjennomgåer" in columns and "κ gjennomgåere" in columns
    assert not any(c.startswith(("n_", "kappa_", "alpha_")) for c in columns)
    assert not any(str(v) in ("None", "nan", "<NA>") for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    at.text_input(key=f"adj_note_{seg}_niva.universell").input("Tilbudet er for alle.")
    at.button(key=f"adj_yes_{seg}_niva.universell").click().run()
    _no_exception(at)
    with factory() as s:
        (adj,) = s.scalars(select(schema.Adjudication)).all()
        from qualcode.review.labels import reviewed_labels

        assert "niva.universell" in reviewed_labels(s)[seg]
    assert (adj.segment_id, adj.code, adj.applied, adj.adjudicator, adj.note) == \
        (seg, "niva.universell", True, "Kari", "Tilbudet er for alle.")
    assert _audit(store, "adjudicate")[0].detail["positions"] == {"Ola": True, "Kari": False}
    assert not any(b.key == f"adj_yes_{seg}_niva.universell" for b in at.button)  # settled: off the list
    at.button(key=f"adj_undo_{adj.id}").click().run()
    assert any(b.key == f"adj_yes_{seg}_niva.universell" for b in at.button)


def test_guessed_metadata_is_marked_until_confirmed(store):
    with session_factory(store).begin() as s:
        doc = s.scalars(select(schema.Document).where(schema.Document.file_name == "nordby-plan.pdf")).one()
        doc.metadata_inferred = ["municipality", "year"]
        doc_id = doc.id
    at = _app("oversikt")
    assert "Nordby kommune (antatt)" in set(at.dataframe[0].value["kommune"])
    assert at.selectbox(key="meta_doc").value == doc_id  # guessed documents come first
    assert at.text_input(key=f"meta_municipality_{doc_id}").label == "Kommune (antatt)"
    at.button(key="meta_confirm").click().run()
    _no_exception(at)
    assert "Nordby kommune (antatt)" not in set(at.dataframe[0].value["kommune"])
    with session_factory(store)() as s:
        assert s.get(schema.Document, doc_id).metadata_inferred == []
    assert _audit(store, "metadata")[0].detail["confirmed"] == ["municipality", "year"]
