"""Read ``manifest.csv``: who and what each file in a corpus folder is.

Columns: ``file, municipality, year, type`` and optionally ``informant_role``,
``size_class``; any further column is kept as a document attribute (exports
carry it as a variable). A folder with a manifest is a defined corpus: files it
does not list are skipped and reported.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

MANIFEST_NAME = "manifest.csv"
YEAR_FOLDER = re.compile(r"^(19|20)\d{2}$")


class ManifestError(ValueError):
    """A manifest row qualcode cannot use; the message names file and line."""


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

    @property
    def attributes(self) -> dict[str, str]:
        return {k: v for k, v in (self.model_extra or {}).items() if v not in (None, "")}


def read_manifest(folder: Path) -> dict[str, ManifestRow] | None:
    """Rows keyed by file name, or None when the folder has no manifest."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    rows: dict[str, ManifestRow] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line_no, raw in enumerate(csv.DictReader(handle), start=2):
            raw = {(k or "").strip().lower(): v for k, v in raw.items() if k}
            try:
                row = ManifestRow(**raw)
            except ValidationError as err:
                first = err.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                raise ManifestError(f"{path}, line {line_no}: column '{field}': {first['msg']}") from None
            rows[row.file] = row
    return rows


def year_from_path(path: Path) -> int | None:
    """A corpus laid out as corpus/<year>/… records the year from the folder name."""
    for parent in path.parents:
        if YEAR_FOLDER.match(parent.name):
            return int(parent.name)
    return None
