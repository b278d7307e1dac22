"""Edit the codebook's YAML text: add, rename, move, merge, delete or rewrite one code, comments kept.

Every operation takes YAML text and returns new, validated YAML text. The text is
edited line by line where YAML's own parser says a code or theme starts and ends:
only the lines of the code it touches change, and every other line, comment, quote
and line break of the file stays exactly as it was (a parse-and-dump round trip would
re-wrap the codebook's hand-laid term lists). Writing the result and moving codings in
the store is ``codebook_changes``' job.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qualcode.coding.codebook import CODE_ID, SAFE_LOADER, Codebook, CodebookError, parse_yaml_mapping

THEME_ID = re.compile(r"^[a-z]+$")
PLAIN = re.compile(r"[^\W\d_][\w .,()«»/'–-]*")


def book_text(book: Codebook) -> str:
    """The YAML text a codebook was loaded from (its file, comments and all), else its canonical dump."""
    source = Path(book.source)
    return source.read_text(encoding="utf-8") if source.is_file() else book.to_yaml()


# -- where things are in the text --------------------------------------------------------------
@dataclass
class _Item:
    """Lines [start, end) of one list item (``- id: …``) and the column its keys start at."""

    id: str
    start: int
    end: int
    col: int
    node: yaml.Node
    children: list["_Item"] = field(default_factory=list)


def _compose(text: str, where: str = "codebook") -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise CodebookError(f"{where}: not valid YAML: {exc}") from None


def _get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _trim(lines: list[str], start: int, end: int) -> int:
    """Pull ``end`` back over trailing blank and comment-only lines (they belong to what follows)."""
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _items(seq: yaml.SequenceNode, lines: list[str], stop: int) -> list[_Item]:
    out = []
    for i, node in enumerate(seq.value):
        line, col = node.start_mark.line, node.start_mark.column
        nxt = seq.value[i + 1].start_mark.line if i + 1 < len(seq.value) else stop
        ident = _get(node, "id")
        out.append(_Item(str(ident.value) if isinstance(ident, yaml.ScalarNode) else "", line,
                         _trim(lines, line, nxt), col, node))
    return out


def _layout(text: str) -> tuple[list[str], list[_Item]]:
    """The text's lines and, per theme, the line span of the theme and of each of its codes."""
    root = _compose(text)
    themes_node = _get(root, "themes") if root is not None else None
    if not isinstance(themes_node, yaml.SequenceNode) or any(
            not isinstance(t, yaml.MappingNode) for t in themes_node.value):
        raise CodebookError("codebook: expected a mapping with 'themes' (a list of themes)")
    if any(isinstance(t, yaml.MappingNode) and t.flow_style for t in themes_node.value):
        raise CodebookError("codebook: themes written in flow style ({…}) cannot be edited here")
    lines = text.splitlines(keepends=True)
    keys = [k for k, _ in root.value]
    after = [k for k in keys if k.start_mark.line > themes_node.start_mark.line]
    stop = after[0].start_mark.line if after else len(lines)
    themes = _items(themes_node, lines, stop)
    for i, theme in enumerate(themes):
        codes = _get(theme.node, "codes")
        theme_stop = themes[i + 1].start if i + 1 < len(themes) else stop
        if isinstance(codes, yaml.SequenceNode) and codes.value:
            theme.children = _items(codes, lines, theme_stop)
    return lines, themes


def _find(themes: list[_Item], code_id: str) -> tuple[_Item, _Item]:
    for theme in themes:
        for code in theme.children:
            if code.id == code_id:
                return theme, code
    raise CodebookError(f"code '{code_id}' is not in the codebook")


def _splice(lines: list[str], start: int, end: int, new: list[str]) -> str:
    """Lines [start, end) replaced by ``new``; a removal leaves no doubled blank line behind."""
    lines = list(lines)
    if start > 0 and not lines[start - 1].endswith("\n"):
        lines[start - 1] += "\n"
    if not new and 0 < start and end < len(lines) and not lines[start - 1].strip() and not lines[end].strip():
        end += 1
    return "".join(lines[:start] + new + lines[end:])


