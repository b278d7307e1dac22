"""Read one file into a document and its segments: the work a worker process does.

Kept free of the store (SQLAlchemy, Alembic) so that `qualcode extract` and the
worker processes start fast.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.documents import ExtractedDocument, Segment
from qualcode.extract import ExtractionError, extract_file
from qualcode.segment import limit_length, segment_document

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A file read and segmented, ready to be stored (or printed by `extract`)."""

    document: ExtractedDocument
    segments: list[Segment]
    pseudonyms: list[tuple[str, str, str]] = field(default_factory=list)  # placeholder, kind, original


def prepare(path: Path, doc_type: str | None = None, pseudonymise: bool = True,
            names_file: Path | None = None) -> Prepared:
    """Extract and segment one file; raises ExtractionError with a one-line reason.

    Transcripts are pseudonymised right after extraction, before segmenting, so no
    segment, store row or printout ever holds the original names and numbers; the
    mapping goes into ``Prepared.pseudonyms`` (local store only).  Plans are public
    documents and are left as they are.
    """
    document = extract_file(path, doc_type=doc_type)
    pseudonyms: list[tuple[str, str, str]] = []
    if pseudonymise and document.is_transcript:
        from qualcode.privacy import load_names, pseudonymise_document

        document, pseudonyms = pseudonymise_document(document, load_names(path, names_file))
    return Prepared(document, limit_length(document, segment_document(document)), pseudonyms)


def prepare_safely(path: Path, doc_type: str | None, pseudonymise: bool = True,
                   names_file: Path | None = None) -> Prepared | str:
    """Worker entry point: a result, or the reason the file failed (never an exception)."""
    try:
        return prepare(path, doc_type, pseudonymise, names_file)
    except ExtractionError as err:
        return str(err)
    except Exception as err:  # a bug or a truly odd file: report it, keep the batch going
        log.debug("unexpected failure on %s", path, exc_info=True)
        return f"could not read the file ({type(err).__name__}: {err})".splitlines()[0]
