"""Review actions and the review page's data functions, on real SQLite stores (no Streamlit)."""
from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import func, select

from qualcode.app.highlight import highlight_html, merge_spans
from qualcode.app.retrain import macro_kappa
from qualcode.coding.apply import sync_codebook
from qualcode.coding.codebook import DEFAULT_PATH, CodebookError, load_codebook
from qualcode.review import actions
from qualcode.review.labels import labels_by_reviewer, reviewed_labels
from qualcode.review.progress import code_counts, document_progress, overall
from qualcode.review.queue import Filters, count_matching, document_order, keep_matching
from qualcode.review.segment_view import citation, load_segment
from qualcode.store import schema, session_factory

PLAN = ["Mål for arbeidet", "Alle barn skal få et godt tilbud i barnehage og skole.",
        "Barneverntjenesten har ansvar for hjelpetiltak i enkeltsaker.", "Kommunen mangler midler.",
        "Tverrfaglig team møtes hver måned.", "Planen evalueres hvert år."]


def _evidence(text: str, word: str, pattern: str) -> dict:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "text": word, "pattern": pattern}


@pytest.fixture
def store(db):
    """A plan of six segments (one heading) over two pages and an interview, with rule codings."""
    factory = session_factory(db)
    book = load_codebook()
    with factory.begin() as s:
        sync_codebook(s, book)
        plan = schema.Document(content_hash="p", file_name="plan.pdf", source_path="/x/plan.pdf",
                               municipality="Fjordvik kommune", year=2024, doc_type="plan", size_bytes=1,
                               page_count=2, engine="test", text="\n\n".join(PLAN))
        talk = schema.Document(content_hash="i", file_name="intervju.txt", source_path="/x/i.txt",
                               municipality="Fjordvik kommune", year=2025, doc_type="intervju",
                               informant_role="barnevernleder", size_bytes=1, page_count=1, engine="test",
                               is_transcript=True, text="Q\n\nA")
        s.add_all([plan, talk])
        s.flush()
        segs, pos = [], 0
        for seq, text in enumerate(PLAN):
            segs.append(schema.Segment(document_id=plan.id, seq=seq, kind="heading" if seq == 0 else "paragraph",
                                       start=pos, end=pos + len(text), page_start=1 if seq < 3 else 2,
                                       page_end=2 if seq == 2 else (1 if seq < 3 else 2), text=text,
                                       codable=seq != 0))
            pos += len(text) + 2
        question = schema.Segment(document_id=talk.id, seq=0, kind="turn", start=0, end=1, page_start=1, page_end=1,
                                  text="Hvordan samarbeider dere?", role="interviewer", codable=False)
        s.add_all(segs + [question])
        s.flush()
        answer = schema.Segment(document_id=talk.id, seq=1, kind="turn", start=3, end=4, page_start=1, page_end=1,
                                text="Vi har et tverrfaglig team.", role="informant", context_segment_id=question.id)
        s.add(answer)
        s.flush()
        text = segs[1].text
        s.add_all([
            schema.Coding(segment_id=segs[1].id, code="niva.universell", source="rule", applied=True, score=0.8,
                          evidence=[_evidence(text, "Alle barn", "alle barn"), _evidence(text, "barnehage", "barnehage*")],
                          codebook_version=book.version, created_by="qualcode-rules"),
            schema.Coding(segment_id=segs[1].id, code="plan.mal", source="rule", applied=False, score=0.4,
                          evidence=[], created_by="qualcode-rules"),
            schema.Coding(segment_id=segs[2].id, code="niva.indikert", source="rule", applied=True, score=0.6,
                          evidence=[], created_by="qualcode-rules"),
            schema.Coding(segment_id=segs[3].id, code="barriere.okonomi", source="rule", applied=True, score=0.5,
                          evidence=[], created_by="qualcode-rules"),
        ])
    return {"db": db, "factory": factory, "plan": [x.id for x in segs], "question": question.id,
            "answer": answer.id, "book": book}


