"""Page layout: running headers/footers and the reading order of columns.

Running headers and footers are found by repetition — the same text (digits ignored) at
the same height on many pages — plus page-number patterns near the page edge, so no
document-specific strings are needed.  Columns are found from a vertical gutter that
few lines cross; items that really span it (titles, full-width paragraphs, wide tables)
split the page into bands, and each band is read left column first.

An item that crosses the gutter is not always full width: a table set in one column may
reach a few points into the other, and an unbreakable URL may run on across the gutter
beside the other column's lines.  Such an item belongs to the column it mostly covers,
or — when it covers both — to the column that has nothing beside it.  The column grid
the document uses on its other pages is the evidence on pages where one column holds
only a table or a figure (and so shows no gutter of its own).
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


_DIGITS = re.compile(r"\d+")


def _key(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.lower().split()))


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
    keys: dict[int, tuple[str | None, str]] = {}  # id(line) -> (zone, key), computed once
    for page in with_text:
        for line in page.lines:
            zone_key = keys[id(line)] = (_zone(line, page), _key(line.text))
            seen[(zone_key[0] or "body", zone_key[1])].append((page.number, line.baseline, line.x0))
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
            zone, key = keys[id(line)]
            if (zone and is_page_number(line.text)) or _is_running(zone or "body", key, line, running):
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


def _is_running(zone: str, key: str, line: Line, running: set[tuple[str, str, int]]) -> bool:
    return any((zone, key, round(line.baseline) + d) in running for d in range(-4, 5))


def _bbox(item: Item) -> tuple[float, float, float, float]:
    return item.x0, item.top, item.x1, item.bottom


@dataclass(frozen=True)
class Columns:
    """A two-column grid: the gutter's x and the x-ranges of the text on either side."""

    gutter: float
    left: tuple[float, float]
    right: tuple[float, float]


def find_columns(items: list[Item]) -> Columns | None:
    """The page's own two-column grid, from a gutter few items cross."""
    if len(items) < 6:
        return None
    gutter = _find_gutter(items)
    if gutter is None:
        return None
    left = [i for i in items if _extent(i)[1] <= gutter]
    right = [i for i in items if _extent(i)[0] >= gutter]
    return Columns(gutter, (min(i.x0 for i in left), max(i.x1 for i in left)),
                   (min(i.x0 for i in right), max(i.x1 for i in right)))


def document_columns(pages: list[list[Item]]) -> Columns | None:
    """The column grid most two-column pages of the document share (>= 2 pages), or None."""
    found = [c for c in (find_columns(items) for items in pages) if c is not None]
    best: list[Columns] = []
    for col in found:
        near = [c for c in found if abs(c.gutter - col.gutter) <= 6.0]
        if len(near) > len(best):
            best = near
    if len(best) < 2:
        return None
    return Columns(median(c.gutter for c in best),
                   (median(c.left[0] for c in best), median(c.left[1] for c in best)),
                   (median(c.right[0] for c in best), median(c.right[1] for c in best)))


def _fits(items: list[Item], grid: Columns) -> bool:
    """Does a page without a gutter of its own follow the document's column grid?

    Few of its lines cross the gutter, and at least three lines fill a column's width
    (wrapped column text, not labels and values that merely stop short of the middle).
    """
    lines = [i for i in items if isinstance(i, Line)]
    if len(lines) < 3:
        return False
    g = grid.gutter
    crossing = sum(1 for ln in lines if ln.x0 < g - 1 and ln.x1 > g + 1)
    if crossing > max(1, 0.2 * len(lines)):
        return False
    for side in ([ln for ln in lines if ln.x1 <= g], [ln for ln in lines if ln.x0 >= g]):
        if side and median(_words(ln) for ln in side) < 3:
            return False  # labels and values, page numbers of a contents page: read them row by row
    full = 0
    for lo, hi in (grid.left, grid.right):
        width = hi - lo
        full += sum(1 for ln in lines if ln.x0 >= lo - 0.2 * width and ln.x1 <= hi + 0.2 * width
                    and ln.x1 - ln.x0 >= 0.7 * width and (ln.x1 <= g or ln.x0 >= g))
    return full >= 3


