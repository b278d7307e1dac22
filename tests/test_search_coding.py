"""From search to codes: code all hits (audited, undoable), and searches saved as pattern proposals."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from fixtures.search_corpus import build_search_store
from qualcode.coding.codebook import DEFAULT_PATH, load_codebook
from qualcode.review import actions
from qualcode.review.labels import reviewed_labels
from qualcode.search.coding import (
    accept_proposal, code_hits, dismiss_proposal, pending_proposals, proposal_fragment, save_proposal,
)
from qualcode.search.search import search
from qualcode.store import schema, session_factory


@pytest.fixture
def store(tmp_path):
    db = str(tmp_path / "store.db")
    ids = build_search_store(db)
    return session_factory(db), ids


def _reviewer_codings(factory, code: str) -> dict[int, bool]:
    with factory() as s:
        return {c.segment_id: c.applied for c in s.scalars(select(schema.Coding).where(
            schema.Coding.code == code, schema.Coding.source == "reviewer", schema.Coding.active))}


def test_code_all_hits_writes_reviewer_codings_with_audit(store):
    factory, ids = store
    result = search(factory, "veiledning")  # a1, a2, c0
    batch = code_hits(factory, result, "suksess.kompetanse", "Kari")
    assert sorted(batch.segments) == sorted([ids["a1"], ids["a2"], ids["c0"]])
    assert _reviewer_codings(factory, "suksess.kompetanse") == {i: True for i in batch.segments}
    with factory() as s:
        audit = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.actor == "Kari")).all()
        adds = [a for a in audit if a.action == "add"]
        summary = [a for a in audit if a.action == "add_many"]
        versions = {sid: s.get(schema.Segment, sid).review_version for sid in batch.segments}
    assert sorted(a.segment_id for a in adds) == sorted(batch.segments)
    assert summary[0].id == batch.audit_id and summary[0].detail["query"] == "veiledning"
    assert versions == {sid: 1 for sid in batch.segments}
    # the codings are Kari's decisions: once she marks a segment done, its label is the code
    actions.mark_done(factory, ids["a2"], "Kari", 1)
    with factory() as s:
        assert reviewed_labels(s)[ids["a2"]] == {"suksess.kompetanse"}


def test_code_selected_hits_only_and_never_headings(store):
    factory, ids = store
    from qualcode.search.search import Filters

    result = search(factory, "veiledning", Filters(codable_only=False))  # includes the interviewer's question b0
    assert ids["b0"] in result.ids
    batch = code_hits(factory, result, "plan.ansvar", "Kari")
    assert ids["b0"] not in batch.segments and len(batch.segments) == 3
    only = code_hits(factory, search(factory, "skole"), "plan.samarbeid", "Kari", only=[ids["b2"]])
    assert only.segments == [ids["b2"]]


def test_undo_takes_back_the_whole_batch(store):
    factory, ids = store
    batch = code_hits(factory, search(factory, "skole"), "plan.samarbeid", "Kari")
    assert len(batch.segments) == 3
    with pytest.raises(LookupError):
        actions.undo_many(factory, batch.audit_id, "Ola")  # only the one who did it
    undone = actions.undo_many(factory, batch.audit_id, "Kari")
    assert sorted(undone.codings) == sorted(batch.codings)
    assert _reviewer_codings(factory, "plan.samarbeid") == {}
    with factory() as s:
        assert all(s.get(schema.Segment, sid).review_version == 2 for sid in batch.segments)
        assert s.scalar(select(schema.AuditEntry.action).order_by(schema.AuditEntry.id.desc()).limit(1)) == "undo_many"
    assert actions.undo_many(factory, batch.audit_id, "Kari") is None  # nothing left to undo


def test_segments_changed_since_the_search_are_left_alone(store):
    factory, ids = store
    result = search(factory, "skole")  # b1, b2, c1 at version 0
    actions.reject(factory, ids["b1"], "plan.samarbeid", "Ola", 0)  # Ola decides on b1 meanwhile
    batch = code_hits(factory, result, "plan.samarbeid", "Kari")
    assert batch.changed == [ids["b1"]] and sorted(batch.segments) == sorted([ids["b2"], ids["c1"]])
    again = code_hits(factory, search(factory, "skole"), "plan.samarbeid", "Kari")
    assert again.already == sorted([ids["b2"], ids["c1"]], key=lambda i: search(factory, "skole").ids.index(i))
    assert again.segments == [ids["b1"]]


def test_an_unknown_code_is_refused_and_nothing_is_written(store):
    factory, _ = store
    with pytest.raises(actions.UnknownCodeError):
        code_hits(factory, search(factory, "skole"), "finnes.ikke", "Kari")
    with factory() as s:
        assert s.scalars(select(schema.Coding).where(schema.Coding.created_by == "Kari")).all() == []


# -- proposals ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query, parts, fragment", [
    ("veiledning", False, {"patterns": ["*veiledning"]}),
    ("veiledning", True, {"patterns": ["*veiledning*"]}),
    ("forebygg* OR «tidlig innsats»", False, {"patterns": ["forebygg*", "tidlig innsats"]}),
    ("NEAR(foreldre veiledning, 3)", False, {"patterns": [{"near": ["*forelder", "*veiledning"], "within": 4}]}),
    ("ventetid -skole", False, {"patterns": ["*ventetid"], "negative": [
        {"pattern": "*skole", "scope": "segment", "applies_to": ["*ventetid"]}]}),
    ("ventetid barnevern", False, {"patterns": ["*ventetid"], "context": [
        {"applies_to": ["*ventetid"], "require": ["*barnevern"], "scope": "segment"}]}),
])
def test_a_search_becomes_codebook_patterns(query, parts, fragment):
    assert proposal_fragment(query, parts) == fragment


def test_a_proposal_waits_for_the_codebook_editor_then_is_taken_in(store, tmp_path):
    factory, _ = store
    current = tmp_path / "current.yaml"
    shutil.copy(DEFAULT_PATH, current)
    own = tmp_path / "store.db.codebook.yaml"
    pid = save_proposal(factory, "barriere.kapasitet", "ventetid* -skole", "Kari", hits=4)
    other = save_proposal(factory, "plan.ansvar", "ansvar*", "Kari")
    with factory() as s:
        assert [p.id for p in pending_proposals(s, "barriere.kapasitet")] == [pid]
        assert len(pending_proposals(s)) == 2
    book = accept_proposal(factory, pid, "Ola", current, own)
    code = book.code("barriere.kapasitet")
    assert "ventetid*" in [p.pattern for p in code.patterns]
    assert any(n.pattern == "*skole" and n.applies_to == ["ventetid*"] for n in code.negative)
    assert load_codebook(own).version == book.version
    dismiss_proposal(factory, other, "Ola")
    with factory() as s:
        assert pending_proposals(s) == []
        rows = {p.id: (p.status, p.decided_by) for p in s.scalars(select(schema.SearchProposal))}
        assert s.get(schema.CodebookVersion, book.version) is not None
        actions_logged = [a.action for a in s.scalars(select(schema.AuditEntry).where(
            schema.AuditEntry.entity == "search_proposal").order_by(schema.AuditEntry.id))]
    assert rows == {pid: ("accepted", "Ola"), other: ("dismissed", "Ola")}
    assert actions_logged == ["propose_patterns", "propose_patterns", "proposal_accepted", "proposal_dismissed"]
    with pytest.raises(LookupError):
        dismiss_proposal(factory, pid, "Ola")


def test_a_proposal_for_an_unknown_code_is_refused(store):
    factory, _ = store
    with pytest.raises(actions.UnknownCodeError):
        save_proposal(factory, "finnes.ikke", "skole", "Kari")
