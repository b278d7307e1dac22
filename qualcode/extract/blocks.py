"""Lines in reading order → headings, paragraphs, lists and tables, from layout evidence.

A paragraph ends where the vertical gap grows beyond the document's normal line pitch,
the font changes, a first line is indented, or (in documents that do not space their
paragraphs) a short line ends a sentence.  Headings are larger or all-bold short lines.
Joining blocks across column and page breaks is :mod:`qualcode.extract.flow`'s job.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from qualcode.extract.normalize import BULLET
from qualcode.extract.pdf_lines import Line
from qualcode.extract.tables import Table

_WEAK_MARKER = re.compile(r"^(?:\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|[-–—*])\s+\S")
_BARE_NUMBER = re.compile(r"^(\d{1,2})\s+\S")
_END_PUNCT = re.compile(r"[.!?:;]['\"»”’)\]*]*$")
_URL_SCHEME_END = re.compile(r"(?:^|\W)(?:https?|ftp):/{0,2}$")  # "… https:" goes on with "//www…"
MAX_HEADING_LINES = 4


@dataclass
class Style:
    """Document-wide typography: the body font size and normal line pitch per size."""

    body_size: float
    pitch: dict[float, float]
    uses_gaps: bool = True

    def normal_pitch(self, size: float) -> float:
        key = round(size * 2) / 2
        if key in self.pitch:
            return self.pitch[key]
        return self.pitch.get(round(self.body_size * 2) / 2, 1.2 * self.body_size) * size / self.body_size

    def is_gap(self, prev: Line, line: Line) -> bool:
        size = max(prev.size, line.size)
        pitch = line.baseline - prev.baseline
        return pitch > self.normal_pitch(size) + max(1.5, 0.2 * size) or pitch < 0.3 * size


@dataclass
class RawBlock:
    """A block before its text is assembled: the lines (or list items, or table) it holds."""

    kind: str
    lines: list[Line] = field(default_factory=list)
    items: list[list[Line]] = field(default_factory=list)
    table: Table | None = None

    @property
    def all_lines(self) -> list[Line]:
        return self.lines if self.kind != "list" else [ln for item in self.items for ln in item]

    @property
    def pages(self) -> tuple[int, int]:
        if self.table is not None:
            return self.table.page, self.table.page_end or self.table.page
        pages = [ln.page for ln in self.all_lines]
        return min(pages), max(pages)

    @property
    def size(self) -> float:
        lines = self.all_lines
        return Counter(round(ln.size, 1) for ln in lines).most_common(1)[0][0] if lines else 0.0


def measure_style(chunks: list[list]) -> Style:
    """Body size (by characters) and the modal baseline pitch for each font size."""
    chars: Counter[float] = Counter()
    pitches: dict[float, Counter[float]] = defaultdict(Counter)
    for chunk in chunks:
        prev = None
        for item in chunk:
            if not isinstance(item, Line):
                prev = None
                continue
            chars[round(item.size * 2) / 2] += len(item.text)
            if prev is not None and abs(prev.size - item.size) < 0.3 and _overlap_x(prev, item):
                pitch = item.baseline - prev.baseline
                if 0.8 * item.size <= pitch <= 3 * item.size:
                    pitches[round(item.size * 2) / 2][round(pitch * 2) / 2] += 1
            prev = item
    body = chars.most_common(1)[0][0] if chars else 10.0
    pitch = {size: _normal_pitch(c) for size, c in pitches.items()}
    style = Style(body, pitch)
    gaps = pairs = 0
    for chunk in chunks:
        lines = [i for i in chunk if isinstance(i, Line) and abs(i.size - body) < 0.3]
        for a, b in zip(lines, lines[1:]):
            if _overlap_x(a, b) and b.baseline > a.baseline:
                pairs += 1
                gaps += style.is_gap(a, b) and b.baseline - a.baseline < 3 * body
    style.uses_gaps = pairs > 0 and gaps >= max(2, 0.02 * pairs)
    return style


def _normal_pitch(counts: Counter[float]) -> float:
    """The smallest baseline pitch that is common (>= 20 % of line pairs).

    Not simply the mode: in a short document the paragraph gaps can outnumber the lines
    inside paragraphs, and the normal pitch is always the smaller one.
    """
    total = sum(counts.values())
    for value in sorted(counts):
        cluster = {v: n for v, n in counts.items() if abs(v - value) <= 0.75}
        if sum(cluster.values()) >= 0.2 * total:
            return max(cluster, key=cluster.get)
    return counts.most_common(1)[0][0]


def _overlap_x(a: Line, b: Line) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0


def list_marker(text: str) -> str | None:
    """'strong' for a bullet glyph, 'weak' for "1." / "a)" / "-" that may be list markers,
    'bare' for a plain number ("2 Etablere …") that is one only with a list's evidence."""
    if text.startswith(BULLET):
        return "strong"
    if _WEAK_MARKER.match(text):
        return "weak"
    if _BARE_NUMBER.match(text):
        return "bare"
    return None


