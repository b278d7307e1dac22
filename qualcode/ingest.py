"""Bring files into the store: find them, extract them, and commit each document whole.

Extraction runs in worker processes (it is CPU-bound); the store is written
from this process only, one transaction per document, so an interrupted run
leaves no half-ingested document behind and a re-run picks up where it stopped.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.documents import Segment
from qualcode.manifest import MANIFEST_NAME, ManifestRow, read_manifest, year_from_path
from qualcode.prepare import Prepared, prepare, prepare_safely
from qualcode.privacy.pseudonymise import NAMES_FILE
from qualcode.search.index import index_segments  # search: segments are indexed as they are written
from qualcode.store import schema
from qualcode.store.audit import record

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


def _prepared_stream(files: list[SourceFile], workers: int, pseudonymise: bool = True,
                     names_file: Path | None = None) -> Iterator[tuple[SourceFile, Prepared | str]]:
    jobs = [(f.path, f.meta.type if f.meta else None, pseudonymise, names_file) for f in files]
    if workers <= 1 or len(files) < 3:
        for source, job in zip(files, jobs):
            yield source, prepare_safely(*job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(prepare_safely, *job) for job in jobs]
        for source, future in zip(files, futures):
            yield source, future.result()


SegmentHook = Callable[[Session, schema.Document, list[schema.Segment], schema.Run], None]


def ingest(
    session_factory,
    paths: Iterable[Path],
    run: schema.Run,
    *,
    workers: int = 1,
    on_new_segments: SegmentHook | None = None,
    progress: Callable[[FileResult], None] | None = None,
    pseudonymise: bool = True,
    names_file: Path | None = None,
) -> list[FileResult]:
    """Ingest every supported file under ``paths``; one result per file, in order.

    ``pseudonymise=False`` stores transcripts as they are (for sources already anonymised);
    ``names_file`` lists names to replace besides those found automatically.
    """
    files, results = discover(paths)
    for result in results:
        progress and progress(result)
    with session_factory() as session:
        known = set(session.scalars(select(schema.Document.content_hash)))
    todo: list[tuple[SourceFile, str]] = []
    for source in files:
        try:
            digest = content_hash(source.path)
        except OSError as err:
            result = FileResult(source.path, "failed", f"cannot open the file ({err.strerror})")
        else:
            if digest not in known:
                known.add(digest)
                todo.append((source, digest))
                continue
            result = FileResult(source.path, "unchanged", "already in the store (same content)")
        results.append(result)
        progress and progress(result)
    digests = {id(source): digest for source, digest in todo}
    for source, outcome in _prepared_stream([s for s, _ in todo], workers, pseudonymise, names_file):
        if isinstance(outcome, str):
            result = FileResult(source.path, "failed", outcome)
        else:
            result = _store(session_factory, source, digests[id(source)], outcome, run, on_new_segments)
        results.append(result)
        progress and progress(result)
    return results


def _store(session_factory, source: SourceFile, digest: str, prepared: Prepared, run, on_new_segments) -> FileResult:
    """Write one document, its segments and first codings in a single transaction."""
    meta = source.meta or ManifestRow(file=source.path.name)
    doc = prepared.document
    with session_factory.begin() as session:
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
        )
        session.add(row)
        session.flush()
        segments = [_segment_row(row.id, seq, s) for seq, s in enumerate(prepared.segments)]
        session.add_all(segments)
        session.add_all(
            schema.Pseudonym(document_id=row.id, placeholder=p, kind=k, original=o) for p, k, o in prepared.pseudonyms
        )
        session.flush()
        _link_questions(segments)
        index_segments(session, [(s.id, s.text) for s in segments])  # search: index in the same transaction
        if on_new_segments is not None:
            on_new_segments(session, row, segments, run)
        record(session, "system", "ingest", "document", row.id,
               file=row.file_name, segments=len(segments), pages=row.page_count, engine=row.engine)
        return FileResult(source.path, "ingested", document_id=row.id, pages=doc.page_count, segments=len(segments))


def _segment_row(document_id: int, seq: int, s: Segment) -> schema.Segment:
    return schema.Segment(
        document_id=document_id, seq=seq, kind=s.kind, start=s.start, end=s.end,
        page_start=s.page_start, page_end=s.page_end, text=s.text, role=s.role,
        speaker=s.speaker, turn=s.turn, timestamp=s.timestamp,
        # interviewer turns are context, not data; headings and a transcript's notes carry no claims
        codable=s.role != "interviewer" and s.kind not in ("heading", "note"),
    )


def _link_questions(segments: list[schema.Segment]) -> None:
    """Each informant segment points at the interviewer turn that prompted it."""
    question = None
    for seg in segments:
        if seg.role == "interviewer":
            question = seg
        elif seg.role == "informant" and question is not None:
            seg.context_segment_id = question.id
