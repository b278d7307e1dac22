"""Ruled tables: ruling lines from pdfium path objects, cell geometry from pdfplumber.

Reading a page with pdfplumber costs ~100 ms (pdfminer parses everything); pdfium hands
us the vector paths in well under a millisecond.  pdfplumber's table algorithm itself
(snap/join edges, intersections, cells, tables) is pure geometry, so we feed it the
pdfium edges and keep its proven cell logic.  Cell text comes from pdfium by box.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2.raw as pdfium_c

from qualcode.extract.normalize import join_lines, normalize_line
from qualcode.extract.pdf_lines import Frame, bounded_text

MAX_SEGMENTS = 4000  # pages drawn with more path segments than this are charts/maps, not tables
MAX_EDGES = 600
MAX_POINTS = 1200  # pdfplumber's cell search is quadratic in intersections; beyond this, rows fall back to text
MIN_EDGE = 3.0


@dataclass
class Table:
    """A ruled table: its top-down bounding box and the cell texts row by row."""

    x0: float
    top: float
    x1: float
    bottom: float
    rows: list[list[str]]
    page: int
    page_end: int | None = None  # set when the table continues on later pages


def _segments(page, frame: Frame) -> list[tuple[float, float, float, float]]:
    """Straight path segments (x0, top, x1, bottom) in view coordinates."""
    out: list[tuple[float, float, float, float]] = []
    budget = [MAX_SEGMENTS]
    x, y = ctypes.c_float(), ctypes.c_float()

    def walk(count, get, matrix):
        for i in range(count):
            if budget[0] <= 0:
                return
            obj = get(i)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            m = pdfium_c.FS_MATRIX()
            if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
                m = pdfium_c.FS_MATRIX(1, 0, 0, 1, 0, 0)
            full = _compose(m, matrix)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                walk(pdfium_c.FPDFFormObj_CountObjects(obj), lambda k, o=obj: pdfium_c.FPDFFormObj_GetObject(o, k), full)
            elif kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                _path_segments(obj, full, out, budget, x, y, frame)

    walk(pdfium_c.FPDFPage_CountObjects(page), lambda k: pdfium_c.FPDFPage_GetObject(page, k), None)
    return out


def _compose(m, parent):
    """Matrix of an object inside a form: its own matrix, then the form's."""
    a, b, c, d, e, f = m.a, m.b, m.c, m.d, m.e, m.f
    if parent is None:
        return (a, b, c, d, e, f)
    pa, pb, pc, pd, pe, pf = parent
    return (a * pa + b * pc, a * pb + b * pd, c * pa + d * pc, c * pb + d * pd, e * pa + f * pc + pe, e * pb + f * pd + pf)


def _path_segments(obj, m, out, budget, x, y, frame: Frame) -> None:
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if n <= 0:
        return
    budget[0] -= n
    if budget[0] < 0:
        return
    a, b, c, d, e, f = m
    start = prev = None
    for i in range(n):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        pdfium_c.FPDFPathSegment_GetPoint(seg, x, y)
        px, py = x.value * a + y.value * c + e, x.value * b + y.value * d + f
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        point = frame.point(px, py)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = prev = point
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO and prev is not None:
            _add(prev, point, out)
            prev = point
        else:  # Bézier: not a ruling line
            prev = point
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None and prev is not None:
            _add(prev, start, out)
            prev = start


def _add(p, q, out) -> None:
    (x0, y0), (x1, y1) = p, q
    if abs(y0 - y1) < 1.0 or abs(x0 - x1) < 1.0:
        out.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))


def _edges(segments) -> list[dict]:
    edges = []
    for x0, top, x1, bottom in segments:
        w, h = x1 - x0, bottom - top
        if h < 1.0 and w >= MIN_EDGE:
            mid = (top + bottom) / 2
            edges.append({"x0": x0, "x1": x1, "top": mid, "bottom": mid, "width": w, "height": 0,
                          "doctop": mid, "orientation": "h"})
        elif w < 1.0 and h >= MIN_EDGE:
            mid = (x0 + x1) / 2
            edges.append({"x0": mid, "x1": mid, "top": top, "bottom": bottom, "width": 0, "height": h,
                          "doctop": top, "orientation": "v"})
    return edges


def find_tables(page, textpage, frame: Frame, page_number: int) -> list[Table]:
    """Ruled tables on the page (>= 2 rows and >= 2 columns), cells read by pdfium."""
    segments = _segments(page, frame)
    if len(segments) < 4:
        return []
    edges = _edges(segments)
    if sum(e["orientation"] == "v" for e in edges) < 2 or sum(e["orientation"] == "h" for e in edges) < 2:
        return []
    from pdfplumber import table as plumber_table  # pdfminer loads only when a page has rulings

    edges = plumber_table.merge_edges(edges, 3, 3, 3, 3)
    edges = [e for e in edges if (e["width"] if e["orientation"] == "h" else e["height"]) >= MIN_EDGE]
    if len(edges) > MAX_EDGES:
        return []
    points = plumber_table.edges_to_intersections(edges, 3, 3)
    if not 4 <= len(points) <= MAX_POINTS:
        return []
    cells = plumber_table.intersections_to_cells(points)
    tables = []
    for group in plumber_table.cells_to_tables(cells):
        grid = _grid(group)
        if len(grid) < 2 or max(len(r) for r in grid) < 2:
            continue
        rows = [[_cell_text(textpage, frame, cell) for cell in row] for row in grid]
        rows = [row for row in rows if any(row)]
        if len(rows) < 2 or sum(1 for row in rows for c in row if c) < 3:
            continue
        x0 = min(c[0] for c in group)
        top = min(c[1] for c in group)
        x1 = max(c[2] for c in group)
        bottom = max(c[3] for c in group)
        tables.append(Table(x0, top, x1, bottom, rows, page_number))
    return tables


def _grid(cells) -> list[list[tuple]]:
    """Cells grouped into rows by their top edge, each row left to right."""
    rows: dict[float, list] = {}
    for cell in cells:
        key = next((k for k in rows if abs(k - cell[1]) <= 1.0), cell[1])
        rows.setdefault(key, []).append(cell)
    return [sorted(rows[k], key=lambda c: c[0]) for k in sorted(rows)]


def _cell_text(textpage, frame: Frame, cell) -> str:
    x0, top, x1, bottom = cell
    raw = bounded_text(textpage, frame, x0, top, x1, bottom)
    lines = [normalize_line(part) for part in raw.split("\n")]
    return join_lines(lines).replace("|", "/").strip()
