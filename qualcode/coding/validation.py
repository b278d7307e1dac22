"""Honest validation: code documents (or whole genres) the model never saw.

Leave-one-group-out over reference records: for every document (``by="doc"``), genre
(``by="genre"``), kind of text (``by="family"``: rapport, plan, intervju) or reference set
(``by="set"``), the base model is fitted on the other
groups only - C, blend weights and thresholds chosen by its own inner folds, grouped by
document - and codes the held-out group. The rules are the codebook as shipped (fixed
before the fold, never tuned on it). Every held-out prediction is then scored per genre
and per code with the project's scorer definitions, next to the rules alone, plus:

- coverage: share of reference codes for which there is any evidence - a codebook pattern
  or signal that counted, however weak, or a term the fold's model learned from its
  training documents (`qualcode.coding.learned_terms`) - what a reviewer sees highlighted;
  ``coverage_codebook`` counts the codebook's patterns and signals alone, and
  ``evidence_precision`` is the share of all evidence (segment and code) that points at a
  reference code - the price of that coverage in highlighted words that lead nowhere;
- precision of the final decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from qualcode.coding.evaluation import MIN_SUPPORT, score
from qualcode.coding.features import Analysis, analyse
from qualcode.coding.model import BASE_GUARD, CodeModel, codebook_texts
from qualcode.coding.reference import written_examples


@dataclass
class Held:
    """Held-out predictions of the model and of the rules alone, with the analysis they came from."""

    records: list[dict]
    model: list[dict]  # {"id", "codes", "scores"} per record, from a fit that never saw its group
    rules: list[dict]
    analysis: Analysis
    by: str
    learned: np.ndarray | None = None  # records × codes: a term learned without the record's group occurs in it

    def evidence(self, rows=None, codebook_only: bool = False) -> np.ndarray:
        """records × codes: the reviewer would see evidence for the code (codebook, learned terms)."""
        rows = list(range(len(self.records))) if rows is None else list(rows)
        found = self.analysis.evidence[rows]
        return found if codebook_only or self.learned is None else found | self.learned[rows]


def codebook_rows(coder) -> tuple[Analysis, list[list[str]], np.ndarray]:
    """Text that always trains: the codebook's definitions and examples, and the examples
    written for its codes (`reference.written_examples`: by set, held-out kappa 0.576 → 0.601)."""
    texts, codes = codebook_texts(coder.codebook)
    more_texts, more_codes = written_examples(coder.codebook.code_ids)
    texts, codes = texts + more_texts, codes + more_codes
    return analyse(texts, coder.rules), codes, np.ones(len(texts))


def fit_base(coder, data: Analysis, records: list[dict], *, seed: int = 0, book_rows=None) -> CodeModel:
    """The base model on reference records: groups are documents, codebook text always trains.

    Every row weighs the same, although most are interview turns: weighting the families
    (report, plan, interview) towards equal shares moved reports and plans up by 0.005 and cost the
    interviews 0.004 (square-root weights) or 0.012 (equal shares), held out on 5 folds of documents;
    the interviews are the family nearest its target, so not kept."""
    book_rows = book_rows if book_rows is not None else codebook_rows(coder)
    return CodeModel(seed=seed, guard=BASE_GUARD).fit(data, [r["codes"] for r in records], coder.codebook,
                                    groups=[r["doc"] for r in records], always=book_rows)


def rule_predictions(records: list[dict], data: Analysis, coder) -> list[dict]:
    ids, cut = coder.codebook.code_ids, np.array([c.min_score for c in coder.codebook.codes])
    return [{"id": r["id"], "codes": [c for c, s, m in zip(ids, row, cut) if s >= m],
             "scores": {c: float(s) for c, s in zip(ids, row)}} for r, row in zip(records, data.rule_scores)]


def hold_out(records: list[dict], coder, by: str = "doc", *, seed: int = 0, workers: int = 1, folds: int | None = None,
             progress: Callable[[int, int, str], None] | None = None) -> Held:
    """Held-out predictions for every record, leaving out one ``by`` group at a time, or with
    ``folds`` one fold of whole groups at a time (the folds run in ``workers`` forked processes;
    results do not depend on it)."""
    data = analyse([r["text"] for r in records], coder.rules)
    book_rows = codebook_rows(coder)
    keys = [r[by] for r in records]
    if folds is not None and folds < len(set(keys)):
        keys = group_folds(keys, folds)
    groups = list(dict.fromkeys(keys))
    preds: list[dict | None] = [None] * len(records)
    learned = np.zeros((len(records), len(coder.codebook.code_ids)), dtype=bool)
    _STATE[:] = [(records, coder, data, book_rows, keys, seed)]
    try:
        if workers > 1 and len(groups) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                results = pool.map(_fold, groups)
                for n, (g, (test, rows, hits)) in enumerate(zip(groups, results), start=1):
                    learned[test] = hits
                    _place(preds, test, rows, progress, n, len(groups), g)
        else:
            for n, g in enumerate(groups, start=1):
                test, rows, hits = _fold(g)
                learned[test] = hits
                _place(preds, test, rows, progress, n, len(groups), g)
    finally:
        _STATE.clear()
    return Held(records, preds, rule_predictions(records, data, coder), data, by, learned)  # type: ignore[arg-type]


_STATE: list = []  # what a forked fold worker inherits


def group_folds(keys: list, folds: int) -> list[str]:
    """Each row's fold ("fold 3 of 20"): whole groups dealt into ``folds`` folds of about equal size."""
    from sklearn.model_selection import GroupKFold

    out = np.empty(len(keys), dtype=object)
    for f, (_, test) in enumerate(GroupKFold(folds).split(out, groups=[str(k) for k in keys]), start=1):
        out[test] = f"fold {f} of {folds}"
    return out.tolist()


