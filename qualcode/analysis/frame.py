"""Load the store into tidy pandas frames, the one input of every analysis table.

Counts in a report must rest on what reviewers confirmed: a segment counts once a
reviewer marked it done, and its codes are the ones ``reviewed_labels`` says apply.
Machine codings (rule/model, applied, active) can be added for codable segments no
reviewer has finished, but every row says where it came from (``source``/``confirmed``), so
a table never passes a suggestion off as a finding.
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.formats import segment_ref
from qualcode.review.labels import reviewed_labels
from qualcode.store import schema
from qualcode.store.bulk_read import read_columns

MACHINE_SOURCES = ("rule", "model")

DOCUMENT_COLUMNS = ["document_id", "document", "file_name", "municipality", "place", "year", "doc_type",
                    "size_class", "informant_role", "is_transcript"]
SEGMENT_COLUMNS = ["segment_id", "ref", *DOCUMENT_COLUMNS, "seq", "kind", "role", "page_start", "page_end",
                   "start", "end", "text", "codable", "labelled", "in_scope"]
CODE_COLUMNS = ["code", "theme", "theme_name", "code_name", "order"]
CODING_COLUMNS = [*SEGMENT_COLUMNS, "code", "theme", "theme_name", "code_name", "source", "confirmed"]


@contextmanager
def open_session(store) -> Iterator[Session]:
    """A read session from a Session, a sessionmaker or a store path/URL."""
    if isinstance(store, Session):
        yield store
        return
    if not callable(store):
        from qualcode.store.db import session_factory

        store = session_factory(str(store))
    with store() as session:
        yield session


@dataclass(frozen=True)
class AnalysisData:
    """Codings, segments and codes of one store, possibly filtered.

    ``codings``: one row per (segment, code) with the document's attributes.
    ``segments``: every segment; ``in_scope`` marks the ones that can carry a count
    (labelled segments, or every codable one when machine codings are included),
    which is the denominator of every share.
    """

    codings: pd.DataFrame
    segments: pd.DataFrame
    codes: pd.DataFrame
    include_machine: bool = False
    # where the data was read from (a store URL), so word counts can come from its search index
    store: str | None = field(default=None, compare=False, repr=False)
    # the codebook version that names the codes ("" when the store holds none), for the report's header
    codebook_version: str = field(default="", compare=False)
    # tables several views and the report share, computed once per (filtered) data set
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key, compute):
        """``compute()`` once for this data set; the same frame afterwards (frames are never changed in place)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def documents(self) -> pd.DataFrame:
        return (self.segments[DOCUMENT_COLUMNS].drop_duplicates("document_id")
                .sort_values(["place", "year", "document"]).reset_index(drop=True))

    def filter(self, *, municipalities: Iterable[str] | None = None, years: Iterable[int] | None = None,
               doc_types: Iterable[str] | None = None, sources: Iterable[str] | None = None) -> "AnalysisData":
        """Keep the given places (municipality or file name), years, document types and coding sources.

        ``sources`` takes "reviewer" and/or "machine" (or the exact machine source names).
        """
        seg, cod = self.segments, self.codings
        for column, values in (("place", municipalities), ("year", years), ("doc_type", doc_types)):
            if values is not None:
                wanted = list(values)
                seg = seg[seg[column].isin(wanted)]
                cod = cod[cod[column].isin(wanted)]
        if sources is not None:
            wanted = set(sources)
            machine = "machine" in wanted or bool(wanted & {"rule", "model", "model+rule"})
            keep = cod["source"].isin(wanted) | (~cod["confirmed"] if "machine" in wanted else False)
            cod = cod[keep]
            # the denominator follows: reviewed segments for confirmed codings, the rest for machine ones
            scope = (seg["labelled"] if "reviewer" in wanted else False) | \
                (seg["codable"] & ~seg["labelled"] if machine and self.include_machine else False)
            seg = seg.assign(in_scope=scope)
        return replace(self, codings=cod.reset_index(drop=True), segments=seg.reset_index(drop=True))

    def code_order(self, codes: Iterable[str]) -> list[str]:
        """Codes in codebook order (unknown ones last, alphabetically)."""
        rank = dict(zip(self.codes["code"], self.codes["order"]))
        return sorted(_distinct(codes), key=lambda c: (rank.get(c, 10**6), c))

    def theme_order(self, themes: Iterable[str]) -> list[str]:
        first = self.codes.groupby("theme", sort=False)["order"].min().to_dict()
        return sorted(_distinct(themes), key=lambda t: (first.get(t, 10**6), t))


