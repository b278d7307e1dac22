#!/usr/bin/env python3
"""Agreement between two blind coders, per code and overall; writes the disagreement list.

Usage: agree.py CODER_A CODER_B DOC [DOC ...]  -> prints JSON summary, writes disagreements/<a>-<b>.jsonl
"""
import json, sys
from pathlib import Path
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).parent
SPEC_CODES = [l.split("`")[1] for l in (ROOT.parent / "shared/codebook-spec.md").read_text().splitlines()
              if l.startswith("| `")]

def load(coder, doc):
    return {r["id"]: r for r in map(json.loads, open(ROOT / "coding" / coder / f"{doc}.jsonl"))}

def main(a, b, docs):
    A, B, segs = {}, {}, {}
    for d in docs:
        A.update(load(a, d)); B.update(load(b, d))
        for line in open(ROOT / "segments" / f"{d}.jsonl"):
            r = json.loads(line); segs[r["id"]] = r
    ids = list(segs)
    missing = [i for i in ids if i not in A or i not in B]
    assert not missing, f"not coded by both: {missing[:5]}"
    per = {}
    for c in SPEC_CODES:
        ya = [c in A[i]["codes"] for i in ids]; yb = [c in B[i]["codes"] for i in ids]
        n = sum(ya) + sum(yb)
        per[c] = {"a": sum(ya), "b": sum(yb), "both": sum(x and y for x, y in zip(ya, yb)),
                  "kappa": round(cohen_kappa_score(ya, yb), 3) if n else None}
    ks = [v["kappa"] for v in per.values() if v["kappa"] is not None and (v["a"] + v["b"]) >= 10]
    exact = sum(set(A[i]["codes"]) == set(B[i]["codes"]) for i in ids)
    out = ROOT / "disagreements"; out.mkdir(exist_ok=True)
    n_dis = 0
    with open(out / f"{a}-{b}.jsonl", "w") as f:
        for i in ids:
            sa, sb = set(A[i]["codes"]), set(B[i]["codes"])
            if sa != sb:
                n_dis += 1
                f.write(json.dumps({"id": i, "source": segs[i]["source"], "text": segs[i]["text"],
                                    "agreed": sorted(sa & sb), "only_" + a: sorted(sa - sb), "only_" + b: sorted(sb - sa),
                                    "note_" + a: A[i].get("note"), "note_" + b: B[i].get("note")}, ensure_ascii=False) + "\n")
    print(json.dumps({"segments": len(ids), "exact_match": exact, "disagreeing_segments": n_dis,
                      "mean_kappa_codes_with_10+": round(sum(ks) / len(ks), 3) if ks else None,
                      "per_code": per}, indent=1))

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