def _fold(g) -> tuple[list[int], list[dict], np.ndarray]:
    """Fit without group ``g``, code ``g``: (row numbers, predictions, where its learned terms occur)."""
    records, coder, data, book_rows, keys, seed = _STATE[0]
    test = [i for i, k in enumerate(keys) if k == g]
    train = [i for i, k in enumerate(keys) if k != g]
    model = fit_base(coder, data.take(train), [records[i] for i in train], seed=seed, book_rows=book_rows)
    held = data.take(test)
    proba = model.predict_analysis(held)
    return test, [{"id": records[i]["id"], "codes": codes,
                   "scores": {c: round(float(p), 4) for c, p in zip(model.code_ids, row)}}
                  for i, codes, row in zip(test, model.decide(proba), proba)], model.term_hits(held)


def _place(preds, test, rows, progress, n, total, g) -> None:
    for i, row in zip(test, rows):
        preds[i] = row
    if progress is not None:
        progress(n, total, str(g))


def evidence_precision(records: list[dict], evidence: np.ndarray, code_ids: list[str]) -> float:
    """Share of (segment, code) evidence whose code the reference gives the segment."""
    right = sum(bool(row[j]) for r, row in zip(records, evidence) for j, c in enumerate(code_ids) if c in r["codes"])
    return round(right / evidence.sum(), 3) if evidence.sum() else float("nan")


def coverage(records: list[dict], evidence: np.ndarray, code_ids: list[str]) -> tuple[int, int]:
    """(reference codes with evidence, reference codes) over these records (``evidence``: records × codes)."""
    col = {c: j for j, c in enumerate(code_ids)}
    hit = total = 0
    for r, row in zip(records, evidence):
        for c in r["codes"]:
            if c in col:
                total += 1
                hit += bool(row[col[c]])
    return hit, total


def _macro(report) -> dict:
    codes = report.codes()
    scored = codes[codes["support"] >= MIN_SUPPORT]
    return {"macro_kappa": report.summary["macro_kappa"], "micro_f1": report.summary["micro_f1"],
            "precision": round(float(scored["precision"].mean()), 3) if len(scored) else float("nan"),
            "f1": round(float(scored["f1"].mean()), 3) if len(scored) else float("nan"),
            "codes": len(scored)}


def genre_table(held: Held, code_ids: list[str]) -> pd.DataFrame:
    """One row per genre (and per reference set, and all): model vs rules on held-out rows."""
    rows = []
    parts = [("genre", g) for g in dict.fromkeys(r["genre"] for r in held.records)]
    parts += [("family", f) for f in dict.fromkeys(r["family"] for r in held.records)]
    parts += [("set", s) for s in dict.fromkeys(r["set"] for r in held.records)] + [("all", "alle")]
    for kind, key in parts:
        sel = [i for i, r in enumerate(held.records) if kind == "all" or r[kind] == key]
        recs = [held.records[i] for i in sel]
        m = _macro(score(recs, [held.model[i] for i in sel], code_ids))
        r = _macro(score(recs, [held.rules[i] for i in sel], code_ids))
        hit, total = coverage(recs, held.evidence(sel), code_ids)
        book_hit, _ = coverage(recs, held.evidence(sel, codebook_only=True), code_ids)
        rows.append({"group": f"{kind}: {key}", "segments": len(sel), "docs": len({x["doc"] for x in recs}),
                     "codes": m["codes"], "kappa": m["macro_kappa"], "f1": m["f1"], "precision": m["precision"],
                     "rules_kappa": r["macro_kappa"], "rules_precision": r["precision"],
                     "coverage": round(hit / total, 3) if total else float("nan"),
                     "coverage_codebook": round(book_hit / total, 3) if total else float("nan"),
                     "evidence_precision": evidence_precision(recs, held.evidence(sel), code_ids)})
    return pd.DataFrame(rows)


def code_table(held: Held, code_ids: list[str]) -> pd.DataFrame:
    """One row per code over all held-out rows: support, kappa, F1, precision, recall, coverage."""
    model = score(held.records, held.model, code_ids).codes().set_index("key")
    rules = score(held.records, held.rules, code_ids).codes().set_index("key")
    col = {c: j for j, c in enumerate(code_ids)}
    every, book = held.evidence(), held.evidence(codebook_only=True)
    rows = []
    for c in code_ids:
        pos = [i for i, r in enumerate(held.records) if c in r["codes"]]
        cov = np.mean(every[pos, col[c]]) if pos else float("nan")
        cov_book = np.mean(book[pos, col[c]]) if pos else float("nan")
        rows.append({"code": c, "support": int(model.loc[c, "support"]), "kappa": model.loc[c, "kappa"],
                     "f1": model.loc[c, "f1"], "precision": model.loc[c, "precision"],
                     "recall": model.loc[c, "recall"], "rules_kappa": rules.loc[c, "kappa"],
                     "coverage": round(float(cov), 3), "coverage_codebook": round(float(cov_book), 3)})
    return pd.DataFrame(rows)
