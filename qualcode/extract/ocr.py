"""Scanned pages read with Tesseract (Norwegian data), through pytesseract.

A page is rendered with pypdfium2 at 300 dpi in greyscale and Tesseract's hOCR output
gives lines with boxes, baselines, a height estimate (``x_size``) and word confidences.
The lines become ordinary :class:`~qualcode.extract.pdf_lines.Line` objects in page
coordinates, so OCR text goes through the same header/footer, column, paragraph,
hyphenation and segmentation steps as a text layer.  Tesseract's mean word confidence
is kept per page so the store, ``qualcode status`` and the app can mark OCR text.
"""
from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from qualcode.extract.pdf_lines import Line, normalized

DPI = 300
LANGUAGE = "nor"
PAGE_TIMEOUT = 180  # seconds Tesseract may spend on one page
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-nor"
_TITLE = re.compile(r"(\w+) ([^;]+)")


@dataclass(frozen=True)
class OcrResult:
    lines: list[Line]
    confidence: float  # Tesseract's mean word confidence, 0-100
    words: int


def unavailable() -> str | None:
    """Why OCR cannot run here (with the command that fixes it), or None when it can."""
    return _unavailable()


@lru_cache(maxsize=1)
def _unavailable() -> str | None:
    if shutil.which("tesseract") is None:
        return f"OCR needs Tesseract — install it with `{INSTALL_HINT}`"
    try:
        import pytesseract
    except ImportError:
        return "OCR needs the pytesseract package — `pip install pytesseract`"
    try:
        languages = pytesseract.get_languages(config="")
    except Exception as err:  # a broken Tesseract install: say so in one line
        return f"Tesseract does not run ({type(err).__name__}) — reinstall it with `{INSTALL_HINT}`"
    if LANGUAGE not in languages:
        return f"Tesseract has no Norwegian language data — install it with `{INSTALL_HINT}`"
    return None


def engine_name() -> str:
    import pytesseract

    return f"tesseract {pytesseract.get_tesseract_version()} ({LANGUAGE})"


def ocr_page(page, number: int, width: float, height: float) -> OcrResult:
    """Read one pypdfium2 page with Tesseract; lines in page points, top-down like a text layer."""
    import pytesseract

    scale = DPI / 72
    image = page.render(scale=scale, grayscale=True, may_draw_forms=True).to_pil()
    with _one_thread():
        hocr = pytesseract.image_to_pdf_or_hocr(image, lang=LANGUAGE, extension="hocr", timeout=PAGE_TIMEOUT,
                                                config="--psm 3")
    sx, sy = width / image.width, height / image.height
    return parse_hocr(hocr, number, sx, sy)


@contextmanager
def _one_thread():
    """Tesseract on one thread: pages already run in parallel worker processes, and its
    OpenMP threads more than double the CPU time on a busy machine (measured: 6.8 s vs 3.0 s)."""
    if "OMP_THREAD_LIMIT" in os.environ:
        yield
        return
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def parse_hocr(hocr: bytes, number: int, sx: float, sy: float) -> OcrResult:
    """Lines and word confidences from Tesseract's hOCR (pixel boxes scaled by sx, sy to points)."""
    root = ET.fromstring(hocr)
    lines: list[Line] = []
    confidences: list[float] = []
    for span in root.iter():
        if span.get("class") not in ("ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"):
            continue
        facts = _title(span.get("title", ""))
        words = []
        for word in span.iter():
            if word.get("class") != "ocrx_word":
                continue
            text = "".join(word.itertext()).strip()
            if not text:
                continue
            words.append(text)
            wconf = _title(word.get("title", "")).get("x_wconf")
            if wconf:
                confidences.append(float(wconf))
        box = [float(v) for v in facts.get("bbox", "0 0 0 0").split()]
        if not words or len(box) != 4:
            continue
        x0, top, x1, bottom = box
        slope, offset = (float(v) for v in (facts.get("baseline", "0 0").split() + ["0", "0"])[:2])
        baseline = bottom + offset + slope * (x1 - x0) / 2
        size = float(facts.get("x_size", bottom - top)) * sy * 0.8
        lines.append(Line(" ".join(words), x0 * sx, x1 * sx, top * sy, bottom * sy, baseline * sy, size,
                          False, number))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrResult(normalized(lines), round(mean, 1), len(confidences))


def _title(title: str) -> dict[str, str]:
    """hOCR ``title`` properties: "bbox 1 2 3 4; x_wconf 96" → {"bbox": "1 2 3 4", "x_wconf": "96"}."""
    return {m.group(1): m.group(2).strip() for part in title.split(";") if (m := _TITLE.match(part.strip()))}
