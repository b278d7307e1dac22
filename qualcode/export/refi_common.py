"""What REFI-QDA export and import share: namespaces, stable GUIDs, schemas, names of variables.

GUIDs are uuid5 of a stable key (a code id, a reviewer name, a document's content
hash plus offsets), so exporting the same store twice gives the same GUIDs and a
researcher who re-imports into NVivo or ATLAS.ti does not get duplicates.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from lxml import etree

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMAS = Path(__file__).with_name("schemas")
QUALCODE_NS = uuid.UUID("6c1f3e0a-5b7d-4d0c-9a51-2f3c8e7a9b10")  # fixed: GUIDs must not change between runs

# Document attribute → REFI variable name (Norwegian, as researchers see them) and type.
VARIABLES = [
    ("municipality", "kommune", "Text"),
    ("year", "år", "Integer"),
    ("doc_type", "dokumenttype", "Text"),
    ("size_class", "størrelse", "Text"),
    ("informant_role", "informantrolle", "Text"),
]
# Names an import also recognises for those attributes (other tools, English exports).
VARIABLE_ALIASES = {
    "kommune": "municipality", "municipality": "municipality",
    "år": "year", "year": "year", "aar": "year",
    "dokumenttype": "doc_type", "type": "doc_type", "doc_type": "doc_type",
    "størrelse": "size_class", "size_class": "size_class", "kommunestørrelse": "size_class",
    "informantrolle": "informant_role", "informant_role": "informant_role", "rolle": "informant_role",
}
CODE_ID_MARK = "Kode-ID"
MACHINE_USER = "qualcode (maskin)"  # the user machine suggestions are exported as (--include-machine)
EXPORT_NOTE_NAME = "Om denne eksporten (qualcode)"  # the project note qualcode writes; not a memo
THEME_ID_MARK = "Tema-ID"
_MARK = re.compile(rf"^\s*({CODE_ID_MARK}|{THEME_ID_MARK}):\s*(\S+)\s*$", re.MULTILINE)
PALETTE = ["#2F6F8F", "#C05746", "#5A9E6F", "#B7791F", "#7B5EA7", "#3C8D93", "#A0527D", "#6B7B8C", "#8C6D31"]


class RefiError(ValueError):
    """A REFI-QDA file that cannot be written or read; the message says why."""


def guid(*parts) -> str:
    return str(uuid.uuid5(QUALCODE_NS, "\x1f".join(str(p) for p in parts)))


def timestamp(value: datetime | None) -> str:
    """xsd:dateTime in UTC ("2025-03-01T09:00:00Z"); stores without time zones hold UTC."""
    value = value or datetime.now(timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def with_mark(description: str, mark: str, ident: str) -> str:
    """A description that ends with a line naming the qualcode id, so an import can find it again."""
    return f"{description}\n\n{mark}: {ident}" if description.strip() else f"{mark}: {ident}"


def split_mark(description: str | None) -> tuple[str, str | None]:
    """(description without the id line, the id or None); undoes ``with_mark`` exactly."""
    if not description:
        return "", None
    found = None
    for m in _MARK.finditer(description):
        found = m.group(2)
    if found is None:
        return description.strip(), None
    for mark in (CODE_ID_MARK, THEME_ID_MARK):
        for suffix in (f"\n\n{mark}: {found}", f"{mark}: {found}"):
            if description.endswith(suffix):
                return description[: -len(suffix)], found
    return _MARK.sub("", description).strip(), found


@lru_cache(maxsize=2)
def schema(kind: str) -> etree.XMLSchema:
    """The shipped Project.xsd ("project") or Codebook.xsd ("codebook")."""
    name = {"project": "Project.xsd", "codebook": "Codebook.xsd"}[kind]
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def validate(root: etree._Element, kind: str, xsd: etree.XMLSchema | None = None) -> None:
    """Raise RefiError listing the first problems when ``root`` does not match the schema."""
    checker = xsd or schema(kind)
    if not checker.validate(root):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in list(checker.error_log)[:5])
        raise RefiError(f"not valid REFI-QDA {kind} XML: {problems}")


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "œ": "oe", "ð": "d"})


def slug(text: str, limit: int = 40) -> str:
    """A code-id part from a name: lower case a-z and _, accents dropped rather than letters
    ("Økonomiske barrierer" → "okonomiske_barrierer", "Género" → "genero")."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLITERATE))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z]+", "_", text).strip("_")[:limit].strip("_") or "kode"
