"""Blocks (or speaker turns) → segments, the unit of coding.

A segment is what a coder reads and tags, so it should be one paragraph: a heading or a
whole list stays one segment, and only very long paragraphs are cut — at sentence
boundaries, into runs of sentences.  A table is cut into its rows, because one row is
one measure a researcher codes; a row carries its column headers as ``context``
("Tiltak: PMTO | Målgruppe: … | Ansvar: …") and the header row itself is a
``table_header`` segment that is not coded.  Every segment is a slice of the frozen
text: ``doc.text[s.start:s.end] == s.text`` always holds.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import replace

from qualcode.documents import Block, ExtractedDocument, Segment

MAX_SENTENCES = 8      # paragraphs with more sentences than this are split ...
CHUNK_SENTENCES = 6    # ... into runs of about this many sentences

# Norwegian (and a few English) abbreviations that end in a period but not a sentence.
ABBREVIATIONS = {
    "jf", "jfr", "bl.a", "f.eks", "kap", "nr", "ca", "m.m", "dvs", "osv", "mfl", "m.fl", "pkt", "s",
    "ev", "evt", "inkl", "ekskl", "ift", "mht", "pga", "p.g.a", "t.o.m", "f.o.m", "o.l", "o.a", "bl",
    "vedr", "ang", "iht", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov",
    "des", "kl", "tlf", "avd", "adm", "stk", "St", "dr", "prof", "mill", "mrd", "kr", "etc", "e.g", "i.e",
    "vs", "no", "art", "ledd", "bokst", "jr", "sr", "mr", "mrs", "ms", "fig", "tab", "vol", "red", "utg",
    "forts", "sml", "gl", "ff", "el", "resp", "hhv", "tilsv", "ref", "eks", "ns", "sst", "mnd", "årh", "h",
}
_ABBREV_LOWER = {a.lower() for a in ABBREVIATIONS}
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a capital.
_BOUNDARY = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+(?=[«\"“'(]?[A-ZÆØÅÄÖÜÉ])")
_LAST_TOKEN = re.compile(r"(\S+)$")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """``[start, end)`` spans of the sentences in ``text`` (shifted by ``offset``)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group().rstrip())
        if _is_abbreviation(text[start:match.start() + 1]):
            continue
        spans.append((offset + start, offset + end))
        start = match.end()
    if start < len(text.rstrip()):
        spans.append((offset + start, offset + len(text.rstrip())))
    return [(s, e) for s, e in spans if e > s]


def _is_abbreviation(before: str) -> bool:
    """Does the text up to and including the period end with an abbreviation or initial?"""
    if not before.endswith("."):
        return False
    token = _LAST_TOKEN.search(before[:-1])
    if not token:
        return False
    word = token.group(1).lstrip("(«\"'")
    if word.lower() in _ABBREV_LOWER or word in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "H. Ibsen"
    return bool(re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word))  # "f.eks", "m.a.o"


def segment_document(doc: ExtractedDocument) -> list[Segment]:
    """Segments in document order; transcripts go through :func:`segment_turns`."""
    if doc.turns:
        return segment_turns(doc)
    marks = doc.page_marks
    segments: list[Segment] = []
    for block in doc.blocks:
        segments.extend(_block_segments(doc, block, marks))
    return segments


def segment_turns(doc: ExtractedDocument) -> list[Segment]:
    """Interview transcripts: one segment per speaker turn, text outside turns as notes.

    A segment holds what was said — the speaker label and timestamp are left out (they are
    the segment's ``speaker`` and ``timestamp``).  A long turn is cut at its paragraphs,
    and a very long paragraph into runs of sentences; every piece keeps the turn number.
    Text outside the turns (title, metadata, "[Slutt på opptak]") becomes ``note``
    segments, which are not coded.
    """
    from qualcode.extract.transcript import content_start

    out = []
    for t in doc.turns:
        begin = content_start(doc.text, t.start, t.end)
        for start, end in _turn_pieces(doc.text, begin, t.end):
            out.append(Segment("turn", start, end, _page_of(doc, start), _page_of(doc, max(start, end - 1)),
                               doc.text[start:end], role=t.role, speaker=t.speaker, turn=t.turn,
                               timestamp=t.timestamp))
    for start, end, block in _outside_turns(doc):
        kind = "heading" if block.kind == "heading" and (start, end) == (block.start, block.end) else "note"
        out.append(Segment(kind, start, end, _page_of(doc, start), _page_of(doc, max(start, end - 1)),
                           doc.text[start:end]))
    return sorted(out, key=lambda seg: seg.start)


