"""Change the codebook from search and discovery: add a new code, or add patterns to a code.

Both go through the codebook's own update path, so the store's codebook file, its
version history and the ``codes`` table change together, audited:
``qualcode.review.codebook_changes.change_codebook`` (line-exact edits that keep the
file's comments, undoable) where that module exists, else ``codebook_edit.save_codebook``
with the edited YAML.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from qualcode.coding.codebook import Codebook, CodebookError, load_codebook


def _change_codebook():
    try:
        from qualcode.review.codebook_changes import change_codebook
    except ImportError:
        return None
    return change_codebook


def _save(factory, text: str, own: Path, actor: str, **detail) -> Codebook:
    from qualcode.review.codebook_edit import save_codebook

    return save_codebook(factory, text, own, actor, **detail)


def add_code(factory, current: Path, own: Path, actor: str, code: dict, theme_name: str | None = None) -> Codebook:
    """Add ``code`` (id, name, definition, patterns, examples…) to its theme (the id's first part);
    a new theme needs ``theme_name``. Returns the new codebook."""
    change = _change_codebook()
    if change is not None:
        return change(factory, current, own, actor, "add", code=code, theme_name=theme_name).book
    book = load_codebook(current)
    if code["id"] in book.code_ids:
        raise CodebookError(f"code '{code['id']}', field 'id': there is already a code with this id")
    data = yaml.safe_load(book.to_yaml())
    theme_id = code["id"].split(".")[0]
    theme = next((t for t in data["themes"] if t["id"] == theme_id), None)
    if theme is None:
        if not theme_name:
            raise CodebookError(f"code '{code['id']}': theme '{theme_id}' does not exist; give it a name")
        theme = {"id": theme_id, "name": theme_name, "description": "", "codes": []}
        data["themes"].append(theme)
    theme["codes"].append({k: v for k, v in code.items() if v not in (None, "", [], ())})
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    Codebook.from_yaml_text(text, source=str(own))  # a clear CodebookError before anything is written
    return _save(factory, text, own, actor, change="add", code=code["id"])


def extend_code(factory, current: Path, own: Path, actor: str, code_id: str, fragment: dict) -> Codebook:
    """Append ``fragment``'s lists (patterns, negative, context) to the code ``code_id``."""
    from qualcode.review.codebook_edit import code_yaml, replace_code

    book = load_codebook(current)
    data = yaml.safe_load(code_yaml(book, code_id))
    for key, items in fragment.items():
        data[key] = list(data.get(key) or []) + [i for i in items if i not in (data.get(key) or [])]
    snippet = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    change = _change_codebook()
    if change is not None:
        return change(factory, current, own, actor, "edit", code_id=code_id, snippet=snippet).book
    new_book, text = replace_code(book, code_id, snippet, source=str(own))
    if new_book.version == book.version:
        raise CodebookError(f"code '{code_id}': the patterns are already in the code")
    return _save(factory, text, own, actor, change="edit", code=code_id)
