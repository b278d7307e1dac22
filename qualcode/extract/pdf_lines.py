"""Positioned text lines from one PDF page, read with pypdfium2.

pdfium is ~100x faster than pdfminer here.  Its text "rects" are runs of characters from
one text object (usually one line, or the part of a line in one font); the character
range of each run is found by a galloping search over the characters' text objects, so
a page costs a few hundred C calls instead of one per character.  Runs on the same
baseline that sit close together become a :class:`Line`; a wide gap (a column gutter)
starts a new line.  Line texts are normalised once per page.
"""
from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import pypdfium2.raw as pdfium_c
from pypdfium2_raw.bindings import _libs

from qualcode.extract.normalize import normalize_lines

_BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")


@dataclass
class Run:
    """Characters of one text object: top-down view coordinates, its PDF rect and font facts."""

    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    bold: bool
    rect: tuple[float, float, float, float]  # (left, bottom, right, top) in PDF user space
    text: str | None = None
    span: tuple[int, int] | None = None  # its characters' [first, end) indexes in the text page
    lead: str = ""  # what pdfium put between the previous text object's characters and this run's


class Frame:
    """Maps PDF user space to the page as displayed: top-down, rotation applied."""

    def __init__(self, bbox: tuple[float, float, float, float], rotation: int = 0):
        self.left, self.bottom, self.right, self.top = bbox
        self.rotation = rotation % 360
        w, h = self.right - self.left, self.top - self.bottom
        self.width, self.height = (h, w) if self.rotation in (90, 270) else (w, h)

    def point(self, x: float, y: float) -> tuple[float, float]:
        if self.rotation == 90:
            return y - self.bottom, x - self.left
        if self.rotation == 180:
            return self.right - x, y - self.bottom
        if self.rotation == 270:
            return self.top - y, self.right - x
        return x - self.left, self.top - y

    def box(self, l: float, b: float, r: float, t: float) -> tuple[float, float, float, float]:
        """(x0, top, x1, bottom) in view coordinates of a PDF rect."""
        xa, ya = self.point(l, b)
        xb, yb = self.point(r, t)
        return min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)

    def unbox(self, x0: float, top: float, x1: float, bottom: float) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) PDF rect of a view box (inverse of :meth:`box`)."""
        corners = [self._inverse(x, y) for x, y in ((x0, top), (x1, bottom))]
        xs = [c[0] for c in corners]
        ys = [c[1] for c in corners]
        return min(xs), min(ys), max(xs), max(ys)

    def _inverse(self, vx: float, vy: float) -> tuple[float, float]:
        if self.rotation == 90:
            return vy + self.left, vx + self.bottom
        if self.rotation == 180:
            return self.right - vx, vy + self.bottom
        if self.rotation == 270:
            return self.right - vy, self.top - vx
        return vx + self.left, self.top - vy


@dataclass
class Line:
    """One line of text in one column, in top-down page coordinates (points)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    bold: bool
    page: int

    @property
    def height(self) -> float:
        return self.bottom - self.top


class _FontProbe:
    """Font size, weight and baseline of the character nearest a point (cached C buffers)."""

    def __init__(self, textpage):
        self.tp = textpage
        self.x = ctypes.c_double()
        self.y = ctypes.c_double()
        self.flags = ctypes.c_int()
        self.name = ctypes.create_string_buffer(96)
        self.matrix = pdfium_c.FS_MATRIX()

    def char_at(self, x: float, y: float, tol: float) -> int:
        return pdfium_c.FPDFText_GetCharIndexAtPos(self.tp, x, y, tol, tol)

    def facts(self, index: int) -> tuple[float, bool, float | None]:
        size = pdfium_c.FPDFText_GetFontSize(self.tp, index)
        if pdfium_c.FPDFText_GetMatrix(self.tp, index, self.matrix):
            # the Tf size is often 1 with the real size in the text matrix
            scale = math.hypot(self.matrix.c, self.matrix.d)
            if scale > 0:
                size *= scale
        weight = pdfium_c.FPDFText_GetFontWeight(self.tp, index)
        bold = weight >= 600
        if not bold:
            n = pdfium_c.FPDFText_GetFontInfo(self.tp, index, self.name, 96, ctypes.byref(self.flags))
            if n > 0:
                name = self.name.value.decode("latin-1", "replace").lower()
                bold = any(word in name for word in _BOLD_NAMES) or bool(self.flags.value & (1 << 18))
        baseline = None
        if pdfium_c.FPDFText_GetCharOrigin(self.tp, index, ctypes.byref(self.x), ctypes.byref(self.y)):
            baseline = self.y.value
        return size, bold, baseline


