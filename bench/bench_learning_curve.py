"""Learning curve: macro kappa after 25, 50, 100, 150 labelled segments, active vs random order.

Protocol (per seed, mean of 5 seeds):
  1. Split the labelled set (default: the shared dev set) into a fixed TEST part (40 %,
     stratified by each segment's rarest code) and a POOL (60 %) the "reviewer" labels from.
  2. random order: a seeded permutation of the pool.
     active order: batches of 25 chosen by `qualcode.coding.active.rank` - the same
     uncertainty x rarity priority the review queue uses - from the current model's
     probabilities on the unlabelled pool (rule scores before the first batch).
  3. After each size, train `CodeModel` on the labelled part (+ codebook examples),
     predict TEST and score it with `qualcode.coding.evaluation.score` (the shared
     scorer's definitions: macro kappa over codes with >= 5 positives in TEST).
  Codebook-only kappa on the same TEST part is the reference line. Labels never
  come from TEST, and TEST is the same for both orders within a seed.

Checks: with 25 labels the model is not below the codebook (mean over seeds), and active
order reaches random order's 150-label kappa with fewer labels. Exits non-zero otherwise.

    .venv/bin/python bench/bench_learning_curve.py [--data FILE.jsonl] [--seeds 5]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
HELDOUT = ROOT / "bench" / "data" / "heldout-own.jsonl"  # other genres; odd ids never used for tuning
SIZES = (25, 50, 100, 150)
BATCH = 25
TEST_SHARE = 0.4


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def transfer(dev: list[dict], coder) -> None:
    """Other genres: train on dev (then dev + the held-out even half) and score the odd half."""
    from qualcode.coding.evaluation import score
    from qualcode.coding.rules import predict_records
    from qualcode.coding.training import classify_with_training

    held = read_jsonl(HELDOUT)
    odd = [r for r in held if int(r["id"].rsplit("-", 1)[-1]) % 2 == 1]
    even = [r for r in held if int(r["id"].rsplit("-", 1)[-1]) % 2 == 0]
    coder = coder.with_model(None)  # rules as the prior: what dev labels alone add
    rows = [("codebook alone", predict_records(odd, coder.rules)),
            ("model trained on dev", classify_with_training(coder, dev, odd)),
            ("model trained on dev + held-out even", classify_with_training(coder, dev + even, odd))]
    print(f"Transfer to other genres ({HELDOUT.name}, odd half, {len(odd)} segments):")
    for name, preds in rows:
        s = score(odd, preds).summary
        print(f"  {name:38} macro kappa {s['macro_kappa']:.4f}  micro F1 {s['micro_f1']:.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEV)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--without-rules", action="store_true",
                        help="ablation: hide the rule scores from the model (and the first batch), to see "
                             "learning and the active order on their own; the codebook line stays for reference")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} not found")
        return 0

    from qualcode.coding.active import code_weights, rank
    from qualcode.coding.coder import current_coder
    from qualcode.coding.evaluation import fold_keys, score
    from qualcode.coding.features import analyse
    from qualcode.coding.model import CodeModel, rule_prior
    from qualcode.coding.validation import codebook_rows

    records = read_jsonl(args.data)
    coder = current_coder()
    book = coder.codebook
    started = time.perf_counter()
    texts = [r["text"] for r in records]
    data = analyse(texts, coder.rules)  # one NLP pass; the model reuses it
    rule_scores = data.rule_scores.copy()
    if args.without_rules:
        data.rule_scores[:] = 0.0
        data.pattern_hits = data.pattern_hits * 0.0
    scores = data.rule_scores
    book_rows = codebook_rows(coder)
    min_scores = np.array([book.code(c).min_score for c in book.code_ids])
    labels = [set(r["codes"]) for r in records]
    pool_max = round(len(records) * (1 - TEST_SHARE))
    sizes = [s for s in SIZES if s <= pool_max]

    def fit(idx):
        return CodeModel(seed=0).fit(data.take(idx), [labels[i] for i in idx], book, always=book_rows)

    def kappa_on(model, test) -> float:
        proba = model.predict_analysis(data.take(test))
        preds = [{"id": records[i]["id"], "codes": codes} for i, codes in zip(test, model.decide(proba))]
        return score([records[i] for i in test], preds).summary["macro_kappa"]

    results = {"codebook": [], "random": {s: [] for s in sizes}, "active": {s: [] for s in sizes}}
    for seed in range(args.seeds):
        idx = np.arange(len(records))
        pool, test = train_test_split(idx, test_size=TEST_SHARE, random_state=seed,
                                      stratify=fold_keys(records, 2))
        test = np.sort(test)
        rule_preds = [{"id": records[i]["id"],
                       "codes": [c for c, s, m in zip(book.code_ids, rule_scores[i], min_scores) if s >= m]}
                      for i in test]
        results["codebook"].append(score([records[i] for i in test], rule_preds).summary["macro_kappa"])

        order = np.random.default_rng(seed).permutation(pool)
        for s in sizes:
            results["random"][s].append(kappa_on(fit(order[:s]), test))

        labelled: list[int] = []
        model = None
        while len(labelled) < max(sizes):
            taken = set(labelled)
            rest = np.array([i for i in pool if i not in taken])
            if model is None:
                proba, thresholds = rule_prior(scores[rest], min_scores), np.full(len(book.code_ids), 0.5)
            else:
                proba = model.predict_analysis(data.take(rest))
                thresholds = np.array([model.thresholds[c] for c in book.code_ids])
            positives = np.array([sum(c in labels[i] for i in labelled) for c in book.code_ids])
            labelled += [int(i) for i in rest[rank(proba, thresholds, code_weights(positives), BATCH)]]
            model = fit(np.array(labelled))
            if len(labelled) in sizes:
                results["active"][len(labelled)].append(kappa_on(model, test))
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    codebook = float(np.mean(results["codebook"]))
    mean = {k: {s: float(np.mean(v)) for s, v in results[k].items()} for k in ("random", "active")}
    sd = {k: {s: float(np.std(v)) for s, v in results[k].items()} for k in ("random", "active")}
    print(f"Learning curve on {args.data.name}{' WITHOUT rule scores (ablation)' if args.without_rules else ''}: "
          f"{len(records)} segments, test {len(test)} / pool {len(pool)}, "
          f"mean of {args.seeds} seeds (± sd); macro kappa on the held-out test part")
    print(f"{'labels':>7} {'random':>15} {'active':>15} {'codebook':>9}")
    for s in sizes:
        print(f"{s:>7} {mean['random'][s]:>8.4f} ±{sd['random'][s]:.3f} {mean['active'][s]:>8.4f} ±{sd['active'][s]:.3f}"
              f" {codebook:>9.4f}")
    target = mean["random"][max(sizes)]
    reached = next((s for s in sizes if mean["active"][s] >= target), None)
    print(f"random order at {max(sizes)} labels: {target:.4f}; active order reaches it at: "
          f"{reached if reached is not None else 'not within ' + str(max(sizes))} labels")
    print(f"codebook alone: {codebook:.4f}; {time.perf_counter() - started:.0f} s in all")
    ok = True
    if HELDOUT.exists() and args.data == DEV and not args.without_rules:
        transfer(records, coder)
    if args.without_rules:  # the floor check is about the full model
        pass
    elif mean["random"][sizes[0]] < codebook - 1e-9 or mean["active"][sizes[0]] < codebook - 1e-9:
        print(f"FAIL: with {sizes[0]} labels the model is below the codebook alone")
        ok = False
    if reached is None or reached >= max(sizes):
        print("FAIL: active order does not reach random order's final kappa with fewer labels")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
