"""Agreement on a hand-made store whose kappas and alphas are worked out by formula."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qualcode.coding.agreement import agreement_table
from qualcode.coding.apply import sync_codebook
from qualcode.coding.codebook import Codebook
from qualcode.review.actions import mark_done
from qualcode.store import schema, session_factory
from test_model import BOOK


def kappa_by_formula(a: list[int], b: list[int]) -> float:
    n = len(a)
    both = sum(x and y for x, y in zip(a, b)); neither = sum(not x and not y for x, y in zip(a, b))
    po = (both + neither) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe)


def alpha_by_formula(units: list[list[int]]) -> float:
    """Krippendorff's nominal alpha from the coincidence matrix (values of each unit, missing left out)."""
    o = np.zeros((2, 2))
    for values in units:
        m = len(values)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            o[values[i], values[j]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    return 1 - (n - 1) * (o[0, 1] + o[1, 0]) / (n_c[0] * n_c[1] * 2)


ANNA = {"dyr.katt": {0, 1, 2, 3}, "mat.frukt": {7, 8}}
BO = {"dyr.katt": {0, 1, 2, 4}, "mat.frukt": {7, 8}}
CARA = {"dyr.katt": {0, 1, 2, 3}}  # reviews segments 0-4 only


@pytest.fixture
def table(db):
    book = Codebook.from_yaml_text(BOOK)
    factory = session_factory(db)
    with factory.begin() as session:
        sync_codebook(session, book)
        doc = schema.Document(content_hash="h", file_name="p.txt", source_path="p.txt", size_bytes=1, page_count=1,
                              engine="test", text="x")
        session.add(doc)
        session.flush()
        segs = [schema.Segment(document_id=doc.id, seq=i, kind="paragraph", start=0, end=1, page_start=1,
                               page_end=1, text=f"s{i}") for i in range(10)]
        session.add_all(segs)
        session.flush()
        ids = [s.id for s in segs]
        # machine codings: rules right on every katt segment, the model on 0, 1 and (wrongly) 5
        session.add_all(schema.Coding(segment_id=ids[i], code="dyr.katt", source="rule", applied=True, score=0.5,
                                      created_by="r") for i in range(5))
        session.add_all(schema.Coding(segment_id=ids[i], code="dyr.katt", source="model", applied=i in (0, 1, 5),
                                      score=0.9 if i in (0, 1, 5) else 0.3, model_version="m", created_by="m")
                        for i in range(10))
    version = {i: 0 for i in range(10)}
    for name, codes, segments in (("anna", ANNA, range(10)), ("bo", BO, range(10)), ("cara", CARA, range(5))):
        for i in segments:
            accept = sorted(c for c, where in codes.items() if i in where)
            version[i] = mark_done(factory, ids[i], name, version[i], accept_codes=accept)
    with factory() as session:
        return agreement_table(session).set_index("code")


def test_machine_against_reviewers(table):
    # segments 3 and 4 are disputed (Anna and Bo differ): no verdict yet, so they are left out
    settled = [i for i in range(10) if i not in (3, 4)]
    truth = [int(i in ANNA["dyr.katt"] & BO["dyr.katt"]) for i in settled]
    row = table.loc["dyr.katt"]
    assert row.n_segments == 8 and row.n_positive == 3 and row.n_disputed == 2
    assert row.kappa_rule_reviewer == pytest.approx(1.0)  # the rules fire on 0-4; 3 and 4 are not judged
    assert row.kappa_model_reviewer == pytest.approx(kappa_by_formula(truth, [int(i in (0, 1, 5)) for i in settled]))
    assert row.kappa_model_reviewer == pytest.approx(0.21875 / 0.46875)  # po 0.75, pe 0.53125


def test_reviewers_against_each_other(table):
    row = table.loc["dyr.katt"]
    anna = [int(i in ANNA["dyr.katt"]) for i in range(10)]
    bo = [int(i in BO["dyr.katt"]) for i in range(10)]
    cara = [int(i in CARA["dyr.katt"]) for i in range(5)]
    pairs = [(kappa_by_formula(anna, bo), 10), (kappa_by_formula(anna[:5], cara), 5), (kappa_by_formula(bo[:5], cara), 5)]
    assert pairs[0][0] == pytest.approx(0.28 / 0.48) and pairs[2][0] == pytest.approx(-0.25)
    assert row.kappa_reviewers == pytest.approx(sum(k * n for k, n in pairs) / 20)
    units = [[anna[i], bo[i]] + ([cara[i]] if i < 5 else []) for i in range(10)]
    assert row.alpha_reviewers == pytest.approx(alpha_by_formula(units))
    assert row.n_double == 10


def test_perfect_and_empty_codes(table):
    fruit = table.loc["mat.frukt"]
    assert fruit.kappa_reviewers == pytest.approx(1.0) and fruit.alpha_reviewers == pytest.approx(1.0)
    dog = table.loc["dyr.hund"]  # nobody ever applied it: nothing to agree on
    assert math.isnan(dog.kappa_reviewers) and math.isnan(dog.alpha_reviewers)
    assert math.isnan(dog.kappa_rule_reviewer)


def test_empty_store_gives_empty_measures(db):
    factory = session_factory(db)
    with factory.begin() as session:
        sync_codebook(session, Codebook.from_yaml_text(BOOK))
    with factory() as session:
        frame = agreement_table(session)
    assert list(frame["code"]) == ["dyr.hund", "dyr.katt", "mat.frukt"]
    assert frame["n_segments"].eq(0).all() and frame["kappa_reviewers"].isna().all()
