"""Edit one code of the codebook as YAML and save the result as a new codebook version.

The shipped codebook is never overwritten: the edited book is written to the
store's own file (``<store>.codebook.yaml``), stored as a ``CodebookVersion``
and the ``codes`` table follows it, all audited.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from qualcode.coding.codebook import Codebook, load_codebook, parse_yaml_mapping
from qualcode.store.audit import record


def _data(book: Codebook) -> dict:
    return yaml.safe_load(book.to_yaml())


def code_yaml(book: Codebook, code_id: str) -> str:
    """The YAML of one code, as the reviewer edits it."""
    for theme in _data(book)["themes"]:
        for code in theme["codes"]:
            if code["id"] == code_id:
                return yaml.safe_dump(code, allow_unicode=True, sort_keys=False, width=100)
    raise KeyError(code_id)


def replace_code(book: Codebook, code_id: str, snippet: str, source: str = "<redigert>") -> tuple[Codebook, str]:
    """The codebook with ``code_id`` replaced by ``snippet``, validated; and its YAML text.

    Raises CodebookError naming the code and field when the edit is not valid.
    """
    new_code = parse_yaml_mapping(snippet, f"code '{code_id}'", "id, name, definition and patterns")
    data = _data(book)
    for theme in data["themes"]:
        for i, code in enumerate(theme["codes"]):
            if code["id"] == code_id:
                theme["codes"][i] = new_code
                text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
                return Codebook.from_yaml_text(text, source=source), text
    raise KeyError(code_id)


def save_codebook(factory, text: str, path: Path, actor: str, **detail) -> Codebook:
    """Write ``text`` to ``path`` (atomically) and make it the store's codebook in one audited transaction.

    If the store update fails the previous file is put back, so file and store never disagree.
    """
    from qualcode.coding.apply import current_coder, sync_codebook

    Codebook.from_yaml_text(text, source=str(path))  # validate before touching anything
    path = Path(path)
    previous = path.read_bytes() if path.is_file() else None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    try:
        book = load_codebook(path)
        with factory.begin() as session:
            sync_codebook(session, book, actor=actor)
            record(session, actor, "codebook_edit", "codebook", book.version, path=str(path), **detail)
    except BaseException:
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(previous)
        raise
    current_coder.cache_clear()  # the next import codes with the new rules
    return book
