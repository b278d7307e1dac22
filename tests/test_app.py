"""The review app through Streamlit's AppTest: every page renders, every review action reaches the store."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from fixtures.corpus import write_corpus
from qualcode.app.escape import md
from qualcode.coding.codebook import DEFAULT_PATH, load_codebook
from qualcode.review import actions
from qualcode.store import schema, session_factory

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["oversikt", "importer", "gjennomgang", "kodebok", "analyse", "reliabilitet", "eksport"]
INTERVIEW = [("interviewer", "Hvordan samarbeider dere med skolen?"),
             ("informant", "Vi har et tverrfaglig team med skolen og helsestasjonen, og tidlig innsats er viktig.")]


def fill_store(db: str, folder: Path) -> str:
    """Ingest (and rule-code) the fixture corpus, then add an interview by direct inserts."""
    from qualcode.ingest import ingest
    from qualcode.pipeline import Coding, finish_run, start_run

    factory = session_factory(db)
    run = start_run(factory, "test")
    results = ingest(factory, [write_corpus(folder)], run, coding=Coding())
    finish_run(factory, run, {"ingested": len(results)})
    with factory.begin() as s:
        doc = schema.Document(content_hash="intervju-1", file_name="testvik-intervju.txt", source_path=str(folder),
                              municipality="Testvik kommune", year=2025, doc_type="intervju",
                              informant_role="barnevernleder", size_bytes=1, page_count=1, engine="test",
                              is_transcript=True, text="\n\n".join(t for _, t in INTERVIEW))
        s.add(doc)
        s.flush()
        question = None
        for seq, (role, text) in enumerate(INTERVIEW):
            seg = schema.Segment(document_id=doc.id, seq=seq, kind="turn", start=0, end=len(text), page_start=1,
                                 page_end=1, text=text, role=role, codable=role == "informant",
                                 context_segment_id=question.id if question else None)
            s.add(seg)
            s.flush()
            question = seg
    return db


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("template")
    db = fill_store(str(folder / "template.db"), folder / "corpus")
    session_factory(db).kw["bind"].dispose()
    return db


@pytest.fixture
def store(template, tmp_path, monkeypatch) -> str:
    """A private copy of the filled store (SQLite backup API: safe with WAL) named by QUALCODE_DB."""
    db = str(tmp_path / "store.db")
    with sqlite3.connect(template) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    monkeypatch.setenv("QUALCODE_DB", db)
    monkeypatch.delenv("QUALCODE_RETRAIN_EVERY", raising=False)
    return db


def _app(page: str | None = None, reviewer: str | None = "Kari", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if reviewer:
        at.session_state["reviewer"] = reviewer
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"qualcode/app/pages/{page}.py").run()
    _no_exception(at)
    return at


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _key_parts(at: AppTest, prefix: str) -> list[tuple[int, str]]:
    """(segment id, code) of the buttons whose key starts with ``prefix`` (e.g. "yes_")."""
    found = []
    for button in at.button:
        if button.key and button.key.startswith(prefix) and not button.disabled:
            _, seg, code = button.key.split("_", 2)
            found.append((int(seg), code))
    return found


def _shown_segment(at: AppTest) -> int:
    state = at.session_state["_queue"]
    return state.ids[state.pos]


def _codings(db, seg, reviewer="Kari"):
    with session_factory(db)() as s:
        return s.scalars(select(schema.Coding).where(schema.Coding.segment_id == seg, schema.Coding.source == "reviewer",
                                                      schema.Coding.created_by == reviewer)
                         .order_by(schema.Coding.id)).all()


def _audit(db, action):
    with session_factory(db)() as s:
        return s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == action)).all()


def _messages(at: AppTest) -> str:
    return " ".join(str(m.value) for kind in (at.warning, at.info, at.success, at.error) for m in kind)


# -- pages -----------------------------------------------------------------------
@pytest.mark.parametrize("reviewer", [None, "Kari"])
def test_every_page_renders(store, reviewer):
    at = _app(reviewer=reviewer)
    assert at.title[0].value == "Oversikt"
    for page in PAGES:
        at.switch_page(f"qualcode/app/pages/{page}.py").run()
        _no_exception(at)
        assert at.title, page


def test_overview_lists_documents_with_progress(store):
    at = _app("oversikt")
    docs = at.dataframe[0].value
    assert set(docs["kommune"]) == {"Testvik kommune", "Prøvedal kommune", "Nordby kommune"}
    assert set(docs["år"].dropna()) == {2024, 2025}
    assert (docs["ferdig"] == 0).all()


def test_missing_store_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_DB", str(tmp_path / "finnes-ikke.db"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert "qualcode demo" in at.error[0].value
    assert not (tmp_path / "finnes-ikke.db").exists()


def test_review_needs_a_name_before_anything_can_change(store):
    at = _app("gjennomgang", reviewer=None)
    assert not _key_parts(at, "yes_") and not any(b.key == "nav_done" for b in at.button)
    at.text_input(key="name_prompt").input("Kari")
    at.button[0].click().run()  # "Start gjennomgang"
    _no_exception(at)
    assert at.session_state["reviewer"] == "Kari"
    assert any(b.key == "nav_done" for b in at.button)


# -- review actions -------------------------------------------------------------------
def test_accept_is_stored_with_reviewer_and_audited(store):
    at = _app("gjennomgang", f_band="high")
    seg, code = _key_parts(at, "yes_")[0]
    at.button(key=f"yes_{seg}_{code}").click().run()
    _no_exception(at)
    (coding,) = _codings(store, seg)
    assert (coding.code, coding.applied, coding.active) == (code, True, True)
    assert [(a.actor, a.segment_id) for a in _audit(store, "accept")] == [("Kari", seg)]
    assert at.button(key=f"yes_{seg}_{code}").disabled  # the page shows the new state


def test_reject_is_a_reviewer_coding_that_does_not_apply(store):
    at = _app("gjennomgang", f_band="high")
    seg, code = _key_parts(at, "no_")[0]
    at.button(key=f"no_{seg}_{code}").click().run()
    (coding,) = _codings(store, seg)
    assert (coding.code, coding.applied) == (code, False)
    assert _audit(store, "reject")[0].detail["code"] == code


def test_one_pick_adds_one_code(store):
    at = _app("gjennomgang")
    seg = _shown_segment(at)
    at.selectbox(key=f"add_{seg}").set_value("perspektiv.barn").run()
    _no_exception(at)
    assert [(c.code, c.applied) for c in _codings(store, seg)] == [("perspektiv.barn", True)]
    assert at.selectbox(key=f"add_{seg}").value is None  # emptied for the next pick
    assert not any("perspektiv.barn" in option for option in at.selectbox(key=f"add_{seg}").options)
    at.selectbox(key=f"add_{seg}").set_value("suksess.kompetanse").run()
    assert [c.code for c in _codings(store, seg)] == ["perspektiv.barn", "suksess.kompetanse"]
    assert len(_audit(store, "add")) == 2
    assert any(b.key == f"yes_{seg}_suksess.kompetanse" for b in at.button)  # shown as a row, can be undone


def test_memo_is_saved(store):
    at = _app("gjennomgang")
    seg = _shown_segment(at)
    at.text_area(key=f"memo_{seg}").input("Tvilstilfelle: nivå?").run()
    at.button(key=f"memobtn_{seg}").click().run()
    with session_factory(store)() as s:
        (memo,) = s.scalars(select(schema.Memo)).all()
    assert (memo.segment_id, memo.author, memo.text) == (seg, "Kari", "Tvilstilfelle: nivå?")
    assert _audit(store, "memo")[0].segment_id == seg


def test_done_confirms_suggestions_and_moves_on(store):
    at = _app("gjennomgang", f_band="high")
    seg = _shown_segment(at)
    with session_factory(store)() as s:
        machine = s.scalars(select(schema.Coding).where(schema.Coding.segment_id == seg,
                                                        schema.Coding.source.in_(("rule", "model")))).all()
    # once the model has coded a segment, its decision is final (the rule rows are evidence)
    final = "model" if any(c.source == "model" for c in machine) else "rule"
    suggested = {c.code for c in machine if c.source == final and c.applied}
    assert suggested
    at.button(key="nav_done").click().run()
    _no_exception(at)
    assert _shown_segment(at) != seg
    assert {c.code for c in _codings(store, seg) if c.applied} == suggested
    with session_factory(store)() as s:
        assert s.scalars(select(schema.SegmentReview.reviewer).where(schema.SegmentReview.segment_id == seg)).all() \
            == ["Kari"]


def test_undo_deactivates_the_last_change(store):
    at = _app("gjennomgang", f_band="high")
    seg, code = _key_parts(at, "yes_")[0]
    at.button(key=f"yes_{seg}_{code}").click().run()
    at.button(key="nav_undo").click().run()
    _no_exception(at)
    (coding,) = _codings(store, seg)
    assert coding.active is False
    assert _audit(store, "undo")[0].detail["codes"] == [code]
    assert "Angret" in _messages(at)
    assert not at.button(key=f"yes_{seg}_{code}").disabled


def test_stale_write_is_refused_and_the_fresh_state_shown(store):
    at = _app("gjennomgang", f_band="high")
    seg, code = _key_parts(at, "yes_")[0]
    with session_factory(store)() as s:
        version = s.get(schema.Segment, seg).review_version
    actions.reject(session_factory(store), seg, code, "Ola", version)  # a second reviewer, in between
    at.button(key=f"yes_{seg}_{code}").click().run()
    _no_exception(at)
    assert "Segmentet ble endret av en annen (Ola)" in _messages(at)
    assert _codings(store, seg) == []  # Kari's click did not overwrite Ola's decision
    at.button(key=f"yes_{seg}_{code}").click().run()  # after seeing the fresh version, it goes through
    assert [c.applied for c in _codings(store, seg)] == [True]


def test_two_browser_sessions_on_one_segment(store):
    """Kari and Ola (two AppTest sessions, one process, like two browser tabs) open the same interview turn."""
    with session_factory(store)() as s:
        doc = s.scalar(select(schema.Document.id).where(schema.Document.doc_type == "intervju"))
    kari = _app("gjennomgang", reviewer="Kari", f_document=doc)
    ola = _app("gjennomgang", reviewer="Ola", f_document=doc)
    seg = _shown_segment(kari)
    assert _shown_segment(ola) == seg  # the only codable segment of the interview
    assert "Kari har også dette segmentet åpent" in _messages(ola)
    ola.selectbox(key=f"add_{seg}").set_value("suksess.samarbeid").run()  # Ola adds a code first ...
    kari.selectbox(key=f"add_{seg}").set_value("plan.samarbeid").run()  # ... Kari's page is older
    assert "Segmentet ble endret av en annen (Ola)" in _messages(kari)
    assert _codings(store, seg, "Kari") == [] and len(_codings(store, seg, "Ola")) == 1
    ola_code = load_codebook().code("suksess.samarbeid").name
    assert ola_code in " ".join(m.value for m in kari.markdown)  # Ola's decision is now on screen
    kari.selectbox(key=f"add_{seg}").set_value("plan.samarbeid").run()  # picked again on the fresh page
    assert [c.code for c in _codings(store, seg, "Kari")] == ["plan.samarbeid"]
    ola.run()  # Ola's next rerun tells her the segment changed under her
    assert "Segmentet ble endret av en annen (Kari)" in _messages(ola)


def test_a_new_queue_skips_a_segment_a_colleague_has_open(store):
    kari = _app("gjennomgang", reviewer="Kari", f_order="doc")
    ola = _app("gjennomgang", reviewer="Ola", f_order="doc")
    assert _shown_segment(ola) != _shown_segment(kari)


def test_interview_segment_shows_its_question_and_citation(store):
    at = _app("gjennomgang", f_code=None, f_status="all", f_order="doc")
    with session_factory(store)() as s:
        doc = s.scalar(select(schema.Document.id).where(schema.Document.doc_type == "intervju"))
    at.selectbox(key="f_document").set_value(doc).run()
    _no_exception(at)
    assert at.subheader[0].value == "Testvik 2025 intervju, §2"  # the answer, after the question
    assert any("(Testvik kommune, intervju, barnevernleder)" in c.value.replace("\\", "") for c in at.caption)
    assert any("Hvordan samarbeider dere med skolen?" in h.value for h in at.html)


def test_evidence_is_highlighted_in_the_segment(store):
    at = _app("gjennomgang", f_band="high")
    assert any("<mark" in h.value for h in at.html)


# -- other pages -------------------------------------------------------------------
def test_codebook_edit_shows_field_errors_and_saves_beside_the_store(store):
    shipped = hashlib.sha256(DEFAULT_PATH.read_bytes()).hexdigest()
    at = _app("kodebok")
    at.selectbox(key="cb_code").set_value("plan.mal").run()
    area = next(t for t in at.text_area if t.key.startswith("cb_yaml_"))
    good = area.value
    area.input(good.replace("patterns:\n", "patterns:\n  - 'ulovlig * midt'\n", 1)).run()
    at.button(key="cb_save").click().run()
    assert "patterns[0]" in at.error[0].value and "plan.mal" in at.error[0].value
    own = Path(store + ".codebook.yaml")
    assert not own.exists()
    area = next(t for t in at.text_area if t.key.startswith("cb_yaml_"))
    area.input(good.replace("name: ", "name: Redigert ", 1)).run()
    at.button(key="cb_save").click().run()
    _no_exception(at)
    assert own.is_file() and "Redigert" in own.read_text(encoding="utf-8")
    assert hashlib.sha256(DEFAULT_PATH.read_bytes()).hexdigest() == shipped
    at.switch_page("qualcode/app/pages/gjennomgang.py").run()  # the app now uses the store's own codebook
    assert "store.db.codebook.yaml" in " ".join(c.value for c in at.sidebar.caption)
    assert _audit(store, "codebook_edit")[0].actor == "Kari"
    from qualcode.app.codebook_page import recoder_for

    recoder_for(store).wait(120)  # suggestions are re-coded in the background after a change


def test_import_from_upload_and_folder_lists_failures(store, tmp_path):
    at = _app("importer")
    at.file_uploader(key="uploads").upload("ny-plan.txt", "Plan for Nyby kommune.\n\nAlle barn skal få tidlig hjelp."
                                           .encode("utf-8"), "text/plain")
    folder = tmp_path / "mappe"
    folder.mkdir()
    (folder / "ødelagt.pdf").write_bytes(b"%PDF-1.4 dette er ikke en ekte pdf")
    at.text_input(key="import_folder").input(str(folder))
    at.button(key="import_go").click().run()
    _no_exception(at)
    assert "1 importert" in at.success[0].value and "1 feilet" in at.success[0].value
    assert md("ødelagt.pdf") in at.error[0].value
    with session_factory(store)() as s:
        doc = s.scalars(select(schema.Document).where(schema.Document.file_name == "ny-plan.txt")).one()
        assert Path(doc.source_path).parent.parent == Path(store + ".opplastinger")
        assert s.scalars(select(schema.Coding).join(schema.Segment).where(schema.Segment.document_id == doc.id)).all()


@pytest.mark.parametrize("page, module", [("analyse", "qualcode.app.analyse_page"),
                                          ("eksport", "qualcode.app.export_page")])
def test_delegated_pages_render_or_say_they_are_coming(store, page, module):
    import importlib.util

    at = _app(page)
    coming = f"{page.capitalize()} kommer" in _messages(at)
    assert coming == (importlib.util.find_spec(module) is None)


def test_cli_refuses_a_missing_store(tmp_path):
    from typer.testing import CliRunner

    from qualcode.cli import app
    from qualcode.cli.app import UserError

    result = CliRunner().invoke(app, ["app", "--db", str(tmp_path / "nei.db")])
    assert isinstance(result.exception, UserError) and "qualcode demo" in str(result.exception)
    assert not (tmp_path / "nei.db").exists()


def test_retraining_starts_after_n_corrections_and_reports_kappa(store):
    from qualcode.app.retrain import trainer_available
    from qualcode.app.retrain import retrainer_for

    if not trainer_available():
        pytest.skip("qualcode.coding.training is not there yet")
    at = _app("gjennomgang", f_band="high", retrain_every=2)
    for _ in range(2):
        at.button(key="nav_done").click().run()
        _no_exception(at)
    trainer = retrainer_for(store)
    trainer.wait(120)
    assert trainer.last is not None and trainer.last.ok, trainer.last
    at.run()
    assert "Modellen er trent på nytt" in _messages(at)


def test_ranking_is_shared_until_the_store_changes(store):
    pytest.importorskip("qualcode.coding.active")
    from qualcode.app.ranking import Ranking

    ranking, book = Ranking(), load_codebook()
    factory = session_factory(store)
    with factory() as s:
        first = ranking.items(s, 3, book)
        computed = ranking._at
        assert ranking.items(s, 2, book) == first[:2] and ranking._at == computed  # reused
    with factory.begin() as s:
        doc = s.scalar(select(schema.Document.id))
        s.add(schema.Segment(document_id=doc, seq=99, kind="paragraph", start=0, end=4, page_start=1, page_end=1,
                             text="Alle barn skal få tidlig hjelp."))
    with factory() as s:
        ranking.items(s, 3, book)
        assert ranking._at != computed  # new segment in the corpus: ranked afresh


# -- review page for speed and readable evidence ------------------------------------------
def test_keyboard_shortcuts_are_wired_to_the_page_buttons_and_shown(store):
    from qualcode.app.review_page import KEYS_SCRIPT, SHORTCUTS

    at = _app("gjennomgang", f_band="high")
    seg = _shown_segment(at)
    script = next(h.value for h in at.html if "__qualcodeReviewKeys" in h.value)
    assert script == KEYS_SCRIPT
    # every button the script presses exists on the page under the key it looks for
    keys = {b.key for b in at.button}
    for key in ("nav_done", "nav_skip", "nav_prev", "nav_undo"):
        assert f".st-key-{key}" in script and key in keys
    assert "st-key-yes_" in script and any(k.startswith(f"yes_{seg}_") for k in keys)
    assert "st-key-no_" in script and any(k.startswith(f"no_{seg}_") for k in keys)
    assert "st-key-add_" in script and at.selectbox(key=f"add_{seg}")
    assert "st-key-segment_" in script and "st-key-sug_" in script
    # the legend on the page names every shortcut the script handles
    legend = next(h.value for h in at.html if "qc-keys" in h.value)
    for key, what in SHORTCUTS:
        assert f"<kbd>{key}</kbd> {what}" in legend
    for js_key in ('"g"', '"a"', '"Enter"', '"ArrowRight"', '"ArrowLeft"', '"u"', '"l"', '"ArrowDown"', '"ArrowUp"'):
        assert js_key in script


def test_suggestions_show_colour_why_and_what_done_will_confirm(store):
    at = _app("gjennomgang", f_band="high")
    seg = _shown_segment(at)
    with session_factory(store)() as s:
        from qualcode.review.segment_view import load_segment

        view = load_segment(s, seg)
    rows = [h.value for h in at.html if 'class="qc-sug"' in h.value]
    assert len(rows) == len(view.suggestions)
    applied = [sug for sug in view.suggestions if sug.applied]
    assert sum("godtas</span>" in r for r in rows) == len(applied)  # what «Ferdig – neste» will confirm
    first = view.suggestions[0]
    assert first.words() and all(f"«{w}»" in rows[0] for w in first.words()[:4])  # plain why-line
    assert "sikker" in rows[0] and "near(" not in rows[0]
    segment_html = next(h.value for h in at.html if "<mark" in h.value)
    swatch = rows[0].split("background:")[1].split(";")[0]
    assert swatch in segment_html  # the evidence words carry the code's own colour
    assert len({r.split("background:")[1].split(";")[0] for r in rows}) == min(len(rows), 10)


def test_a_link_opens_its_segment_on_the_review_page(store):
    with session_factory(store)() as s:
        seg = s.scalars(select(schema.Segment.id).where(schema.Segment.codable).order_by(schema.Segment.id.desc())).first()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["reviewer"] = "Kari"
    at.query_params["segment"] = str(seg)
    at.switch_page("qualcode/app/pages/gjennomgang.py").run()
    _no_exception(at)
    assert _shown_segment(at) == seg
    assert "segment" not in at.query_params  # read once: «Ferdig – neste» moves on as usual
    at.button(key="nav_done").click().run()
    state = at.session_state["_queue"]
    assert state.pos >= len(state.ids) or state.ids[state.pos] != seg  # moved on from the linked segment
    with session_factory(store)() as s:
        assert s.scalars(select(schema.SegmentReview.reviewer).where(schema.SegmentReview.segment_id == seg)).all() \
            == ["Kari"]


def test_retraining_counts_reviewed_segments_not_clicks(store):
    from qualcode.app.retrain import retrainer_for, trainer_available

    if not trainer_available():
        pytest.skip("qualcode.coding.training is not there yet")
    at = _app("gjennomgang", f_band="high", retrain_every=2)
    seg, code = _key_parts(at, "yes_")[0]
    for _ in range(3):  # three clicks on one segment are not three reviewed segments
        at.button(key=f"no_{seg}_{code}").click().run()
        at.button(key=f"yes_{seg}_{code}").click().run()
    trainer = retrainer_for(store)
    assert trainer.last is None and not trainer.running
    at.button(key="nav_done").click().run()
    assert not trainer.running and trainer.last is None  # one segment reviewed
    at.button(key="nav_done").click().run()
    assert trainer.running or trainer.last is not None  # the second starts the retraining
    trainer.wait(120)
