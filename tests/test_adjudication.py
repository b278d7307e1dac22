"""Disagreements between reviewers: disputed codes are not labels, adjudication settles them, reports follow."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from fixtures.store import build_store
from qualcode.review import actions
from qualcode.review.adjudication import adjudicate, disagreements, undo_adjudication
from qualcode.review.labels import disputes, reviewed_labels
from qualcode.store import schema, session_factory

TEXT = "Uten føringer fra staten blir prioriteringene tilfeldige, og budsjettet er stramt."


@pytest.fixture
def factory(tmp_path):
    db = str(tmp_path / "store.db")
    build_store(db)
    return session_factory(db)


def _segment(factory, text=TEXT):
    with factory() as s:
        return s.scalars(select(schema.Segment).where(schema.Segment.text == text)).one()


def test_a_code_one_reviewer_rejected_and_another_applied_is_disputed_not_coded(factory):
    seg = _segment(factory)
    with factory() as s:
        assert disputes(s) == {(seg.id, "barriere.okonomi"): {"ola": True, "kari": False}}
        assert reviewed_labels(s)[seg.id] == {"barriere.styring"}
        found = disagreements(s)
    assert [(d.segment_id, d.code, d.applied_by, d.not_applied_by) for d in found] == \
        [(seg.id, "barriere.okonomi", ["ola"], ["kari"])]
    assert found[0].municipality == "Fjordvik kommune" and found[0].text == TEXT


def test_rejected_first_then_accepted_is_still_disputed(factory):
    """The order of the decisions must not decide: "latest wins" would quote it as coded."""
    seg = _segment(factory, "Det mangler plasser i fosterhjem og tiltak for ungdom.")  # kari applied, not done
    v = actions.reject(factory, seg.id, "barriere.tiltak", "Ola", seg.review_version)
    v = actions.mark_done(factory, seg.id, "Ola", v)
    v = actions.mark_done(factory, seg.id, "kari", v, accept_codes=["barriere.tiltak"])
    with factory() as s:
        assert "barriere.tiltak" not in reviewed_labels(s)[seg.id]
        assert (seg.id, "barriere.tiltak") in disputes(s)


def test_adjudication_records_the_agreed_coding_and_labels_use_it(factory):
    seg = _segment(factory)
    version = adjudicate(factory, seg.id, "barriere.okonomi", True, "Per", seg.review_version,
                         note="Budsjettet er stramt: en økonomisk barriere.")
    assert version == seg.review_version + 1
    with factory() as s:
        assert reviewed_labels(s)[seg.id] == {"barriere.styring", "barriere.okonomi"}
        assert disputes(s) == {} and disagreements(s) == []
        settled = disagreements(s, include_settled=True)
        audit = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "adjudicate")).one()
    assert settled[0].settled is True and settled[0].adjudication_id
    assert audit.actor == "Per" and audit.segment_id == seg.id
    assert audit.detail["positions"] == {"ola": True, "kari": False} and audit.detail["applied"] is True
    # a second verdict supersedes the first; undo opens the disagreement again
    version = adjudicate(factory, seg.id, "barriere.okonomi", False, "Per", version)
    with factory() as s:
        assert reviewed_labels(s)[seg.id] == {"barriere.styring"}
        latest = disagreements(s, include_settled=True)[0].adjudication_id
    undo_adjudication(factory, latest, "Per")
    with factory() as s:
        assert (seg.id, "barriere.okonomi") in disputes(s)
        assert len(s.scalars(select(schema.Adjudication)).all()) == 2  # nothing deleted


def test_an_adjudication_on_an_outdated_view_is_refused(factory):
    seg = _segment(factory)
    actions.memo(factory, seg.id, "Ola", "Se på dette igjen.", seg.review_version)
    with pytest.raises(actions.StaleWriteError):
        adjudicate(factory, seg.id, "barriere.okonomi", True, "Per", seg.review_version)
    with pytest.raises(actions.UnknownCodeError):
        adjudicate(factory, seg.id, "barriere.finnes_ikke", True, "Per", seg.review_version + 1)
    with factory() as s:
        assert not s.scalars(select(schema.Adjudication)).all()


def test_reports_quote_only_agreed_codings(factory):
    from qualcode.analysis.frame import load
    from qualcode.analysis.quotes import quotes

    seg = _segment(factory)
    before = load(factory)
    assert not ((before.codings["segment_id"] == seg.id) & (before.codings["code"] == "barriere.okonomi")).any()
    assert seg.id not in set(quotes(before, ["barriere.okonomi"])["segment_id"])
    adjudicate(factory, seg.id, "barriere.okonomi", True, "Per", seg.review_version)
    after = load(factory)
    assert ((after.codings["segment_id"] == seg.id) & (after.codings["code"] == "barriere.okonomi")).any()
    assert seg.id in set(quotes(after, ["barriere.okonomi"], per_code=5)["segment_id"])
