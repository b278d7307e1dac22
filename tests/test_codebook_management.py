"""Codebook management: line-exact YAML edits, codings that follow their code, undo, re-coding, nesting."""
from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest
from sqlalchemy import select

from fixtures.store import build_store
from qualcode.coding.codebook import DEFAULT_PATH, Codebook, CodebookError
from qualcode.review import codebook_edit as edit
from qualcode.review.codebook_changes import change_codebook, impact, plan_change, undo_last_change
from qualcode.review.labels import reviewed_labels
from qualcode.store import schema, session_factory

SHIPPED = DEFAULT_PATH.read_text(encoding="utf-8")
NEW = {"id": "barriere.kapasitet.rekruttering", "name": "Rekruttering", "definition": "Vansker med å rekruttere.",
       "patterns": ["rekrutter*", "ledige stillinger"], "examples": ["Vi får ikke tak i folk."]}


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def _changed_lines(a: str, b: str) -> set[str]:
    return set(a.splitlines()) ^ set(b.splitlines())


# -- YAML text --------------------------------------------------------------------------------------
def test_every_operation_keeps_the_files_comments_and_untouched_lines():
    book = Codebook.from_yaml_text(SHIPPED)
    out = edit.add_code(SHIPPED, NEW)
    out = edit.rename_code(out, "niva.universell", name="Universelt forebyggende arbeid")
    out = edit.move_code(out, "begrep.tidlig_innsats", "niva")
    out = edit.merge_codes(out, "barriere.okonomi", "barriere.kapasitet")
    out = edit.delete_code(out, "perspektiv.barn")
    new = Codebook.from_yaml_text(out)
    gone = _comments(edit.code_yaml(SHIPPED, "perspektiv.barn")) + _comments(edit.code_yaml(SHIPPED, "barriere.okonomi"))
    # moved ones move along (a comment can recur, e.g. over each code's signals: count them)
    assert Counter(_comments(out)) == Counter(_comments(SHIPPED)) - Counter(gone)
    assert new.code("barriere.kapasitet.rekruttering").patterns[0].pattern == "rekrutter*"
    assert new.code("niva.universell").name == "Universelt forebyggende arbeid"
    assert "niva.tidlig_innsats" in new.code_ids and "begrep.tidlig_innsats" not in new.code_ids
    assert "barriere.okonomi" not in new.code_ids and "perspektiv.barn" not in new.code_ids
    # the term lists, laid out by hand over several lines, are byte for byte what they were
    head = SHIPPED[:SHIPPED.index("\nthemes:")]
    assert out.startswith(head)
    assert len(new.code_ids) == len(book.code_ids) - 1  # +1 added, -1 merged away, -1 deleted, moved stays


def test_a_rename_changes_only_the_lines_it_must():
    out = edit.rename_code(SHIPPED, "plan.mal", "plan.maal", name="Mål")
    assert _changed_lines(SHIPPED, out) == {"      - id: plan.mal", "        name: Mål og strategier",
                                            "      - id: plan.maal", "        name: Mål"}


def test_merge_takes_patterns_examples_and_only_their_own_context_rules():
    out = edit.merge_codes(SHIPPED, "barriere.okonomi", "barriere.kapasitet")
    old, merged = Codebook.from_yaml_text(SHIPPED), Codebook.from_yaml_text(out).code("barriere.kapasitet")
    labels = {p.label for p in merged.patterns}
    assert {p.label for p in old.code("barriere.okonomi").patterns} <= labels
    assert set(old.code("barriere.okonomi").examples) <= set(merged.examples)
    assert set(old.code("barriere.okonomi").signals) <= set(merged.signals)
    money_rule = [r for r in merged.context if r.applies_to == ["@penger"]]
    assert money_rule and money_rule[0].require == ["@negativ"]  # still limits the money words only