def _text_object_fn():
    """FPDFText_GetTextObject returning a plain address, so runs can be compared cheaply."""
    fn = _libs["pdfium"]["FPDFText_GetTextObject"]
    fn.argtypes = (ctypes.c_void_p, ctypes.c_int)
    fn.restype = ctypes.c_void_p
    return fn


_TEXT_OBJECT = _text_object_fn()


def page_text(textpage) -> str:
    """All characters of the page in pdfium's order (one UTF-16 unit per char index)."""
    n = pdfium_c.FPDFText_CountChars(textpage)
    if n <= 0:
        return ""
    buf = (ctypes.c_ushort * (n + 1))()
    got = pdfium_c.FPDFText_GetText(textpage, 0, n, buf)
    return bytes(buf)[: max(0, got - 1) * 2].decode("utf-16-le", errors="replace")


def object_ranges(textpage, n: int) -> list[list[int]]:
    """[first, end) character ranges, each drawn by one text object, in character order.

    A text object's characters are contiguous in pdfium's character list, so each range's
    end is found by galloping (1, 2, 4 … characters ahead) and then bisecting: about
    2·log2(run length) calls per run instead of one per character.  Generated characters
    (spaces and line breaks pdfium inserts between objects) have no object and separate
    the ranges.
    """
    get_object = _TEXT_OBJECT
    handle = ctypes.cast(textpage, ctypes.c_void_p).value
    ranges: list[list[int]] = []
    i = 0
    while i < n:
        obj = get_object(handle, i)
        if obj is None:
            i += 1
            continue
        lo, step, hi = i, 1, i + 1
        while hi < n and get_object(handle, hi) == obj:
            lo = hi
            step *= 2
            hi = min(n, lo + step)
        while hi - lo > 1:  # get_object(lo) == obj; hi == n or get_object(hi) != obj
            mid = (lo + hi) // 2
            if get_object(handle, mid) == obj:
                lo = mid
            else:
                hi = mid
        ranges.append([i, hi])
        i = hi
    return ranges


def read_runs(textpage, frame: Frame) -> list[Run]:
    """All text runs of a page, in view coordinates.

    Consecutive characters drawn by the same PDF text object form a run; pdfium's text
    rects are exactly those runs, so rect *k* gives run *k*'s box.  The run's text is a
    slice of the page text, and its font facts come from its first character.
    """
    text = page_text(textpage)
    n = len(text)
    groups = object_ranges(textpage, n) if n == pdfium_c.FPDFText_CountChars(textpage) else []
    # (surrogate pairs make indexes and text disagree: then fall back to boxes)
    rect_count = pdfium_c.FPDFText_CountRects(textpage, 0, -1)
    probe = _FontProbe(textpage)
    if len(groups) != rect_count:
        # a range of only zero-size characters (e.g. a lone space object) has no rect
        groups = [g for g in groups if text[g[0]:g[1]].strip()]
        if len(groups) != rect_count:
            return _runs_from_rects(textpage, frame, probe, rect_count)
    left, top, right, bottom = (ctypes.c_double() for _ in range(4))
    runs: list[Run] = []
    previous_end = 0
    for k, (a, b_) in enumerate(groups):
        lead, previous_end = text[previous_end:a], b_
        if not pdfium_c.FPDFText_GetRect(textpage, k, left, top, right, bottom):
            continue
        chunk = text[a:b_]
        if not chunk.strip():
            continue
        first = a + (len(chunk) - len(chunk.lstrip()))
        run = _make_run(frame, probe, first, left.value, bottom.value, right.value, top.value, chunk)
        if run is not None:
            run.span, run.lead = (a, b_), lead
            runs.append(run)
    return runs


def _make_run(frame: Frame, probe: "_FontProbe", index: int, l: float, b: float, r: float, t: float,
              text: str | None) -> Run | None:
    h = t - b
    if h <= 0.5 or r - l <= 0.1:
        return None
    if index >= 0:
        size, bold, base = probe.facts(index)
    else:
        size, bold, base = h * 0.8, False, None
    x0, vt, x1, vb = frame.box(l, b, r, t)
    if size <= 0.5:
        size = min(h, r - l) * 0.8
    if frame.rotation in (0, 180):
        # the origin is the baseline; glyphs drawn above it (bullets, dashes, quotes) start below their box
        ok = base is not None and b - 0.6 * size - 1 <= base <= t + 1
        baseline = frame.point(l, base if ok else b + h * 0.2)[1]
    else:
        baseline = vb - 0.2 * (vb - vt)
    return Run(x0, x1, vt, vb, baseline, size, bold, (l, b, r, t), text)