# -- one code as a snippet (keys at column 0) -----------------------------------------------------
def code_yaml(book: Codebook | str, code_id: str) -> str:
    """One code's YAML as it stands in the file (comments included), keys at column 0, for editing."""
    text = book if isinstance(book, str) else book_text(book)
    lines, themes = _layout(text)
    _, code = _find(themes, code_id)
    return _snippet(lines, code)


def _snippet(lines: list[str], code: _Item) -> str:
    block = lines[code.start:code.end]
    out = [block[0][code.col:]]  # the first key follows the "- " marker
    for line in block[1:]:
        out.append(line[code.col:] if line[:code.col].strip() == "" else line.lstrip())
    return "".join(out).rstrip("\n") + "\n"


def _as_item(snippet: str, col: int) -> list[str]:
    """A snippet (keys at column 0) as a list item whose keys start at column ``col``."""
    out, marked = [], False
    for line in snippet.rstrip("\n").split("\n"):
        if not marked and line.strip() and not line.lstrip().startswith("#") and not line[:1].isspace():
            out.append(" " * (col - 2) + "- " + line + "\n")
            marked = True
        else:
            out.append((" " * col + line if line.strip() else "") + "\n")
    return out


def _scalar(value: str) -> str:
    """A name or definition: plain when that reads back the same, else double-quoted."""
    if PLAIN.fullmatch(value) and value.lower() not in {"yes", "no", "true", "false", "null", "on", "off", "y", "n"}:
        return value
    return _flow(value)


def _flow(value) -> str:
    """A value on one line (YAML flow style; strings double-quoted, which is always safe)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return json.dumps(value)


def _top_keys(lines: list[str]) -> list[tuple[int, str]]:
    """(line, key) of the snippet's top-level keys."""
    found = []
    for i, line in enumerate(lines):
        m = re.match(r"^([A-Za-z_]+):", line)
        if m:
            found.append((i, m.group(1)))
    return found