@pytest.mark.parametrize("action, kw, message", [
    ("add", {"code": {**NEW, "id": "plan.mal"}}, "already a code"),
    ("add", {"code": {**NEW, "id": "Plan"}}, "must look like"),
    ("add", {"code": {**NEW, "patterns": ["ulovlig * midt"]}}, r"patterns\[0\]"),
    ("add", {"code": {**NEW, "id": "tillit.lav"}}, "give the new theme a name"),
    ("rename", {"code_id": "plan.mal", "new_id": "plan.ansvar"}, "already a code"),
    ("merge", {"source_id": "plan.mal", "target_id": "plan.mal"}, "into itself"),
    ("delete", {"code_id": "plan.finnes_ikke"}, "not in the codebook"),
    ("edit", {"code_id": "plan.mal", "snippet": "id: plan.ny\nname: Ny\n"}, "id was changed"),
    ("edit", {"code_id": "plan.mal", "snippet": "id: [unclosed"}, "not valid YAML"),
])
def test_bad_changes_are_refused_with_the_code_and_field(action, kw, message):
    with pytest.raises(CodebookError, match=message):
        plan_change(SHIPPED, action, **kw)


def test_editing_a_code_as_yaml_keeps_its_comments_and_names_a_bad_field():
    snippet = edit.code_yaml(SHIPPED, "plan.mal")
    assert "# goal statements" in snippet and snippet.startswith("id: plan.mal\n")
    bad = re.sub(r"(\n  - )", r"\1'ulovlig * midt'\n  - ", snippet, count=1)
    with pytest.raises(CodebookError) as err:
        edit.replace_code(SHIPPED, "plan.mal", bad)
    assert "plan.mal" in str(err.value) and "patterns[0]" in str(err.value)
    book, text = edit.replace_code(SHIPPED, "plan.mal", snippet.replace("Mål og strategier", "Mål"))
    assert book.code("plan.mal").name == "Mål" and _comments(text) == _comments(SHIPPED)


def test_codes_and_themes_nest_deeper_than_two_levels():
    out = edit.add_code(SHIPPED, NEW)
    out = edit.add_code(out, {**NEW, "id": "barriere.kapasitet.rekruttering.vikarer", "name": "Vikarer"})
    book = Codebook.from_yaml_text(out)
    assert book.theme_of("barriere.kapasitet.rekruttering.vikarer").id == "barriere"
    assert book.parent_of("barriere.kapasitet.rekruttering.vikarer").id == "barriere.kapasitet.rekruttering"
    assert book.parent_of("barriere.kapasitet.rekruttering").id == "barriere.kapasitet"
    plan = plan_change(out, "move", code_id="barriere.kapasitet.rekruttering", theme_id="suksess")
    assert plan.renamed == {"barriere.kapasitet.rekruttering": "suksess.kapasitet.rekruttering",
                            "barriere.kapasitet.rekruttering.vikarer": "suksess.kapasitet.rekruttering.vikarer"}
    with pytest.raises(CodebookError, match="filed under theme"):
        Codebook.from_yaml_text(out.replace("id: barriere.kapasitet.rekruttering.vikarer",
                                            "id: plan.kapasitet.rekruttering.vikarer"))


# -- the store ------------------------------------------------------------------------------------
@pytest.fixture
def designed(tmp_path):
    db = str(tmp_path / "store.db")
    build_store(db)
    return session_factory(db), tmp_path / "store.db.codebook.yaml"


def _active(factory, code, source=None):
    with factory() as s:
        query = select(schema.Coding).where(schema.Coding.code == code, schema.Coding.active)
        if source:
            query = query.where(schema.Coding.source == source)
        return s.scalars(query).all()


def _labels(factory):
    with factory() as s:
        return reviewed_labels(s)


