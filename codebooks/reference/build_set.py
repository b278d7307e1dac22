#!/usr/bin/env python3
"""Final labels of one reference set, built in its working folder: codes both blind coders gave
stand, disagreements take the adjudicator's codes. Built ref3-ref29 (each set's coder pairs and
their documents are in its `provenance/pairs.json`).

    python build_set.py WORKING_FOLDER

The working folder holds pairs.json ([[coder_a, coder_b, [doc, ...]], ...]), segments/<doc>.jsonl,
coding/<coder>/<doc>.jsonl, adjudication/<a>-<b>.jsonl, docs/, provenance/ and the three briefs;
the codebook specification is read from ../shared/codebook-spec.md beside it. Writes final/
(segments.jsonl, coding-trail.jsonl, kappa-per-code.json, summary.json and copies of the documents,
raw codings, adjudications, briefs and pairs)."""
import json
import shutil
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

ROOT = Path(sys.argv[1])
PAIRS = json.loads((ROOT / "pairs.json").read_text())
SPEC = [l.split("`")[1] for l in (ROOT.parent / "shared/codebook-spec.md").read_text().splitlines() if l.startswith("| `")]
rows = lambda p: [json.loads(l) for l in open(p) if l.strip()]

out = ROOT / "final"; out.mkdir(exist_ok=True)
segments, trail, ya, yb = [], [], [], []
n_adj = 0
for a, b, docs in PAIRS:
    adj = {r["id"]: r for r in rows(ROOT / "adjudication" / f"{a}-{b}.jsonl")}
    for d in docs:
        A = {r["id"]: r for r in rows(ROOT / "coding" / a / f"{d}.jsonl")}
        B = {r["id"]: r for r in rows(ROOT / "coding" / b / f"{d}.jsonl")}
        for seg in rows(ROOT / "segments" / f"{d}.jsonl"):
            i = seg["id"]; ca, cb = sorted(A[i]["codes"]), sorted(B[i]["codes"])
            assert set(ca) | set(cb) <= set(SPEC), i
            if set(ca) == set(cb):
                final, how, why = ca, "agreed", None
            else:
                final, how, why = sorted(adj[i]["codes"]), "adjudicated", adj[i].get("why"); n_adj += 1
            assert set(final) <= set(SPEC), i
            segments.append({**seg, "codes": final})
            trail.append({"id": i, "coder_1": ca, "coder_2": cb, "final": final, "resolution": how, "why": why})
            ya.append(set(ca)); yb.append(set(cb))
kappa = {c: round(cohen_kappa_score([c in s for s in ya], [c in s for s in yb]), 3)
         for c in SPEC if sum(c in s for s in ya) + sum(c in s for s in yb) >= 10}
summary = {"segments": len(segments), "documents": len({s["source"] for s in segments}),
           "exact_match": sum(x == y for x, y in zip(ya, yb)), "adjudicated": n_adj,
           "mean_kappa_codes_with_10+": round(sum(kappa.values()) / len(kappa), 3),
           "segments_with_codes": sum(bool(s["codes"]) for s in segments)}
(out / "segments.jsonl").write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in segments))
(out / "coding-trail.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in trail))
(out / "kappa-per-code.json").write_text(json.dumps(kappa, indent=1) + "\n")
(out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
for sub in ("docs", "coding", "adjudication"):
    shutil.copytree(ROOT / sub, out / ("coders" if sub == "coding" else sub), dirs_exist_ok=True)
prov = out / "provenance"; prov.mkdir(exist_ok=True)
for name, dest in (("WRITER_BRIEF.md", "writer-brief.md"), ("CODER_BRIEF.md", "coder-brief.md"),
                   ("ADJUDICATOR_BRIEF.md", "adjudicator-brief.md"), ("pairs.json", "pairs.json")):
    shutil.copy(ROOT / name, prov / dest)
for note in (ROOT / "provenance").glob("*.md"):
    shutil.copy(note, prov / note.name)
print(json.dumps(summary, indent=1))
