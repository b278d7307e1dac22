"""Read one file into a document and its segments: the work a worker process does.

Kept free of the store (SQLAlchemy, Alembic) so that `qualcode extract` and the
worker processes start fast.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qualcode.documents import ExtractedDocument, Segment
from qualcode.extract import extract_file
from qualcode.segment import limit_length, segment_document


@dataclass
class Prepared:
    """A file read and segmented, ready to be stored (or printed by `extract`)."""

    document: ExtractedDocument
    segments: list[Segment]
    pseudonyms: list[tuple[str, str, str]] = field(default_factory=list)  # placeholder, kind, original


def prepare(path: Path, doc_type: str | None = None, pseudonymise: bool = True,
            names_file: Path | None = None, ocr: str = "auto", progress=None) -> Prepared:
    """Extract and segment one file; raises ExtractionError with a one-line reason.

    Transcripts are pseudonymised right after extraction, before segmenting, so no
    segment, store row or printout ever holds the original names and numbers; the
    mapping goes into ``Prepared.pseudonyms`` (local store only).  Plans are public
    documents and are left as they are.  ``ocr`` and ``progress`` go to
    :func:`qualcode.extract.extract_file` (scanned pages, a callback per page).
    """
    document = extract_file(path, doc_type=doc_type, ocr=ocr, progress=progress)
    pseudonyms: list[tuple[str, str, str]] = []
    if pseudonymise and document.is_transcript:
        from qualcode.privacy import load_names, pseudonymise_document

        document, pseudonyms = pseudonymise_document(document, load_names(path, names_file))
    return Prepared(document, limit_length(document, segment_document(document)), pseudonyms)