def test_rename_keeps_every_coding_and_undo_puts_it_back(designed):
    factory, own = designed
    shipped = hashlib.sha256(DEFAULT_PATH.read_bytes()).hexdigest()
    before = _labels(factory)
    with factory() as s:
        assert impact(s, ["barriere.kapasitet"]).decisions == 2
    result = change_codebook(factory, DEFAULT_PATH, own, "Kari", "rename", code_id="barriere.kapasitet",
                             new_id="barriere.bemanning", name="Bemanning")
    assert result.copied == 2 and own.is_file() and _comments(own.read_text()) == _comments(SHIPPED)
    assert hashlib.sha256(DEFAULT_PATH.read_bytes()).hexdigest() == shipped  # the shipped file is never written
    after = _labels(factory)
    rename = {"barriere.kapasitet": "barriere.bemanning"}
    assert after == {seg: {rename.get(c, c) for c in codes} for seg, codes in before.items()}
    assert not _active(factory, "barriere.kapasitet")
    with factory() as s:
        assert s.get(schema.Code, "barriere.bemanning").active and not s.get(schema.Code, "barriere.kapasitet").active
        audit = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "codebook_rename")).one()
    assert audit.actor == "Kari" and audit.detail["renamed"] == rename and audit.detail["copied"] == 2

    undone = undo_last_change(factory, own, "Kari")
    assert undone.action == "rename" and own.read_text() == SHIPPED
    assert _labels(factory) == before
    with factory() as s:
        assert s.get(schema.Code, "barriere.kapasitet").active
        assert s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "codebook_undo")).one()
    assert undo_last_change(factory, own, "Kari") is None


def test_merge_folds_one_reviewers_two_decisions_into_one(designed):
    factory, own = designed
    # on the double-coded segment ola applied okonomi and styring; kari rejected okonomi, applied styring
    seg = next(c.segment_id for c in _active(factory, "barriere.okonomi", "reviewer") if c.created_by == "kari")
    result = change_codebook(factory, DEFAULT_PATH, own, "Ola", "merge", source_id="barriere.okonomi",
                             target_id="barriere.styring")
    assert result.folded == 2  # ola's and kari's pair on that segment
    mine = [c for c in _active(factory, "barriere.styring", "reviewer") if c.segment_id == seg]
    assert sorted((c.created_by, c.applied) for c in mine) == [("kari", True), ("ola", True)]
    assert _labels(factory)[seg] == {"barriere.styring"}  # nothing disputed any more
    # the interview segment carried okonomi alone: moved, not folded
    assert any(c.created_by == "kari" for c in _active(factory, "barriere.styring", "reviewer") if c.segment_id != seg)
    assert not _active(factory, "barriere.okonomi")


def test_delete_hides_codings_and_undo_restores_exactly_them(designed):
    factory, own = designed
    ids = sorted(c.id for c in _active(factory, "plan.mal"))
    with factory() as s:
        found = impact(s, ["plan.mal"])
    assert found.total == len(ids) == 5 and found.segments == 4  # four plans state goals, one also by rule
    result = change_codebook(factory, DEFAULT_PATH, own, "Kari", "delete", code_id="plan.mal")
    assert result.deactivated == len(ids) and not _active(factory, "plan.mal")
    assert all("plan.mal" not in codes for codes in _labels(factory).values())
    with factory() as s:  # nothing erased
        assert len(s.scalars(select(schema.Coding).where(schema.Coding.code == "plan.mal")).all()) == len(ids)
    undo_last_change(factory, own, "Kari")
    assert sorted(c.id for c in _active(factory, "plan.mal")) == ids


def test_undo_refuses_to_hide_decisions_made_since(designed):
    from qualcode.review import actions

    factory, own = designed
    change_codebook(factory, DEFAULT_PATH, own, "Kari", "add", code=NEW)
    with factory() as s:
        seg = s.scalars(select(schema.Segment.id).where(schema.Segment.codable)).first()
        version = s.get(schema.Segment, seg).review_version
    actions.add(factory, seg, NEW["id"], "Kari", version)
    with pytest.raises(CodebookError, match="1 decision"):
        undo_last_change(factory, own, "Kari")
    own.write_text(own.read_text() + "\n# a note by hand\n")
    with pytest.raises(CodebookError, match="changed after"):
        undo_last_change(factory, own, "Kari")


