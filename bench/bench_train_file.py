"""Does `classify --train FILE` ever lower kappa on a corpus the model has never seen?

Protocol, per corpus (a reference set playing the new corpus):
  1. The base model is fitted on every OTHER reference set, as in `bench_review_gain.py`.
  2. It codes the corpus; then the model adapts to the train set's labels exactly as
     `classify --train` does (`qualcode.coding.training.adapt`: the labels weighted up next to
     the shipped reference sets other than the corpus) and codes the corpus again.
  3. Both are scored with the shared scorer's definitions (macro kappa).

Target (issue 10): `--train` with a dev set never lowers kappa. Exits non-zero if it does.

    .venv/bin/python bench/bench_train_file.py [--train dev] [--corpora municipal,ref3,ref4,ref5]
"""
from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="dev", help="the reference set that plays the --train file")
    parser.add_argument("--corpora", default="municipal,ref3,ref4,ref5",
                        help="comma-separated reference sets that play the new corpus, one at a time")
    args = parser.parse_args()

    from qualcode.coding.coder import current_coder
    from qualcode.coding.evaluation import score
    from qualcode.coding.features import analyse
    from qualcode.coding.reference import load_reference, project_sets, shipped_sets
    from qualcode.coding.training import adapt
    from qualcode.coding.validation import fit_base

    started = time.perf_counter()
    coder = current_coder()
    sets = {s.name: s for s in project_sets()}
    if args.train not in sets:
        print(f"skipped: reference set {args.train} not found")
        return 0
    worst = 0.0
    print(f"| corpus | segments | base model | after --train {args.train} | change |\n|---|---|---|---|---|")
    for name in [c for c in args.corpora.split(",") if c in sets and c != args.train]:
        corpus = load_reference([sets[name]])
        others = load_reference([s for s in sets.values() if s.name != name])
        base = fit_base(coder, analyse([r["text"] for r in others], coder.rules), others)
        base.version = "bench-base"
        train = [r for r in others if r["set"] == args.train]
        shipped = [r for r in load_reference(shipped_sets()) if r["set"] != name]
        adapted = adapt(coder, [r["text"] for r in train], [set(r["codes"]) for r in train],
                        [r["doc"] for r in train], base=base, reference=shipped)
        data = analyse([r["text"] for r in corpus], coder.rules)

        def kappa(model) -> float:
            preds = [{"id": r["id"], "codes": c} for r, c in zip(corpus, model.decide(model.predict_analysis(data)))]
            return score(corpus, preds, coder.codebook.code_ids).summary["macro_kappa"]

        before, after = kappa(base), kappa(adapted)
        worst = min(worst, after - before)
        print(f"| {name} | {len(corpus)} | {before:.3f} | {after:.3f} | {after - before:+.3f} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0 if worst >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
