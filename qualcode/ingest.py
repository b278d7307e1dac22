"""Bring files into the store: find them, decide from content hashes, commit each document whole.

Which files are new is decided from their hashes before anything heavy is imported, so an
unchanged re-run takes a moment.  New files are read, analysed and coded in worker
processes (`qualcode.worker`); this process only writes: one short transaction per
document (bulk inserts), so an interrupted run leaves no half-ingested document behind, a
re-run picks up where it stopped, and a reviewer writing meanwhile never waits long.
"""
from __future__ import annotations

import hashlib
import logging
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from qualcode.manifest import MANIFEST_NAME, ManifestRow, read_manifest, year_from_path
from qualcode.prepare import prepare  # noqa: F401  (re-exported: callers read one file with it)
from qualcode.privacy.pseudonymise import NAMES_FILE
from qualcode.search.index import index_rows, term_rows  # search: segments are indexed as they are written
from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.extraction import extraction_rows
from qualcode.store.schema import utcnow
from qualcode.worker import Job, Outcome, outcomes

if TYPE_CHECKING:
    from qualcode.pipeline import Coding

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf", ".docx", ".txt", ".md"}
Status = Literal["ingested", "unchanged", "failed", "skipped"]


@dataclass
class SourceFile:
    path: Path
    meta: ManifestRow | None = None


@dataclass
class FileResult:
    path: Path
    status: Status
    reason: str = ""
    document_id: int | None = None
    pages: int = 0
    segments: int = 0
    codings: int = 0


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(paths: Iterable[Path]) -> tuple[list[SourceFile], list[FileResult]]:
    """Files to ingest, and the ones passed over with the reason why.

    A folder with a manifest.csv is a defined corpus: files it does not list are skipped.
    """
    found: list[SourceFile] = []
    skipped: list[FileResult] = []
    for root in paths:
        root = Path(root)
        if root.is_file():
            manifest = read_manifest(root.parent) or {}
            found.append(SourceFile(root, manifest.get(root.name)))
            continue
        if not root.exists():
            skipped.append(FileResult(root, "failed", "no such file or folder"))
            continue
        manifests: dict[Path, dict[str, ManifestRow] | None] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
            if hidden or path.name in (MANIFEST_NAME, NAMES_FILE):  # a names file holds real names: never a document
                continue
            listing = _governing_manifest(path, root, manifests)
            if listing is not None:
                folder, rows = listing
                key = path.relative_to(folder).as_posix()
                if key not in rows and path.name not in rows:
                    skipped.append(FileResult(path, "skipped", f"not listed in {folder / MANIFEST_NAME}"))
                    continue
                found.append(SourceFile(path, rows.get(key) or rows.get(path.name)))
            elif path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(SourceFile(path))
            else:
                skipped.append(FileResult(path, "skipped", f"unsupported file type '{path.suffix}'"))
    return found, skipped


def _governing_manifest(path: Path, root: Path, cache: dict) -> tuple[Path, dict[str, ManifestRow]] | None:
    for folder in [path.parent, *path.parent.parents]:
        if folder not in cache:
            cache[folder] = read_manifest(folder)
        if cache[folder] is not None:
            return folder, cache[folder]
        if folder == root:
            return None
    return None


Progress = Callable[[FileResult], None]
StoredSegment = namedtuple("StoredSegment", "id document_id")  # what writing codings needs of a segment