def _set_key(snippet: str, key: str, value: str) -> str:
    """The snippet with top-level ``key`` set to a one-line ``value`` (continuation lines dropped)."""
    lines = snippet.rstrip("\n").split("\n")
    keys = _top_keys(lines)
    for n, (i, k) in enumerate(keys):
        if k == key:
            end = keys[n + 1][0] if n + 1 < len(keys) else len(lines)
            while end > i + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1
            lines[i:end] = [f"{key}: {_scalar(value)}"]
            return "\n".join(lines) + "\n"
    insert = 1 if keys and keys[0][1] == "id" else 0
    lines.insert(keys[insert - 1][0] + 1 if insert else 0, f"{key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def _append_items(snippet: str, key: str, items: list) -> str:
    """The snippet with ``items`` appended to its top-level list ``key`` (created when missing)."""
    if not items:
        return snippet
    lines = snippet.rstrip("\n").split("\n")
    keys = _top_keys(lines)
    for n, (i, k) in enumerate(keys):
        if k != key:
            continue
        end = keys[n + 1][0] if n + 1 < len(keys) else len(lines)
        while end > i + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        head, value = lines[i].split(":", 1)
        if value.strip():  # a one-line (flow) list stays on its line, the items added at its end
            current = yaml.load(value, Loader=SAFE_LOADER) or []
            if not isinstance(current, list):
                raise CodebookError(f"field '{key}' is not a list")
            lines[i] = f"{head}: {_flow([*current, *items])}"
            return "\n".join(lines) + "\n"
        dash = next((ln.index("-") for ln in lines[i + 1:end] if ln.lstrip().startswith("- ")), 2)
        lines[end:end] = [" " * dash + "- " + _flow(item) for item in items]
        return "\n".join(lines) + "\n"
    return "\n".join(lines + [f"{key}:"] + ["  - " + _flow(item) for item in items]) + "\n"


# -- operations ----------------------------------------------------------------------------------
def _validated(text: str, source: str) -> str:
    Codebook.from_yaml_text(text, source=source)
    return text


def _check_id(code_id: str) -> None:
    if not CODE_ID.match(code_id):
        raise CodebookError(f"code '{code_id}', field 'id': must look like 'theme.name' or 'theme.name.sub' "
                            "(lower case a-z and _)")


def new_code_snippet(code: dict) -> str:
    """A new code's YAML (keys in the codebook's order, empty optional fields left out)."""
    out = []
    for key in ("id", "name", "definition", "include", "exclude", "patterns", "examples"):
        value = code.get(key)
        if value in (None, "", [], ()):
            continue
        if isinstance(value, (list, tuple)):
            out.append(f"{key}:")
            out += [f"  - {_flow(v)}" for v in value]
        else:
            out.append(f"{key}: {_scalar(str(value).strip())}")
    return "\n".join(out) + "\n"


def add_code(text: str, code: dict, theme_name: str | None = None, theme_description: str = "",
             source: str = "<kodebok>") -> str:
    """``code`` (id, name, definition, patterns, optional include/exclude/examples) added to its theme.

    The theme is the first part of the id; a theme the codebook lacks is created when
    ``theme_name`` is given.
    """
    code_id = str(code.get("id", "")).strip()
    _check_id(code_id)
    return _insert(text, code_id, new_code_snippet({**code, "id": code_id}), theme_name, theme_description, source)


def _insert(text: str, code_id: str, snippet: str, theme_name: str | None, theme_description: str,
            source: str) -> str:
    lines, themes = _layout(text)
    if any(c.id == code_id for t in themes for c in t.children):
        raise CodebookError(f"code '{code_id}', field 'id': there is already a code with this id")
    theme_id = code_id.split(".")[0]
    theme = next((t for t in themes if t.id == theme_id), None)
    if theme is not None:
        last = theme.children[-1]
        return _validated(_splice(lines, last.end, last.end, _as_item(snippet, last.col)), source)
    if not theme_name:
        raise CodebookError(f"code '{code_id}': theme '{theme_id}' does not exist; give the new theme a name")
    head = f"id: {theme_id}\nname: {_scalar(theme_name.strip())}\n"
    if theme_description.strip():
        head += f"description: {_scalar(theme_description.strip())}\n"
    col = themes[-1].col
    code_col = themes[-1].children[0].col - col if themes[-1].children else 4
    body = head + "codes:\n" + "".join(" " * (code_col - 2) + ln if ln.strip() else ln
                                       for ln in _as_item(snippet, 2))
    at = themes[-1].end
    return _validated(_splice(lines, at, at, _as_item(body, col)), source)


def delete_code(text: str, code_id: str, source: str = "<kodebok>") -> str:
    """The codebook without ``code_id``; a theme left without codes goes with it."""
    lines, themes = _layout(text)
    theme, code = _find(themes, code_id)
    if len(theme.children) == 1:
        if len(themes) == 1:
            raise CodebookError(f"code '{code_id}' is the codebook's last code and cannot be deleted")
        return _validated(_splice(lines, theme.start, theme.end, []), source)
    return _validated(_splice(lines, code.start, code.end, []), source)


def rename_code(text: str, code_id: str, new_id: str | None = None, name: str | None = None,
                theme_name: str | None = None, source: str = "<kodebok>") -> str:
    """``code_id`` under a new id and/or name. A new first part moves the code to that theme
    (created when ``theme_name`` is given); the code's own lines and comments go with it."""
    new_id = (new_id or code_id).strip()
    if new_id == code_id and not (name or "").strip():
        raise CodebookError(f"code '{code_id}': give a new id or a new name")
    _check_id(new_id)
    lines, themes = _layout(text)
    theme, code = _find(themes, code_id)
    snippet = _snippet(lines, code)
    if name and name.strip():
        snippet = _set_key(snippet, "name", name.strip())
    if new_id == code_id:
        return _validated(_splice(lines, code.start, code.end, _as_item(snippet, code.col)), source)
    if any(c.id == new_id for t in themes for c in t.children):
        raise CodebookError(f"code '{new_id}', field 'id': there is already a code with this id")
    snippet = _set_key(snippet, "id", new_id)
    if new_id.split(".")[0] == theme.id:
        return _validated(_splice(lines, code.start, code.end, _as_item(snippet, code.col)), source)
    if len(theme.children) == 1 and len(themes) == 1:
        raise CodebookError(f"code '{code_id}' is the codebook's last code and cannot be moved")
    without = _splice(lines, theme.start, theme.end, []) if len(theme.children) == 1 \
        else _splice(lines, code.start, code.end, [])
    return _insert(without, new_id, snippet, theme_name, "", source)


def move_code(text: str, code_id: str, theme_id: str, theme_name: str | None = None,
              source: str = "<kodebok>") -> str:
    """``code_id`` filed under ``theme_id``: its id's first part changes (``a.b.c`` → ``t.b.c``)."""
    if not THEME_ID.match(theme_id):
        raise CodebookError(f"theme '{theme_id}', field 'id': must be lower case a-z")
    new_id = ".".join([theme_id, *code_id.split(".")[1:]])
    if new_id == code_id:
        raise CodebookError(f"code '{code_id}' is already in theme '{theme_id}'")
    return rename_code(text, code_id, new_id, theme_name=theme_name, source=source)


def merge_codes(text: str, source_id: str, target_id: str, source: str = "<kodebok>") -> str:
    """``source_id`` folded into ``target_id``: its patterns, signals and examples join the target's, then it goes.

    The target keeps its name and definition. The source's negative and context rules
    follow only the patterns they came with (``applies_to``), so they never start to
    limit the target's own patterns.
    """
    if source_id == target_id:
        raise CodebookError(f"code '{source_id}' cannot be merged into itself")
    book = Codebook.from_yaml_text(text, source=source)
    try:
        src, tgt = book.code(source_id), book.code(target_id)
    except KeyError as err:
        raise CodebookError(f"code '{err.args[0]}' is not in the codebook") from None
    have = {p.label for p in tgt.patterns}
    added = [p for p in src.patterns if p.label not in have]
    new_labels = [p.label for p in added]
    rules = {"negative": [], "context": []}
    for kind, found in (("negative", src.negative), ("context", src.context)):
        for rule in found:
            targets = [t for t in (rule.applies_to or [p.label for p in src.patterns]) if t in new_labels]
            if targets:
                rules[kind].append({**rule.model_dump(exclude_defaults=True), "applies_to": targets})
    without = delete_code(text, source_id, source="<kodebok>")
    lines, themes = _layout(without)
    _, target = _find(themes, target_id)
    snippet = _snippet(lines, target)
    snippet = _append_items(snippet, "patterns", [p.to_data() for p in added])
    snippet = _append_items(snippet, "negative", rules["negative"])
    snippet = _append_items(snippet, "context", rules["context"])
    snippet = _append_items(snippet, "signals", [t for t in src.signals if t not in tgt.signals])
    snippet = _append_items(snippet, "examples", [e for e in src.examples if e not in tgt.examples])
    return _validated(_splice(lines, target.start, target.end, _as_item(snippet, target.col)), source)


def replace_code(book: Codebook | str, code_id: str, snippet: str, source: str = "<redigert>") -> tuple[Codebook, str]:
    """The codebook with ``code_id`` rewritten from ``snippet`` (its YAML, comments allowed); and its text.

    The snippet must keep the code's id: a new code or a new id is a different
    action (add, rename), so an edit can never silently replace another code.
    """
    text = book if isinstance(book, str) else book_text(book)
    node = parse_yaml_mapping(snippet, f"code '{code_id}'", "id, name, definition and patterns")
    if str(node.get("id", "")) != code_id:
        raise CodebookError(f"code '{code_id}', field 'id': the id was changed to '{node.get('id')}'; "
                            "use «Gi nytt navn» to rename a code or «Ny kode» to add one")
    lines, themes = _layout(text)
    _, code = _find(themes, code_id)
    snippet = "\n".join(line.rstrip() for line in snippet.replace("\r\n", "\n").split("\n"))
    new_text = _splice(lines, code.start, code.end, _as_item(snippet, code.col))
    return Codebook.from_yaml_text(new_text, source=source), new_text
