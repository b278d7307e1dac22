"""Ruling lines → cells → tables: the geometry of pdfplumber's table finder, on plain tuples.

The algorithm is pdfplumber's (``pdfplumber.table``, MIT licence): snap nearly aligned
edges together, join collinear pieces, find where vertical and horizontal edges cross,
take the smallest rectangle at each crossing as a cell, and group cells that share
corners into tables (one change: see :func:`merge_edges`).  It is restated here because importing ``pdfplumber.table`` loads
pdfplumber and pdfminer (~0.14 s of CPU), more than reading a whole 10-page PDF with
pdfium; ``tests/test_extract_layout.py`` checks it gives pdfplumber's cells.

An edge is ``(x0, top, x1, bottom)`` in top-down page coordinates.
"""
from __future__ import annotations

from itertools import groupby

Edge = tuple[float, float, float, float]
Point = tuple[float, float]


def merge_edges(horizontal: list[Edge], vertical: list[Edge], snap: float = 3, join: float = 3,
                ) -> tuple[list[Edge], list[Edge]]:
    """Snap edges within ``snap`` points to their mean position, then join collinear ones
    whose ends are within ``join`` points (pdfplumber's ``merge_edges``).

    Unlike pdfplumber, only edges that also meet along their length snap together: two
    tables at different heights whose left rules differ by a point or two stay apart
    (page-wide snapping would move one table's rules off the ends of its own cross rules).
    """
    horizontal = _snap(horizontal, 1, 0, 2, snap, join)
    vertical = _snap(vertical, 0, 1, 3, snap, join)
    joined_h = [e for _, group in groupby(sorted(horizontal, key=lambda e: e[1]), key=lambda e: e[1])
                for e in _join(list(group), 0, 2, join)]
    joined_v = [e for _, group in groupby(sorted(vertical, key=lambda e: e[0]), key=lambda e: e[0])
                for e in _join(list(group), 1, 3, join)]
    return joined_h, joined_v


def _snap(edges: list[Edge], axis: int, lo: int, hi: int, tolerance: float, reach: float) -> list[Edge]:
    """Move edges whose position (x for vertical, y for horizontal) lies within ``tolerance`` of
    a neighbour's, and whose extents [lo, hi] meet it (within ``reach``), to their group's mean."""
    if not edges:
        return []
    order = sorted(range(len(edges)), key=lambda i: edges[i][axis])
    parent = list(range(len(edges)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for n, i in enumerate(order):
        a = edges[i]
        for j in order[n + 1:]:
            b = edges[j]
            if b[axis] - a[axis] > tolerance:
                break
            if b[lo] <= a[hi] + reach and a[lo] <= b[hi] + reach:
                parent[root(j)] = root(i)
    groups: dict[int, list[Edge]] = {}
    for i, edge in enumerate(edges):
        groups.setdefault(root(i), []).append(edge)
    out: list[Edge] = []
    for group in groups.values():
        mean = sum(e[axis] for e in group) / len(group)
        for x0, top, x1, bottom in group:
            shift = mean - (x0, top)[axis]
            out.append((x0 + shift, top, x1 + shift, bottom) if axis == 0 else (x0, top + shift, x1, bottom + shift))
    return out


def _join(edges: list[Edge], lo: int, hi: int, tolerance: float) -> list[Edge]:
    """Collinear edges whose ends are within ``tolerance`` become one (``lo``/``hi``: start/end index)."""
    ordered = sorted(edges, key=lambda e: e[lo])
    joined = [ordered[0]]
    for edge in ordered[1:]:
        last = joined[-1]
        if edge[lo] <= last[hi] + tolerance:
            if edge[hi] > last[hi]:
                grown = list(last)
                grown[hi] = edge[hi]
                joined[-1] = tuple(grown)
        else:
            joined.append(edge)
    return joined


def intersections(horizontal: list[Edge], vertical: list[Edge], tolerance: float = 3
                  ) -> dict[Point, tuple[set[Edge], set[Edge]]]:
    """Points where a vertical and a horizontal edge cross (within ``tolerance``), with the
    vertical and horizontal edges through each."""
    points: dict[Point, tuple[set[Edge], set[Edge]]] = {}
    ordered_h = sorted(horizontal, key=lambda e: (e[1], e[0]))
    for v in sorted(vertical, key=lambda e: (e[0], e[1])):
        for h in ordered_h:
            if v[1] <= h[1] + tolerance and v[3] >= h[1] - tolerance and h[0] - tolerance <= v[0] <= h[2] + tolerance:
                vs, hs = points.setdefault((v[0], h[1]), (set(), set()))
                vs.add(v)
                hs.add(h)
    return points


def cells(points: dict[Point, tuple[set[Edge], set[Edge]]]) -> list[Edge]:
    """The smallest rectangle at each crossing whose four sides are edges."""

    def connected(p: Point, q: Point) -> bool:
        if p[0] == q[0] and points[p][0] & points[q][0]:
            return True
        return p[1] == q[1] and bool(points[p][1] & points[q][1])

    ordered = sorted(points)
    found: list[Edge] = []
    for i, corner in enumerate(ordered[:-1]):
        rest = ordered[i + 1:]
        below = [p for p in rest if p[0] == corner[0]]
        right = [p for p in rest if p[1] == corner[1]]
        cell = None
        for b in below:
            if not connected(corner, b):
                continue
            for r in right:
                if not connected(corner, r):
                    continue
                opposite = (r[0], b[1])
                if opposite in points and connected(opposite, r) and connected(opposite, b):
                    cell = (corner[0], corner[1], opposite[0], opposite[1])
                    break
            if cell:
                break
        if cell:
            found.append(cell)
    return found


def tables(cell_boxes: list[Edge]) -> list[list[Edge]]:
    """Cells grouped into tables: cells sharing a corner belong together (2+ cells a table)."""
    remaining = list(cell_boxes)
    groups: list[list[Edge]] = []
    corners: set[Point] = set()
    current: list[Edge] = []
    while remaining:
        before = len(current)
        for cell in list(remaining):
            x0, top, x1, bottom = cell
            own = {(x0, top), (x0, bottom), (x1, top), (x1, bottom)}
            if not current or own & corners:
                corners |= own
                current.append(cell)
                remaining.remove(cell)
        if len(current) == before:
            groups.append(current)
            corners, current = set(), []
    if current:
        groups.append(current)
    groups.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [g for g in groups if len(g) > 1]