def _turn_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) spans of one turn: whole, or per paragraph (and sentence runs) when long."""
    if len(split_sentences(text[start:end], start)) <= MAX_SENTENCES:
        return [(start, end)]
    pieces = []
    for para in re.finditer(r"\S(?:.*?\S)??(?=\s*\n\s*\n|\s*$)", text[start:end], re.DOTALL):
        p_start, p_end = start + para.start(), start + para.end()
        sentences = split_sentences(text[p_start:p_end], p_start)
        if len(sentences) <= MAX_SENTENCES:
            pieces.append((p_start, p_end))
        else:
            pieces += [(group[0][0], group[-1][1]) for group in _groups(sentences)]
    return pieces


def _outside_turns(doc: ExtractedDocument):
    """(start, end, block) of the parts of blocks no turn covers, trimmed of blank space."""
    turns = sorted((t.start, t.end) for t in doc.turns)
    for block in doc.blocks:
        cursor = block.start
        for t_start, t_end in turns:
            if t_end <= cursor or t_start >= block.end:
                continue
            yield from _trimmed(doc.text, cursor, min(t_start, block.end), block)
            cursor = max(cursor, t_end)
        yield from _trimmed(doc.text, cursor, block.end, block)


def _trimmed(text: str, start: int, end: int, block: Block):
    piece = text[start:end]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        yield start + lead, start + len(piece.rstrip()), block


def _page_of(doc: ExtractedDocument, offset: int) -> int:
    """Page holding ``offset``: from the page marks, else from the block around it."""
    marks = doc.page_marks
    if marks:
        i = bisect_right(marks, (offset, float("inf"))) - 1
        return marks[i][1] if i >= 0 else marks[0][1]
    for block in doc.blocks:
        if block.start <= offset < block.end:
            return block.page_start
    return 1


def _block_segments(doc: ExtractedDocument, block: Block, marks) -> list[Segment]:
    text = doc.text[block.start:block.end]
    if block.kind == "table" and block.rows:
        rows = table_segments(doc, block, marks)
        if rows:
            return rows
    if block.kind != "paragraph":
        return [Segment(block.kind, block.start, block.end, block.page_start, block.page_end, text)]
    sentences = split_sentences(text, block.start)
    if len(sentences) <= MAX_SENTENCES:
        return [Segment("paragraph", block.start, block.end, block.page_start, block.page_end, text)]
    out = []
    for group in _groups(sentences):
        start, end = group[0][0], group[-1][1]
        first = _page_at(marks, start, block)
        last = _page_at(marks, max(start, end - 1), block)
        out.append(Segment("paragraph", start, end, first, last, doc.text[start:end]))
    return out


def table_segments(doc: ExtractedDocument, block: Block, marks=()) -> list[Segment]:
    """One segment per table row (header rows as ``table_header``); [] if the text is not row-shaped."""
    lines = doc.text[block.start:block.end].split("\n")
    if block.rows is None or len(lines) != len(block.rows):
        return []
    labels = column_labels(block.rows, block.header_rows)
    out, offset = [], block.start
    for i, (line, cells) in enumerate(zip(lines, block.rows)):
        lead = len(line) - len(line.lstrip())
        start, end = offset + lead, offset + len(line.rstrip())
        offset += len(line) + 1
        if end <= start:
            continue
        header = i < block.header_rows
        context = None if header or not labels else labelled_row(labels, cells)
        page = _page_at(marks, start, block)
        out.append(Segment("table_header" if header else "table_row", start, end, page, page,
                           doc.text[start:end], context=context))
    return out


def column_labels(rows, header_rows: int) -> list[str]:
    """Each column's label: its header cells (several header rows joined), "" where none."""
    if not header_rows:
        return []
    width = max(len(r) for r in rows)
    return [" ".join(r[k] for r in rows[:header_rows] if k < len(r) and r[k]) for k in range(width)]


def labelled_row(labels: list[str], cells) -> str:
    """ "Tiltak: PMTO | Målgruppe: Familier | Ansvar: Barnevernet" (empty cells left out)."""
    parts = []
    for k, cell in enumerate(cells):
        if not cell:
            continue
        label = labels[k] if k < len(labels) else ""
        parts.append(f"{label}: {cell}" if label else cell)
    return " | ".join(parts)


def _groups(sentences: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Even runs of about CHUNK_SENTENCES sentences (no tiny tail run)."""
    n = len(sentences)
    count = max(1, round(n / CHUNK_SENTENCES))
    size, extra = divmod(n, count)
    groups, i = [], 0
    for g in range(count):
        take = size + (1 if g < extra else 0)
        groups.append(sentences[i:i + take])
        i += take
    return groups


def _page_at(marks: list[tuple[int, int]], offset: int, block: Block) -> int:
    """Page holding ``offset``: from the document's page marks, kept within the block's pages."""
    if not marks or block.page_start == block.page_end:
        return block.page_start
    i = bisect_right(marks, (offset, float("inf"))) - 1
    page = marks[i][1] if i >= 0 else block.page_start
    return min(max(page, block.page_start), block.page_end)


MAX_SEGMENT_CHARS = 20_000  # ten times the longest table seen in plans; far below spaCy's 1,000,000 limit
_BREAKS = (re.compile(r"[.!?…][\"'»”’)\]]*\s"), re.compile(r"\n"), re.compile(r"\s"))


def limit_length(doc: ExtractedDocument, segments: list[Segment], max_chars: int = MAX_SEGMENT_CHARS) -> list[Segment]:
    """Cut segments longer than ``max_chars`` into pieces, so no text is too long to analyse.

    A paragraph without sentence ends (a pasted export, a broken text layer) can run to a
    million characters; it is cut at the last sentence end, else line break, else space,
    in the second half of each window.  Pieces keep the segment's kind, role and turn.
    """
    if all(s.end - s.start <= max_chars for s in segments):
        return segments
    out: list[Segment] = []
    for seg in segments:
        if seg.end - seg.start <= max_chars:
            out.append(seg)
            continue
        for start, end in _windows(doc.text, seg.start, seg.end, max_chars):
            out.append(replace(seg, start=start, end=end, text=doc.text[start:end], page_start=_page_of(doc, start),
                               page_end=_page_of(doc, max(start, end - 1))))
    return out


def _windows(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    spans = []
    while start < end:
        cut = end
        if end - start > size:
            cut = start + size
            for pattern in _BREAKS:
                found = [m.end() for m in pattern.finditer(text, start + size // 2, start + size)]
                if found:
                    cut = found[-1]
                    break
        piece = text[start:cut]
        lead, trail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
        if cut - trail > start + lead:
            spans.append((start + lead, cut - trail))
        start = cut
    return spans