def _version(factory, seg):
    with factory() as s:
        return s.scalar(select(schema.Segment.review_version).where(schema.Segment.id == seg))


def _count(factory, model, *where):
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _reviewer_codings(factory, seg, **kw):
    with factory() as s:
        q = select(schema.Coding).where(schema.Coding.segment_id == seg, schema.Coding.source == "reviewer")
        for k, v in kw.items():
            q = q.where(getattr(schema.Coding, k) == v)
        return s.scalars(q.order_by(schema.Coding.id)).all()


def _audit(factory, action):
    with factory() as s:
        return s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == action)
                         .order_by(schema.AuditEntry.id)).all()


# -- actions -------------------------------------------------------------------
def test_accept_writes_a_reviewer_coding_and_an_audit_row_in_one_step(store):
    f, seg = store["factory"], store["plan"][1]
    new = actions.accept(f, seg, "niva.universell", "Kari", expected_version=0)
    assert new == 1 == _version(f, seg)
    (coding,) = _reviewer_codings(f, seg)
    assert (coding.code, coding.applied, coding.created_by, coding.active) == ("niva.universell", True, "Kari", True)
    assert [e["text"] for e in coding.evidence] == ["Alle barn", "barnehage"]  # kept for exports
    (entry,) = _audit(f, "accept")
    assert (entry.actor, entry.segment_id, entry.entity_id) == ("Kari", seg, str(coding.id))
    assert entry.detail["code"] == "niva.universell"


def test_reject_and_add_then_done_give_the_labels(store):
    f, seg = store["factory"], store["plan"][1]
    v = actions.reject(f, seg, "niva.universell", "Kari", 0)
    v = actions.add(f, seg, "perspektiv.barn", "Kari", v)
    v = actions.mark_done(f, seg, "Kari", v)
    assert v == 3
    with f() as s:
        assert reviewed_labels(s) == {seg: {"perspektiv.barn"}}
    assert [a.detail["applied"] for a in _audit(f, "reject") + _audit(f, "add")] == [False, True]


def test_done_confirms_the_suggestions_left_as_they_were(store):
    f, seg = store["factory"], store["plan"][1]
    with f() as s:
        pending = load_segment(s, seg).pending("Kari")
    assert pending == ["niva.universell"]  # the weak "plan.mal" is not pending
    actions.mark_done(f, seg, "Kari", 0, accept_codes=pending)
    with f() as s:
        assert reviewed_labels(s) == {seg: {"niva.universell"}}
        assert load_segment(s, seg).pending("Kari") == []


def test_unknown_code_is_refused_and_nothing_is_written(store):
    f, seg = store["factory"], store["plan"][1]
    with pytest.raises(actions.UnknownCodeError):
        actions.add(f, seg, "niva.finnes_ikke", "Kari", 0)
    assert _version(f, seg) == 0 and not _reviewer_codings(f, seg) and not _audit(f, "add")


def test_a_reviewer_name_is_required(store):
    with pytest.raises(ValueError):
        actions.accept(store["factory"], store["plan"][1], "niva.universell", "  ", 0)


def test_stale_write_is_refused_and_names_who_changed_it(store):
    f, seg = store["factory"], store["plan"][1]
    actions.accept(f, seg, "niva.universell", "Ola", 0)
    with pytest.raises(actions.StaleWriteError) as err:
        actions.reject(f, seg, "niva.universell", "Kari", 0)
    assert (err.value.changed_by, err.value.current, err.value.expected) == ("Ola", 1, 0)
    assert [c.created_by for c in _reviewer_codings(f, seg)] == ["Ola"]
    assert not _audit(f, "reject")
    for fn, args in [(actions.mark_done, ("Kari", 0)), (actions.memo, ("Kari", "tekst", 0))]:
        with pytest.raises(actions.StaleWriteError):
            fn(f, seg, *args)