def reading_order(items: list[Item], depth: int = 0, grid: Columns | None = None) -> list[list[Item]]:
    """Items grouped into chunks (column pieces) in reading order, each sorted top-down.

    ``grid`` is the document's column grid, used when the page shows no gutter itself.
    """
    items = sorted(items, key=_position)
    if len(items) < 6 or depth > 2:
        if grid is None or depth or not items or not _fits(items, grid):
            return [items] if items else []
    cols = find_columns(items) if len(items) >= 6 and depth <= 2 else None
    if cols is None and grid is not None and depth == 0 and _fits(items, grid):
        cols = grid
    if cols is None:
        return [items]
    cols = _with_ranges(cols, items, grid)
    gutter = cols.gutter
    left_items = [i for i in items if i.x1 <= gutter]
    right_items = [i for i in items if i.x0 >= gutter]
    chunks: list[list[Item]] = []
    band: list[tuple[str, Item]] = []

    def flush():
        if not band:
            return
        chunks.extend(reading_order([i for side, i in band if side == "left"], depth + 1))
        chunks.extend(reading_order([i for side, i in band if side == "right"], depth + 1))
        band.clear()

    for item in items:
        side = _side(item, cols, left_items, right_items)
        if side == "span":
            flush()
            if chunks and chunks[-1] and _spans(chunks[-1][-1], gutter):
                chunks[-1].append(item)
            else:
                chunks.append([item])
        else:
            band.append((side, item))
    flush()
    return chunks


def _with_ranges(cols: Columns, items: list[Item], grid: Columns | None) -> Columns:
    """The grid with each side's x-range taken from this page's items where it has any."""
    left = [i for i in items if i.x1 <= cols.gutter]
    right = [i for i in items if i.x0 >= cols.gutter]
    fallback = grid or cols
    lrange = (min(i.x0 for i in left), max(i.x1 for i in left)) if left else fallback.left
    rrange = (min(i.x0 for i in right), max(i.x1 for i in right)) if right else fallback.right
    return Columns(cols.gutter, lrange, rrange)


def _side(item: Item, cols: Columns, left_items: list[Item], right_items: list[Item]) -> str:
    """'left', 'right' or 'span': where an item goes in a two-column band."""
    g = cols.gutter
    if item.x1 <= g:
        return "left"
    if item.x0 >= g:
        return "right"
    if not _spans(item, g):
        return "left" if g - item.x0 >= item.x1 - g else "right"
    (l0, l1), (r0, r1) = cols.left, cols.right
    on_left = max(0.0, min(item.x1, l1) - max(item.x0, l0))
    on_right = max(0.0, min(item.x1, r1) - max(item.x0, r0))
    if on_right <= 0.2 * max(r1 - r0, 1.0) and on_left > on_right:
        return "left"  # e.g. a table in the left column reaching a little past the gutter
    if on_left <= 0.2 * max(l1 - l0, 1.0) and on_right > on_left:
        return "right"
    beside_left = any(_vertical_overlap(item, other) for other in left_items)
    beside_right = any(_vertical_overlap(item, other) for other in right_items)
    if beside_right and not beside_left:
        return "left"  # e.g. a URL running on across the gutter beside right-column lines
    if beside_left and not beside_right:
        return "right"
    return "span"


def _vertical_overlap(a: Item, b: Item) -> bool:
    """Side by side: any real vertical overlap (lines of one column never overlap each other)."""
    return min(a.bottom, b.bottom) - max(a.top, b.top) > 0.5


def _position(item: Item) -> tuple[float, float]:
    """Sort key: lines by baseline (tops differ with glyph heights), tables by top."""
    return (item.baseline if isinstance(item, Line) else item.top, item.x0)


def _spans(item: Item, gutter: float) -> bool:
    return item.x0 < gutter - 1 and item.x1 > gutter + 1


def _words(item: Item) -> int:
    return len(item.text.split()) if isinstance(item, Line) else 10


def _extent(item: Item) -> tuple[float, float]:
    """x-range an item claims when looking for a gutter: a table's frame may reach a few points
    into the next column (cell padding), so a table claims its width less 10 pt on each side."""
    if isinstance(item, Line):
        return item.x0, item.x1
    trim = min(10.0, 0.1 * (item.x1 - item.x0))
    return item.x0 + trim, item.x1 - trim


def _weight(items: list[Item]) -> int:
    """How much column content the items are: a line counts one, a table (>= 2 x 2 cells) three."""
    return sum(1 if isinstance(i, Line) else 3 for i in items)


def _find_gutter(items: list[Item]) -> float | None:
    """x of a vertical gap that splits the items into two real columns, or None."""
    extents = [_extent(i) for i in items]
    lo = min(x0 for x0, _ in extents)
    hi = max(x1 for _, x1 in extents)
    width = hi - lo
    if width < 100:
        return None
    # crossing[k]: items covering x = lo + 2k (strictly inside, 1 pt margin), via a difference array
    steps = int(width / 2) + 2
    diff = [0] * (steps + 1)
    for x0, x1 in extents:
        a = max(0, int((x0 + 1 - lo) / 2) + 1)
        b = min(steps, int((x1 - 1 - lo) / 2) + 1)
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
    left = [i for i, (_, x1) in zip(items, extents) if x1 <= gutter]
    right = [i for i, (x0, _) in zip(items, extents) if x0 >= gutter]
    if _weight(left) < 3 or _weight(right) < 3 or crossing > 0.25 * len(items):
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
