"""The shapes text takes between extraction, segmentation and the store.

A document's ``text`` is frozen at ingestion: every block, segment and coding
points into it with ``[start, end)`` character offsets, so it must never be
re-normalised or edited afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["paragraph", "heading", "list", "table"]
Role = Literal["interviewer", "informant"]


@dataclass(frozen=True)
class Block:
    """A run of text in reading order, as laid out on the page(s)."""

    kind: BlockKind
    start: int
    end: int
    page_start: int
    page_end: int
    rows: tuple[tuple[str, ...], ...] | None = None  # table cells, for kind == "table"
    header_rows: int = 0  # leading rows of a table that label its columns


@dataclass(frozen=True)
class Turn:
    """One speaker turn of an interview transcript (covers [start, end) of the text)."""

    start: int
    end: int
    turn: int
    speaker: str
    role: Role
    timestamp: str | None = None


@dataclass(frozen=True)
class OcrPage:
    """A page read with OCR: Tesseract's mean word confidence (0-100) and word count."""

    page: int
    confidence: float
    words: int
    engine: str


@dataclass
class ExtractedDocument:
    """Everything extraction learns about one file."""

    text: str
    blocks: list[Block]
    page_count: int
    engine: str
    is_transcript: bool = False
    turns: list[Turn] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # (offset, page): the text from ``offset`` on lies on ``page`` — sorted by offset; lets a
    # paragraph that runs across a page break be cut into segments with the right pages
    page_marks: list[tuple[int, int]] = field(default_factory=list)
    ocr_pages: list[OcrPage] = field(default_factory=list)  # pages whose text came from OCR


# Segment kinds that carry no claims of their own and are not offered for coding.
UNCODABLE_KINDS = frozenset({"heading", "note", "table_header"})


@dataclass(frozen=True)
class Segment:
    """The unit of coding: a paragraph, heading, list, table row or speaker turn."""

    kind: str
    start: int
    end: int
    page_start: int
    page_end: int
    text: str
    role: Role | None = None
    speaker: str | None = None
    turn: int | None = None
    timestamp: str | None = None
    # a table row with its column headers: "Tiltak: PMTO | Målgruppe: Familier | Ansvar: Barnevernet"
    context: str | None = None

    @property
    def codable(self) -> bool:
        """Interviewer turns are context, not data; headings, notes and table headers carry no claims."""
        return self.role != "interviewer" and self.kind not in UNCODABLE_KINDS

    def as_json(self) -> dict:
        data = {
            "text": self.text,
            "page": self.page_start,
            "page_end": self.page_end,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
        }
        for key in ("role", "speaker", "turn", "timestamp", "context"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data
