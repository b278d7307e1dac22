"""Plain text and Markdown → blocks.

Blank lines separate blocks; ``#`` lines are headings, ``-``/``*``/``•``/``1.`` lines are
list items and ``|`` rows are tables.  A form feed starts a new page.  Line breaks inside
a paragraph are kept as written (interview transcripts depend on them).
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from qualcode.documents import ExtractedDocument
from qualcode.extract.builder import DocumentBuilder
from qualcode.extract.errors import ExtractionError
from qualcode.extract.normalize import BULLET, normalize_line

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BULLET_ITEM = re.compile(r"^\s{0,6}[-*+•]\s+(.*)$")
_NUMBER_ITEM = re.compile(r"^\s{0,6}(\d{1,3}[.)]|[a-zA-Z][.)])\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def decode_text(data: bytes) -> str:
    """Bytes → str: BOM first, then UTF-8, then Windows-1252 (old Norwegian files)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def extract_text_file(path: Path, *, markdown: bool = False) -> ExtractedDocument:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ExtractionError(f"cannot read the file ({err.strerror or err})") from None
    return extract_text(decode_text(data), markdown=markdown)


def extract_text(text: str, *, markdown: bool = False) -> ExtractedDocument:
    """Blocks from a whole text; ``markdown`` adds ``#`` headings and pipe tables."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    builder = DocumentBuilder()
    pages = text.split("\f")
    for number, page in enumerate(pages, start=1):
        for group in _groups(page.split("\n")):
            _emit(builder, group, number, markdown)
    engine = "markdown" if markdown else "text"
    return builder.build(len(pages), engine)


def _groups(lines: list[str]) -> list[list[str]]:
    """Blank-line separated groups; a fenced code block stays whole."""
    groups: list[list[str]] = []
    current: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not line.strip() and not fenced:
            if current:
                groups.append(current)
                current = []
            continue
        current.append(line)
    if current:
        groups.append(current)
    return groups


def _emit(builder: DocumentBuilder, lines: list[str], page: int, markdown: bool) -> None:
    pending: list[str] = []

    def flush():
        if pending:
            _emit_plain(builder, list(pending), page, markdown)
            pending.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        atx = _ATX.match(line) if markdown or line.lstrip().startswith("#") else None
        if atx and atx.group(2):
            flush()
            builder.add("heading", normalize_line(atx.group(2)), page)
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if markdown and line.strip() and _SETEXT.match(nxt) and not pending and not _is_item(line):
            builder.add("heading", normalize_line(line), page)
            i += 2
            continue
        if _is_table_row(line) and (_is_table_row(nxt) or _TABLE_SEPARATOR.match(nxt)):
            flush()
            j = i
            rows = []
            header_rows = None
            while j < len(lines) and (_is_table_row(lines[j]) or _TABLE_SEPARATOR.match(lines[j])):
                if not _TABLE_SEPARATOR.match(lines[j]):
                    rows.append([normalize_line(c) for c in lines[j].strip().strip("|").split("|")])
                elif len(rows) == 1:
                    header_rows = 1  # "| a | b |" over "|---|---|": a header row
                j += 1
            builder.add_table(rows, page, header_rows=header_rows)
            i = j
            continue
        pending.append(line)
        i += 1
    flush()


def _emit_plain(builder: DocumentBuilder, lines: list[str], page: int, markdown: bool) -> None:
    """A group of ordinary lines: a list when it starts with list items, else a paragraph."""
    if _is_item(lines[0]):
        items: list[str] = []
        for line in lines:
            if _is_item(line):
                items.append(_item_text(line))
            else:  # an indented or lazy continuation line of the item above
                items[-1] += " " + normalize_line(line)
        builder.add("list", "\n".join(items), page)
        return
    text = "\n".join(normalize_line(line) for line in lines)
    kind = "heading" if not markdown and _looks_like_heading(lines) else "paragraph"
    builder.add(kind, text, page)


def _looks_like_heading(lines: list[str]) -> bool:
    if len(lines) != 1:
        return False
    line = lines[0].strip()
    return 0 < len(line) <= 80 and line[-1] not in ".:;,!?" and (line[0].isupper() or line[0].isdigit())


def _is_item(line: str) -> bool:
    return bool(_BULLET_ITEM.match(line) or _NUMBER_ITEM.match(line))


def _item_text(line: str) -> str:
    bullet = _BULLET_ITEM.match(line)
    if bullet:
        return f"{BULLET} {normalize_line(bullet.group(1))}"
    number = _NUMBER_ITEM.match(line)
    return f"{number.group(1)} {normalize_line(number.group(2))}"


def _is_table_row(line: str) -> bool:
    s = line.strip()
    return s.startswith("|") and s.count("|") >= 2
