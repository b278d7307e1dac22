"""Assemble blocks into one frozen document text with exact offsets.

Every engine adds finished block texts here; the builder joins them with a blank line
and records ``[start, end)`` for each, so offsets are correct by construction.
"""
from __future__ import annotations

import re

from qualcode.documents import Block, ExtractedDocument

BLOCK_SEPARATOR = "\n\n"


class DocumentBuilder:
    """Collects (kind, text, pages) blocks and produces an :class:`ExtractedDocument`."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []
        self.warnings: list[str] = []
        self.page_marks: list[tuple[int, int]] = []

    def add(self, kind: str, text: str, page_start: int, page_end: int | None = None,
            rows: list[list[str]] | None = None, page_marks: list[tuple[int, int]] | None = None,
            header_rows: int = 0) -> Block | None:
        """Append a block; ``page_marks`` are (offset in ``text``, page) where a new page begins."""
        shift = len(text) - len(text.lstrip())
        text = text.strip()
        if not text:
            return None
        if self._parts:
            self._parts.append(BLOCK_SEPARATOR)
            self._length += len(BLOCK_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self._mark(start, page_start)
        for offset, page in page_marks or ():
            if 0 < offset - shift < len(text):
                self._mark(start + offset - shift, page)
        frozen_rows = tuple(tuple(cell for cell in row) for row in rows) if rows is not None else None
        block = Block(kind, start, self._length, page_start, max(page_start, page_end or page_start), frozen_rows,
                      header_rows if frozen_rows and len(frozen_rows) > header_rows else 0)
        self.blocks.append(block)
        return block

    def _mark(self, offset: int, page: int) -> None:
        if not self.page_marks or self.page_marks[-1][1] != page:
            self.page_marks.append((offset, page))

    def add_table(self, rows: list[list[str]], page_start: int, page_end: int | None = None,
                  header_rows: int | None = None, row_pages: list[int] | None = None) -> Block | None:
        """A table block: one line per row, cells separated by " | ".

        ``header_rows`` leading rows label the columns (None: guess from the cells);
        ``row_pages`` is the page of each row when the table runs over several pages.
        """
        rows = [[" ".join(cell.split()).replace("|", "/") for cell in row] for row in rows]
        pages = row_pages if row_pages is not None and len(row_pages) == len(rows) else [page_start] * len(rows)
        if header_rows is None:
            header_rows = guess_header_rows(rows)
        header_rows = sum(1 for row in rows[:header_rows] if any(row))
        kept = [(row, page) for row, page in zip(rows, pages) if any(row)]
        lines = [" | ".join(row) for row, _ in kept]
        marks, offset = [], 0
        for line, (_, page) in zip(lines, kept):
            marks.append((offset, page))
            offset += len(line) + 1
        return self.add("table", "\n".join(lines), page_start, page_end, [row for row, _ in kept],
                        page_marks=marks[1:], header_rows=header_rows)

    def build(self, page_count: int, engine: str, ocr_pages=()) -> ExtractedDocument:
        return ExtractedDocument(
            text="".join(self._parts),
            blocks=list(self.blocks),
            page_count=page_count,
            engine=engine,
            warnings=list(self.warnings),
            page_marks=list(self.page_marks),
            ocr_pages=list(ocr_pages),
        )


_DIGIT = re.compile(r"\d")


def guess_header_rows(rows: list[list[str]]) -> int:
    """1 when the first row reads as column labels: no digits, while most other rows have some."""
    if len(rows) < 3 or not all(cell for cell in rows[0]) or any(_DIGIT.search(cell) for cell in rows[0]):
        return 0
    numeric = sum(1 for row in rows[1:] if any(_DIGIT.search(cell) for cell in row))
    return 1 if numeric >= 0.5 * (len(rows) - 1) else 0
