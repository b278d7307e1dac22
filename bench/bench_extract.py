#!/usr/bin/env python3
"""Extraction speed against raw pdfplumber, counting process start; quality; OCR cost.

Usage: .venv/bin/python bench/bench_extract.py [SHARED_DIR] [MORE.pdf ...]   (default ../shared)

1. Speed.  For each report PDF (the evaluation PDFs in SHARED_DIR/eval/pdfs, plus any
   given), times a fresh process running `qualcode extract FILE` (full layout analysis,
   segments printed as JSON Lines) and a fresh process running pdfplumber's
   ``page.extract_text()`` on every page — both counting interpreter start and imports,
   best of 3 — and prints pages/s, CPU seconds and the ratio.  Target >= 5x (goal 10x).
2. Quality.  Scores each evaluation PDF that has a ``.truth.json`` with the shared scorer.
3. Start.  `qualcode --help` and `qualcode extract` on the first 10 pages of a report.
4. OCR.  Renders 3 report pages to a 200-dpi greyscale image-only PDF (a scan), reads it
   with `qualcode extract` (Tesseract) and prints seconds per page and word accuracy
   against the text layer of the same pages.

Exits 1 if the speed ratio is below 5x or a quality target is missed.  The machine may be
shared: read the CPU seconds as well as the wall times.
"""
from __future__ import annotations

import importlib.util
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUALCODE = ROOT / ".venv" / "bin" / "qualcode"
PYTHON = sys.executable
MIN_RATIO, GOAL_RATIO = 5.0, 10.0
TARGETS = {"word_similarity": 0.995, "paragraph_recall": 0.95}
PLUMBER = "import sys, pdfplumber\nwith pdfplumber.open(sys.argv[1]) as pdf:\n    n = sum(1 for p in pdf.pages if p.extract_text() is not None)\n"


def timed(cmd: list[str], repeat: int = 3, stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """Best wall seconds and the CPU seconds of that run, for a fresh process."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=stdout, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return best


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


def load_scorer(shared: Path):
    spec = importlib.util.spec_from_file_location("score_extract", shared / "eval" / "score_extract.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_pages(source: Path, count: int, target: Path, start: int = 0) -> Path:
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source))
    out = pdfium.PdfDocument.new()
    out.import_pages(src, list(range(start, min(len(src), start + count))))
    out.save(str(target))
    out.close()
    src.close()
    return target


def scanned_copy(source: Path, target: Path, dpi: int = 200) -> Path:
    """An image-only PDF of ``source``: every page rendered to greyscale, as a scanner would."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source))
    images = [src[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(src))]
    images[0].save(str(target), save_all=True, append_images=images[1:], resolution=dpi)
    src.close()
    return target


def words(text: str) -> list[str]:
    return re.findall(r"[0-9a-zæøåé]+", text.lower())


def main(argv: list[str]) -> int:
    shared = Path(argv[1]) if len(argv) > 1 and Path(argv[1]).is_dir() else ROOT.parent / "shared"
    extra = [Path(a) for a in argv[1:] if a.endswith(".pdf")]
    reports = sorted((shared / "eval" / "pdfs").glob("*.pdf")) + extra
    if not reports:
        print(f"no report PDFs in {shared / 'eval' / 'pdfs'}")
        return 1
    failed = False

    print("1. Speed, each side in a fresh process (best of 3)")
    print(f"{'file':34} {'pages':>5} {'pdfplumber s':>12} {'cpu':>5} {'qualcode s':>10} {'cpu':>5} {'ratio':>6}")
    totals = [0, 0.0, 0.0, 0.0, 0.0]
    for path in reports:
        pages = page_count(path)
        plumber, plumber_cpu = timed([PYTHON, "-c", PLUMBER, str(path)])
        ours, ours_cpu = timed([str(QUALCODE), "extract", str(path)])
        for i, v in enumerate((pages, plumber, plumber_cpu, ours, ours_cpu)):
            totals[i] += v
        print(f"{path.name[:34]:34} {pages:5d} {plumber:12.2f} {plumber_cpu:5.2f} {ours:10.2f} {ours_cpu:5.2f} "
              f"{plumber / ours:6.1f}")
    pages, plumber, plumber_cpu, ours, ours_cpu = totals
    ratio = plumber / ours
    print(f"{'ALL':34} {int(pages):5d} {plumber:12.2f} {plumber_cpu:5.2f} {ours:10.2f} {ours_cpu:5.2f} {ratio:6.1f}")
    print(f"pages/s: pdfplumber {pages / plumber:.1f}, qualcode {pages / ours:.1f}; speed ratio {ratio:.1f}x "
          f"(CPU ratio {plumber_cpu / ours_cpu:.1f}x; target >= {MIN_RATIO:.0f}x, goal {GOAL_RATIO:.0f}x)")
    failed |= ratio < MIN_RATIO

    print("\n2. Quality (shared scorer)")
    scorer = load_scorer(shared) if (shared / "eval" / "score_extract.py").exists() else None
    for path in reports:
        truth = path.with_suffix(".truth.json")
        if scorer is None or not truth.exists():
            continue
        out = subprocess.run([str(QUALCODE), "extract", str(path)], check=True, capture_output=True, text=True)
        segments = [json.loads(line)["text"] for line in out.stdout.splitlines() if line.strip()]
        score = scorer.score(json.loads(truth.read_text(encoding="utf-8")), segments)
        ok = (score["word_similarity"] >= TARGETS["word_similarity"]
              and score["paragraph_recall"] >= TARGETS["paragraph_recall"]
              and score["header_footer_leaks"] == 0 and score["broken_words"] <= 2)
        failed |= not ok
        print(f"{path.name}: {json.dumps(score)} {'ok' if ok else 'BELOW TARGET'}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("\n3. Start (fresh process, best of 5)")
        wall, cpu = timed([str(QUALCODE), "--help"], repeat=5)
        print(f"qualcode --help: {wall:.2f} s wall, {cpu:.2f} s CPU (target < 0.3 s)")
        ten = first_pages(reports[0], 10, tmp / "ten.pdf")
        wall, cpu = timed([str(QUALCODE), "extract", str(ten)], repeat=5)
        print(f"qualcode extract, {page_count(ten)} pages: {wall:.2f} s wall, {cpu:.2f} s CPU (target < 0.5 s)")

        print("\n4. OCR (Tesseract, 3 scanned report pages at 200 dpi)")
        text_pdf = first_pages(reports[-1], 3, tmp / "three.pdf", start=11)
        scan = scanned_copy(text_pdf, tmp / "scan.pdf")
        reference = subprocess.run([str(QUALCODE), "extract", "--ocr", "never", str(text_pdf)], check=True,
                                   capture_output=True, text=True).stdout
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([str(QUALCODE), "extract", str(scan)], capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            print(f"OCR not run: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
        else:
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            ref = words(" ".join(json.loads(line)["text"] for line in reference.splitlines() if line.strip()))
            got = words(" ".join(json.loads(line)["text"] for line in done.stdout.splitlines() if line.strip()))
            accuracy = SequenceMatcher(None, ref, got, autojunk=False).ratio()
            n = page_count(scan)
            note = next((line for line in done.stderr.splitlines() if line.startswith("OCR")), "")
            print(f"{wall / n:.1f} s/page wall, {cpu / n:.1f} s/page CPU; word accuracy vs the text layer "
                  f"{accuracy:.3f}; {note}")
    print("\nall targets met" if not failed else "\nBELOW TARGET")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