def _runs_from_rects(textpage, frame: Frame, probe: "_FontProbe", n: int) -> list[Run]:
    """Slow path: rects with text read by box (when runs and rects do not line up)."""
    left, top, right, bottom = (ctypes.c_double() for _ in range(4))
    runs: list[Run] = []
    for i in range(n):
        if not pdfium_c.FPDFText_GetRect(textpage, i, left, top, right, bottom):
            continue
        l, t, r, b = left.value, top.value, right.value, bottom.value
        h = t - b
        index = probe.char_at((l + r) / 2, b + h * 0.45, max(h * 0.5, 1.0))
        chunk = _bounded_text(textpage, l, b, r, t)
        if not chunk.strip():
            continue
        run = _make_run(frame, probe, index, l, b, r, t, chunk)
        if run is not None:
            runs.append(run)
    return runs


def group_lines(runs: list[Run]) -> list[list[Run]]:
    """Runs sharing a baseline band and lying close together form one line.

    A gap wider than ~1.25 em always splits a line.  A narrower gap splits it when it
    lines up with a column gutter: few runs on the page cover that x although many
    baseline bands reach across it (in running text, words of other lines cover it).
    """
    bands = _bands(runs)
    is_gutter = _gutter_probe(bands)
    lines: list[list[Run]] = []
    for band in bands:
        band.sort(key=lambda r: r.x0)
        current = [band[0]]
        right = band[0].x1
        for run in band[1:]:
            prev = current[-1]
            gap = run.x0 - right
            size = max(prev.size, run.size)
            if len(current) == 1 and prev.x1 - prev.x0 <= 1.2 * size:
                split = gap > 4 * size  # a bullet or number marker sits well left of its text
            else:
                split = gap > 1.25 * size or (gap > 0.4 * size and is_gutter(right, run.x0))
            if split:
                lines.append(current)
                current = [run]
                right = run.x1
            else:
                current.append(run)
                right = max(right, run.x1)
        lines.append(current)
    return lines


