"""Corpus search: a query and filters in, matching segments out as keyword-in-context lines.

The index answers the query (``backends``); metadata filters are part of the same SQL;
"code present/absent" follows what the analysis counts: reviewers' codes on segments a
reviewer finished, machine suggestions on the others. Only the page of hits shown is
read in full and re-analysed to mark the words that matched.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import exists, func, not_, select
from sqlalchemy.orm import Session

from qualcode.search.backends import backend_name, matching
from qualcode.search.index import Progress, chunks, index_missing
from qualcode.search.match import LOOSE, Doc, positions
from qualcode.search.query import Node, parse, to_text
from qualcode.search.terms import tokens
from qualcode.store import schema

CONTEXT = 70  # characters of context either side of the keyword
MACHINE_SOURCES = ("rule", "model")


@dataclass(frozen=True)
class Filters:
    """Which segments a search looks at. Empty tuples mean "all"."""

    places: tuple[str, ...] = ()  # municipality (or file name where a document has none)
    years: tuple[int, ...] = ()
    doc_types: tuple[str, ...] = ()
    code: str | None = None  # the segment has this code
    without_code: str | None = None  # the segment does not have this code
    reviewed: bool | None = None  # True: finished by a reviewer; False: not yet
    codable_only: bool = True  # leave out headings and interviewer questions

    def describe(self) -> str:
        parts = [f"kommune {', '.join(self.places)}" if self.places else "",
                 f"år {', '.join(map(str, self.years))}" if self.years else "",
                 f"type {', '.join(self.doc_types)}" if self.doc_types else "",
                 f"med kode {self.code}" if self.code else "", f"uten kode {self.without_code}" if self.without_code else "",
                 {True: "gjennomgått", False: "ikke gjennomgått"}.get(self.reviewed, "")]
        return "; ".join(p for p in parts if p)


@dataclass
class Hit:
    segment_id: int
    review_version: int
    document_id: int
    document: str
    file_name: str
    place: str
    year: int | None
    doc_type: str | None
    seq: int
    page_start: int
    page_end: int
    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # matched words, offsets into text

    @property
    def pages(self) -> str:
        return f"s. {self.page_start}" if self.page_start == self.page_end else f"s. {self.page_start}–{self.page_end}"

    @property
    def citation(self) -> str:
        """«Fjordvik 2024 plan, §12 · s. 5»: the segment named as everywhere (qualcode.formats)."""
        from qualcode.formats import segment_ref

        return f"{segment_ref(self.place, self.year, self.doc_type, self.seq, self.file_name)} · {self.pages}"

    def kwic(self, width: int = CONTEXT) -> tuple[str, str, str]:
        """(left context, keyword, right context) around the first match, on one line."""
        flat = " ".join(self.text.split()) if not self.spans else None
        if flat is not None:
            return "", "", _clip_right(flat, 2 * width)
        start, end = self.spans[0]
        left = " ".join(self.text[:start].split())
        right = " ".join(self.text[end:].split())
        keyword = " ".join(self.text[start:end].split())
        if self.text[:start][-1:].isspace():
            left += " "
        if self.text[end:][:1].isspace():
            right = " " + right
        return _clip_left(left, width), keyword, _clip_right(right, width)


def _clip_left(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[-width:]
    space = cut.find(" ")
    return "…" + (cut[space:] if 0 <= space < width // 3 else cut)


def _clip_right(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[:width]
    space = cut.rfind(" ")
    return (cut[:space] if space > 2 * width // 3 else cut) + "…"


@dataclass
class SearchResult:
    query: str  # canonical form of the query
    ids: list[int]  # every matching segment, in document order
    versions: dict[int, int]  # segment → review_version when searched (code-all-hits checks it)
    hits: list[Hit]  # the requested page, with the matched words marked
    seconds: float
    backend: str
    indexed: int = 0  # segments indexed on demand before searching
    documents: int = 0  # documents with at least one hit

    @property
    def total(self) -> int:
        return len(self.ids)


def place_column():
    D = schema.Document
    return func.coalesce(func.nullif(D.municipality, ""), D.file_name)


def _base(filters: Filters):
    S, D, R = schema.Segment, schema.Document, schema.SegmentReview
    query = (select(S.id, S.review_version, S.document_id).join(D, D.id == S.document_id)
             .order_by(place_column(), func.coalesce(D.year, 0), D.file_name, D.id, S.seq))
    if filters.codable_only:
        query = query.where(S.codable)
    if filters.places:
        query = query.where(place_column().in_(list(filters.places)))
    if filters.years:
        query = query.where(D.year.in_(list(filters.years)))
    if filters.doc_types:
        query = query.where(D.doc_type.in_(list(filters.doc_types)))
    if filters.reviewed is not None:
        done = exists(select(R.id).where(R.segment_id == S.id, R.active))
        query = query.where(done if filters.reviewed else not_(done))
    return query


def segments_with_code(session: Session, code: str, among: list[int]) -> set[int]:
    """Those of ``among`` that have ``code``: as reviewers decided where a reviewer finished the
    segment, as the machine suggested (applied) everywhere else - the analysis's definition."""
    from qualcode.review.labels import reviewed_labels

    C = schema.Coding
    found: set[int] = set()
    for chunk in chunks(among):
        labels = reviewed_labels(session, chunk)
        machine = session.scalars(select(C.segment_id).where(
            C.segment_id.in_(chunk), C.code == code, C.source.in_(MACHINE_SOURCES), C.applied, C.active).distinct())
        found |= {s for s, codes in labels.items() if code in codes} | {s for s in machine if s not in labels}
    return found