def ingest(
    session_factory,
    paths: Iterable[Path],
    run: schema.Run,
    *,
    workers: int = 1,
    coding: "Coding | None" = None,
    progress: Progress | None = None,
    pseudonymise: bool = True,
    names_file: Path | None = None,
    ocr: str = "auto",
    discovered: "tuple[list[SourceFile], list[FileResult]] | None" = None,
) -> list[FileResult]:
    """Ingest (and with ``coding``, code) every supported file under ``paths``; one result per file.

    ``pseudonymise=False`` stores transcripts as they are (for sources already anonymised);
    ``names_file`` lists names to replace besides those found automatically; ``ocr``
    ("never" | "auto" | "always") says when scanned PDF pages are read with Tesseract;
    ``discovered``: what ``discover(paths)`` returned, when the caller already asked (say, to
    size a progress bar), so the folders are not walked twice.
    """
    report = progress or (lambda _result: None)
    files, results = (list(discovered[0]), list(discovered[1])) if discovered is not None else discover(paths)
    for result in results:
        report(result)
    with session_factory() as session:
        known = set(session.scalars(select(schema.Document.content_hash)))
    todo: list[tuple[SourceFile, str]] = []
    same: list[tuple[SourceFile, str]] = []  # already in the store
    reading: set[str] = set()  # digests of the files this run reads
    copies: dict[str, list[SourceFile]] = {}  # digest -> later files with the same content
    for source in files:
        try:
            digest = content_hash(source.path)
        except OSError as err:
            result = FileResult(source.path, "failed", f"cannot open the file ({err.strerror})")
        else:
            if digest in known:
                same.append((source, digest))
            elif digest in reading:
                copies.setdefault(digest, []).append(source)
            else:
                reading.add(digest)
                todo.append((source, digest))
            continue
        results.append(result)
        report(result)
    for result in unchanged(session_factory, same):
        results.append(result)
        report(result)
    if not todo:
        return results
    spec = coding.spec(session_factory, run) if coding is not None else None
    book = coding.codebook if coding is not None else None
    digests = {job: (source, digest) for job, (source, digest) in zip(_jobs(todo, pseudonymise, names_file, ocr), todo)}
    for job, outcome in outcomes(list(digests), min(workers, len(digests)), spec):  # one file: no pool
        source, digest = digests[job]
        if outcome.failed:
            result = FileResult(source.path, "failed", outcome.reason)
        else:
            result = _store(session_factory, source, digest, outcome, run, book)
        results.append(result)
        report(result)
        for copy in copies.pop(digest, []):
            results.append(_copy_result(copy, source, result))
            report(results[-1])
    return results


def _jobs(todo: list[tuple[SourceFile, str]], pseudonymise: bool, names_file: Path | None, ocr: str) -> list[Job]:
    return [Job(source.path, source.meta.type if source.meta else None, pseudonymise, names_file, ocr)
            for source, _ in todo]


def unchanged(session_factory, files: list[tuple[SourceFile, str]]) -> list[FileResult]:
    """Files whose content is already in the store; a manifest given again updates their metadata
    (one transaction for all of them, documents read without their text)."""
    described = [(source, digest) for source, digest in files if source.meta is not None]
    updated: dict[str, list[str]] = {}
    if described:
        from sqlalchemy.orm import defer

        from qualcode.metadata import apply_manifest_row

        with session_factory.begin() as session:
            for start in range(0, len(described), 500):
                chunk = described[start:start + 500]
                docs = {d.content_hash: d for d in session.scalars(
                    select(schema.Document).options(defer(schema.Document.text))
                    .where(schema.Document.content_hash.in_([digest for _, digest in chunk])))}
                for source, digest in chunk:
                    if digest in docs:
                        updated[digest] = apply_manifest_row(session, docs[digest], source.meta)
    return [FileResult(source.path, "unchanged", "already in the store (same content)"
                       + (f"; metadata updated: {', '.join(updated[digest])}" if updated.get(digest) else ""))
            for source, digest in files]


def _copy_result(copy: SourceFile, original: SourceFile, result: FileResult) -> FileResult:
    """A second file with the same content as one read in this run shares its fate."""
    if result.status == "failed":
        return FileResult(copy.path, "failed", f"same content as {original.path.name}, which failed: {result.reason}")
    return FileResult(copy.path, "unchanged", f"same content as {original.path.name} (stored once)",
                      document_id=result.document_id)


def _store(session_factory, source: SourceFile, digest: str, outcome: Outcome, run, book) -> FileResult:
    """Write one document, its segments and codings in one short transaction (coding is done already)."""
    try:
        with session_factory.begin() as session:
            return _write(session, source, digest, outcome, run, book)
    except IntegrityError as err:
        with session_factory() as session:
            there = session.scalar(select(schema.Document.id).where(schema.Document.content_hash == digest))
        if there is None:
            return FileResult(source.path, "failed", f"the store refused it ({str(err.orig).splitlines()[0]})")
        return FileResult(source.path, "unchanged", "already in the store (added meanwhile by another run)",
                          document_id=there)
    except OperationalError as err:
        reason = "the store is busy (locked by another writer)" if "locked" in str(err) else "the store refused it"
        return FileResult(source.path, "failed", f"{reason}; run again to add this file")
    except Exception as err:  # a bug or an odd value: name the file, keep the batch going
        log.debug("could not store %s", source.path, exc_info=True)
        return FileResult(source.path, "failed", f"could not store it ({type(err).__name__}: {err})".splitlines()[0])


