"""PDF → frozen text and page-anchored blocks in reading order.

pdfium (pypdfium2) reads every page: text runs with positions and fonts, and vector
paths for ruled tables.  Layout analysis then drops running headers/footers, orders
columns, forms blocks from spacing and fonts, joins paragraphs across column and page
breaks, and repairs hyphenation with the whole document as evidence.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from qualcode.documents import ExtractedDocument, OcrPage
from qualcode.extract.blocks import RawBlock, blocks_from_chunks, measure_style
from qualcode.extract.flow import merge_chunks, right_edge
from qualcode.extract.builder import DocumentBuilder
from qualcode.extract.errors import ExtractionError
from qualcode.extract.layout import PageLayout, document_columns, reading_order, strip_running_lines
from qualcode.extract.normalize import Lexicon, join_lines
from qualcode.extract.pdf_fallback import PlumberPages, glyphs_missing
from qualcode.extract.pdf_lines import Frame, Line, lines_from_runs, read_runs
from qualcode.extract.tables import find_tables

ENGINE = "pypdfium2"
_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_PASSWORD: "encrypted PDF — remove the password and try again",
    pdfium_c.FPDF_ERR_SECURITY: "encrypted PDF with an unsupported security handler — remove the protection and try again",
    pdfium_c.FPDF_ERR_FORMAT: "corrupt PDF: the file structure cannot be read",
    pdfium_c.FPDF_ERR_FILE: "cannot open the PDF file",
}


def check_pdf_bytes(head: bytes, tail: bytes) -> None:
    """Cheap structural checks before pdfium sees the file."""
    if b"%PDF-" not in head[:1024]:
        raise ExtractionError("not a PDF: the file has no PDF header")
    if b"%%EOF" not in tail:
        raise ExtractionError("truncated PDF: the file is cut short (no end-of-file marker) — copy it again")


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        code = getattr(err, "err_code", None)
        raise ExtractionError(_LOAD_ERRORS.get(code, "corrupt PDF: pdfium could not open it")) from None


OCR_MODES = ("never", "auto", "always")
LOW_OCR_CONFIDENCE = 60.0  # mean word confidence below which a page's OCR text gets a warning


def extract_pdf(path: Path, ocr: str = "auto", progress=None) -> ExtractedDocument:
    """Extract a PDF; raises ExtractionError with a one-line reason for unreadable files.

    ``ocr``: "auto" reads pages without a text layer (scans) with Tesseract, "always"
    reads every page with it, "never" skips scanned pages.  ``progress(done, total, ocr)``
    is called after each page, and before each page Tesseract reads (``ocr`` True).
    """
    if ocr not in OCR_MODES:
        raise ValueError(f"ocr must be one of {', '.join(OCR_MODES)}, not {ocr!r}")
    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    check_pdf_bytes(head, tail)
    doc = open_pdf(path)
    fallback = PlumberPages(path)
    try:
        return _extract(doc, fallback, ocr, progress)
    finally:
        fallback.close()
        doc.close()


def _extract(doc: pdfium.PdfDocument, fallback: PlumberPages, ocr: str = "auto", progress=None) -> ExtractedDocument:
    page_count = len(doc)
    if page_count == 0:
        raise ExtractionError("corrupt PDF: it has no pages")
    pages: list[PageLayout] = []
    warnings: list[str] = []
    empty: list[int] = []
    scanned: list[int] = []
    ocr_pages: list[OcrPage] = []
    no_ocr: str | None = None  # why OCR cannot run, once we know
    engine = ENGINE
    for index in range(page_count):
        number = index + 1
        try:
            page = doc[index]
        except pdfium.PdfiumError:
            warnings.append(f"page {number} could not be read — skipped")
            continue
        used_ocr = False
        try:
            layout, chars = _read_page(page, number)
            if glyphs_missing(page.raw, chars):
                layout.lines = [ln for ln in fallback.lines(index, number) if not any(_inside(ln, t) for t in layout.tables)]
                engine = f"{ENGINE}+pdfplumber"
            wants_ocr = ocr == "always" or (ocr == "auto" and _looks_scanned(page.raw, layout, chars))
            if wants_ocr and no_ocr is None:
                from qualcode.extract import ocr as tesseract

                no_ocr = tesseract.unavailable() or ""
                if not no_ocr:
                    engine_name = tesseract.engine_name()
            if wants_ocr and not no_ocr:
                if progress is not None:
                    progress(index, page_count, True)  # Tesseract takes seconds: let a bar show it working
                try:
                    result = tesseract.ocr_page(page, number, layout.width, layout.height)
                except Exception as err:  # Tesseract crashed or timed out on this page: skip it, say why
                    detail = (str(err).splitlines() or [type(err).__name__])[0][:100]
                    warnings.append(f"page {number}: OCR failed ({detail})")
                else:
                    layout.lines, layout.tables, used_ocr = result.lines, [], True
                    ocr_pages.append(OcrPage(number, result.confidence, result.words, engine_name))
                    if result.words and result.confidence < LOW_OCR_CONFIDENCE:
                        warnings.append(f"page {number}: OCR confidence only {result.confidence:.0f} % "
                                        "— check the text against the page (another language? a poor scan?)")
            elif wants_ocr and ocr == "always":
                raise ExtractionError(no_ocr)
            if not layout.lines and not layout.tables:
                empty.append(number)
                if _has_images(page.raw):
                    scanned.append(number)
        finally:
            page.close()
        pages.append(layout)
        if progress is not None:
            progress(number, page_count, used_ocr)
    if ocr_pages:
        engine = f"{engine}+tesseract"
    if len(empty) == len(pages):
        if scanned:
            raise ExtractionError(_scan_reason(ocr, no_ocr))
        raise ExtractionError("no text in the PDF: its pages are blank or the text is drawn as shapes")
    if empty:
        listed = ", ".join(map(str, empty[:10])) + (" …" if len(empty) > 10 else "")
        why = f" — {_scan_reason(ocr, no_ocr)}" if scanned and not ocr_pages else ""
        warnings.append(f"no text on page(s) {listed} (scanned or blank) — skipped{why}")
    strip_running_lines(pages)
    builder = _build(pages)
    builder.warnings.extend(warnings)
    return builder.build(page_count, engine, ocr_pages)


def _scan_reason(ocr: str, no_ocr: str | None) -> str:
    if ocr == "never":
        return "no text layer — scanned? OCR is off (--ocr never); use --ocr auto"
    return f"no text layer — scanned? {no_ocr}" if no_ocr else "no text layer and OCR found no text"


def _looks_scanned(page, layout: PageLayout, chars: int) -> bool:
    """A page to OCR: no text layer and an image, or a stray word or two on a page that is
    mostly image (a stamped page number on a scan)."""
    if layout.tables or sum(len(ln.text) for ln in layout.lines) >= 30:
        return False
    if not layout.lines:
        return _has_images(page)
    area = 0.0
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for i in range(pdfium_c.FPDFPage_CountObjects(page)):
        obj = pdfium_c.FPDFPage_GetObject(page, i)
        if pdfium_c.FPDFPageObj_GetType(obj) in (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM) \
                and pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            area += max(0.0, right.value - left.value) * max(0.0, top.value - bottom.value)
    return area >= 0.3 * layout.width * layout.height


def _has_images(page) -> bool:
    for i in range(pdfium_c.FPDFPage_CountObjects(page)):
        if pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(page, i)) in (
                pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM):
            return True
    return False


def _read_page(page: pdfium.PdfPage, number: int) -> tuple[PageLayout, int]:
    frame = Frame(tuple(page.get_bbox()), page.get_rotation())
    textpage = page.get_textpage()
    try:
        chars = pdfium_c.FPDFText_CountChars(textpage.raw)
        runs = read_runs(textpage.raw, frame) if chars > 0 else []
        tables, runs = find_tables(page.raw, textpage.raw, frame, number, runs) if runs else ([], runs)
    finally:
        textpage.close()
    return PageLayout(number, frame.width, frame.height, lines_from_runs(runs, number), tables), chars


def _inside(line: Line, table) -> bool:
    cx, cy = (line.x0 + line.x1) / 2, (line.top + line.bottom) / 2
    return table.x0 - 1 <= cx <= table.x1 + 1 and table.top - 1 <= cy <= table.bottom + 1


def _build(pages: list[PageLayout]) -> DocumentBuilder:
    items = [list(page.lines) + list(page.tables) for page in pages]
    grid = document_columns(items)
    chunks: list[list] = []
    for page_items in items:
        chunks.extend(reading_order(page_items, grid=grid))
    style = measure_style(chunks)
    chunked = blocks_from_chunks(chunks, style)
    blocks = merge_chunks(chunked, style, [right_edge(chunk) for chunk in chunks])
    lexicon = Lexicon(line.text for page in pages for line in page.lines)
    builder = DocumentBuilder()
    for block in blocks:
        _emit(builder, block, lexicon)
    return builder


def _emit(builder: DocumentBuilder, block: RawBlock, lexicon: Lexicon) -> None:
    first, last = block.pages
    if block.kind == "table":
        builder.add_table(block.table.rows, first, last, header_rows=block.table.header_rows,
                          row_pages=block.table.pages_of_rows())
    elif block.kind == "list":
        items = [join_lines((ln.text for ln in item), lexicon) for item in block.items]
        builder.add("list", "\n".join(i for i in items if i), first, last)
    else:
        starts: list[int] = []
        text = join_lines([ln.text for ln in block.lines], lexicon, starts)
        marks = [(off, ln.page) for off, ln, prev in zip(starts[1:], block.lines[1:], block.lines) if ln.page != prev.page]
        builder.add(block.kind, text, first, last, page_marks=marks)