def test_two_reviewers_at_once_never_both_win(store):
    """Real threads, one SQLite file: exactly one of two simultaneous writes on the same version succeeds."""
    f, seg = store["factory"], store["plan"][2]
    barrier, outcomes = threading.Barrier(2), {}

    def work(name, fn):
        barrier.wait()
        try:
            fn(f, seg, "niva.indikert", name, 0)
            outcomes[name] = "ok"
        except actions.StaleWriteError:
            outcomes[name] = "stale"

    threads = [threading.Thread(target=work, args=a) for a in (("Kari", actions.accept), ("Ola", actions.reject))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["ok", "stale"]
    assert _version(f, seg) == 1 and len(_reviewer_codings(f, seg)) == 1


def test_undo_steps_back_through_the_reviewers_own_actions_without_deleting(store):
    f, (s1, s2) = store["factory"], store["plan"][1:3]
    actions.accept(f, s1, "niva.universell", "Kari", 0)
    v = actions.reject(f, s2, "niva.indikert", "Kari", 0)
    actions.mark_done(f, s2, "Kari", v, accept_codes=["barriere.okonomi"])
    actions.add(f, s1, "plan.mal", "Ola", 1)  # someone else's newer change is not Kari's to undo
    rows_before = _count(f, schema.Coding) + _count(f, schema.SegmentReview)

    first = actions.undo_last(f, "Kari")  # the done mark and its confirmation go together
    assert first.segment_id == s2 and first.codes == ["barriere.okonomi"] and len(first.reviews) == 1
    with f() as s:
        assert reviewed_labels(s) == {}
    second = actions.undo_last(f, "Kari")
    assert (second.segment_id, second.codes) == (s2, ["niva.indikert"])
    assert actions.undo_last(f, "Kari").codes == ["niva.universell"]
    assert actions.undo_last(f, "Kari") is None

    assert _count(f, schema.Coding) + _count(f, schema.SegmentReview) == rows_before
    assert [c.active for c in _reviewer_codings(f, s1)] == [False, True]  # Ola's add stays
    assert len(_audit(f, "undo")) == 3
    assert _version(f, s2) == 4  # reject, done, and two undos each moved the version on


def test_memo_newest_wins_and_empty_clears(store):
    f, seg = store["factory"], store["plan"][1]
    v = actions.memo(f, seg, "Kari", "  Usikker på nivå. ", 0)
    with f() as s:
        assert load_segment(s, seg).memos == {"Kari": "Usikker på nivå."}
    actions.memo(f, seg, "Kari", "", v)
    with f() as s:
        assert load_segment(s, seg).memos == {}
    assert _count(f, schema.Memo) == 2 and len(_audit(f, "memo")) == 2


# -- what the page shows ---------------------------------------------------------
def test_segment_view_has_citation_neighbours_and_evidence(store):
    f = store["factory"]
    with f() as s:
        view = load_segment(s, store["plan"][2])
        assert view.citation == "Fjordvik kommune, s. 1–2"
        assert (view.previous, view.following) == (PLAN[1], PLAN[3])
        first = load_segment(s, store["plan"][1])
        assert first.citation == "Fjordvik kommune, s. 1"
        assert [x.code for x in first.suggestions] == ["niva.universell", "plan.mal"]
        assert [first.text[a:b] for a, b, _ in first.evidence_spans()] == ["Alle barn", "barnehage"]
        answer = load_segment(s, store["answer"])
        assert answer.citation == "(Fjordvik kommune, intervju, barnevernleder)"
        assert answer.question == "Hvordan samarbeider dere?" and answer.previous is None
        assert load_segment(s, 10_000) is None
    assert citation(None, "plan.pdf", "plan", False, None, 3, 3) == "plan.pdf, s. 3"
    assert citation(None, "i.txt", None, True, None, 1, 1) == "(i.txt, intervju)"


def test_highlight_escapes_text_and_merges_spans():
    text = "Tiltak <script>x</script> for alle barn\nog unge"
    start = text.index("alle")
    html = highlight_html(text, [(start, start + 9, "a"), (start + 5, start + 11, "b"), (-5, 0, "tom"),
                                 (len(text) - 4, len(text) + 50, "c")])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<mark") == 2 and 'title="a; b"' in html and "<br>" in html
    assert merge_spans([(5, 2, "x")], 10) == []


def test_document_order_pages_cover_every_codable_segment_once(store):
    f = store["factory"]
    with f() as s:
        seen, after = [], None
        while True:
            page = document_order(s, Filters(status="all"), after, limit=2)
            seen += [r[0] for r in page]
            if len(page) < 2:
                break
            after = page[-1][1:]
        assert seen == store["plan"][1:] + [store["answer"]]  # headings and questions are not codable
        assert count_matching(s, Filters(status="all")) == len(seen)


def test_filters_status_code_band_and_document(store):
    f, plan = store["factory"], store["plan"]
    actions.mark_done(f, plan[3], "Ola", 0)
    with f() as s:
        ids = lambda **kw: [r[0] for r in document_order(s, Filters(**kw))]  # noqa: E731
        assert plan[3] not in ids() and plan[3] in ids(status="done") and ids(status="done") == [plan[3]]
        assert plan[3] in ids(status="todo_me", reviewer="Kari") and plan[3] not in ids(status="todo_me", reviewer="Ola")
        assert ids(code="niva.universell") == [plan[1]]
        assert ids(code="plan.mal") == [plan[1]]  # weak suggestions count as "has the code"
        assert ids(band="high") == [plan[1]]
        assert ids(band="medium") == [plan[2]]
        assert set(ids(band="none")) == {plan[4], plan[5], store["answer"]}
        assert ids(document_id=None, status="all")[-1] == store["answer"]
        assert keep_matching(s, [plan[2], 999, plan[1]], Filters()) == [plan[2], plan[1]]


def test_progress_counts(store):
    f, plan = store["factory"], store["plan"]
    v = actions.reject(f, plan[1], "niva.universell", "Kari", 0)
    actions.mark_done(f, plan[1], "Kari", v)
    actions.mark_done(f, plan[2], "Kari", 0, accept_codes=["niva.indikert"])
    with f() as s:
        assert overall(s, "Kari") == {"codable": 6, "done": 2, "mine": 2}
        docs = document_progress(s).set_index("fil")
        assert (docs.loc["plan.pdf", "kodbare"], docs.loc["plan.pdf", "ferdig"]) == (5, 2)
        assert docs.loc["plan.pdf", "andel"] == pytest.approx(0.4)
        counts = code_counts(s, store["book"]).set_index("kode")
    assert counts.loc["niva.universell", ["forslag", "bekreftet", "avvist"]].tolist() == [1, 0, 1]
    assert counts.loc["niva.indikert", ["forslag", "bekreftet", "avvist"]].tolist() == [1, 1, 0]
    assert counts.loc["plan.mal", "mulige"] == 1


def test_macro_kappa_is_found_in_common_metric_shapes():
    assert macro_kappa({"macro_kappa": 0.5}) == 0.5
    assert macro_kappa({"macro": {"kappa": 0.25}}) == 0.25
    assert macro_kappa({"f1": 0.9}) is None and macro_kappa(None) is None


def test_labels_by_reviewer_sees_each_reviewer(store):
    f, seg = store["factory"], store["plan"][1]
    v = actions.mark_done(f, seg, "Kari", 0, accept_codes=["niva.universell"])
    v = actions.reject(f, seg, "niva.universell", "Ola", v)
    actions.mark_done(f, seg, "Ola", v)
    with f() as s:
        assert labels_by_reviewer(s) == {"Kari": {seg: {"niva.universell"}}, "Ola": {seg: set()}}


def test_done_twice_records_nothing_new(store):
    f, seg = store["factory"], store["plan"][4]
    v = actions.mark_done(f, seg, "Kari", 0)
    assert actions.mark_done(f, seg, "Kari", v) == v == _version(f, seg)
    assert _count(f, schema.SegmentReview) == 1 and len(_audit(f, "done")) == 1
    actions.add(f, seg, "perspektiv.barn", "Ola", v)
    with pytest.raises(actions.StaleWriteError):
        actions.mark_done(f, seg, "Kari", v)