def _write(session, source: SourceFile, digest: str, outcome: Outcome, run, book) -> FileResult:
    from qualcode.metadata import fill_inferred, first_page_text

    meta = source.meta or ManifestRow(file=source.path.name)
    prepared = outcome.prepared
    doc = prepared.document
    row = schema.Document(
        content_hash=digest,
        file_name=source.path.name,
        source_path=str(source.path.resolve()),
        municipality=meta.municipality,
        year=meta.year or year_from_path(source.path),
        doc_type=meta.type or ("intervju" if doc.is_transcript else None),
        size_class=meta.size_class,
        informant_role=meta.informant_role,
        attributes=meta.attributes,
        size_bytes=source.path.stat().st_size,
        page_count=doc.page_count,
        engine=doc.engine,
        is_transcript=doc.is_transcript,
        text=doc.text,
        run_id=run.id,
        ingested_at=utcnow(),
    )
    fill_inferred(row, first_page_text(doc))  # municipality/year nothing gave: guessed, and marked as guessed
    session.add(row)
    session.flush()
    document_id = row.id
    segments = prepared.segments
    ids: list[int] = []
    if segments:
        rows = [_segment_row(document_id, seq, s) for seq, s in enumerate(segments)]
        ids = list(session.scalars(insert(schema.Segment).returning(schema.Segment.id, sort_by_parameter_order=True),
                                   rows))
        links = _question_links(segments, ids)
        if links:
            session.execute(update(schema.Segment), links)
    # search: terms and word counts from the worker (or made here for an outcome without them), in this transaction
    terms = term_rows(zip(ids, (s.text for s in segments)), outcome.search_terms)
    index_rows(session, terms)
    _write_word_counts(session, document_id, ids, outcome.word_counts, terms)
    session.add_all(extraction_rows(document_id, doc))  # tables with their cells, OCR'd pages
    if prepared.pseudonyms:
        session.execute(insert(schema.Pseudonym.__table__), [dict(document_id=document_id, placeholder=p, kind=k, original=o)
                                                   for p, k, o in prepared.pseudonyms])
    written = 0
    if outcome.suggestions is not None and book is not None:
        codable = [StoredSegment(i, document_id) for i, s in zip(ids, segments) if s.codable]
        if codable:
            from qualcode.coding.apply import write_machine_codings

            written = write_machine_codings(session, codable, outcome.suggestions, book)
    if outcome.pipeline and not run.nlp_pipeline:
        run.nlp_pipeline = outcome.pipeline
    session.execute(update(schema.Run).where(schema.Run.id == run.id)
                    .values(heartbeat_at=utcnow(), nlp_pipeline=run.nlp_pipeline))
    record(session, "system", "ingest", "document", document_id,
           file=source.path.name, segments=len(segments), pages=doc.page_count, engine=doc.engine)
    return FileResult(source.path, "ingested", document_id=document_id, pages=doc.page_count,
                      segments=len(segments), codings=written)


def _write_word_counts(session, document_id: int, ids: list[int], counts, terms: list[dict]) -> None:
    """The document's word counts (from the worker, or counted here), rows named by segment id."""
    from qualcode.search.word_counts import document_counts, document_row

    counts = counts if counts is not None else document_counts([t["lemmas"] for t in terms])
    session.execute(insert(schema.DocumentWordCounts.__table__), [document_row(document_id, ids, counts)])


_SEGMENT_FIELDS: list[str] = []


def _segment_row(document_id: int, seq: int, s) -> dict:
    """A segment's row: every field the extracted segment and the table have in common."""
    if not _SEGMENT_FIELDS:
        columns = set(schema.Segment.__table__.columns.keys())
        _SEGMENT_FIELDS.extend(f.name for f in fields(s) if f.name in columns)
    row = {name: getattr(s, name) for name in _SEGMENT_FIELDS}
    row.update(document_id=document_id, seq=seq, codable=s.codable, context_segment_id=None, review_version=0)
    return row


def _question_links(segments, ids: list[int]) -> list[dict]:
    """Each informant segment points at the interviewer turn that prompted it."""
    links, question = [], None
    for seg, sid in zip(segments, ids):
        if seg.role == "interviewer":
            question = sid
        elif seg.role == "informant" and question is not None:
            links.append({"id": sid, "context_segment_id": question})
    return links
