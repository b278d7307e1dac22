"""Turn PDF, DOCX, text and Markdown files into frozen text with page-anchored blocks.

``extract_file`` is the only entry point: it sniffs what the file really is, runs the
matching engine and guarantees that every failure is an :class:`ExtractionError` whose
``str()`` is a one-line reason.
"""
from __future__ import annotations

from pathlib import Path

from qualcode.documents import ExtractedDocument
from qualcode.extract.errors import ExtractionError

__all__ = ["ExtractionError", "extract_file"]


def extract_file(path: Path, *, doc_type: str | None = None, ocr: str = "auto", progress=None) -> ExtractedDocument:
    """Extract one file into an :class:`ExtractedDocument`.

    The format comes from the file's content (magic bytes), cross-checked with its
    extension.  ``doc_type`` is the manifest's document type (e.g. "plan", "intervju");
    it does not change how the file is read, only whether speaker turns are looked for
    (see :mod:`qualcode.extract.transcript`).  ``ocr`` ("never", "auto", "always") and
    ``progress(done, total, ocr)`` apply to PDFs (see :func:`qualcode.extract.pdf.extract_pdf`).
    """
    from qualcode.extract.sniff import detect_format
    from qualcode.extract.transcript import detect_turns

    bold_labels: list[int] = []

    path = Path(path)
    fmt = detect_format(path)
    try:
        if fmt == "pdf":
            from qualcode.extract.pdf import extract_pdf

            doc = extract_pdf(path, ocr=ocr, progress=progress)
        elif fmt == "docx":
            from qualcode.extract.docx import extract_docx

            doc = extract_docx(path, label_starts=bold_labels)
        else:
            from qualcode.extract.text import extract_text_file

            doc = extract_text_file(path, markdown=fmt == "markdown")
    except ExtractionError:
        raise
    except MemoryError:
        raise ExtractionError("file too large to read into memory") from None
    except Exception as err:  # a parser choking on a damaged file: one line, not a traceback
        detail = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise ExtractionError(f"could not read the {fmt.upper()} file ({detail})") from err
    if not doc.text.strip():
        raise ExtractionError(f"no text found in the {fmt.upper()} file")
    return detect_turns(doc, doc_type=doc_type, bold_starts=bold_labels)