def test_a_failed_store_write_leaves_file_and_store_as_they_were(designed, monkeypatch):
    from qualcode.review import codebook_changes

    factory, own = designed
    change_codebook(factory, DEFAULT_PATH, own, "Kari", "add", code=NEW)
    text = own.read_text()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(codebook_changes, "_deactivate", boom)
    with pytest.raises(RuntimeError):
        change_codebook(factory, own, own, "Kari", "delete", code_id="plan.mal")
    assert own.read_text() == text and _active(factory, "plan.mal")


def test_recoding_replaces_machine_suggestions_and_never_reviewer_decisions(designed):
    from qualcode.coding.coder import current_coder
    from qualcode.review.recode import recode_store

    factory, own = designed
    change_codebook(factory, DEFAULT_PATH, own, "Kari", "add",
                    code={**NEW, "id": "plan.koordinering", "name": "Koordinering",
                          "patterns": ["koordin*", "oppvekstkoordinator*"]})
    with factory() as s:
        reviewer_before = sorted((c.id, c.active) for c in s.scalars(select(schema.Coding)
                                                                     .where(schema.Coding.source == "reviewer")))
        old_rule = [c.id for c in s.scalars(select(schema.Coding).where(schema.Coding.source == "rule",
                                                                        schema.Coding.active))]
    seen = []
    written = recode_store(factory, current_coder(str(own)), progress=lambda done, total: seen.append((done, total)))
    assert written > 0 and seen[-1][0] == seen[-1][1] == 16 and seen[0] == (0, 16)
    hits = _active(factory, "plan.koordinering", "rule")
    assert any(c.applied for c in hits)  # "Oppvekstkoordinatoren leder et koordineringsforum …"
    with factory() as s:
        assert sorted((c.id, c.active) for c in s.scalars(select(schema.Coding)
                                                          .where(schema.Coding.source == "reviewer"))) == reviewer_before
        assert not any(s.get(schema.Coding, i).active for i in old_rule)  # superseded, kept


def test_a_refi_codebook_nested_three_levels_deep_keeps_its_depth(db):
    """NVivo exports codes under codes; the import nests the ids instead of folding them into the theme."""
    from qualcode.export.refi_import import import_qdc
    from qualcode.store import transaction

    guid = iter(f"{{00000000-0000-4000-8000-{i:012d}}}" for i in range(1, 10))
    payload = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo"><Codes>
  <Code guid="{next(guid)}" name="Barrierer" isCodable="true">
    <Code guid="{next(guid)}" name="Kapasitet" isCodable="true">
      <Code guid="{next(guid)}" name="Rekruttering" isCodable="true">
        <Code guid="{next(guid)}" name="Vikarer" isCodable="true"/>
      </Code>
    </Code>
  </Code>
</Codes></CodeBook>""".encode()
    with transaction(db) as session:
        import_qdc(session, payload, "nvivo.qdc")
    with session_factory(db)() as s:
        codes = {c.code: c.theme for c in s.scalars(select(schema.Code))}
    assert codes["barrierer.kapasitet.rekruttering.vikarer"] == "barrierer"
    assert {"barrierer.kapasitet", "barrierer.kapasitet.rekruttering"} <= set(codes)


def test_analysis_rolls_a_nested_code_up_to_its_theme(designed):
    from qualcode.analysis.frame import load
    from qualcode.analysis.frequencies import totals
    from qualcode.review import actions

    factory, own = designed
    change_codebook(factory, DEFAULT_PATH, own, "Kari", "add", code=NEW)
    with factory() as s:
        seg = s.scalars(select(schema.Segment).where(schema.Segment.text.like("Planen ble vedtatt%"))).one()
    v = actions.add(factory, seg.id, NEW["id"], "ola", seg.review_version)
    actions.mark_done(factory, seg.id, "ola", v)
    data = load(factory)
    row = data.codings[data.codings["code"] == NEW["id"]].iloc[0]
    assert (row.theme, row.theme_name, row.code_name) == ("barriere", "Barrierer", "Rekruttering")
    themes = totals(data, "theme").set_index("theme")
    assert themes.loc["barriere", "segments"] == 3 + 1  # the nested code's segment counts for its theme