def ends_sentence(text: str) -> bool:
    text = text.rstrip()
    return bool(_END_PUNCT.search(text)) and not _URL_SCHEME_END.search(text[-12:])


class _ChunkReader:
    """Turns one chunk (a column piece, top-down) into blocks."""

    def __init__(self, style: Style):
        self.style = style

    def is_heading(self, line: Line, text: str) -> bool:
        body = self.style.body_size
        if len(text) > 200 or not any(ch.isalpha() for ch in text):
            return False
        if line.size >= body * 1.12:
            return True
        return line.bold and line.size >= body * 0.9 and len(text) <= 150 and not text.endswith(",")

    def read(self, chunk: list) -> list[RawBlock]:
        blocks: list[RawBlock] = []
        cur: RawBlock | None = None
        prev: Line | None = None
        items = text_rows(list(chunk))
        right = max((i.x1 for i in items if isinstance(i, Line)), default=0.0)
        for pos, item in enumerate(items):
            if isinstance(item, Table):
                cur = None
                blocks.append(RawBlock("table", table=item))
                prev = None
                continue
            line = item
            text = line.text
            nxt = items[pos + 1] if pos + 1 < len(items) and isinstance(items[pos + 1], Line) else None
            gap = prev is None or self.style.is_gap(prev, line) or not _overlap_x(prev, line)
            marker = list_marker(text)
            if marker == "weak" and not self._weak_marker_ok(line, prev, nxt, cur, gap):
                marker = None
            elif marker == "bare" and not self._bare_marker_ok(line, nxt, cur, gap):
                marker = None
            if marker:
                if cur is not None and cur.kind == "list" and (not gap or self._near(prev, line)):
                    cur.items.append([line])
                else:
                    cur = RawBlock("list", items=[[line]])
                    blocks.append(cur)
            elif self.is_heading(line, text):
                if (cur is not None and cur.kind == "heading" and not gap
                        and abs(cur.lines[-1].size - line.size) < 0.5 and cur.lines[-1].bold == line.bold):
                    cur.lines.append(line)
                else:
                    cur = RawBlock("heading", lines=[line])
                    blocks.append(cur)
            elif cur is not None and cur.kind == "list" and not gap and self._continues_item(cur, line):
                cur.items[-1].append(line)
            elif cur is not None and cur.kind == "paragraph" and not gap and not self._breaks(prev, line, nxt, right):
                cur.lines.append(line)
            else:
                cur = RawBlock("paragraph", lines=[line])
                blocks.append(cur)
            prev = line
        for block in blocks:
            if block.kind == "heading" and not self._heading_shaped(block):
                block.kind = "paragraph"
        return blocks

    def _heading_shaped(self, block: RawBlock) -> bool:
        """Headings are short; several lines of full sentences are a (bold or large) ingress."""
        lines = block.lines
        if len(lines) > MAX_HEADING_LINES:
            return False
        last = lines[-1].text
        if len(lines) >= 2 and last[-1:] in ".!?":
            return False
        return not (lines[0].size < 1.12 * self.style.body_size and len(lines) > 2)

    def _near(self, prev: Line | None, line: Line) -> bool:
        """A gap small enough to keep list items in one list (items may be spaced out)."""
        if prev is None:
            return False
        return line.baseline - prev.baseline <= 2.6 * self.style.normal_pitch(line.size)

    def _weak_marker_ok(self, line: Line, prev: Line | None, nxt: Line | None, cur, gap: bool) -> bool:
        in_list = cur is not None and cur.kind == "list"
        if not (gap or in_list):
            return False
        if nxt is None or self.style.is_gap(line, nxt):
            return True
        hanging = nxt.x0 > line.x0 + 0.5 * line.size
        return hanging or bool(list_marker(nxt.text))

    def _bare_marker_ok(self, line: Line, nxt: Line | None, cur, gap: bool) -> bool:
        """A plain number starts a list item with evidence: the item's next line hangs
        under its text, or the numbers run on from the list above or into the next line."""
        if self.is_heading(line, line.text):
            return False
        number = int(_BARE_NUMBER.match(line.text).group(1))
        if cur is not None and cur.kind == "list" and not (gap and not self._near(cur.items[-1][-1], line)):
            previous = _BARE_NUMBER.match(cur.items[-1][0].text)
            if previous and int(previous.group(1)) == number - 1:
                return True
        if nxt is None or self.style.is_gap(line, nxt):
            return False
        following = _BARE_NUMBER.match(nxt.text)
        if following:
            return int(following.group(1)) == number + 1 and abs(nxt.x0 - line.x0) < 0.5 * line.size
        return nxt.x0 > line.x0 + 0.5 * line.size  # hanging indent

    def _continues_item(self, block: RawBlock, line: Line) -> bool:
        first = block.items[-1][0]
        last = block.items[-1][-1]
        if abs(line.size - first.size) > 1.0:
            return False
        return line.x0 > first.x0 + 0.5 * line.size or not ends_sentence(last.text)

    def _breaks(self, prev: Line, line: Line, nxt: Line | None, right: float) -> bool:
        """Paragraph break between two closely spaced body lines."""
        if abs(prev.size - line.size) > 1.0 or prev.bold != line.bold and (prev.bold and len(prev.text) < 80):
            return True
        size = line.size
        indent = line.x0 - prev.x0
        if 0.8 * size <= indent <= 6 * size and nxt is not None and abs(nxt.x0 - prev.x0) < 0.5 * size:
            return True  # first-line indent
        if not self.style.uses_gaps and ends_sentence(prev.text):
            width = right - prev.x0
            if prev.x1 < right - max(0.15 * width, 3 * size):
                return True  # short last line of a paragraph
        return False


