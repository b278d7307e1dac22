"""How well the shipped codebook alone (no model) generalises.

Dev (`../shared/eval/dev.jsonl`) is the text the codebook was written against, so it
is optimistic. `bench/data/heldout-own.jsonl` is a separately written set in other
genres (plans, interview answers, evaluation reports); the codebook is tuned looking
only at its even ids, so the odd half is the honest estimate.

Runs `qualcode classify` (codebook only) and scores with the shared scorer
(`score_codes.py`) when `../shared` exists, else with an equivalent sklearn
implementation. Exits non-zero if dev or the held-out odd half falls below
macro kappa 0.50 / micro F1 0.55.

    .venv/bin/python bench/bench_codebook.py [--per-code] [--codebook PATH]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eval"
DEV = SHARED / "dev.jsonl"
SCORER = SHARED / "score_codes.py"
HELDOUT = ROOT / "bench" / "data" / "heldout-own.jsonl"
MIN_KAPPA, MIN_F1 = 0.50, 0.55
MIN_SUPPORT = 5  # as in the shared scorer: codes with fewer reference positives are not averaged


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(rows: list[dict], path: Path) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def classify(segments: Path, out: Path, codebook: Path | None) -> list[dict]:
    """Predictions from the real CLI, so the bench measures what users run."""
    qualcode = Path(sys.executable).with_name("qualcode")
    cmd = [str(qualcode), "classify", str(segments), "-o", str(out), "--rules-only"]
    if codebook is not None:
        cmd += ["--codebook", str(codebook)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"qualcode classify failed:\n{done.stderr}")
    return read_jsonl(out)


def score_with_sklearn(ref: list[dict], pred: list[dict]) -> tuple[dict, list[dict]]:
    """The shared scorer's macro kappa and micro F1, for machines without `../shared`."""
    from sklearn.metrics import cohen_kappa_score, f1_score

    by_id = {p["id"]: set(p.get("codes", [])) for p in pred}
    codes = sorted({c for r in ref for c in r["codes"]})
    rows, y_all, p_all = [], [], []
    for code in codes:
        y = [int(code in r["codes"]) for r in ref]
        p = [int(code in by_id[r["id"]]) for r in ref]
        y_all += y
        p_all += p
        same = len(set(y) | set(p)) == 1  # chance agreement 1: the scorer calls that kappa 1
        kappa = 1.0 if same else float(cohen_kappa_score(y, p))
        tp = sum(a and b for a, b in zip(y, p))
        rows.append({"key": code, "support": sum(y), "predicted": sum(p),
                     "precision": round(tp / sum(p), 3) if sum(p) else 0.0,
                     "recall": round(tp / sum(y), 3) if sum(y) else 0.0, "kappa": round(kappa, 3)})
    scored = [r for r in rows if r["support"] >= MIN_SUPPORT]
    summary = {"segments": len(ref), "codes_scored": len(scored),
               "macro_kappa": round(sum(r["kappa"] for r in scored) / max(1, len(scored)), 4),
               "micro_f1": round(float(f1_score(y_all, p_all, zero_division=0)), 4)}
    return summary, rows


def score_with_shared(ref_path: Path, pred_path: Path) -> tuple[dict, list[dict]]:
    done = subprocess.run([sys.executable, str(SCORER), str(ref_path), str(pred_path), "--per-code"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"scorer failed:\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    rows = []
    for line in lines[1:-1]:
        parts = line.split()
        if parts[0] == "code":
            rows.append({"key": parts[1], "support": int(parts[2]), "predicted": int(parts[3]),
                         "precision": float(parts[4]), "recall": float(parts[5]), "kappa": float(parts[7])})
    return json.loads(lines[-1]), rows


def evaluate(name: str, ref: list[dict], pred: list[dict], tmp: Path) -> tuple[dict, list[dict]]:
    if SCORER.is_file():
        ref_path, pred_path = tmp / f"{name}.ref.jsonl", tmp / f"{name}.pred.jsonl"
        write_jsonl(ref, ref_path)
        write_jsonl(pred, pred_path)
        return score_with_shared(ref_path, pred_path)
    return score_with_sklearn(ref, pred)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-code", action="store_true", help="print kappa per code for every set")
    parser.add_argument("--codebook", type=Path, default=None, help="codebook YAML (default: the shipped one)")
    args = parser.parse_args()

    sets: list[tuple[str, list[dict], list[dict], bool]] = []  # name, ref, pred, gated
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if DEV.is_file():
            dev = read_jsonl(DEV)
            sets.append(("dev", dev, classify(DEV, tmp / "dev.out.jsonl", args.codebook), True))
        else:
            print(f"dev skipped: {DEV} not found")
        held = read_jsonl(HELDOUT)
        pred = {p["id"]: p for p in classify(HELDOUT, tmp / "held.out.jsonl", args.codebook)}

        def part(keep) -> tuple[list[dict], list[dict]]:
            ref = [r for r in held if keep(int(r["id"].rsplit("-", 1)[-1]))]
            return ref, [pred[r["id"]] for r in ref]

        sets.append(("heldout-all", *part(lambda n: True), False))
        sets.append(("heldout-even (tuned on)", *part(lambda n: n % 2 == 0), False))
        sets.append(("heldout-odd (honest)", *part(lambda n: n % 2 == 1), True))

        results = [(name, *evaluate(f"s{i}", ref, p, tmp), gated) for i, (name, ref, p, gated) in enumerate(sets)]

    print(f"{'set':26} {'segs':>5} {'codes':>5} {'macro κ':>8} {'micro F1':>8}  gate")
    failed = False
    for name, summary, _, gated in results:
        ok = summary["macro_kappa"] >= MIN_KAPPA and summary["micro_f1"] >= MIN_F1
        failed |= gated and not ok
        gate = ("ok" if ok else "BELOW") if gated else "-"
        print(f"{name:26} {summary['segments']:5} {summary['codes_scored']:5} "
              f"{summary['macro_kappa']:8.3f} {summary['micro_f1']:8.3f}  {gate}")
    if args.per_code:
        names = [name.split()[0] for name, *_ in results]
        table: dict[str, list[str]] = {}
        for i, (_, _, rows, _) in enumerate(results):
            for r in rows:
                cell = f"{r['kappa']:6.2f}" if r["support"] >= MIN_SUPPORT else f"({r['support']})".rjust(6)
                table.setdefault(r["key"], ["".rjust(6)] * len(results))[i] = cell
        print("\nkappa per code ((n) = fewer than 5 reference positives, not averaged)")
        print(f"{'code':32} " + " ".join(n[:12].rjust(12) for n in names))
        for code in sorted(table):
            print(f"{code:32} " + " ".join(c.rjust(12) for c in table[code]))
    print(f"\ngate: dev and held-out odd half need macro kappa >= {MIN_KAPPA} and micro F1 >= {MIN_F1}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
