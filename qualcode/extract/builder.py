"""Assemble blocks into one frozen document text with exact offsets.

Every engine adds finished block texts here; the builder joins them with a blank line
and records ``[start, end)`` for each, so offsets are correct by construction.
"""
from __future__ import annotations

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
                  header_rows: int = 0) -> Block | None:
        """A table block: one line per row, cells separated by " | "; ``header_rows`` label the columns."""
        rows = [[" ".join(cell.split()).replace("|", "/") for cell in row] for row in rows]
        header_rows = sum(1 for row in rows[:header_rows] if any(row))
        rows = [row for row in rows if any(row)]
        text = "\n".join(" | ".join(row) for row in rows)
        return self.add("table", text, page_start, page_end, rows, header_rows=header_rows)

    def build(self, page_count: int, engine: str) -> ExtractedDocument:
        return ExtractedDocument(
            text="".join(self._parts),
            blocks=list(self.blocks),
            page_count=page_count,
            engine=engine,
            warnings=list(self.warnings),
            page_marks=list(self.page_marks),
        )
