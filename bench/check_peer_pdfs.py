#!/usr/bin/env python3
"""Robustness check: every peer PDF must extract, or fail with a one-line reason, in 30 s.

Usage: .venv/bin/python bench/check_peer_pdfs.py [FOLDER]   (default ../shared/peer-pdfs)

Each file runs in its own subprocess, so a hang or a crash in one cannot hide the rest.
Scanned pages go through OCR (``--ocr auto``, the default), which counts against the budget.
Prints one line per file; exits 1 if any file crashed (traceback, or an unexpected
exception behind its error message) or took longer than the budget.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 30.0

CHILD = r"""
import json, sys, time, traceback
from pathlib import Path
from qualcode.extract import ExtractionError, extract_file
t = time.perf_counter()
try:
    doc = extract_file(Path(sys.argv[1]))
    out = {"status": "ok", "pages": doc.page_count, "chars": len(doc.text), "blocks": len(doc.blocks),
           "warnings": len(doc.warnings), "ocr": len(doc.ocr_pages)}
except ExtractionError as err:
    cause = err.__cause__
    out = {"status": "failed", "reason": str(err)}
    if cause is not None and not isinstance(cause, ExtractionError):
        out = {"status": "crash", "reason": f"{type(cause).__name__}: {cause}",
               "trace": "".join(traceback.format_exception(cause))}
out["seconds"] = round(time.perf_counter() - t, 3)
print(json.dumps(out))
"""


def check(path: Path) -> dict:
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                              timeout=BUDGET, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": BUDGET}
    wall = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()
        return {"status": "crash", "reason": tail[-1] if tail else f"exit code {proc.returncode}",
                "trace": proc.stderr, "seconds": round(wall, 3)}
    result = json.loads(lines[-1])
    if result.get("status") in ("failed", "crash") and "\n" in result.get("reason", ""):
        result["status"] = "crash"  # a failure reason must be one line
    return result


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "peer-pdfs"
    files = sorted(folder.glob("*.pdf"))
    if not files:
        print(f"no PDFs in {folder}")
        return 1
    counts = {"ok": 0, "failed": 0, "crash": 0, "timeout": 0}
    for path in files:
        r = check(path)
        status = r["status"]
        counts[status] += 1
        if status == "ok":
            ocr = f" ({r['ocr']} read with OCR)" if r.get("ocr") else ""
            print(f"ok      {path.name}: {r['pages']} pages{ocr}, {r['chars']} chars, {r['seconds']:.2f} s")
        elif status == "failed":
            print(f"failed  {path.name}: {r['reason']} ({r['seconds']:.2f} s)")
        elif status == "timeout":
            print(f"TIMEOUT {path.name}: over {BUDGET:.0f} s")
        else:
            print(f"CRASH   {path.name}: {r['reason']}")
            print("        " + r.get("trace", "").strip().replace("\n", "\n        "))
    print(f"\n{len(files)} files: {counts['ok']} ok, {counts['failed']} failed with a reason, "
          f"{counts['crash']} crashed, {counts['timeout']} over {BUDGET:.0f} s")
    return 1 if counts["crash"] or counts["timeout"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
