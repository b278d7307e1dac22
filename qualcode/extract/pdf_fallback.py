"""pdfplumber for the rare page whose glyphs pdfium cannot map to text.

Some fonts (e.g. CID fonts relying on predefined CMaps) come out of pdfium with most
characters missing, while pdfminer decodes them.  Such a page is easy to spot — far
fewer characters than text objects — and only then do we pay pdfplumber's price.
"""
from __future__ import annotations

from pathlib import Path

import pypdfium2.raw as pdfium_c

from qualcode.extract.pdf_lines import Line, normalized

_BOLD = ("bold", "black", "heavy", "semibold", "demi")


def glyphs_missing(page, chars: int) -> bool:
    """True when the page draws many more text objects than pdfium found characters."""
    count = pdfium_c.FPDFPage_CountObjects(page)
    if count < 20 or chars >= 0.6 * count:
        return False  # even if every object were text, the characters are there
    texts = 0
    for i in range(count):
        if pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(page, i)) == pdfium_c.FPDF_PAGEOBJ_TEXT:
            texts += 1
    return texts >= 20 and chars < 0.6 * texts


class PlumberPages:
    """Opens the file with pdfplumber on first use and reads single pages as Lines."""

    def __init__(self, path: Path):
        self.path = path
        self._pdf = None

    def lines(self, index: int, number: int) -> list[Line]:
        import pdfplumber

        if self._pdf is None:
            self._pdf = pdfplumber.open(self.path)
        page = self._pdf.pages[index]
        out = []
        for item in page.extract_text_lines(return_chars=True, strip=True):
            chars = item.get("chars") or []
            if not item.get("text", "").strip() or not chars:
                continue
            size = max(c.get("size", 0) for c in chars) or (item["bottom"] - item["top"])
            bold_chars = sum(1 for c in chars if any(b in str(c.get("fontname", "")).lower() for b in _BOLD))
            baseline = max(c["bottom"] for c in chars) - 0.2 * size
            out.append(Line(item["text"], item["x0"], item["x1"], item["top"], item["bottom"], baseline, size,
                            bold_chars >= 0.9 * len(chars), number))
        return normalized(out)

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None
