"""Document metadata: municipality, year, type, informant role and size class - guessed, given or corrected.

Three ways in, one record: a ``manifest.csv`` row (at ingestion, and again for a
document already stored - the content is unchanged, its description may not be),
an edit in the app or with ``qualcode meta``, and - when nothing describes a file -
a guess from its file name and title page ("… Tjernåsen kommune … 2024"). Guessed
fields are listed in ``documents.metadata_inferred`` until a person confirms or
corrects them. Every change is audited with the old and the new value.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.store import schema
from qualcode.store.audit import record

# document field → (manifest column, Norwegian label)
FIELDS = {"municipality": ("municipality", "kommune"), "year": ("year", "år"), "doc_type": ("type", "type"),
          "informant_role": ("informant_role", "informantrolle"), "size_class": ("size_class", "størrelse")}
YEARS = range(1950, 2101)
# a name before "kommune": one word (hyphens allowed), or a directional prefix + word ("Nordre Follo")
PREFIXES = r"(?:Nordre|Søndre|Sør|Nord|Indre|Ytre|Øvre|Nedre|Vestre|Østre|Øystre|Midtre|Midt|Vest|Øst|Store|Lille)"
NAME = r"[A-ZÆØÅ][a-zæøåéèüáA-ZÆØÅ]+(?:-[A-ZÆØÅ]?[a-zæøåéèüáA-ZÆØÅ]+)*"
KOMMUNE = re.compile(rf"\b((?:{PREFIXES}[ -])?{NAME})\s+[Kk](?:ommune|OMMUNE)\b")
KOMMUNE_CAPS = re.compile(r"\b([A-ZÆØÅ][A-ZÆØÅ-]+(?: [A-ZÆØÅ][A-ZÆØÅ-]+)?)\s+KOMMUNE\b")
NOT_NAMES = {"Plan", "Planen", "Den", "Det", "Vår", "Hver", "Hele", "Denne", "Alle", "Samme", "Egen", "Ny", "Hver",
             "Barnevernet", "Barnevern", "Forebyggende", "Arbeid", "Tiltak", "Fylkes", "Hjem", "Og", "I"}
YEAR = re.compile(r"(?<!\d)((?:19[5-9]|20\d)\d)(?!\d)")
FILE_KOMMUNE = re.compile(r"(?:^|[-_ .])([a-zæøå]+(?:[-_][a-zæøå]+)?)[-_ ]kommune(?:$|[-_ .])", re.IGNORECASE)


class MetadataError(ValueError):
    """A value qualcode cannot store; the message names the field and why."""


@dataclass
class Guess:
    """What the file name and title page suggest; ``None`` where they say nothing."""

    municipality: str | None = None
    year: int | None = None


def _title_case(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-")) if name.isupper() else name


def infer_metadata(file_name: str, first_page_text: str = "") -> Guess:
    """Municipality and year from the title page (preferred) or the file name.

    "Plan for forebyggende arbeid i Tjernåsen kommune 2024–2027" → Tjernåsen kommune, 2024;
    "tjernasen-kommune-plan-2024.pdf" → Tjernasen kommune, 2024 (file names lose æ, ø, å).
    """
    guess = Guess()
    page = unicodedata.normalize("NFC", first_page_text or "")[:4000]
    for pattern in (KOMMUNE, KOMMUNE_CAPS):
        for match in pattern.finditer(page):
            words = match.group(1).split()
            if words[-1].title() in NOT_NAMES or words[0].title() in NOT_NAMES:
                continue
            name = " ".join(_title_case(w) for w in words)
            guess.municipality = f"{name} kommune"
            break
        if guess.municipality:
            break
    stem = file_name.rsplit(".", 1)[0]
    if guess.municipality is None:
        match = FILE_KOMMUNE.search(stem)
        if match and match.group(1).lower() not in ("plan", "fylkes"):
            guess.municipality = " ".join(p.capitalize() for p in re.split(r"[-_]", match.group(1))) + " kommune"
    for text in (page, stem):
        years = [int(y) for y in YEAR.findall(text) if int(y) in YEARS]
        if years:
            guess.year = years[0]
            break
    return guess


def clean_value(field: str, value) -> str | int | None:
    """A metadata value as stored: trimmed text or None; the year a whole number in range."""
    if field not in FIELDS:
        raise MetadataError(f"unknown metadata field {field!r} (one of {', '.join(FIELDS)})")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field == "year":
        try:
            year = int(str(value).strip())
        except ValueError:
            raise MetadataError(f"year: {value!r} is not a year") from None
        if year not in YEARS:
            raise MetadataError(f"year: {year} is outside {YEARS.start}–{YEARS.stop - 1}")
        return year
    text = " ".join(str(value).split())
    if len(text) > 200:
        raise MetadataError(f"{field}: longer than 200 characters")
    return text.lower() if field in ("doc_type", "size_class") else text


def fill_inferred(document: schema.Document, first_page_text: str = "") -> list[str]:
    """Guess municipality and year of a new document that nothing described; returns the fields guessed.

    Called where ingestion builds a document row; only empty fields are filled.
    """
    guess = infer_metadata(document.file_name, first_page_text)
    guessed = []
    for field in ("municipality", "year"):
        value = getattr(guess, field)
        if getattr(document, field) in (None, "") and value is not None:
            setattr(document, field, value)
            guessed.append(field)
    document.metadata_inferred = sorted(set(document.metadata_inferred or []) | set(guessed))
    return guessed


def _set(session: Session, document: schema.Document, changes: dict, actor: str, action: str, **detail) -> list[str]:
    """Apply cleaned ``changes``; confirm the fields touched; audit old → new. Returns the fields changed."""
    before = {f: getattr(document, f) for f in changes}
    changed = [f for f, v in changes.items() if before[f] != v]
    for field in changed:
        setattr(document, field, changes[field])
    inferred = set(document.metadata_inferred or [])
    confirmed = sorted(inferred & set(changes))
    if confirmed:
        document.metadata_inferred = sorted(inferred - set(changes))
    if changed or confirmed:
        record(session, actor, action, "document", document.id, file=document.file_name,
               changes={f: [before[f], changes[f]] for f in changed}, confirmed=confirmed, **detail)
    return changed


def edit_metadata(factory, document_id: int, actor: str, **values) -> list[str]:
    """Set some of municipality, year, doc_type, informant_role, size_class for one document (audited).

    A field given is confirmed (no longer "inferred"), even when its value stays the same.
    Returns the fields whose value changed.
    """
    actor = " ".join((actor or "").split())
    if not actor:
        raise MetadataError("a name is required to change metadata")
    changes = {field: clean_value(field, value) for field, value in values.items()}
    with factory.begin() as session:
        document = session.get(schema.Document, document_id)
        if document is None:
            raise LookupError(f"no document {document_id}")
        return _set(session, document, changes, actor, "metadata")


def confirm_metadata(factory, document_id: int, actor: str) -> list[str]:
    """Accept the guessed fields as they are; returns the fields confirmed."""
    with factory.begin() as session:
        document = session.get(schema.Document, document_id)
        if document is None:
            raise LookupError(f"no document {document_id}")
        guessed = list(document.metadata_inferred or [])
        if guessed:
            _set(session, document, {f: getattr(document, f) for f in guessed}, actor, "metadata")
        return guessed


def manifest_values(row) -> dict:
    """The metadata a manifest row gives (blank cells give nothing: they never erase a stored value)."""
    out = {}
    for field, (column, _label) in FIELDS.items():
        value = getattr(row, column, None)
        if value not in (None, ""):
            out[field] = clean_value(field, value)
    return out


def apply_manifest_row(session: Session, document: schema.Document, row, actor: str = "manifest") -> list[str]:
    """Bring a stored document's metadata in line with its manifest row; returns the fields changed.

    Called when a file is ingested again with unchanged content: the manifest may have
    been added or corrected since. Extra manifest columns update ``attributes``.
    """
    changed = _set(session, document, manifest_values(row), actor, "metadata_manifest")
    extra = dict(getattr(row, "attributes", {}) or {})
    if extra and {**(document.attributes or {}), **extra} != (document.attributes or {}):
        before = dict(document.attributes or {})
        document.attributes = {**before, **extra}
        record(session, actor, "metadata_manifest", "document", document.id, file=document.file_name,
               attributes=[before, document.attributes])
        changed.append("attributes")
    return changed


def update_from_manifest(factory, content_hash: str, row, actor: str = "manifest") -> list[str]:
    """``apply_manifest_row`` for the stored document with ``content_hash``, in its own transaction."""
    if row is None:
        return []
    with factory.begin() as session:
        document = session.scalars(select(schema.Document).where(schema.Document.content_hash == content_hash)).first()
        return apply_manifest_row(session, document, row, actor) if document is not None else []


def find_documents(session: Session, name_or_id: str) -> list[schema.Document]:
    """Stored documents named by id, file name, or the path's file name."""
    key = str(name_or_id).strip()
    if key.isdigit():
        found = session.get(schema.Document, int(key))
        if found is not None:
            return [found]
    base = key.replace("\\", "/").rsplit("/", 1)[-1]
    return list(session.scalars(select(schema.Document).where(schema.Document.file_name == base)
                                .order_by(schema.Document.id)))


def first_page_text(extracted) -> str:
    """The text of an extracted document's first page (where title pages name municipality and year)."""
    text = getattr(extracted, "text", "") or ""
    blocks = [b for b in getattr(extracted, "blocks", []) or [] if getattr(b, "page_start", 1) <= 1]
    return "\n".join(text[b.start:b.end] for b in blocks) if blocks else text[:3000]


def metadata_table(session: Session):
    """One row per document: id, file, the five fields and which of them are guessed (a pandas frame)."""
    import pandas as pd

    D = schema.Document
    rows = session.execute(select(D.id, D.file_name, D.municipality, D.year, D.doc_type, D.informant_role,
                                  D.size_class, D.metadata_inferred).order_by(D.municipality, D.year, D.file_name))
    frame = pd.DataFrame(rows.all(), columns=["id", "file_name", *FIELDS, "inferred"])
    frame["inferred"] = frame["inferred"].map(lambda v: list(v or []))
    return frame
