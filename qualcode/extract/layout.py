"""Page layout: running headers/footers and the reading order of columns.

Running headers and footers are found by repetition — the same text (digits ignored) at
the same height on many pages — plus page-number patterns near the page edge, so no
document-specific strings are needed.  Columns are found from a vertical gutter that
few lines cross; lines that do cross it (titles, full-width paragraphs, wide tables)
split the page into bands, and each band is read left column first.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from statistics import median
from typing import Union

from qualcode.extract.pdf_lines import Line
from qualcode.extract.tables import Table

EDGE_ZONE = 0.12  # top/bottom share of the page where running lines live
_PAGE_NUMBER = re.compile(
    r"^(?:(?:side|page|s\.|p\.|seite|sida)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?"
    r"(?:\s*(?:av|of|/|von|af)\s*\d{1,4})?$|^[ivxlc]{1,6}$",
    re.IGNORECASE,
)

Item = Union[Line, Table]


@dataclass
class PageLayout:
    """What one page holds after reading: body lines, tables and its size."""

    number: int
    width: float
    height: float
    lines: list[Line]
    tables: list[Table]


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text.strip()))


def strip_running_lines(pages: list[PageLayout]) -> int:
    """Drop running headers, footers, margin notes and page numbers in place.

    Near the top or bottom edge a line is running when its text (digits ignored) recurs
    at the same height on >= 30 % of pages; anywhere else it must recur at the same spot
    (x and y) on >= half the pages.  Page-number patterns near the edges always go.
    Returns how many lines were dropped.
    """
    with_text = [p for p in pages if p.lines]
    if not with_text:
        return 0
    n = len(with_text)
    edge_needed = max(2, -(-3 * n // 10))
    body_needed = max(3, -(-n // 2))
    seen: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
    for page in with_text:
        for line in page.lines:
            seen[(_zone(line, page) or "body", _key(line.text))].append((page.number, line.baseline, line.x0))
    running: set[tuple[str, str, int]] = set()
    for (zone, key), hits in seen.items():
        if len({h[0] for h in hits}) < (edge_needed if zone != "body" else body_needed):
            continue
        for _, y, x in hits:
            if zone == "body":
                close = {p for p, y2, x2 in hits if abs(y2 - y) <= 4.0 and abs(x2 - x) <= 4.0}
                enough = len(close) >= body_needed and len(key) >= 4
            else:
                close = {p for p, y2, _ in hits if abs(y2 - y) <= 4.0}
                enough = len(close) >= edge_needed
            if enough:
                running.add((zone, key, round(y)))
    removed = 0
    for page in with_text:
        keep = []
        for line in page.lines:
            zone = _zone(line, page)
            if (zone and is_page_number(line.text)) or _is_running(zone or "body", line, running):
                removed += 1
                continue
            keep.append(line)
        page.lines = keep
    return removed


def _zone(line: Line, page: PageLayout) -> str | None:
    if line.bottom <= page.height * EDGE_ZONE:
        return "top"
    if line.top >= page.height * (1 - EDGE_ZONE):
        return "bottom"
    return None


def _is_running(zone: str, line: Line, running: set[tuple[str, str, int]]) -> bool:
    key = _key(line.text)
    return any((zone, key, round(line.baseline) + d) in running for d in range(-4, 5))


def _bbox(item: Item) -> tuple[float, float, float, float]:
    return item.x0, item.top, item.x1, item.bottom


def reading_order(items: list[Item], depth: int = 0) -> list[list[Item]]:
    """Items grouped into chunks (column pieces) in reading order, each sorted top-down."""
    items = sorted(items, key=_position)
    if len(items) < 6 or depth > 2:
        return [items] if items else []
    gutter = _find_gutter(items)
    if gutter is None:
        return [items]
    chunks: list[list[Item]] = []
    band: list[Item] = []

    def flush():
        if not band:
            return
        left = [i for i in band if i.x1 <= gutter]
        right = [i for i in band if i.x0 >= gutter]
        chunks.extend(reading_order(left, depth + 1))
        chunks.extend(reading_order(right, depth + 1))
        band.clear()

    for item in items:
        if item.x0 < gutter - 1 and item.x1 > gutter + 1:
            flush()
            if chunks and chunks[-1] and _spans(chunks[-1][-1], gutter):
                chunks[-1].append(item)
            else:
                chunks.append([item])
        else:
            band.append(item)
    flush()
    return chunks


def _position(item: Item) -> tuple[float, float]:
    """Sort key: lines by baseline (tops differ with glyph heights), tables by top."""
    return (item.baseline if isinstance(item, Line) else item.top, item.x0)


def _spans(item: Item, gutter: float) -> bool:
    return item.x0 < gutter - 1 and item.x1 > gutter + 1


def _words(item: Item) -> int:
    return len(item.text.split()) if isinstance(item, Line) else 10


def _find_gutter(items: list[Item]) -> float | None:
    """x of a vertical gap that splits the items into two real columns, or None."""
    lo = min(i.x0 for i in items)
    hi = max(i.x1 for i in items)
    width = hi - lo
    if width < 100:
        return None
    # crossing[k]: items covering x = lo + 2k (strictly inside, 1 pt margin), via a difference array
    steps = int(width / 2) + 2
    diff = [0] * (steps + 1)
    for i in items:
        a = max(0, int((i.x0 + 1 - lo) / 2) + 1)
        b = min(steps, int((i.x1 - 1 - lo) / 2) + 1)
        if b > a:
            diff[a] += 1
            diff[b] -= 1
    crossing_at = []
    acc = 0
    for k in range(steps):
        acc += diff[k]
        crossing_at.append(acc)
    best = None
    for k in range(int(0.125 * width) + 1, int(0.375 * width) + 1):
        crossing = crossing_at[k]
        x = lo + 2 * k
        if best is None or crossing < best[0]:
            best = (crossing, x, x)
        elif crossing == best[0] and x - best[2] <= 2.01:
            best = (crossing, best[1], x)  # extend the run of equally good positions
    if best is None:
        return None
    crossing, start, end = best
    gutter = (start + end) / 2
    left = [i for i in items if i.x1 <= gutter]
    right = [i for i in items if i.x0 >= gutter]
    if len(left) < 3 or len(right) < 3 or crossing > 0.25 * len(items):
        return None
    lw = median(i.x1 - i.x0 for i in left)
    rw = median(i.x1 - i.x0 for i in right)
    span = min(gutter - lo, hi - gutter)
    if lw < 0.3 * span or rw < 0.3 * span:
        return None  # scattered fragments or a borderless table, not text columns
    if median(_words(i) for i in left) < 3 or median(_words(i) for i in right) < 3:
        return None  # table cells, label/value pairs, numbers: read them row by row
    # real columns overlap vertically; a sidebar stacked above text does not count
    l_top, l_bot = min(i.top for i in left), max(i.bottom for i in left)
    r_top, r_bot = min(i.top for i in right), max(i.bottom for i in right)
    if min(l_bot, r_bot) - max(l_top, r_top) <= 0:
        return None
    return gutter
