"""The review queue: uncertain first, rare codes up, done segments out, stored codings only."""
from __future__ import annotations

import numpy as np
import pytest

from qualcode.coding.active import code_weights, priorities, rank, review_queue, uncertainty
from qualcode.coding.apply import sync_codebook
from qualcode.coding.codebook import Codebook
from qualcode.review.actions import mark_done
from qualcode.store import schema, session_factory
from test_model import BOOK


@pytest.fixture
def store(db):
    """A codebook in the store and eight bare segments (no codings yet)."""
    book = Codebook.from_yaml_text(BOOK)
    factory = session_factory(db)
    with factory.begin() as session:
        sync_codebook(session, book)
        doc = schema.Document(content_hash="h", file_name="plan.txt", source_path="plan.txt", size_bytes=1,
                              page_count=1, engine="test", text="x")
        session.add(doc)
        session.flush()
        segs = [schema.Segment(document_id=doc.id, seq=i, kind="paragraph", start=0, end=1, page_start=1,
                               page_end=1, text=f"avsnitt {i}") for i in range(8)]
        session.add_all(segs)
        session.flush()
        ids = [s.id for s in segs]
    return factory, book, ids


def add_codings(factory, rows, source="rule", model_version=None):
    with factory.begin() as session:
        session.add_all(schema.Coding(segment_id=s, code=c, source=source, applied=p >= 0.5, score=p,
                                      model_version=model_version, created_by="test") for s, c, p in rows)


def add_model(factory, book, version, thresholds, codebook_version=None):
    with factory.begin() as session:
        session.add(schema.ModelArtifact(version=version, codebook_version=codebook_version or book.version,
                                         n_labelled=10, metrics={"thresholds": thresholds}, payload=b"-"))


def test_uncertainty_shape():
    t = np.array([0.3, 0.5, 0.8])
    assert np.allclose(uncertainty(t[None, :], t), 1.0)
    assert np.allclose(uncertainty(np.zeros((1, 3)), t), 0.0)
    assert np.allclose(uncertainty(np.ones((1, 3)), t), 0.0)
    grid = uncertainty(np.linspace(0, 1, 101)[:, None] * np.ones((1, 3)), t)
    assert grid.min() >= 0 and grid.max() <= 1


def test_rare_codes_weigh_more_and_ties_keep_order():
    w = code_weights(np.array([0, 3, 100]))
    assert w[0] > w[1] > w[2] >= 1.0
    proba = np.array([[0.5, 0.0], [0.5, 0.0], [0.0, 0.5]])
    assert list(rank(proba, np.array([0.5, 0.5]), np.array([1.0, 1.0]))) == [0, 1, 2]
    assert list(rank(proba, np.array([0.5, 0.5]), np.array([1.0, 2.0])))[0] == 2
    prio, best = priorities(proba, np.array([0.5, 0.5]), np.array([1.0, 2.0]))
    assert list(best) == [0, 0, 1] and prio[2] > prio[0]


def test_rule_scores_order_the_queue_without_a_model(store):
    factory, book, ids = store
    # rule scores → probability 0.5 at min_score: 0.5 is a coin toss, 0.95 is near certain
    add_codings(factory, [(ids[0], "dyr.katt", 0.95), (ids[1], "dyr.katt", 0.5), (ids[2], "mat.frukt", 0.3),
                          (ids[3], "dyr.katt", 0.75)])
    with factory() as session:
        items = review_queue(session, 8, book)
    order = [i.segment_id for i in items]
    assert order[:4] == [ids[1], ids[2], ids[3], ids[0]]  # u = 1, 0.6, 0.5, 0.1
    assert set(order[4:]) == set(ids[4:]) and all(i.priority == 0 for i in items[4:])
    assert "Reglene" in items[0].reason and "Katt" in items[0].reason
    assert all(a.priority >= b.priority for a, b in zip(items, items[1:]))


def test_done_segments_are_never_queued(store):
    factory, book, ids = store
    add_codings(factory, [(ids[0], "dyr.katt", 0.5), (ids[1], "dyr.katt", 0.5)])
    mark_done(factory, ids[0], "anna", 0)
    with factory() as session:
        items = review_queue(session, 3, book)
    assert ids[0] not in [i.segment_id for i in items]
    assert items[0].segment_id == ids[1] and len(items) == 3


def test_model_codings_and_thresholds_drive_the_queue(store):
    factory, book, ids = store
    add_codings(factory, [(ids[0], "dyr.katt", 0.5)])  # the rules would pick this one
    add_model(factory, book, "m-old", {"dyr.hund": 0.5})
    add_model(factory, book, "m-new", {"dyr.hund": 0.3, "dyr.katt": 0.5, "mat.frukt": 0.5})
    add_codings(factory, [(ids[5], "dyr.hund", 0.9), (ids[6], "dyr.hund", 0.31)], "model", "m-new")
    add_codings(factory, [(ids[7], "dyr.hund", 0.5)], "model", "m-old")  # superseded version: ignored
    with factory() as session:
        items = review_queue(session, 3, book)
    assert [i.segment_id for i in items[:2]] == [ids[6], ids[5]]
    assert "Modellen" in items[0].reason and "0,31" in items[0].reason and "0,30" in items[0].reason


def test_stale_model_falls_back_to_rules(store):
    factory, book, ids = store
    add_codings(factory, [(ids[2], "dyr.katt", 0.5)])
    add_model(factory, book, "m-stale", {"dyr.hund": 0.3}, codebook_version="annen")
    add_codings(factory, [(ids[5], "dyr.hund", 0.3)], "model", "m-stale")
    with factory() as session:
        items = review_queue(session, 1, book)
    assert items[0].segment_id == ids[2] and "Reglene" in items[0].reason


def test_rare_code_goes_first_among_equals(store):
    factory, book, ids = store
    for sid in ids[:3]:  # three confirmed cats, no confirmed fruit
        mark_done(factory, sid, "anna", 0, accept_codes=["dyr.katt"])
    add_codings(factory, [(ids[4], "dyr.katt", 0.5), (ids[5], "mat.frukt", 0.5)])
    with factory() as session:
        items = review_queue(session, 2, book)
    assert [i.segment_id for i in items] == [ids[5], ids[4]]
    assert "sjelden" in items[0].reason
