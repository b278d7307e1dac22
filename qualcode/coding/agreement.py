"""How far do coders agree? Model and rules against reviewers, and reviewers among themselves.

Per code, on the segments reviewers marked done:

- ``kappa_model_reviewer`` / ``kappa_rule_reviewer``: Cohen's kappa of the machine's
  applied codings against the reviewed labels (`reviewed_labels`: unanimous or
  adjudicated). Segments where reviewers disagree on the code and nobody has
  adjudicated have no verdict yet and are left out (``n_disputed``). Model codings are
  written only for segments not yet reviewed, so they predate the verdict; segments
  the model never coded are left out (``n_model``).
- ``kappa_reviewers``: Cohen's kappa between each pair of reviewers on the segments
  both marked done, averaged over pairs weighted by overlap (``n_double`` segments
  have two or more reviewers).
- ``alpha_reviewers``: Krippendorff's alpha (nominal) over all reviewers at once;
  a segment one reviewer did not do is a missing value.

A measure with no variation at all to judge (every decision the same) is NaN:
agreement on nothing is not agreement.
"""
from __future__ import annotations

import itertools
import warnings

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.review.labels import disputes, labels_by_reviewer, reviewed_labels
from qualcode.store import schema

COLUMNS = ["code", "n_segments", "n_positive", "kappa_rule_reviewer", "n_model", "kappa_model_reviewer",
           "n_double", "kappa_reviewers", "alpha_reviewers", "n_disputed"]


def kappa(a, b) -> float:
    """Cohen's kappa of two yes/no vectors; NaN when it is undefined."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if len(a) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, labels=[False, True], replace_undefined_by=np.nan))


def alpha(data: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of a coders × units matrix of 0/1/NaN; NaN when undefined."""
    if data.size == 0:
        return float("nan")
    pairable = np.sum(~np.isnan(data), axis=0) >= 2
    data = data[:, pairable]
    values = data[~np.isnan(data)]
    if values.size == 0 or np.unique(values).size < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=[0.0, 1.0]))


def _machine(session: Session, source: str, segment_ids: list[int]) -> tuple[set[int], dict[int, set[str]]]:
    """Segments that carry any active coding of ``source``, and the codes it applied there."""
    rows = session.execute(select(schema.Coding.segment_id, schema.Coding.code, schema.Coding.applied).where(
        schema.Coding.source == source, schema.Coding.active, schema.Coding.segment_id.in_(segment_ids)))
    coded: set[int] = set()
    applied: dict[int, set[str]] = {}
    for seg, code, hit in rows:
        coded.add(seg)
        if hit:
            applied.setdefault(seg, set()).add(code)
    return coded, applied


def agreement_table(session: Session, codes: list[str] | None = None) -> pd.DataFrame:
    """One row per code (default: the store's active codes) with the measures above."""
    if codes is None:
        codes = list(session.scalars(select(schema.Code.code).where(schema.Code.active).order_by(schema.Code.code)))
    labels = reviewed_labels(session)
    open_disputes = disputes(session)
    all_segs = sorted(labels)
    by_reviewer = labels_by_reviewer(session)
    _, rule = _machine(session, "rule", all_segs)
    model_coded, model = _machine(session, "model", all_segs)
    reviewers = sorted(by_reviewer)
    pairs = [(a, b, sorted(set(by_reviewer[a]) & set(by_reviewer[b]))) for a, b in itertools.combinations(reviewers, 2)]
    multi = [s for s in all_segs if sum(s in by_reviewer[r] for r in reviewers) >= 2]
    rows = []
    for code in codes:
        segs = [s for s in all_segs if (s, code) not in open_disputes]
        model_segs = [s for s in segs if s in model_coded]
        truth = np.array([code in labels[s] for s in segs], dtype=bool)
        pair_kappas = [(kappa([code in by_reviewer[a][s] for s in both], [code in by_reviewer[b][s] for s in both]),
                        len(both)) for a, b, both in pairs if both]
        pair_kappas = [(k, n) for k, n in pair_kappas if not np.isnan(k)]
        matrix = np.array([[float(code in by_reviewer[r][s]) if s in by_reviewer[r] else np.nan for s in multi]
                           for r in reviewers]) if multi else np.zeros((0, 0))
        rows.append({
            "code": code,
            "n_segments": len(segs),
            "n_positive": int(truth.sum()),
            "kappa_rule_reviewer": kappa(truth, [code in rule.get(s, ()) for s in segs]),
            "n_model": len(model_segs),
            "kappa_model_reviewer": kappa([code in labels[s] for s in model_segs],
                                          [code in model.get(s, ()) for s in model_segs]),
            "n_double": len(multi),
            "kappa_reviewers": (float(np.average([k for k, _ in pair_kappas], weights=[n for _, n in pair_kappas]))
                                if pair_kappas else float("nan")),
            "alpha_reviewers": alpha(matrix),
            "n_disputed": len(all_segs) - len(segs),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


PAIR_COLUMNS = ["reviewer_a", "reviewer_b", "n_common", "n_differ", "kappa_pooled"]


def reviewer_pairs(session: Session, codes: list[str] | None = None) -> pd.DataFrame:
    """Per pair of reviewers: segments both marked done, how many of them they coded differently,
    and Cohen's kappa pooled over every (segment, code) decision on those segments."""
    if codes is None:
        codes = list(session.scalars(select(schema.Code.code).where(schema.Code.active).order_by(schema.Code.code)))
    by_reviewer = labels_by_reviewer(session)
    rows = []
    for a, b in itertools.combinations(sorted(by_reviewer), 2):
        both = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
        if not both:
            continue
        x = [c in by_reviewer[a][s] for s in both for c in codes]
        y = [c in by_reviewer[b][s] for s in both for c in codes]
        rows.append({"reviewer_a": a, "reviewer_b": b, "n_common": len(both),
                     "n_differ": sum(by_reviewer[a][s] != by_reviewer[b][s] for s in both),
                     "kappa_pooled": kappa(x, y)})
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)
