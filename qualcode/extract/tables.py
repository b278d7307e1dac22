"""Ruled tables: ruling lines from pdfium path objects, cells by pdfplumber's geometry.

Reading a page with pdfplumber costs ~100 ms (pdfminer parses everything); pdfium hands
us the vector paths in well under a millisecond.  pdfplumber's table algorithm itself
(snap/join edges, intersections, cells, tables) is pure geometry: :mod:`.grid` runs it
on the pdfium edges without loading pdfplumber.

Tables are read before the page's lines are formed: a text run belongs to the cell that
holds its centre (a run drawn across several cells is split by its characters' boxes),
and runs taken by a table never reach the text flow.  So cell text cannot bleed into a
paragraph beside the table, nor the end of a line that touches the table into a cell.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2.raw as pdfium_c

from qualcode.extract import grid as ruling
from qualcode.extract.normalize import join_lines, normalize_lines
from qualcode.extract.pdf_lines import Frame, Run, bounded_text

MAX_SEGMENTS = 4000  # pages drawn with more path segments than this are charts/maps, not tables
MAX_EDGES = 600
MAX_POINTS = 1200  # the cell search is quadratic in intersections; beyond this, rows fall back to text
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
    header_rows: int | None = None  # leading rows that label the columns (None: not known from style)
    row_pages: list[int] | None = None  # page of each row, once rows from later pages are added

    def pages_of_rows(self) -> list[int]:
        return self.row_pages if self.row_pages is not None else [self.page] * len(self.rows)


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


def _edges(segments) -> tuple[list, list]:
    """Horizontal and vertical ruling edges (x0, top, x1, bottom) from straight path segments."""
    horizontal, vertical = [], []
    for x0, top, x1, bottom in segments:
        w, h = x1 - x0, bottom - top
        if h < 1.0 and w >= MIN_EDGE:
            mid = (top + bottom) / 2
            horizontal.append((x0, mid, x1, mid))
        elif w < 1.0 and h >= MIN_EDGE:
            mid = (x0 + x1) / 2
            vertical.append((mid, top, mid, bottom))
    return horizontal, vertical


def find_tables(page, textpage, frame: Frame, page_number: int, runs: list[Run]) -> tuple[list[Table], list[Run]]:
    """Ruled tables on the page (>= 2 rows and >= 2 columns), and the runs left for the text flow."""
    segments = _segments(page, frame)
    if len(segments) < 4:
        return [], runs
    horizontal, vertical = _edges(segments)
    if len(vertical) < 2 or len(horizontal) < 2:
        return [], runs
    horizontal, vertical = ruling.merge_edges(horizontal, vertical)
    horizontal = [e for e in horizontal if e[2] - e[0] >= MIN_EDGE]
    vertical = [e for e in vertical if e[3] - e[1] >= MIN_EDGE]
    if len(horizontal) + len(vertical) > MAX_EDGES:
        return [], runs
    points = ruling.intersections(horizontal, vertical)
    if not 4 <= len(points) <= MAX_POINTS:
        return [], runs
    tables = []
    taken: set[int] = set()
    for group in ruling.tables(ruling.cells(points)):
        grid = _grid(group)
        if len(grid) < 2 or max(len(r) for r in grid) < 2:
            continue
        texts, bold, used = _fill(grid, runs, textpage, frame)
        keep = [i for i, row in enumerate(texts) if any(row)]
        rows = [texts[i] for i in keep]
        if len(rows) < 2 or sum(1 for row in rows for c in row if c) < 3:
            continue
        taken |= used
        x0 = min(c[0] for c in group)
        top = min(c[1] for c in group)
        x1 = max(c[2] for c in group)
        bottom = max(c[3] for c in group)
        header = 1 if bold[keep[0]] and not all(bold[i] for i in keep) else None
        tables.append(Table(x0, top, x1, bottom, rows, page_number, header_rows=header))
    return tables, [run for i, run in enumerate(runs) if i not in taken]


def _grid(cells) -> list[list[tuple]]:
    """Cells grouped into rows by their top edge, each row left to right."""
    rows: dict[float, list] = {}
    for cell in cells:
        key = next((k for k in rows if abs(k - cell[1]) <= 1.0), cell[1])
        rows.setdefault(key, []).append(cell)
    return [sorted(rows[k], key=lambda c: c[0]) for k in sorted(rows)]


def _fill(grid, runs: list[Run], textpage, frame: Frame) -> tuple[list[list[str]], list[bool], set[int]]:
    """Cell texts row by row, whether each row is all bold, and the indexes of the runs used.

    A run goes to the cell holding its centre; a run that reaches well into a neighbouring
    cell (one text object drawn across cells) is split character by character.
    """
    flat = [(r, k, cell) for r, row in enumerate(grid) for k, cell in enumerate(row)]
    x0 = min(c[0] for _, _, c in flat)
    top = min(c[1] for _, _, c in flat)
    x1 = max(c[2] for _, _, c in flat)
    bottom = max(c[3] for _, _, c in flat)
    pieces: dict[tuple[int, int], list[Run]] = {}
    weights: list[list[float]] = [[0.0, 0.0] for _ in grid]  # per row: bold width, all width
    used: set[int] = set()
    for index, run in enumerate(runs):
        cx, cy = (run.x0 + run.x1) / 2, (run.top + run.bottom) / 2
        if not (x0 <= cx <= x1 and top <= cy <= bottom):
            continue
        home = _cell_at(flat, cx, cy)
        if home is None:
            continue
        used.add(index)
        r, k, cell = home
        if run.span is not None and (run.x0 < cell[0] - 2 or run.x1 > cell[2] + 2
                                     or run.top < cell[1] - 2 or run.bottom > cell[3] + 2):
            parts = _split(run, flat, textpage, frame)
        else:
            parts = [((r, k), run)]
        for key, part in parts:
            pieces.setdefault(key, []).append(part)
            weights[key[0]][1] += part.x1 - part.x0
            if part.bold:
                weights[key[0]][0] += part.x1 - part.x0
    texts = [[_cell_text(pieces.get((r, k), []), textpage, frame, cell) for k, cell in enumerate(row)]
             for r, row in enumerate(grid)]
    bold = [w[1] > 0 and w[0] >= 0.9 * w[1] for w in weights]
    return texts, bold, used


def _cell_at(flat, x: float, y: float):
    for r, k, cell in flat:
        if cell[0] <= x <= cell[2] and cell[1] <= y <= cell[3]:
            return r, k, cell
    return None


def _split(run: Run, flat, textpage, frame: Frame) -> list[tuple[tuple[int, int], Run]]:
    """A run drawn across cells, cut into one run per cell by its characters' boxes.

    It is cut only where the next cell's text starts after a gap wider than a word space:
    text that merely overflows its cell (a border through a word) stays with its cell.
    """
    left, right, low, high = (ctypes.c_double() for _ in range(4))
    first, end = run.span
    parts: list[tuple[tuple[int, int], Run]] = []
    current: tuple[tuple[int, int], Run] | None = None
    last = None  # box of the previous visible character
    for i in range(first, end):
        ch = run.text[i - first] if i - first < len(run.text) else ""
        if pdfium_c.FPDFText_GetCharBox(textpage, i, left, right, low, high) and right.value > left.value:
            box = frame.box(left.value, low.value, right.value, high.value)
            home = _cell_at(flat, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            if home is not None and (current is None or (current[0] != home[:2] and _apart(last, box, run.size))):
                current = (home[:2], Run(box[0], box[2], box[1], box[3], run.baseline, run.size, run.bold,
                                         run.rect, "", span=(i, i), lead=" " if parts else run.lead))
                parts.append(current)
            if current is not None:
                part = current[1]
                part.x0, part.top = min(part.x0, box[0]), min(part.top, box[1])
                part.x1, part.bottom = max(part.x1, box[2]), max(part.bottom, box[3])
            last = box
        if current is not None:
            current[1].text += ch
            current[1].span = (current[1].span[0], i + 1)
    return parts


def _apart(a, b, size: float) -> bool:
    """Are two character boxes (x0, top, x1, bottom) separated by more than a word space?"""
    if a is None:
        return True
    gap = max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3])
    return gap >= 0.5 * size


def _cell_text(runs: list[Run], textpage, frame: Frame, cell) -> str:
    """The runs of one cell as text, in the order the PDF draws them, hyphenation repaired.

    Runs that follow each other in pdfium's text stream are joined as the stream joins
    them (its spaces and line breaks; right for rotated and glyph-by-glyph text too).
    Runs read by box, without a place in the stream, fall back to the cell's text by box.
    """
    if not runs:
        return ""
    if any(r.span is None for r in runs):
        raw = bounded_text(textpage, frame, *cell)
        return join_lines(normalize_lines(raw.split("\n"))).replace("|", "/").strip()
    lines: list[str] = []
    previous = None
    for run in sorted(runs, key=lambda r: r.span):
        text = run.text.replace("\r\n", " ").replace("\n", " ")
        adjacent = previous is not None and previous.span[1] + len(run.lead) == run.span[0]
        if previous is None or (adjacent and "\n" in run.lead) or (
                not adjacent and abs(previous.baseline - run.baseline) > 0.5 * max(run.size, previous.size)):
            lines.append(text)
        elif adjacent and not run.lead.strip(" ") and " " not in run.lead:
            lines[-1] += text
        else:
            lines[-1] += " " + text
        previous = run
    return join_lines(normalize_lines(lines)).replace("|", "/").strip()
