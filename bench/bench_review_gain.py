"""Do reviews pay off? A researcher reviews whole documents of a corpus the model has never seen.

Protocol (per rotation; mean over rotations):
  1. The corpus is `../shared/eval/municipal` (8 documents: plans, a status report,
     interviews). The base model is fitted on every OTHER reference set (dev and
     codebooks/reference/*.jsonl) - it has not seen a word of the corpus.
  2. The researcher reviews documents in order - two plans first, then the rest in a
     seeded order - segment by segment, until 160 segments are reviewed. The documents
     not reached by then are the TEST documents of the rotation (never reviewed).
  3. At 0 / 40 / 80 / 160 reviewed segments and after the first two whole plans, the
     model is retrained exactly as `qualcode train` does in a store (the base model as
     prior, the reviews weighted up next to the shipped reference sets, blends and
     thresholds chosen on both, on folds grouped by document) and codes the TEST
     documents, scored with the shared scorer's definitions.
     The rules alone are shown for reference.

Prints one table (macro kappa on the unreviewed documents) and the gain over 0 reviews.
Target (issue 10): two reviewed plans lift kappa on the other documents by >= 0.08, and
reviewing never lowers it. Exits non-zero if a gain is below 0.

    .venv/bin/python bench/bench_review_gain.py [--rotations 3] [--first 0]
    .venv/bin/python bench/bench_review_gain.py --corpus ref11 --reference all   (ref2, ref3, ... alike)

A corpus without two plans (ref3: interviews only) reviews two whole documents first instead.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (0, 40, 80, 160)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rotations", type=int, default=3)
    parser.add_argument("--first", type=int, default=0, help="number of the first rotation (to split a long run)")
    parser.add_argument("--corpus", default="municipal",
                        help="the reference set that plays the new corpus (e.g. ref2 to tune on, municipal to report)")
    parser.add_argument("--reference", default=None,
                        help="comma-separated reference sets the store retrains with (default: the shipped sets "
                             "other than the corpus; 'all': dev and municipal too; e.g. dev,municipal)")
    args = parser.parse_args()

    import numpy as np

    from qualcode.coding.coder import current_coder
    from qualcode.coding.training import adapt
    from unseen_corpus import unseen_corpus

    started = time.perf_counter()
    coder = current_coder()
    unseen = unseen_corpus(coder, args.corpus, args.reference)
    if unseen is None:
        print(f"skipped: reference set {args.corpus} not found")
        return 0
    corpus, base, kappa = unseen.records, unseen.base, unseen.kappa
    print(f"corpus: {args.corpus}, {len(corpus)} segments in {len({r['doc'] for r in corpus})} documents; base model "
          f"fitted on {len(unseen.others)} segments of {sorted({r['set'] for r in unseen.others})} "
          f"(the machine is shared: timings are indicative)", flush=True)

    docs = list(dict.fromkeys(r["doc"] for r in corpus))
    plans = [d for d in docs if d.split(":")[1].startswith("plan")]
    pool = plans if len(plans) >= 2 else docs  # a corpus of interviews has no plans: two documents first
    whole = "2 plans" if pool is plans else "2 documents"
    columns = ["rules", *[f"{n} reviewed" for n in SIZES], whole]
    table = []
    for rot in range(args.first, args.first + args.rotations):
        rng = random.Random(rot)
        first = rng.sample(pool, 2)
        rest = [d for d in docs if d not in first]
        rng.shuffle(rest)
        order = [i for d in first + rest for i in range(len(corpus)) if corpus[i]["doc"] == d]
        reached = {corpus[i]["doc"] for i in order[:max(SIZES)]}
        test = [i for i in range(len(corpus)) if corpus[i]["doc"] not in reached]
        n_whole = sum(corpus[i]["doc"] in first for i in range(len(corpus)))
        row = {"rules": kappa(None, test)}
        for label, n in [*((f"{n} reviewed", n) for n in SIZES), (whole, n_whole)]:
            if n == 0:
                model = base
            else:
                rev = order[:n]
                model = adapt(coder, [corpus[i]["text"] for i in rev], [set(corpus[i]["codes"]) for i in rev],
                              [corpus[i]["doc"] for i in rev], base=base, reference=unseen.shipped)
            row[label] = kappa(model, test)
        table.append(row)
        print(f"rotation {rot}: reviewed {' → '.join(d.split(':')[1] for d in first + rest if d in reached)}; "
              f"test {sorted(d.split(':')[1] for d in docs if d not in reached)} ({len(test)} segments); "
              f"{whole} = {n_whole} segments; {time.perf_counter() - started:.0f} s", flush=True)
        print("   " + "  ".join(f"{c} {row[c]:.3f}" for c in columns), flush=True)
    mean = {c: float(np.mean([r[c] for r in table])) for c in columns}
    print("\nMacro kappa on the documents nobody reviewed (mean over rotations):\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    print("| " + " | ".join(f"{mean[c]:.3f}" for c in columns) + " |")
    gains = {c: mean[c] - mean["0 reviewed"] for c in columns[2:]}
    print("\ngain over the base model alone: " + ", ".join(f"{c} {g:+.3f}" for c, g in gains.items()))
    print(f"{time.perf_counter() - started:.0f} s in all")
    return 0 if min(gains.values()) >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