def search(factory, query: str | Node, filters: Filters = Filters(), *, parts: bool = False, limit: int = 100,
           offset: int = 0, progress: Progress | None = None, backend: str | None = None) -> SearchResult:
    """Segments matching ``query`` under ``filters``; the hits from ``offset`` to ``offset + limit`` in full.

    Segments the index lacks are indexed first (``progress`` reports it). Raises
    ``QueryError`` for a query the parser cannot read.
    """
    node = parse(query) if isinstance(query, str) else query
    started = time.perf_counter()
    indexed = index_missing(factory, progress)
    with factory() as session:
        backend = backend or backend_name(session)
        rows = matching(session, node, _base(filters), parts=parts, backend=backend)
        if filters.code or filters.without_code:
            hit_ids = [r[0] for r in rows]
            keep = segments_with_code(session, filters.code, hit_ids) if filters.code else None
            drop = segments_with_code(session, filters.without_code, hit_ids) if filters.without_code else set()
            rows = [r for r in rows if (keep is None or r[0] in keep) and r[0] not in drop]
        ids = [r[0] for r in rows]
        versions = {r[0]: r[1] for r in rows}
        hits = load_hits(session, ids[offset:offset + limit], node, parts)
    return SearchResult(to_text(node), ids, versions, hits, time.perf_counter() - started, backend, indexed,
                        len({r[2] for r in rows}))


def load_hits(session: Session, ids: list[int], node: Node | None = None, parts: bool = False) -> list[Hit]:
    """The segments ``ids`` (in that order) with their document, and the words ``node`` matched marked."""
    if not ids:
        return []
    S, D = schema.Segment, schema.Document
    rows = session.execute(
        select(S.id, S.review_version, D.id, D.file_name, place_column(), D.year, D.doc_type, S.seq,
               S.page_start, S.page_end, S.text).join(D, D.id == S.document_id).where(S.id.in_(ids))).all()
    by_id = {}
    for r in rows:
        label = " ".join([r[4]] + ([str(r[5])] if r[5] else [])) + (f" ({r[6]})" if r[6] else "")
        by_id[r[0]] = Hit(r[0], r[1], r[2], label, r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
    hits = [by_id[i] for i in ids if i in by_id]
    if node is not None:
        for hit in hits:
            hit.spans = match_spans(node, hit.text, parts)
    return hits


def match_spans(node: Node, text: str, parts: bool = False) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` that make ``node`` match (adjacent words joined)."""
    toks = tokens(text)
    found = positions(node, Doc.from_tokens(toks), parts) or set()
    spans: list[tuple[int, int]] = []
    for i in sorted(p for p in found if p != LOOSE):
        start, end = toks[i].start, toks[i].end
        if spans and i - 1 in found and not text[spans[-1][1]:start].strip(" ,-"):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
