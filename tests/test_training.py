"""Training from a real store: labels only from reviewers, versioned artefacts, stale models refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from qualcode.coding import training
from qualcode.coding.coder import current_coder
from qualcode.coding.apply import code_new_segments
from qualcode.coding.training import (NothingToTrain, apply_model, current_or_retrained, load_current_model,
                                      model_status, train_from_store, training_data)
from qualcode.review.actions import mark_done
from qualcode.store import schema, session_factory
from test_model import BOOK, make


def add_document(factory, coder, texts: list[str], name: str = "plan") -> list[int]:
    """One document whose paragraphs are ``texts``, coded like `qualcode run` codes it."""
    with factory.begin() as session:
        doc = schema.Document(content_hash=name, file_name=f"{name}.txt", source_path=f"{name}.txt", size_bytes=1,
                              page_count=1, engine="test", text="\n\n".join(texts))
        session.add(doc)
        session.flush()
        segs, pos = [], 0
        for i, text in enumerate(texts):
            segs.append(schema.Segment(document_id=doc.id, seq=i, kind="paragraph", start=pos, end=pos + len(text),
                                       page_start=1, page_end=1, text=text))
            pos += len(text) + 2
        session.add_all(segs)
        session.flush()
        code_new_segments(session, coder, segs)
        return [s.id for s in segs]


def fake_model_codings(factory, ids: list[int], code: str) -> None:
    """Unreviewed machine codings that are wrong on purpose: they must never become labels."""
    with factory.begin() as session:
        session.add_all(schema.Coding(segment_id=i, code=code, source="model", applied=True, score=0.99,
                                      model_version="fake", created_by="qualcode-model") for i in ids)


@pytest.fixture
def setup(db, tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text(BOOK, encoding="utf-8")
    training._CACHE.clear()
    texts, labels = make(60, seed=11)
    factory = session_factory(db)
    coder = current_coder(path)
    # two documents, so the first reviews span both: labels from one document change no decision
    ids = add_document(factory, coder, texts[:30], "plan-a") + add_document(factory, coder, texts[30:], "plan-b")
    return factory, coder, ids, labels, tmp_path


def review(factory, ids, labels, n: int) -> None:
    for sid, codes in list(zip(ids, labels))[:n]:
        mark_done(factory, sid, "anna", 0, accept_codes=sorted(codes))


def test_no_reviews_means_nothing_to_train(setup, db):
    factory, coder, ids, _, _ = setup
    fake_model_codings(factory, ids, "mat.frukt")
    with pytest.raises(NothingToTrain, match="no reviewed segments"):
        train_from_store(factory, coder=coder)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(schema.ModelArtifact)) == 0

    from qualcode.cli import app
    result = CliRunner().invoke(app, ["train", "--db", db, "--codebook", str(setup[4] / "book.yaml")])
    assert result.exit_code != 0
    assert "no reviewed segments" in str(result.exception)


def test_reviews_of_one_document_keep_the_decisions_and_say_why(setup, db):
    from qualcode.cli import app

    factory, coder, ids, labels, tmp_path = setup
    train = ["train", "--db", db, "--codebook", str(tmp_path / "book.yaml")]
    review(factory, ids, labels, 30)  # all of plan-a
    result = train_from_store(factory, coder=coder)
    assert result.metrics["one_document"] and result.metrics["codes_learned"] == 0
    out = CliRunner().invoke(app, train)
    assert out.exit_code == 0 and "comes from one document" in " ".join(out.output.split())
    review(factory, ids[30:], labels[30:], 15)  # and some of plan-b
    assert not train_from_store(factory, coder=coder).metrics["one_document"]
    out = CliRunner().invoke(app, train)
    assert out.exit_code == 0 and "one document" not in out.output


def test_training_data_is_reviewer_labels_only(setup):
    factory, coder, ids, labels, _ = setup
    fake_model_codings(factory, ids, "mat.frukt")
    review(factory, ids, labels, 45)
    with factory() as session:
        seg_ids, texts, label_sets = training_data(session, coder.codebook)
    assert seg_ids == ids[:45]
    assert label_sets == labels[:45]  # the wrong model codings added nothing


def test_train_store_load_and_recode(setup):
    factory, coder, ids, labels, _ = setup
    review(factory, ids, labels, 45)
    result = train_from_store(factory, "anna", coder=coder, apply=True)
    assert result.n_labelled == 45 and result.recoded > 0
    assert set(result.metrics["thresholds"]) == set(coder.codebook.code_ids)
    with factory() as session:
        art = session.scalar(select(schema.ModelArtifact))
        assert (art.version, art.codebook_version, art.n_labelled) == (result.version, coder.codebook.version, 45)
        assert session.scalar(select(schema.AuditEntry.entity_id).where(schema.AuditEntry.action == "train")) \
            == result.version
        model = load_current_model(session, coder.codebook)
        assert model is not None and model.version == result.version
        rows = session.execute(select(schema.Coding).where(schema.Coding.source == "model")).scalars().all()
        assert {r.segment_id for r in rows} <= set(ids[45:])  # reviewed segments keep their pre-review codings
        assert all(r.model_version == result.version for r in rows)
        for r in rows:
            assert 0.0 <= r.score <= 1.0
            if abs(r.score - model.thresholds[r.code]) > 1e-3:  # stored scores are rounded to 4 places
                assert r.applied == (r.score > model.thresholds[r.code])
            assert r.applied or r.score > training.KEEP_WEAK_ABOVE or r.decided_by == "model"  # or it overrules
        assert session.scalar(select(func.count()).select_from(schema.AuditEntry).where(
            schema.AuditEntry.action == "code", schema.AuditEntry.entity == "model")) >= 1


def test_stale_model_is_refused_then_retrained(setup):
    factory, coder, ids, labels, tmp_path = setup
    review(factory, ids, labels, 45)
    first = train_from_store(factory, coder=coder)
    changed = tmp_path / "book2.yaml"
    changed.write_text(BOOK.replace('patterns: ["katt*"]', 'patterns: ["katt*", "kattunge*"]'), encoding="utf-8")
    coder2 = current_coder(changed)
    assert coder2.codebook.version != coder.codebook.version
    with factory() as session:
        status = model_status(session, coder2.codebook)
        assert status.model is None and status.version == first.version
        assert "stale" in status.reason and coder2.codebook.version in status.reason
        assert load_current_model(session, coder2.codebook) is None
    # the pipeline hook must not use it either: new segments get rule codings only
    add_document(factory, coder2, ["Hunden sov i sola."], name="ny")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(schema.Coding).where(schema.Coding.source == "model")) == 0
    status = current_or_retrained(factory, coder2)
    assert status.model is not None and status.version != first.version
    with factory() as session:
        assert model_status(session, coder2.codebook).version == status.version
        assert session.scalar(select(schema.ModelArtifact.codebook_version).where(
            schema.ModelArtifact.version == status.version)) == coder2.codebook.version


def test_damaged_payload_is_refused(setup):
    factory, coder, ids, labels, _ = setup
    review(factory, ids, labels, 45)
    result = train_from_store(factory, coder=coder)
    training._CACHE.clear()
    with factory.begin() as session:
        session.execute(update(schema.ModelArtifact).values(payload=b"not a model"))
    with factory() as session:
        status = model_status(session, coder.codebook)
    assert status.model is None and "damaged" in status.reason and status.version == result.version


def test_pipeline_writes_model_codings_for_new_segments(setup):
    factory, coder, ids, labels, _ = setup
    review(factory, ids, labels, 45)
    result = train_from_store(factory, coder=coder)
    new_ids = add_document(factory, coder, ["Valpen sov i kurven. Været var fint.", "Bussen kom for sent."], name="ny")
    with factory() as session:
        rows = session.execute(select(schema.Coding.segment_id, schema.Coding.code, schema.Coding.applied,
                                      schema.Coding.model_version).where(schema.Coding.source == "model")).all()
    assert rows and {r.segment_id for r in rows} <= set(new_ids)
    assert {r.model_version for r in rows} == {result.version}
    # the model learned "valp" from the reviewers (the rules only know "hund")
    assert (new_ids[0], "dyr.hund", True) in {(r.segment_id, r.code, r.applied) for r in rows}


def test_apply_model_supersedes_older_model_codings(setup):
    factory, coder, ids, labels, _ = setup
    review(factory, ids, labels, 45)
    result = train_from_store(factory, coder=coder)
    with factory() as session:
        model = load_current_model(session, coder.codebook)
    for _ in range(2):
        with factory.begin() as session:
            segs = session.scalars(select(schema.Segment).where(schema.Segment.id.in_(ids[50:]))).all()
            apply_model(session, model, list(segs), rules=coder.rules)
    with factory() as session:
        active = session.execute(select(schema.Coding.segment_id, schema.Coding.code).where(
            schema.Coding.source == "model", schema.Coding.active)).all()
    assert len(active) == len(set(active))  # one active model coding per segment and code
    assert result.version


def test_killed_train_leaves_the_old_model_in_charge(setup, monkeypatch):
    """A train killed before the switch-over: the old model and its codings stay in charge,
    the new artefact and its codings stay off - never a half re-coded store."""
    factory, coder, ids, labels, _ = setup
    review(factory, ids, labels, 45)
    first = train_from_store(factory, coder=coder, apply=True)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed before the switch")

    for sid, codes in list(zip(ids, labels))[45:50]:
        mark_done(factory, sid, "anna", 0, accept_codes=sorted(codes))
    monkeypatch.setattr(training, "switch_over", killed)
    with pytest.raises(KeyboardInterrupt):
        train_from_store(factory, coder=coder, apply=True)
    training._CACHE.clear()
    with factory() as session:
        assert model_status(session, coder.codebook).version == first.version
        active = set(session.scalars(select(schema.Coding.model_version).where(
            schema.Coding.source == "model", schema.Coding.active)))
        assert active == {first.version}
        second = session.scalar(select(schema.ModelArtifact.version).where(schema.ModelArtifact.active.is_(False)))
        assert second is not None and second != first.version
        pending = session.scalar(select(func.count()).select_from(schema.Coding).where(
            schema.Coding.model_version == second))
        assert pending > 0  # written, but never switched on
    monkeypatch.undo()
    third = train_from_store(factory, coder=coder, apply=True)
    with factory() as session:
        assert model_status(session, coder.codebook).version == third.version
        rows = session.execute(select(schema.Coding.segment_id, schema.Coding.model_version).where(
            schema.Coding.source == "model", schema.Coding.active)).all()
        assert {v for s, v in rows if s in ids[50:]} == {third.version}
        # segments marked done in between keep the codings their reviewer saw
        assert {v for s, v in rows if s in ids[45:50]} <= {first.version} and {s for s, _ in rows} <= set(ids[45:])


def test_review_view_shows_that_the_model_decided(setup):
    """The rules only know "hund"; the model learned puppies. Its decision is final and marked."""
    from qualcode.review.segment_view import load_segment

    factory, coder, ids, labels, _ = setup
    review(factory, ids, labels, 45)
    train_from_store(factory, coder=coder)
    [puppy, dog] = add_document(factory, coder, ["Valpen sov i kurven hele dagen.", "Hunden bjeffet."], name="ny")
    with factory() as session:
        view = load_segment(session, puppy)
        decided = session.execute(select(schema.Coding.source, schema.Coding.decided_by).where(
            schema.Coding.segment_id == puppy, schema.Coding.code == "dyr.hund")).all()
    [sug] = [s for s in view.suggestions if s.code == "dyr.hund"]
    assert sug.applied and sug.overruled and sug.decided_by == "model"
    assert ("model", "model") in decided
    with factory() as session:
        [dog_sug] = [s for s in load_segment(session, dog).suggestions if s.code == "dyr.hund"]
    assert dog_sug.applied and not dog_sug.overruled  # rules and model agree


def test_reviews_count_when_reference_documents_judge_with_them_unless_all_from_one_document(tmp_path):
    """Reviews are judged together with the reference documents (grouped by document), so reviews
    of two documents can change a decision the reference backs; reviews of one document keep the
    base's decisions even then (what they changed did not carry to other text). A reference row
    with the text of a label (a --train file that is a reference set) is not counted twice."""
    from qualcode.coding.codebook import Codebook
    from qualcode.coding.coder import Coder
    from qualcode.coding.model import ADAPT_GUARD, BASE_GUARD
    from qualcode.coding.rules import RuleCoder

    book = Codebook.from_yaml_text(BOOK)
    coder = Coder(book, RuleCoder(book), "test")
    texts, labels = make(40, seed=31)
    ref_texts, ref_labels = make(120, seed=32)
    reference = [{"text": t, "codes": sorted(ls), "doc": f"ref-{i % 3}"} for i, (t, ls) in enumerate(zip(ref_texts, ref_labels))]
    reference.append({"text": texts[0], "codes": sorted(labels[0]), "doc": "ref-0"})
    alone = training.adapt(coder, texts, labels, ["plan-a"] * 40, base=None, reference=[])
    assert alone.one_document and alone.guard == ADAPT_GUARD and alone.decided_by("dyr.hund") == "rule"
    one = training.adapt(coder, texts, labels, ["plan-a"] * 40, base=None, reference=reference)
    assert one.one_document and one.decided_by("dyr.hund") == "rule"
    judged = training.adapt(coder, texts, labels, ["plan-a"] * 20 + ["plan-b"] * 20, base=None, reference=reference)
    assert not judged.one_document and judged.guard == BASE_GUARD
    kept = [r for r in reference if r["text"] not in set(texts)]  # the copy of a label's text is left out
    assert judged.info["reference_segments"] == len(kept) < len(reference)
    assert judged.decided_by("dyr.hund") == "model"  # puppies: the rules miss them, reviews and reference agree


@pytest.mark.parametrize("many_rows, with_reference", [(41, True), (40, False)])
def test_from_many_reviews_the_reference_documents_reach_the_model_through_its_base(monkeypatch, many_rows,
                                                                                    with_reference):
    """From MANY_ROWS reviews a store's model judges on the store's own documents and leaves the
    shipped reference rows out (5,000 reviews beside 6,075 reference rows took 29 of issue 4's 30 s idle)."""
    from qualcode.coding import model as model_module
    from qualcode.coding.codebook import Codebook
    from qualcode.coding.coder import Coder
    from qualcode.coding.rules import RuleCoder

    book = Codebook.from_yaml_text(BOOK)
    coder = Coder(book, RuleCoder(book), "test")
    texts, labels = make(40, seed=33)
    ref_texts, ref_labels = make(60, seed=34)
    reference = [{"text": t, "codes": sorted(ls), "doc": f"ref-{i % 3}"} for i, (t, ls) in enumerate(zip(ref_texts, ref_labels))]
    monkeypatch.setattr(model_module, "MANY_ROWS", many_rows)
    model = training.adapt(coder, texts, labels, ["plan-a"] * 20 + ["plan-b"] * 20, base=None, reference=reference)
    kept = [r for r in reference if r["text"] not in set(texts)]  # reference copies of a label's text never count
    assert kept and model.info["reference_segments"] == (len(kept) if with_reference else 0)


class _Captured(Exception):
    pass


def _spy_on_training_texts(monkeypatch):
    """The texts `adapt` hands to the NLP pass (labels first, then the reference rows it keeps)."""
    import qualcode.coding.features as features

    def spy(texts, rules, *a, **kw):
        raise _Captured(list(texts))

    monkeypatch.setattr(features, "analyse", spy)


def test_a_model_never_trains_on_the_reference_texts_it_is_about_to_code(monkeypatch):
    from qualcode.coding.reference import load_reference, shipped_sets

    shipped = load_reference(shipped_sets())
    if not shipped:
        pytest.skip("no reference set ships beside the codebook")
    coded = {shipped[0]["text"], shipped[-1]["text"]}
    _spy_on_training_texts(monkeypatch)
    train = [{"text": "x", "codes": [], "source": "plan-a"}, {"text": "y", "codes": [], "source": "plan-b"}]
    with pytest.raises(_Captured) as got:  # classify --train / evaluate --cv: the coded texts stay out
        training.classify_with_training(current_coder(), train, [{"id": 1, "text": t} for t in coded])
    kept = [r["text"] for r in shipped if r["text"] not in coded]
    assert 0 < len(kept) < len(shipped)
    assert got.value.args[0] == ["x", "y", *kept]


def test_labels_of_one_document_never_load_the_reference(monkeypatch):
    import qualcode.coding.reference as reference

    def refuse(*a, **kw):
        raise AssertionError("the reference rows were read for labels that keep the base's decisions")

    monkeypatch.setattr(reference, "load_reference", refuse)
    _spy_on_training_texts(monkeypatch)
    train = [{"text": "x", "codes": [], "source": "plan-a"}, {"text": "y", "codes": [], "source": "plan-a"}]
    with pytest.raises(_Captured) as got:
        training.classify_with_training(current_coder(), train, [{"id": 1, "text": "z"}])
    assert got.value.args[0] == ["x", "y"]
