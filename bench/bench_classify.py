"""Throughput of `qualcode classify` (codebook only), process start included.

Target: >= 300 segments/s on the blank spaCy pipeline over a few thousand segments.
Input: the shared dev segments, sentence-shuffled into N distinct segments.

    .venv/bin/python bench/bench_classify.py [--n 3000]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
TARGET = 300.0


def make_segments(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    texts = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 20]
    return [{"id": f"b{i}", "text": " ".join(rng.sample(sentences, rng.randint(1, 5)))} for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    if not DEV.exists():
        print(f"skipped: {DEV} not found")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make_segments(args.n)), encoding="utf-8")
        qualcode = Path(sys.executable).with_name("qualcode")
        started = time.perf_counter()
        done = subprocess.run([str(qualcode), "classify", str(src), "-o", str(out)], capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stderr)
            return 1
        lines = out.read_text(encoding="utf-8").count("\n")
    rate = lines / seconds
    print(f"classify: {lines} segments in {seconds:.2f} s (process start included) = {rate:.0f} segments/s "
          f"(target >= {TARGET:.0f}) — {done.stderr.strip().splitlines()[0]}")
    return 0 if rate >= TARGET and lines == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
