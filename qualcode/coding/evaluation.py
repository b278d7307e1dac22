"""How good is the coding? Per-code and summary metrics against reference labels.

The numbers follow the project's scorer (`/work/shared/eval/score_codes.py`) exactly,
so a result printed here can be compared with one the scorer printed:

- each code is a binary decision per segment; codes are those seen in the reference;
- per-code precision / recall / F1 (0 when undefined), Cohen's kappa (1.0 when both
  sides are constant and equal) and average precision from "scores" (only when every
  prediction carries scores; ties ranked in reference order);
- macro kappa = mean of the per-code kappas *rounded to 3 decimals* over codes with
  >= 5 reference positives; micro F1 over all (segment, code) decisions; theme kappa
  the same after collapsing codes to their theme; macro AP over the scored codes.

The metrics themselves come from ``sklearn.metrics``. Cross-validation runs every fold
through `classify_with_training`, the same path as `qualcode classify --train`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, cohen_kappa_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

MIN_SUPPORT = 5  # codes with fewer reference positives are shown but not averaged


@dataclass
class Report:
    """Per-code (and per-theme) rows plus the summary the scorer prints."""

    rows: pd.DataFrame  # level, key, support, predicted, precision, recall, f1, kappa, ap
    summary: dict

    def codes(self) -> pd.DataFrame:
        return self.rows[self.rows["level"] == "code"].reset_index(drop=True)

    def themes(self) -> pd.DataFrame:
        return self.rows[self.rows["level"] == "theme"].reset_index(drop=True)


def binary_kappa(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Cohen's kappa of two yes/no vectors; 1.0 when both are constant and equal (as the scorer)."""
    return float(cohen_kappa_score(np.asarray(y_true, bool), np.asarray(y_pred, bool), labels=[False, True],
                                   sample_weight=sample_weight, replace_undefined_by=1.0))


def ranked_average_precision(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision with ties ranked in input order (the scorer's stable sort)."""
    y_true = np.asarray(y_true, bool)
    if not y_true.any():
        return None
    order = np.argsort(-np.asarray(scores, float), kind="stable")
    rank_score = np.empty(len(order))
    rank_score[order] = -np.arange(len(order), dtype=float)  # unique: no ties left
    return float(average_precision_score(y_true, rank_score))


def score(reference: list[dict], predictions: Iterable[dict], codes: list[str] | None = None) -> Report:
    """Score predictions ({"id", "codes", "scores"?}) against reference records ({"id", "codes"})."""
    pred = {p["id"]: p for p in predictions}
    missing = [r["id"] for r in reference if r["id"] not in pred]
    if missing:
        raise ValueError(f"predictions miss {len(missing)} reference ids, e.g. {missing[:3]}")
    codes = sorted(set(codes) if codes is not None else {c for r in reference for c in r["codes"]})
    preds = [pred[r["id"]] for r in reference]
    have_scores = all(p.get("scores") for p in preds)
    rows = []
    micro = np.zeros(4, dtype=int)
    for level, key_of in (("code", lambda c: c), ("theme", lambda c: c.split(".")[0])):
        for key in sorted({key_of(c) for c in codes}):
            y = np.array([any(key_of(c) == key for c in r["codes"]) for r in reference])
            p = np.array([any(key_of(c) == key for c in q.get("codes", [])) for q in preds])
            prec, rec, f1, _ = precision_recall_fscore_support(y, p, average="binary", zero_division=0.0)
            ap = None
            if have_scores:
                s = np.array([max([v for c, v in q["scores"].items() if key_of(c) == key] or [0.0]) for q in preds])
                ap = ranked_average_precision(y, s)
            if level == "code":
                micro += [np.sum(y & p), np.sum(~y & p), np.sum(y & ~p), np.sum(~y & ~p)]
            rows.append({"level": level, "key": key, "support": int(y.sum()), "predicted": int(p.sum()),
                         "precision": round(float(prec), 3), "recall": round(float(rec), 3),
                         "f1": round(float(f1), 3), "kappa": round(binary_kappa(y, p), 3),
                         "ap": None if ap is None else round(ap, 3)})
    table = pd.DataFrame(rows, columns=["level", "key", "support", "predicted", "precision", "recall", "f1",
                                        "kappa", "ap"])
    return Report(table, _summary(rows, micro, len(reference)))


def _summary(rows: list[dict], micro: np.ndarray, n: int) -> dict:
    code_rows = [r for r in rows if r["level"] == "code" and r["support"] >= MIN_SUPPORT]
    theme_rows = [r for r in rows if r["level"] == "theme" and r["support"] >= MIN_SUPPORT]
    tp, fp, fn, _tn = (int(x) for x in micro)
    aps = [r["ap"] for r in code_rows if r["ap"] is not None]
    return {"segments": n, "codes_scored": len(code_rows),
            "macro_kappa": round(sum(r["kappa"] for r in code_rows) / max(1, len(code_rows)), 4),
            "micro_f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp else 0.0,
            "theme_kappa": round(sum(r["kappa"] for r in theme_rows) / max(1, len(theme_rows)), 4),
            "macro_ap": round(sum(aps) / len(aps), 4) if aps else None}


def fold_keys(records: list[dict], k: int) -> list[str]:
    """A stratification key per record: its rarest code (or "-" for none), rare keys pooled.

    Multi-label data cannot be stratified exactly; this keeps every reasonably common
    code spread over the folds."""
    freq = Counter(c for r in records for c in r["codes"])
    keys = [min(r["codes"], key=lambda c: (freq[c], c)) if r["codes"] else "-" for r in records]
    counts = Counter(keys)
    return [key if counts[key] >= k else "rare" for key in keys]


def cross_validate(records: list[dict], k: int, coder, *, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Out-of-fold predictions for every record, in input order (K-fold, seeded, stratified-ish)."""
    from qualcode.coding.training import classify_with_training

    if k < 2 or k > len(records):
        raise ValueError(f"--cv needs 2 <= K <= number of records ({len(records)}), got {k}")
    keys = fold_keys(records, k)
    if min(Counter(keys).values()) < k:  # even the pooled key is too small: plain shuffled folds
        keys = ["-"] * len(records)
    folds = StratifiedKFold(k, shuffle=True, random_state=seed)
    out: list[dict | None] = [None] * len(records)
    for i, (train, test) in enumerate(folds.split(np.zeros(len(records)), keys), start=1):
        preds = classify_with_training(coder, [records[j] for j in train], [records[j] for j in test], seed=seed)
        for j, p in zip(test, preds):
            out[j] = p
        if progress is not None:
            progress(i, k)
    return out  # type: ignore[return-value]
