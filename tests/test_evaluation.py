"""Evaluation: the same numbers as the shared scorer, and cross-validation through classify --train."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from qualcode.coding.evaluation import fold_keys, ranked_average_precision, score
from test_model import BOOK, make

CODES = ["a.en", "a.to", "b.tre", "b.fire", "c.fem"]


def fixture_files(tmp_path, seed: int = 0, with_scores: bool = True):
    """A reference and noisy predictions with ties, constant codes and stray predicted codes."""
    rng = random.Random(seed)
    ref, pred = [], []
    for i in range(40):
        codes = [c for c in CODES[:4] if rng.random() < 0.3]
        if i % 7 == 0:
            codes.append("c.fem")
        ref.append({"id": f"r{i}", "text": f"tekst {i}", "codes": codes})
        guess = [c for c in CODES if (c in codes) != (rng.random() < 0.15)] + (["x.ukjent"] if i == 3 else [])
        scores = {c: round(rng.choice([0.0, 0.25, 0.5, 0.5, 0.75, 1.0]) if c in guess else rng.choice([0.0, 0.25]), 2)
                  for c in CODES}
        rec = {"id": f"r{i}", "codes": guess}
        if with_scores:
            rec["scores"] = scores
        pred.append(rec)
    rng.shuffle(pred)  # order must not matter
    ref_path, pred_path = tmp_path / f"ref{seed}.jsonl", tmp_path / f"pred{seed}.jsonl"
    ref_path.write_text("".join(json.dumps(r) + "\n" for r in ref), encoding="utf-8")
    pred_path.write_text("".join(json.dumps(p) + "\n" for p in pred), encoding="utf-8")
    return ref, pred, ref_path, pred_path


def run_scorer(shared, ref_path, pred_path) -> tuple[dict, list[list[str]]]:
    out = subprocess.run([sys.executable, str(shared / "eval" / "score_codes.py"), str(ref_path), str(pred_path),
                          "--per-code"], capture_output=True, text=True, check=True).stdout.splitlines()
    return json.loads(out[-1]), [line.split() for line in out[1:-1]]


@pytest.mark.parametrize("seed,with_scores", [(0, True), (1, True), (2, False)])
def test_matches_the_shared_scorer(tmp_path, shared, seed, with_scores):
    if not (shared / "eval" / "score_codes.py").exists():
        pytest.skip("score_codes.py not available")
    ref, pred, ref_path, pred_path = fixture_files(tmp_path, seed, with_scores)
    expected, rows = run_scorer(shared, ref_path, pred_path)
    report = score(ref, pred)
    assert report.summary == expected
    assert len(rows) == len(report.rows)
    for theirs, ours in zip(rows, report.rows.itertuples(index=False)):
        level, key, sup, npred, p, r, f1, k, *ap = theirs
        assert (level, key, int(sup), int(npred)) == (ours.level, ours.key, ours.support, ours.predicted)
        assert [float(p), float(r), float(f1), float(k)] == [ours.precision, ours.recall, ours.f1, ours.kappa]
        assert (float(ap[0]) if ap else None) == ours.ap


def test_evaluate_cli_prints_the_scorer_summary(tmp_path, shared):
    if not (shared / "eval" / "score_codes.py").exists():
        pytest.skip("score_codes.py not available")
    from qualcode.cli import app

    _, _, ref_path, pred_path = fixture_files(tmp_path, 3)
    expected, _ = run_scorer(shared, ref_path, pred_path)
    result = CliRunner().invoke(app, ["evaluate", str(ref_path), "--predictions", str(pred_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


def test_hand_computed_kappa_and_ap():
    ref = [{"id": i, "codes": ["a.x"] if i < 4 else []} for i in range(10)]
    pred = [{"id": i, "codes": ["a.x"] if i in (0, 1, 2, 4) else [], "scores": {"a.x": 1.0 - i / 10}}
            for i in range(10)]
    row = score(ref, pred).codes().iloc[0]
    # tp=3 fp=1 fn=1 tn=5: po=0.8, pe=(4*4+6*6)/100=0.52, kappa=0.28/0.48
    assert row.kappa == round(0.28 / 0.48, 3)
    assert (row.precision, row.recall) == (0.75, 0.75)
    # ranking 0,1,2,3,4..: positives at ranks 1-4 → AP 1.0
    assert row.ap == 1.0
    # ties are ranked in reference order, as the scorer does: positive last among equals
    assert ranked_average_precision([False, True], [0.5, 0.5]) == 0.5


def test_missing_predictions_are_an_error():
    with pytest.raises(ValueError, match="miss 1"):
        score([{"id": "a", "codes": []}, {"id": "b", "codes": []}], [{"id": "a", "codes": []}])


def test_fold_keys_are_stratifiable():
    texts, labels = make(50, seed=1)
    recs = [{"id": i, "codes": sorted(ls)} for i, ls in enumerate(labels)]
    keys = fold_keys(recs, 5)
    from collections import Counter
    assert min(Counter(keys).values()) >= 5 or "rare" in keys


def test_cv_runs_the_classify_train_path(tmp_path):
    from qualcode.cli import app

    book = tmp_path / "book.yaml"
    book.write_text(BOOK, encoding="utf-8")
    texts, labels = make(90, seed=12)
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"id": f"d{i}", "text": t, "codes": sorted(ls)}, ensure_ascii=False) + "\n"
                           for i, (t, ls) in enumerate(zip(texts, labels))), encoding="utf-8")
    outs = []
    for name in ("cv1.jsonl", "cv2.jsonl"):
        out = tmp_path / name
        result = CliRunner().invoke(app, ["evaluate", str(ref), "--cv", "3", "--codebook", str(book), "-o", str(out),
                                          "--json"])
        assert result.exit_code == 0, result.output
        outs.append((json.loads(result.stdout.strip().splitlines()[-1]), out.read_text(encoding="utf-8")))
    assert outs[0] == outs[1]  # seeded: the same folds and models
    preds = [json.loads(line) for line in outs[0][1].splitlines()]
    assert [p["id"] for p in preds] == [f"d{i}" for i in range(90)]
    records = [json.loads(line) for line in ref.read_text(encoding="utf-8").splitlines()]
    assert score(records, preds).summary == outs[0][0]  # the written file is what was scored
    # with 60 training segments per fold, the model learns the puppies the rules miss
    rules = CliRunner().invoke(app, ["evaluate", str(ref), "--codebook", str(book), "--json"])
    assert outs[0][0]["micro_f1"] > json.loads(rules.stdout.strip().splitlines()[-1])["micro_f1"]


def test_cv_and_predictions_are_exclusive(tmp_path):
    from qualcode.cli import app

    _, _, ref_path, pred_path = fixture_files(tmp_path, 4)
    result = CliRunner().invoke(app, ["evaluate", str(ref_path), "--cv", "3", "--predictions", str(pred_path)])
    assert result.exit_code != 0
