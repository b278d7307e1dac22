"""Does `classify --train FILE` ever lower kappa on a corpus the model has never seen?

Protocol, per corpus (a reference set playing the new corpus):
  1. The base model is fitted on every OTHER reference set, as in `bench_review_gain.py`.
  2. It codes the corpus; then the model adapts to the train set's labels exactly as
     `classify --train` does (`qualcode.coding.training.adapt`: the labels weighted up next to
     the shipped reference sets other than the corpus) and codes the corpus again.
  3. Both are scored with the shared scorer's definitions (macro kappa).

Target (issue 10): `--train` with a dev set never lowers kappa. Exits non-zero if it does.

    .venv/bin/python bench/bench_train_file.py [--train dev] [--corpora all | municipal,ref20,ref21]

Each corpus costs one fit of the base model on the other sets (130 s on 12,000 segments).
"""
from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default="dev", help="the reference set that plays the --train file")
    parser.add_argument("--corpora", default="all",
                        help="comma-separated reference sets that play the new corpus, one at a time "
                             "(default 'all': every project set but the --train one)")
    args = parser.parse_args()

    from qualcode.coding.coder import current_coder
    from qualcode.coding.reference import load_reference, project_sets
    from qualcode.coding.training import adapt
    from unseen_corpus import set_names, unseen_corpus

    started = time.perf_counter()
    coder = current_coder()
    train = load_reference([s for s in project_sets() if s.name == args.train])
    if not train:
        print(f"skipped: reference set {args.train} not found")
        return 0
    worst = 0.0
    print(f"| corpus | segments | base model | after --train {args.train} | change |\n|---|---|---|---|---|")
    for name in set_names(args.corpora, project_sets()):
        unseen = unseen_corpus(coder, name) if name != args.train else None
        if unseen is None:
            continue
        adapted = adapt(coder, [r["text"] for r in train], [set(r["codes"]) for r in train],
                        [r["doc"] for r in train], base=unseen.base, reference=unseen.shipped)
        before, after = unseen.kappa(unseen.base), unseen.kappa(adapted)
        worst = min(worst, after - before)
        print(f"| {name} | {len(unseen.records)} | {before:.3f} | {after:.3f} | {after - before:+.3f} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0 if worst >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
