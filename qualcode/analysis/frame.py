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
from dataclasses import dataclass, replace
from typing import Iterable, Iterator

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.formats import segment_ref
from qualcode.review.labels import reviewed_labels
from qualcode.store import schema

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
        return sorted(set(codes), key=lambda c: (rank.get(c, 10**6), c))

    def theme_order(self, themes: Iterable[str]) -> list[str]:
        first = self.codes.groupby("theme", sort=False)["order"].min().to_dict()
        return sorted(set(themes), key=lambda t: (first.get(t, 10**6), t))


def load(store, *, include_machine: bool = False) -> AnalysisData:
    """Read documents, segments, codes and codings from ``store`` (path/URL, sessionmaker or Session)."""
    with open_session(store) as session:
        codes = load_codes(session)
        segments = _segments(session)
        labels = reviewed_labels(session)
        machine = _machine_codings(session) if include_machine else {}
    segments["labelled"] = segments["segment_id"].isin(labels.keys())
    segments["in_scope"] = segments["labelled"] | (segments["codable"] if include_machine else False)
    rows = [(seg, code, "reviewer") for seg, found in labels.items() for code in found]
    codable = set(segments.loc[segments["codable"], "segment_id"])
    rows += [(seg, code, src) for seg, found in machine.items() if seg not in labels and seg in codable
             for code, src in found.items()]
    pairs = pd.DataFrame(rows, columns=["segment_id", "code", "source"])
    codings = pairs.merge(segments, on="segment_id").merge(codes.drop(columns="order"), on="code", how="left")
    codings["theme"] = codings["theme"].fillna(codings["code"].str.split(".").str[0])
    codings["theme_name"] = codings["theme_name"].fillna(codings["theme"])
    codings["code_name"] = codings["code_name"].fillna(codings["code"])
    codings["confirmed"] = codings["source"] == "reviewer"
    rank = dict(zip(codes["code"], codes["order"]))
    codings["_rank"] = codings["code"].map(rank).fillna(10**6)
    codings = (codings.sort_values(["place", "year", "document_id", "seq", "_rank", "code"])
               .drop(columns="_rank")[CODING_COLUMNS].reset_index(drop=True))
    return AnalysisData(codings, segments[SEGMENT_COLUMNS], codes, include_machine)


def load_codes(session: Session) -> pd.DataFrame:
    """Code id, theme id, names and codebook order of the store's active codes (and any coded one).

    The store's codebook version supplies theme names and order; codes it does not
    know (say, imported from another tool) follow, named by what the store holds.
    """
    from qualcode.analysis.codebook_info import codebook_for_store

    book = codebook_for_store(session)
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
    d, s = schema.Document, schema.Segment
    query = (select(s.id.label("segment_id"), d.id.label("document_id"), d.file_name, d.municipality, d.year,
                    d.doc_type, d.size_class, d.informant_role, d.is_transcript, s.seq, s.kind, s.role,
                    s.page_start, s.page_end, s.start, s.end, s.text, s.codable)
             .join(d, s.document_id == d.id).order_by(d.id, s.seq))
    frame = pd.DataFrame(session.execute(query).all(),
                         columns=["segment_id", "document_id", "file_name", "municipality", "year", "doc_type",
                                  "size_class", "informant_role", "is_transcript", "seq", "kind", "role",
                                  "page_start", "page_end", "start", "end", "text", "codable"])
    frame["year"] = frame["year"].astype("Int64")
    frame["place"] = frame["municipality"].where(frame["municipality"].notna() & (frame["municipality"] != ""),
                                                 frame["file_name"])
    frame["document"] = frame["document_id"].map(_document_labels(frame))
    frame["ref"] = [segment_ref(m, y, t, q, f) for m, y, t, q, f in
                    zip(frame["municipality"], frame["year"], frame["doc_type"], frame["seq"], frame["file_name"])]
    for column in ("doc_type", "size_class"):
        frame[column] = frame[column].fillna("ukjent")
    frame["codable"] = frame["codable"].astype(bool)
    frame["is_transcript"] = frame["is_transcript"].astype(bool)
    return frame


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


def _machine_codings(session: Session) -> dict[int, dict[str, str]]:
    """segment → code → "rule", "model" or "model+rule" for applied, active machine codings."""
    query = select(schema.Coding.segment_id, schema.Coding.code, schema.Coding.source).where(
        schema.Coding.source.in_(MACHINE_SOURCES), schema.Coding.applied, schema.Coding.active)
    found: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for seg, code, source in session.execute(query):
        found[seg][code].add(source)
    return {seg: {code: "+".join(sorted(srcs)) for code, srcs in codes.items()} for seg, codes in found.items()}
