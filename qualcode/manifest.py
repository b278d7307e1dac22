"""Read ``manifest.csv``: who and what each file in a corpus folder is.

Columns: ``file, municipality, year, type`` and optionally ``informant_role``,
``size_class`` (Norwegian headers work too: fil, kommune, år, type, informantrolle,
størrelse); any further column is kept as a document attribute (exports carry it as a
variable).  Commas or semicolons (Excel's Norwegian default) separate the columns; UTF-8
or Windows-1252 (Excel's "CSV" on Windows).  A folder with a manifest is a defined
corpus: files it does not list are skipped and reported.

A manifest qualcode cannot trust stops the run before anything is read, with every
problem named by file and line: a year out of range, an unknown type or size class, a
file listed twice, no files at all.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from qualcode.extract.transcript import TRANSCRIPT_TYPES

MANIFEST_NAME = "manifest.csv"
YEAR_FOLDER = re.compile(r"^(19|20)\d{2}$")
FIRST_YEAR = 1950
DOC_TYPES = ("plan", "handlingsplan", "rapport", "tilstandsrapport", "evaluering", "notat", "annet",
             *sorted(TRANSCRIPT_TYPES))
SIZE_CLASSES = ("liten", "mellomstor", "stor")
HEADER_ALIASES = {"fil": "file", "filnavn": "file", "kommune": "municipality", "år": "year", "aar": "year",
                  "dokumenttype": "type", "informantrolle": "informant_role", "rolle": "informant_role",
                  "størrelse": "size_class", "storleik": "size_class", "kommunestørrelse": "size_class"}
MAX_PROBLEMS = 10


class ManifestError(ValueError):
    """A manifest qualcode cannot use; the message names the file, the line and the reason."""


class ManifestRow(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    file: str
    municipality: str | None = None
    year: int | None = None
    type: str | None = None
    informant_role: str | None = None
    size_class: str | None = None

    @field_validator("municipality", "type", "informant_role", "size_class", "year", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("file")
    @classmethod
    def _file_named(cls, value: str) -> str:
        if not value:
            raise ValueError("no file name")
        return value

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value):
        if value is None:
            return None
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}", text):
            raise ValueError(f"the year must be four digits, such as 2025 (got {text!r})")
        year, last = int(text), date.today().year + 1
        if not FIRST_YEAR <= year <= last:
            raise ValueError(f"year {year} is out of range ({FIRST_YEAR}–{last})")
        return year

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in DOC_TYPES:
            raise ValueError(f"unknown type {value!r} (use one of: {', '.join(DOC_TYPES[:7])}, intervju, fokusgruppe)")
        return value.lower()

    @field_validator("size_class")
    @classmethod
    def _size_class(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in SIZE_CLASSES:
            raise ValueError(f"unknown size class {value!r} (use one of: {', '.join(SIZE_CLASSES)})")
        return value.lower()

    @property
    def attributes(self) -> dict[str, str]:
        return {k: v for k, v in (self.model_extra or {}).items() if v not in (None, "")}


def read_manifest(folder: Path) -> dict[str, ManifestRow] | None:
    """Rows keyed by file name, or None when the folder has no manifest."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    text = _decode(path)
    if not text.strip():
        raise ManifestError(f"{path}: is empty (a header line and one line per file are needed)")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(path, text))
    header = [_column(name) for name in (reader.fieldnames or [])]
    if "file" not in header:
        raise ManifestError(f"{path}: no 'file' column (the first line names the columns, e.g. "
                            f"file,municipality,year,type — separated by commas or semicolons)")
    rows: dict[str, ManifestRow] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    for raw in reader:
        line_no = reader.line_num
        values = {_column(k): (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue  # a blank line (Excel writes ";;;;" rows)
        try:
            row = ManifestRow(**values)
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            problems.append(f"{path}, line {line_no}: column '{field}': {message}")
            continue
        if row.file in first_line:
            problems.append(f"{path}, line {line_no}: {row.file} is listed twice (also on line {first_line[row.file]})")
            continue
        first_line[row.file] = line_no
        rows[row.file] = row
    if problems:
        more = f"\n… and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        raise ManifestError("\n".join(problems[:MAX_PROBLEMS]) + more)
    if not rows:
        raise ManifestError(f"{path}: lists no files (a header line and one line per file are needed)")
    return rows


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV" on Norwegian Windows


def _delimiter(path: Path, text: str) -> str:
    header = text.split("\n", 1)[0]
    for delimiter in (",", ";", "\t"):
        if "file" in (_column(c) for c in header.split(delimiter)):
            return delimiter
    return ";" if header.count(";") > header.count(",") else ","


def _column(name: str) -> str:
    key = (name or "").strip().strip('"').lower()
    return HEADER_ALIASES.get(key, key)


def year_from_path(path: Path) -> int | None:
    """A corpus laid out as corpus/<year>/… records the year from the folder name."""
    for parent in path.parents:
        if YEAR_FOLDER.match(parent.name):
            return int(parent.name)
    return None