def _distinct(values) -> set:
    """The distinct values; a pandas column is not iterated element by element (100,000+ rows)."""
    return set(values.unique()) if hasattr(values, "unique") else set(values)


def load(store, *, include_machine: bool = False) -> AnalysisData:
    """Read documents, segments, codes and codings from ``store`` (path/URL, sessionmaker or Session)."""
    from qualcode.analysis.codebook_info import codebook_for_store

    with open_session(store) as session:
        book = codebook_for_store(session)
        codes = load_codes(session, book)
        segments = _segments(session)
        labels = reviewed_labels(session)
        machine = _machine_codings(session) if include_machine else None
        where = session.get_bind().url.render_as_string(hide_password=False)
    segments["labelled"] = segments["segment_id"].isin(labels.keys())
    segments["in_scope"] = segments["labelled"] | (segments["codable"] if include_machine else False)
    rows = [(seg, code, "reviewer") for seg, found in labels.items() for code in found]
    pairs = pd.DataFrame(rows, columns=["segment_id", "code", "source"])
    if machine is not None:
        unreviewed = segments.loc[segments["codable"] & ~segments["labelled"], "segment_id"]
        pairs = pd.concat([pairs, machine[machine["segment_id"].isin(unreviewed)]], ignore_index=True)
    codings = pairs.merge(segments, on="segment_id").merge(codes.drop(columns="order"), on="code", how="left")
    missing = codings["theme"].isna()
    codings.loc[missing, "theme"] = codings.loc[missing, "code"].str.split(".").str[0]
    codings["theme_name"] = codings["theme_name"].fillna(codings["theme"])
    codings["code_name"] = codings["code_name"].fillna(codings["code"])
    codings["confirmed"] = codings["source"] == "reviewer"
    rank = dict(zip(codes["code"], codes["order"]))
    codings["_rank"] = codings["code"].map(rank).fillna(10**6)
    codings = (codings.sort_values(["place", "year", "document_id", "seq", "_rank", "code"])
               .drop(columns="_rank")[CODING_COLUMNS].reset_index(drop=True))
    return AnalysisData(codings, segments[SEGMENT_COLUMNS], codes, include_machine, store=where,
                        codebook_version=book.version if book is not None else "")


def load_codes(session: Session, book) -> pd.DataFrame:
    """Code id, theme id, names and codebook order of the store's active codes (and any coded one).

    ``book`` (the store's codebook, ``codebook_for_store``) supplies theme names and order; codes it
    does not know (say, imported from another tool) follow, named by what the store holds.
    """
    known: dict[str, dict] = {}
    if book is not None:
        for theme in book.themes:
            for code in theme.codes:
                known[code.id] = {"code": code.id, "theme": theme.id, "theme_name": theme.name, "code_name": code.name}
    theme_names = {r["theme"]: r["theme_name"] for r in known.values()}
    stored = {c: (theme, name) for c, theme, name in session.execute(
        select(schema.Code.code, schema.Code.theme, schema.Code.name).where(schema.Code.active))}
    wanted = set(stored) | set(session.scalars(select(schema.Coding.code).distinct()))
    if not stored and book is not None:
        wanted |= set(known)
    rows = [known[c] for c in known if c in wanted]
    for code in sorted(wanted - set(known)):
        theme, name = stored.get(code, (code.split(".")[0], code))
        rows.append({"code": code, "theme": theme, "theme_name": theme_names.get(theme, theme), "code_name": name})
    frame = pd.DataFrame(rows, columns=CODE_COLUMNS[:-1])
    frame["order"] = range(len(frame))
    return frame


