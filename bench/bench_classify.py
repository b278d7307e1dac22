"""Throughput of `qualcode classify` with the shipped base model, process start included.

Target (issue 10): >= 1,000 segments/s on 5,000 segments, blank `nb` pipeline
(QUALCODE_NLP=blank), rules + base model, process start included. Also prints the
CPU seconds of the process (the machine is shared: wall time depends on the others)
and the rules-only rate for comparison.
Input: the shared dev segments, sentence-shuffled into N distinct segments.

    .venv/bin/python bench/bench_classify.py [--n 5000]
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
TARGET = 1000.0


def make_segments(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    texts = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 20]
    return [{"id": f"b{i}", "text": " ".join(rng.sample(sentences, rng.randint(1, 5)))} for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    if not DEV.exists():
        print(f"skipped: {DEV} not found")
        return 0
    import os
    import resource

    env = {**os.environ, "QUALCODE_NLP": "blank"}
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in make_segments(args.n)), encoding="utf-8")
        qualcode = Path(sys.executable).with_name("qualcode")
        for mode, extra in (("rules + base model", []), ("rules only", ["--rules-only"])):
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run([str(qualcode), "classify", str(src), "-o", str(out), *extra], capture_output=True,
                                  text=True, env=env)
            seconds = time.perf_counter() - started
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                print(done.stderr)
                return 1
            lines = out.read_text(encoding="utf-8").count("\n")
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            rates[mode] = lines / seconds if lines == args.n else 0.0
            print(f"classify ({mode}): {lines} segments in {seconds:.2f} s wall, {cpu:.2f} s CPU (process start "
                  f"included) = {rates[mode]:.0f} segments/s wall, {lines / cpu:.0f} per CPU-second — "
                  f"{done.stderr.strip().splitlines()[0]}", flush=True)
    print(f"target: >= {TARGET:.0f} segments/s with the base model (the machine is shared; see CPU seconds)")
    return 0 if rates["rules + base model"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
