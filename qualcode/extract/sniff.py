"""Decide a file's format from its first bytes, with the extension as a cross-check.

Files arrive renamed, mislabelled and truncated; trusting the extension turns those into
tracebacks deep inside a parser.  The magic bytes say what the file really is, and a
mismatch becomes a one-line reason the user can act on.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from qualcode.extract.errors import ExtractionError

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
KNOWN_SUFFIXES = {".pdf", ".docx"} | TEXT_SUFFIXES
SUPPORTED = "PDF, DOCX, TXT or MD"


def detect_format(path: Path) -> str:
    """'pdf', 'docx', 'markdown' or 'text'; raises ExtractionError with the reason otherwise."""
    if not path.exists():
        raise ExtractionError(f"file not found: {path}")
    if not path.is_file():
        raise ExtractionError(f"not a file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise ExtractionError("empty file (0 bytes)")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    suffix = path.suffix.lower()
    sniffed = _sniff(head)
    if sniffed == "pdf":
        return "pdf"
    if sniffed == "zip":
        if _is_docx(path):
            return "docx"
        if suffix == ".docx":
            raise ExtractionError("corrupt DOCX: the ZIP package has no word/document.xml")
        raise ExtractionError("unsupported file type: a ZIP archive, not a DOCX")
    if suffix == ".pdf":
        if sniffed == "text":
            raise ExtractionError("not a PDF: the file starts with text")
        raise ExtractionError("not a PDF: the file has no PDF header")
    if suffix == ".docx":
        if sniffed == "ole":
            raise ExtractionError("old Word .doc format inside a .docx name — save it as DOCX and try again")
        raise ExtractionError("not a DOCX: the file is not a Word (ZIP) package")
    if suffix == ".doc" or sniffed == "ole":
        raise ExtractionError("old Word .doc format is not supported — save it as DOCX and try again")
    if suffix not in KNOWN_SUFFIXES and suffix:
        raise ExtractionError(f"unsupported file type '{suffix}' (use {SUPPORTED})")
    if sniffed != "text":
        raise ExtractionError("binary file, not text — use " + SUPPORTED)
    return "markdown" if suffix in MARKDOWN_SUFFIXES else "text"


def _sniff(head: bytes) -> str:
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return "text"
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 3:  # a multi-byte character cut by the 4 KB window
            return "text"
    printable = sum(1 for b in head if b >= 32 or b in (9, 10, 12, 13))
    return "text" if printable >= 0.95 * len(head) else "binary"


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        raise ExtractionError("corrupt DOCX: the ZIP package is damaged or truncated") from None