def _segments(session: Session) -> pd.DataFrame:
    """Every segment with its document's attributes. Documents and segments are read apart and joined
    here (a yearly store: 360 documents, 100,000+ segments), column by column: SQLAlchemy rows and
    row-wise frames cost seconds at that size."""
    d, s = schema.Document, schema.Segment
    doc_columns = ["document_id", "file_name", "municipality", "year", "doc_type", "size_class", "informant_role",
                   "is_transcript"]
    seg_columns = ["segment_id", "document_id", "seq", "kind", "role", "page_start", "page_end", "start", "end",
                   "text", "codable"]
    docs = _frame(doc_columns, read_columns(session, select(
        d.id, d.file_name, d.municipality, d.year, d.doc_type, d.size_class, d.informant_role, d.is_transcript
    ).order_by(d.id)))
    segs = _frame(seg_columns, read_columns(session, select(
        s.id, s.document_id, s.seq, s.kind, s.role, s.page_start, s.page_end, s.start, s.end, s.text, s.codable
    ).order_by(s.document_id, s.seq)))
    docs["year"] = docs["year"].astype("Int64")
    docs["place"] = docs["municipality"].where(docs["municipality"].notna() & (docs["municipality"] != ""),
                                               docs["file_name"])
    docs["document"] = docs["document_id"].map(_document_labels(docs))
    # «Fjordvik 2024 plan, §12»: the document part once per document, the number per segment
    docs["_prefix"] = [segment_ref(m, y, t, 0, f).rsplit(", §", 1)[0] for m, y, t, f in
                       zip(docs["municipality"], docs["year"], docs["doc_type"], docs["file_name"])]
    for column in ("doc_type", "size_class"):
        docs[column] = docs[column].fillna("ukjent")
    docs["is_transcript"] = docs["is_transcript"].astype(bool)
    at = pd.Index(docs["document_id"]).get_indexer(segs["document_id"])  # every segment has its document
    frame = segs.drop(columns="document_id")
    for column in docs.columns:
        frame[column] = docs[column].array.take(at)  # keeps each column's dtype (year: Int64)
    frame["ref"] = (frame["_prefix"] + ", §" + (frame["seq"] + 1).astype(str)) if len(frame) else ""
    frame["codable"] = frame["codable"].astype(bool)
    return frame.drop(columns="_prefix")


def _frame(names: list[str], columns: list[tuple]) -> pd.DataFrame:
    """A frame from columns; an empty one has object columns (as an empty store always had)."""
    if not columns or not len(columns[0]):
        return pd.DataFrame([], columns=names)
    return pd.DataFrame(dict(zip(names, columns)))


def _document_labels(segments: pd.DataFrame) -> dict[int, str]:
    """Short unique names: "Fjordvik kommune 2024 (plan)", with the file name if two would clash."""
    docs = segments.drop_duplicates("document_id")
    labels: dict[int, str] = {}
    for row in docs.itertuples():
        parts = [row.place] + ([str(row.year)] if pd.notna(row.year) else [])
        label = " ".join(parts) + (f" ({row.doc_type})" if isinstance(row.doc_type, str) and row.doc_type else "")
        labels[row.document_id] = label
    counts = defaultdict(int)
    for label in labels.values():
        counts[label] += 1
    for row in docs.itertuples():
        if counts[labels[row.document_id]] > 1:
            labels[row.document_id] += f" [{row.file_name}]"
    return labels


def machine_codes_by_segment(session: Session) -> dict[int, list[str]]:
    """Segment id → the codes machine coding applied to it (what an export without review would carry)."""
    frame = _machine_codings(session)
    return {} if frame.empty else {int(k): list(v) for k, v in frame.groupby("segment_id")["code"]}


def _machine_codings(session: Session) -> pd.DataFrame:
    """(segment_id, code, source) of applied, active machine codings; source "rule", "model" or "model+rule"."""
    C = schema.Coding.__table__
    query = select(C.c.segment_id, C.c.code, C.c.source).where(
        C.c.source.in_(MACHINE_SOURCES), C.c.applied, C.c.active)
    rows = session.connection().execute(query).all()  # Core rows: no ORM work per row
    frame = pd.DataFrame(dict(zip(["segment_id", "code", "source"], map(list, zip(*rows)))) if rows else [],
                         columns=["segment_id", "code", "source"])
    if frame.empty:
        return frame
    found = (frame.assign(rule=frame["source"] == "rule", model=frame["source"] == "model")
             .groupby(["segment_id", "code"], sort=False)[["rule", "model"]].any().reset_index())
    found["source"] = np.where(found["rule"] & found["model"], "model+rule",
                               np.where(found["model"], "model", "rule"))
    return found[["segment_id", "code", "source"]]