def text_rows(items: list) -> list:
    """Lines side by side on one baseline: a row of an unruled table, or one line.

    Two or more such rows in a row become a :class:`Table`; a lone one is joined into a
    single line (a caption with a tab stop, a label and its value).
    """
    rows: list[list] = []
    for item in items:
        last = rows[-1][-1] if rows else None
        if (isinstance(item, Line) and isinstance(last, Line)
                and abs(item.baseline - last.baseline) <= 0.3 * max(item.size, last.size)
                and all(item.x0 >= ln.x1 or item.x1 <= ln.x0 for ln in rows[-1])):
            rows[-1].append(item)
            rows[-1].sort(key=lambda ln: ln.x0)
        else:
            rows.append([item])
    out: list = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and len(rows[j]) >= 2:
            j += 1
        if j - i >= 2:
            cells = [ln for row in rows[i:j] for ln in row]
            table = Table(min(c.x0 for c in cells), min(c.top for c in cells), max(c.x1 for c in cells),
                          max(c.bottom for c in cells),
                          [[c.text for c in row] for row in rows[i:j]], cells[0].page)
            table.page_end = max(c.page for c in cells)
            body_bold = all(c.bold for row in rows[i + 1:j] for c in row)
            table.header_rows = 1 if all(c.bold for c in rows[i]) and not body_bold else None
            table.row_pages = [row[0].page for row in rows[i:j]]
            out.append(table)
            i = j
            continue
        row = rows[i]
        out.append(row[0] if len(row) == 1 else _merge_row(row))
        i += 1
    return out


def _merge_row(row: list[Line]) -> Line:
    main = max(row, key=lambda ln: ln.x1 - ln.x0)
    return Line(" ".join(ln.text.strip() for ln in row), row[0].x0, max(ln.x1 for ln in row),
                min(ln.top for ln in row), max(ln.bottom for ln in row), main.baseline, main.size,
                all(ln.bold for ln in row), row[0].page)


def blocks_from_chunks(chunks: list[list], style: Style) -> list[list[RawBlock]]:
    reader = _ChunkReader(style)
    return [reader.read(chunk) for chunk in chunks]
