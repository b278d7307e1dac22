"""DOCX → blocks with python-docx, in body order (paragraphs and tables interleaved).

Word already knows the structure, so we read it rather than guess: heading styles (also
Norwegian "Overskrift", and outline levels) become headings, numbered/bulleted paragraphs
become one list block per run of items, tables become table blocks.  Pages are counted
from explicit page breaks and the page breaks Word recorded when it last laid out the
file; running headers/footers live outside the body and are never read.
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from qualcode.documents import ExtractedDocument
from qualcode.extract.builder import DocumentBuilder
from qualcode.extract.normalize import BULLET, normalize_text

_HEADING_STYLES = ("heading", "overskrift", "title", "tittel", "rubrik", "überschrift")
_LIST_STYLES = ("list", "liste")


class _Pages:
    """Current page number while walking the body."""

    def __init__(self) -> None:
        self.page = 1
        self.just_broke = False  # an explicit break not yet followed by text

    def advance_in(self, element) -> tuple[int, int]:
        """(page at start, page at end) of a paragraph/table element, counting its breaks.

        Word writes ``lastRenderedPageBreak`` where it last broke the page, also right after
        an explicit page break, so a rendered break directly after an explicit one is the
        same page break.
        """
        start = self.page
        ppr = element.find(qn("w:pPr"))
        if ppr is not None and ppr.find(qn("w:pageBreakBefore")) is not None and _has_text(element):
            self._turn()
            start = self.page
        text_seen = False
        end = start
        for node in element.iter():
            tag = node.tag
            if tag == qn("w:t") and node.text:
                text_seen = True
                end = self.page
                self.just_broke = False
            elif tag == qn("w:br") and node.get(qn("w:type")) == "page":
                self._turn()
                if not text_seen:
                    start = self.page
            elif tag == qn("w:lastRenderedPageBreak") and not self.just_broke:
                self._turn()
                if not text_seen:
                    start = self.page
        return start, max(start, end)

    def _turn(self) -> None:
        self.page += 1
        self.just_broke = True


def _has_text(element) -> bool:
    return any(t.text for t in element.iter(qn("w:t")))


def extract_docx(path: Path, label_starts: list[int] | None = None) -> ExtractedDocument:
    """``label_starts``, when given, receives the offsets of paragraphs opening with a bold label."""
    document = Document(str(path))
    numbering = _Numbering(document)
    builder = DocumentBuilder()
    pages = _Pages()
    items: list[str] = []
    list_pages = [0, 0]

    def flush_list():
        if items:
            builder.add("list", "\n".join(items), list_pages[0], list_pages[1])
            items.clear()

    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            para = Paragraph(child, document)
            first, last = pages.advance_in(child)
            text = " ".join(normalize_text(para.text).split("\n")).strip()
            if not text:
                continue
            marker = numbering.marker(para)
            if marker is not None:
                if not items:
                    list_pages[0] = first
                list_pages[1] = last
                items.append(f"{marker} {text}")
                continue
            flush_list()
            block = builder.add("heading" if _is_heading(para) else "paragraph", text, first, last)
            if label_starts is not None and block is not None and _opens_with_bold_label(para):
                label_starts.append(block.start)
        elif child.tag == qn("w:tbl"):
            flush_list()
            first, last = pages.advance_in(child)
            table = Table(child, document)
            builder.add_table(_table_rows(table), first, last, header_rows=_header_rows(table))
    flush_list()
    return builder.build(pages.page, "python-docx")


def _opens_with_bold_label(para: Paragraph) -> bool:
    """Does the paragraph open with bold text ending in a colon ("**Kari:** …")? Speaker evidence."""
    bold = ""
    for run in para.runs:
        if not run.text.strip():
            continue
        if run.bold or (run.style is not None and run.style.font.bold):
            bold += run.text
            if bold.rstrip().endswith(":"):
                return True
            continue
        return bool(bold.strip()) and run.text.lstrip().startswith(":")
    return False


def _is_heading(para: Paragraph) -> bool:
    name = (para.style.name if para.style is not None else "") or ""
    if name.lower().startswith(_HEADING_STYLES):
        return True
    ppr = para._p.pPr
    level = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    return level is not None and level.get(qn("w:val")) not in (None, "9")


def _table_rows(table: Table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue  # a merged cell repeats for every grid column it spans
            seen.add(id(cell._tc))
            cells.append(" ".join(normalize_text(cell.text).split()))
        rows.append(cells)
    return rows


def _header_rows(table: Table) -> int | None:
    """1 when Word marks the first row as a header (repeat-header flag, the table style's
    "header row" option, or all-bold text); None when the file does not say."""
    rows = table._tbl.tr_lst
    if not rows:
        return None
    trpr = rows[0].trPr
    if trpr is not None and trpr.find(qn("w:tblHeader")) is not None:
        return 1
    tblpr = table._tbl.tblPr
    look = tblpr.find(qn("w:tblLook")) if tblpr is not None else None
    if look is not None:
        first = look.get(qn("w:firstRow"))
        value = look.get(qn("w:val"))
        if first in ("1", "true", "on") or (first is None and value and int(value, 16) & 0x0020):
            return 1
    runs = [run for cell in table.rows[0].cells for p in cell.paragraphs for run in p.runs if run.text.strip()]
    if runs and all(run.bold for run in runs):
        return 1
    return None


class _Numbering:
    """List markers: "•" for bullets, "1." / "a)" for numbered items, from numbering.xml."""

    def __init__(self, document) -> None:
        self.formats: dict[tuple[str, str], str] = {}
        self.counters: dict[tuple[str, str], int] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for node in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in node.findall(qn("w:lvl")):
                fmt = lvl.find(qn("w:numFmt"))
                levels[lvl.get(qn("w:ilvl"))] = fmt.get(qn("w:val")) if fmt is not None else "bullet"
            abstract[node.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            if ref is not None:
                for ilvl, fmt in abstract.get(ref.get(qn("w:val")), {}).items():
                    self.formats[(num.get(qn("w:numId")), ilvl)] = fmt

    def marker(self, para: Paragraph) -> str | None:
        ppr = para._p.pPr
        numpr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if numpr is None:
            name = (para.style.name if para.style is not None else "").lower()
            if not name.startswith(_LIST_STYLES) or "paragraph" in name or "avsnitt" in name:
                return None
            if "number" in name or "nummer" in name:
                key = ("style", name)
                self.counters[key] = self.counters.get(key, 0) + 1
                return f"{self.counters[key]}."
            return BULLET
        num_id = numpr.find(qn("w:numId"))
        ilvl = numpr.find(qn("w:ilvl"))
        key = (num_id.get(qn("w:val")) if num_id is not None else "0", ilvl.get(qn("w:val")) if ilvl is not None else "0")
        if key[0] == "0":
            return None  # numbering explicitly switched off
        fmt = self.formats.get(key, "bullet")
        if fmt in ("bullet", "none"):
            return BULLET
        self.counters[key] = self.counters.get(key, 0) + 1
        n = self.counters[key]
        if fmt in ("lowerLetter", "upperLetter"):
            letter = chr(ord("a") + (n - 1) % 26)
            return (letter.upper() if fmt == "upperLetter" else letter) + ")"
        return f"{n}."
