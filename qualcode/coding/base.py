"""The base model that ships beside the codebook, and how it is built.

``codebooks/barnevern.yaml`` has its model in ``codebooks/barnevern.model.npz``: rule
scores plus a text model trained on every reference set (`qualcode.coding.reference`),
with C, blends and thresholds chosen by cross-validation grouped by document. It is
tied to the codebook's content hash: after a codebook edit it is not used (the rules
alone code, and a warning says so) until it is rebuilt with one command:

    qualcode train --base

The file holds plain arrays and a JSON header, loaded with ``allow_pickle=False``.
"""
from __future__ import annotations

import hashlib
import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.coding.codebook import Codebook

if TYPE_CHECKING:  # the model (scipy) loads only where it codes; `described` reads just the header
    from qualcode.coding.model import CodeModel

log = logging.getLogger(__name__)

SUFFIX = ".model.npz"


def base_model_path(book_or_path: Codebook | str | Path) -> Path:
    """``codebooks/barnevern.yaml`` → ``codebooks/barnevern.model.npz``."""
    source = Path(book_or_path.source if isinstance(book_or_path, Codebook) else book_or_path)
    return source.with_suffix(SUFFIX)


def base_version(payload: bytes, codebook_version: str) -> str:
    return f"base-{codebook_version[:8]}-{hashlib.sha256(payload).hexdigest()[:8]}"


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> "CodeModel":
    from qualcode.coding.model import CodeModel

    payload = Path(path).read_bytes()
    model = CodeModel.from_bytes(payload)
    model.version = base_version(payload, model.codebook_version)
    return model


def base_status(book: Codebook) -> tuple["CodeModel | None", str]:
    """The shipped base model for ``book`` (or None) and why."""
    path = base_model_path(book)
    if not path.is_file():
        return None, f"no base model beside the codebook ({path.name}): build it with `qualcode train --base`"
    try:
        model = _load(str(path), path.stat().st_mtime)
    except ValueError as err:
        return None, f"{path}: {err}"
    if model.codebook_version != book.version:
        return None, (f"the base model {path.name} was built for codebook {model.codebook_version}, the codebook "
                      f"is now {book.version}: rules alone code until `qualcode train --base` rebuilds it")
    return model, "base model shipped with the codebook"


def described(book: Codebook) -> tuple[str | None, str]:
    """(version, reason) of the base model for ``book``, read from the file's header alone (numpy, no
    scipy or scikit-learn): what a run records while its workers load the model itself."""
    import json

    import numpy as np

    path = base_model_path(book)
    if not path.is_file():
        return None, f"no base model beside the codebook ({path.name}): build it with `qualcode train --base`"
    payload = path.read_bytes()
    try:
        with np.load(path, allow_pickle=False) as arrays:
            header = json.loads(bytes(arrays["header"]).decode("utf-8"))
    except (OSError, ValueError, KeyError) as err:
        return None, f"{path}: not a qualcode model ({err})"
    if header.get("codebook_version") != book.version:
        return None, (f"the base model {path.name} was built for codebook {header.get('codebook_version')}, the "
                      f"codebook is now {book.version}: rules alone code until `qualcode train --base` rebuilds it")
    return base_version(payload, book.version), "base model shipped with the codebook"


def base_model_for(book: Codebook) -> "CodeModel | None":
    model, reason = base_status(book)
    if model is None:
        log.warning("%s", reason)
    return model


def build_base(coder, sets=None, *, seed: int = 0, out: Path | None = None, progress=None) -> tuple[CodeModel, Path]:
    """Fit the base model on every reference set and write it beside the codebook."""
    import sklearn

    from qualcode.coding.features import analyse
    from qualcode.coding.reference import load_reference, project_sets
    from qualcode.coding.validation import fit_base
    from qualcode.files import write_bytes_atomic

    sets = project_sets() if sets is None else sets
    records = load_reference(sets)
    if not records:
        raise ValueError("no reference data found: expected ../shared/eval or codebooks/reference/*.jsonl")
    started = time.perf_counter()
    if progress:
        progress(f"analysing {len(records)} reference segments")
    data = analyse([r["text"] for r in records], coder.rules)
    if progress:
        progress("fitting (C, blends and thresholds by cross-validation grouped by document)")
    model = fit_base(coder, data, records, seed=seed)
    model.info = {"built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "seconds": round(time.perf_counter() - started, 1), "scikit_learn": sklearn.__version__,
                  "sets": [{"name": s.name, "file": s.path.name,
                            "segments": sum(r["set"] == s.name for r in records),
                            "documents": len({r["doc"] for r in records if r["set"] == s.name})} for s in sets],
                  "genres": {g: sum(r["genre"] == g for r in records) for g in sorted({r["genre"] for r in records})}}
    payload = model.to_bytes()
    path = out or base_model_path(coder.codebook)
    write_bytes_atomic(path, payload)
    path.chmod(0o644)  # a file of the repository, readable by everyone like the codebook
    model.version = base_version(payload, model.codebook_version)
    _load.cache_clear()
    return model, path