def _bands(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped by vertical position (one band per printed line across the page)."""
    bands: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: (r.top, r.x0)):
        best, best_diff = None, None
        for band in bands[-6:]:
            ref = band[0]
            overlap = min(ref.bottom, run.bottom) - max(ref.top, run.top)
            diff = abs(ref.baseline - run.baseline)
            size = max(ref.size, run.size)
            # one baseline, or boxes that overlap well (a small glyph such as "," has a small box)
            same = diff <= 0.15 * size or (
                overlap >= 0.5 * min(ref.bottom - ref.top, run.bottom - run.top) and diff <= 0.5 * size)
            if same and (best_diff is None or diff < best_diff):
                best, best_diff = band, diff
        if best is not None:
            best.append(run)
        else:
            bands.append([run])
    return bands


def _gutter_probe(bands: list[list[Run]]):
    """A test ``is_gutter(x_left, x_right)`` for a gap, from page-wide run coverage."""
    cache: dict = {}

    def coverage():
        width = int(max(r.x1 for band in bands for r in band)) + 3
        runs_diff = [0] * (width + 1)
        bands_diff = [0] * (width + 1)
        for band in bands:
            lo = max(0, int(min(r.x0 for r in band)) + 1)
            hi = max(lo, int(max(r.x1 for r in band)))
            bands_diff[lo] += 1
            bands_diff[hi] -= 1
            for r in band:
                a = max(0, int(r.x0) + 1)
                b = max(a, int(r.x1))
                runs_diff[a] += 1
                runs_diff[b] -= 1
        runs_cov, bands_cov = [], []
        acc_r = acc_b = 0
        for i in range(width):
            acc_r += runs_diff[i]
            acc_b += bands_diff[i]
            runs_cov.append(acc_r)
            bands_cov.append(acc_b)
        return runs_cov, bands_cov

    def is_gutter(x_left: float, x_right: float) -> bool:
        if "cov" not in cache:
            cache["cov"] = coverage()
        runs_cov, bands_cov = cache["cov"]
        lo, hi = int(x_left) + 1, int(x_right)
        if hi <= lo or hi >= len(runs_cov):
            return False
        mid = min(range(lo, hi), key=lambda i: runs_cov[i])
        return bands_cov[mid] >= 4 and runs_cov[mid] <= 0.2 * bands_cov[mid]

    return is_gutter


def read_lines(textpage, frame: Frame, page_number: int) -> list[Line]:
    """The page's text lines, each with its bounding box and dominant font."""
    return lines_from_runs(read_runs(textpage, frame), page_number)


def lines_from_runs(runs: list[Run], page_number: int) -> list[Line]:
    """Runs grouped into lines; the line texts normalised together (one regex pass per page)."""
    out: list[Line] = []
    for group in group_lines(runs) if runs else []:
        group = _drop_overprint(group)
        x0 = min(r.x0 for r in group)
        x1 = max(r.x1 for r in group)
        top = min(r.top for r in group)
        bottom = max(r.bottom for r in group)
        main = max(group, key=lambda r: (r.x1 - r.x0) * r.size)
        width = sum(r.x1 - r.x0 for r in group) or 1.0
        bold = sum(r.x1 - r.x0 for r in group if r.bold) >= 0.9 * width
        text = join_runs(group)
        if not text.strip():
            continue
        out.append(Line(text, x0, x1, top, bottom, main.baseline, main.size, bold, page_number))
    return normalized(out)


def normalized(lines: list[Line]) -> list[Line]:
    """The lines with normalised text (see :func:`normalize_lines`); empty ones dropped."""
    for line, text in zip(lines, normalize_lines([ln.text for ln in lines])):
        line.text = text
    return [ln for ln in lines if ln.text]


def _drop_overprint(runs: list[Run]) -> list[Run]:
    """Fake bold draws the same text twice, a hair apart: keep one copy."""
    kept: list[Run] = []
    for run in runs:
        if kept:
            prev = kept[-1]
            overlap = min(prev.x1, run.x1) - max(prev.x0, run.x0)
            if run.text == prev.text and overlap > 0.7 * max(run.x1 - run.x0, 0.1):
                continue
        kept.append(run)
    return kept


def join_runs(runs: list[Run]) -> str:
    """Run texts left to right, with a space where the words part.

    Runs that follow each other in pdfium's text stream part where the stream has a space
    between them (one the PDF draws, or one pdfium inferred); other neighbours part where
    their boxes do not touch.  A line drawn glyph by glyph is judged by its own gaps
    instead, because letter spacing makes pdfium infer spaces inside words: the gaps
    fall into letter gaps and clearly wider word gaps.
    """
    word_gap = _word_gap(runs)
    parts: list[str] = []
    right = None
    previous = None
    for run in runs:
        text = (run.text or "").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
        if parts and right is not None and not parts[-1].endswith(" ") and not text.startswith(" "):
            gap = run.x0 - right
            if word_gap is not None:
                space = gap >= word_gap
            elif _follows(previous, run):
                space = " " in run.lead
            else:
                space = gap > 0.12 * run.size
            if space:
                parts.append(" ")
        parts.append(text)
        right = run.x1 if right is None else max(right, run.x1)
        previous = run
    return "".join(parts)


def _word_gap(runs: list[Run]) -> float | None:
    """For a line drawn one glyph per run: the smallest gap that parts words, else None.

    The gaps between glyphs split into letter gaps and word gaps (a space wider); the
    threshold sits in the widest jump between consecutive sorted gaps, when that jump is
    clear (>= 0.08 em, and the wider gap >= 1.5 x the narrower).  No such jump: the line
    is one word (threshold infinite).
    """
    if len(runs) < 6 or sum(1 for r in runs if len((r.text or "").strip()) == 1) < 0.7 * len(runs):
        return None
    size = sorted(r.size for r in runs)[len(runs) // 2]
    gaps = sorted(b.x0 - a.x1 for a, b in zip(runs, runs[1:]))
    jump, lo, hi = max(((b - a, a, b) for a, b in zip(gaps, gaps[1:])), default=(0.0, 0.0, None))
    if hi is None or jump < 0.08 * size or hi < 1.5 * max(lo, 0.0):
        return float("inf")
    return hi


def _follows(previous: Run | None, run: Run) -> bool:
    """Does ``run`` come right after ``previous`` in the text stream, on the same line?"""
    return (previous is not None and previous.span is not None and run.span is not None
            and previous.span[1] + len(run.lead) == run.span[0] and "\n" not in run.lead)


def _bounded_text(textpage, left: float, bottom: float, right: float, top: float, keep_lines: bool = False) -> str:
    n = pdfium_c.FPDFText_GetBoundedText(textpage, left, top, right, bottom, None, 0)
    if n <= 0:
        return ""
    buf = (ctypes.c_ushort * n)()
    pdfium_c.FPDFText_GetBoundedText(textpage, left, top, right, bottom, buf, n)
    text = bytes(buf).decode("utf-16-le", errors="ignore").rstrip("\x00")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if keep_lines else text.replace("\n", " ")


def bounded_text(textpage, frame: Frame, x0: float, top: float, x1: float, bottom: float) -> str:
    """Text inside a view box, one line per ``\n`` (table cells of pages read by box)."""
    left, low, right, high = frame.unbox(x0, top, x1, bottom)
    return _bounded_text(textpage, left, low, right, high, keep_lines=True)
