"""Which codebook file a store uses: its own copy beside it once edited, else the shipped one.

Edits (app or `qualcode codebook …`) never touch the shipped `codebooks/barnevern.yaml`;
they go to ``<store>.codebook.yaml``. Every command that codes for a store must read
the same file, or it would sync the store back to the shipped codebook.
"""
from __future__ import annotations

from pathlib import Path

from qualcode.coding.codebook import DEFAULT_PATH


def own_codebook_path(db: str) -> Path:
    """The store's own codebook file, beside the store (for a database URL: in the working folder)."""
    if "://" in str(db):
        return Path.cwd() / "qualcode.codebook.yaml"
    path = Path(db).expanduser().resolve()
    return path.with_name(path.name + ".codebook.yaml")


def codebook_path_for(db: str, explicit: Path | str | None = None) -> Path:
    """``explicit`` if given, else the store's own codebook if it has one, else the shipped codebook."""
    if explicit is not None:
        return Path(explicit)
    own = own_codebook_path(db)
    return own if own.is_file() else DEFAULT_PATH
