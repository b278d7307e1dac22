"""Blocks that run across a column or page break are joined back together.

A paragraph that stops without sentence-final punctuation at the bottom of a column or
page goes on in the next one when that starts in lower case; a justified line that runs
full width at the bottom is never a paragraph's last line, whatever its punctuation.
Footnotes and tables in between are stepped over; a list goes on as the same list, and
a table continued on the next page (header row repeated or not) becomes one table.
"""
from __future__ import annotations

import re

from qualcode.extract.blocks import RawBlock, Style, ends_sentence
from qualcode.extract.pdf_lines import Line


def right_edge(chunk: list) -> tuple[float, bool]:
    """The chunk's right text edge, and whether its lines are justified to it.

    Justified lines end within ~2 pt of the same x; a paragraph's last line rarely does,
    so a full line at the bottom of a column means the paragraph goes on.
    """
    ends = sorted(i.x1 for i in chunk if isinstance(i, Line))
    if not ends:
        return 0.0, False
    best, count = ends[-1], 0
    lo = 0
    for hi, x in enumerate(ends):
        while ends[lo] < x - 2.0:
            lo += 1
        if hi - lo + 1 >= count:
            best, count = x, hi - lo + 1
    return best, count >= 3 and count >= 0.4 * len(ends)


def merge_chunks(chunked: list[list[RawBlock]], style: Style, edges: list[tuple[float, bool]]) -> list[RawBlock]:
    """Flatten chunks, joining paragraphs, lists and tables that run across a break."""
    out: list[RawBlock] = []
    edge = (0.0, False)
    for blocks, chunk_edge in zip(chunked, edges):
        blocks = list(blocks)
        if out and blocks:
            _join_across(out, blocks, style, edge)
        if blocks:
            edge = chunk_edge
        out.extend(blocks)
    return out


def _join_across(out: list[RawBlock], blocks: list[RawBlock], style: Style, edge: tuple[float, bool]) -> None:
    last = out[-1]
    first = blocks[0]
    if last.kind == "table" and first.kind == "table":
        repeated = bool(first.table.rows and last.table.rows and first.table.rows[0] == last.table.rows[0])
        # a continuation repeats the header row, or has none of its own (a new table has its own header)
        if _table_width(last) == _table_width(first) and (repeated or not first.table.header_rows):
            rows, pages = first.table.rows, first.table.pages_of_rows()
            if rows and rows[0] == last.table.rows[0]:
                rows, pages = rows[1:], pages[1:]  # header row repeated on the new page (or column)
            last.table.row_pages = last.table.pages_of_rows() + pages
            last.table.rows.extend(rows)
            last.table.page_end = max(pages, default=first.table.page)
            blocks.pop(0)
        return
    # skip interruptions: trailing footnote-sized text / tables before, leading tables after
    back = len(out) - 1
    while back > 0 and len(out) - back <= 6 and (out[back].kind == "table" or _small(out[back], style)):
        back -= 1
    fwd = 0
    while fwd < len(blocks) - 1 and fwd < 2 and blocks[fwd].kind == "table":
        fwd += 1
    prev, nxt = out[back], blocks[fwd]
    if prev.kind not in ("paragraph", "list") or nxt.kind not in ("paragraph", "list"):
        return
    if abs(prev.size - nxt.size) > 1.0:
        return
    adjacent = back == len(out) - 1 and fwd == 0  # nothing stepped over: a list may go on as it is
    if prev.kind == "list" and nxt.kind == "list":
        if adjacent:
            prev.items.extend(nxt.items)
            blocks.pop(fwd)
        return
    if prev.kind == "list" and nxt.kind == "paragraph" and adjacent and _next_number(prev, nxt.lines[0]):
        prev.items.append(nxt.lines)  # "5 …" after a list ending with "4 …": the list goes on
        blocks.pop(fwd)
        if fwd < len(blocks) and blocks[fwd].kind == "list" and _next_number(prev, blocks[fwd].items[0][0]):
            prev.items.extend(blocks.pop(fwd).items)
        return
    if nxt.kind != "paragraph":
        return
    tail = prev.all_lines[-1]
    if not _continues(tail, nxt.lines[0], edge):
        return
    if prev.kind == "list":
        prev.items[-1].extend(nxt.lines)
    else:
        prev.lines.extend(nxt.lines)
    blocks.pop(fwd)


def _next_number(block: RawBlock, line: Line) -> bool:
    """Does ``line`` start with the number after the one that starts the list's last item?"""
    last = re.match(r"(\d{1,2})\s", block.items[-1][0].text)
    this = re.match(r"(\d{1,2})\s+\S", line.text)
    return bool(last and this) and int(this.group(1)) == int(last.group(1)) + 1


def _small(block: RawBlock, style: Style) -> bool:
    return block.kind == "paragraph" and block.size < 0.9 * style.body_size


def _table_width(block: RawBlock) -> int:
    return max(len(r) for r in block.table.rows) if block.table and block.table.rows else 0


def _continues(tail: Line, head: Line, edge: tuple[float, bool]) -> bool:
    """Does the paragraph ending with ``tail`` go on with ``head`` (next column/page)?"""
    end = tail.text
    start = head.text
    if not end or not start:
        return False
    if end[-1] in "-\u00ad" and end[-2:-1].isalpha():
        return True
    first_alpha = next((ch for ch in start if ch.isalnum()), "")
    lower_start = first_alpha.islower() or (first_alpha.isdigit() and not start[:1].isdigit())
    right, justified = edge
    if justified and tail.x1 >= right - 2.0 and tail.x1 - tail.x0 > 10 * tail.size:
        return start[:1].isalnum() or start[:1] in "(«\"'"  # a justified full line is never a paragraph's last
    if end[-1] in "!?:" and ends_sentence(end):
        return False
    if lower_start:
        return True
    if ends_sentence(end):
        return False
    return right > 0 and tail.x1 >= right - 2 * tail.size and start[:1].isalpha()
