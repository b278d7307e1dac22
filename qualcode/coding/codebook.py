"""The codebook: themes, codes and their transparent matching rules, loaded from YAML.

The YAML format (documented at the top of `codebooks/barnevern.yaml`) is validated
with pydantic. Any problem becomes a `CodebookError` whose message names the
file, the code and the field, so a researcher editing the YAML can fix it.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from qualcode.paths import CODEBOOKS

DEFAULT_PATH = CODEBOOKS / "barnevern.yaml"

# theme.code, or deeper (theme.code.subcode, as REFI projects from NVivo nest): the theme is the first part
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~8x faster; every worker loads the codebook
CODE_ID = re.compile(r"^[a-z]+(\.[a-z_]+)+$")
# One token of a pattern: a word (letters, digits, § - , / ' .) with an optional
# leading and/or trailing "*", or a reference "@name" to a shared term list.
TERM = re.compile(r"^(@[a-z_]+|\*?[^\s*]+\*?|[^\s*])$")


class CodebookError(ValueError):
    """A codebook file that cannot be used; the message says where and why."""


def _check_pattern(text: str) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise ValueError("pattern must not be empty")
    for tok in text.split(" "):
        if not TERM.match(tok) or tok == "*":
            raise ValueError(f"bad term {tok!r} in pattern {text!r} (use words, '*' only at word ends, '@list')")
        if tok.startswith("@") and len(text.split(" ")) > 1:
            raise ValueError(f"term list reference {tok!r} must stand alone, not inside a phrase")
    return text


def _labels(v: list[str] | None) -> list[str] | None:
    """`applies_to` entries name patterns by their text, or "near(a, b, N)" for near rules."""
    return None if v is None else [" ".join(str(x).split()) for x in v]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pattern(Strict):
    """Evidence for a code: a word/phrase (`pattern`) or two terms close together (`near`)."""

    pattern: str | None = None
    near: list[str] | None = None
    within: int = Field(default=5, ge=1, le=50)
    weight: float = Field(default=1.0, ge=0, le=5)  # 0: a signal, shown and read by the model, never decides

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"pattern": v} if isinstance(v, str) else v

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        return None if v is None else _check_pattern(v)

    @field_validator("near")
    @classmethod
    def _near(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        if len(v) != 2:
            raise ValueError("near needs exactly two terms, e.g. near: [ulik*, forståelse]")
        return [_check_pattern(x) for x in v]

    @model_validator(mode="after")
    def _one_kind(self) -> "Pattern":
        if (self.pattern is None) == (self.near is None):
            raise ValueError("give either 'pattern' or 'near' (not both, not neither)")
        return self

    @property
    def label(self) -> str:
        """How the pattern is shown as evidence (and referred to by context rules)."""
        if self.pattern is not None:
            return self.pattern
        return f"near({self.near[0]}, {self.near[1]}, {self.within})"

    def to_data(self) -> Any:
        """Plain data for YAML: a bare string when only `pattern` is set."""
        data = self.model_dump(exclude_defaults=True)
        return data["pattern"] if set(data) == {"pattern"} else data


class Negative(Pattern):
    """Evidence against: drops overlapping hits (`scope: match`), or all hits of the
    code in the same sentence / segment; `applies_to` limits it to some patterns."""

    scope: Literal["match", "sentence", "segment"] = "match"
    applies_to: list[str] | None = None

    @field_validator("applies_to")
    @classmethod
    def _targets(cls, v: list[str] | None) -> list[str] | None:
        return _labels(v)


class ContextRule(Strict):
    """Hits of the listed patterns (default: all) only count if a `require` term
    occurs in the same scope and no `forbid` term does. `scope` is "sentence",
    "segment" or a number of tokens either side."""

    applies_to: list[str] | None = None
    require: list[str] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)
    scope: Literal["sentence", "segment"] | int = "sentence"
    note: str = ""

    @field_validator("require", "forbid")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        return [_check_pattern(x) for x in v]

    @field_validator("applies_to")
    @classmethod
    def _targets(cls, v: list[str] | None) -> list[str] | None:
        return _labels(v)

    @model_validator(mode="after")
    def _useful(self) -> "ContextRule":
        if not self.require and not self.forbid:
            raise ValueError("a context rule needs 'require' and/or 'forbid' terms")
        return self


class Code(Strict):
    id: str
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    include: str = ""
    exclude: str = ""
    patterns: list[Pattern] = Field(min_length=1)
    # words that point at the code without deciding it: evidence for the reviewer and
    # features for the model (patterns of weight 0; negatives and context rules apply)
    signals: list[str] = Field(default_factory=list)
    negative: list[Negative] = Field(default_factory=list)
    context: list[ContextRule] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0, le=5)
    min_score: float = Field(default=0.5, gt=0, le=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not CODE_ID.match(v):
            raise ValueError("code id must look like 'theme.name' or 'theme.name.sub' (lower case, a-z and _)")
        return v

    @field_validator("signals")
    @classmethod
    def _signals(cls, v: list[str]) -> list[str]:
        return [_check_pattern(x) for x in v]

    @property
    def all_patterns(self) -> list[Pattern]:
        """The deciding patterns, then the signals as patterns of weight 0."""
        return [*self.patterns, *(Pattern(pattern=s, weight=0.0) for s in self.signals)]

    @model_validator(mode="after")
    def _applies_to_known(self) -> "Code":
        labels = {p.label for p in self.all_patterns}
        for kind, rules in (("negative", self.negative), ("context", self.context)):
            for i, rule in enumerate(rules):
                for ref in rule.applies_to or []:
                    if ref not in labels:
                        raise ValueError(f"{kind}[{i}].applies_to: {ref!r} is not one of this code's patterns")
        return self


class Theme(Strict):
    id: str = Field(pattern=r"^[a-z]+$")
    name: str = Field(min_length=1)
    description: str = ""
    codes: list[Code] = Field(min_length=1)

    @model_validator(mode="after")
    def _prefix(self) -> "Theme":
        for c in self.codes:
            if c.id.split(".")[0] != self.id:
                raise ValueError(f"code '{c.id}', field 'id': filed under theme '{self.id}' but has another prefix")
        return self


def parse_yaml_mapping(text: str, where: str, expected: str) -> dict:
    """YAML text that must be a mapping; any other text is a CodebookError naming ``where``."""
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise CodebookError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CodebookError(f"{where}: expected a mapping with {expected}")
    return data


class Codebook(Strict):
    name: str
    language: str = "nb"
    version_label: str
    description: str = ""
    terms: dict[str, list[str]] = Field(default_factory=dict)
    themes: list[Theme] = Field(min_length=1)

    _source: str = PrivateAttr(default="<text>")
    _version: str = PrivateAttr(default="")

    @field_validator("terms")
    @classmethod
    def _term_lists(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        out = {}
        for name, items in v.items():
            if not re.match(r"^[a-z_]+$", name):
                raise ValueError(f"term list name {name!r} must be lower case a-z and _")
            if not items:
                raise ValueError(f"term list {name!r} is empty")
            out[name] = [_check_pattern(x) for x in items]
            if any(x.startswith("@") for x in out[name]):
                raise ValueError(f"term list {name!r} may not refer to other lists")
        return out

    @model_validator(mode="after")
    def _consistent(self) -> "Codebook":
        seen: set[str] = set()
        for code in self.codes:
            if code.id in seen:
                raise ValueError(f"code '{code.id}', field 'id': duplicate code id")
            seen.add(code.id)
            for where, ref in _references(code):
                if ref[1:] not in self.terms:
                    raise ValueError(f"code '{code.id}', field '{where}': undefined term list {ref!r} "
                                     f"(define it under 'terms:')")
        return self

    # -- convenience -------------------------------------------------------
    @property
    def codes(self) -> list[Code]:
        return [c for t in self.themes for c in t.codes]

    @property
    def code_ids(self) -> list[str]:
        return [c.id for c in self.codes]

    @property
    def version(self) -> str:
        """Short content hash of the YAML text: changes whenever the rules change."""
        return self._version

    @property
    def source(self) -> str:
        return self._source

    def code(self, code_id: str) -> Code:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    def parent_of(self, code_id: str) -> Code | None:
        """The nearest code above a nested one (``a.b`` for ``a.b.c``), if the codebook has it."""
        parts = code_id.split(".")
        known = {c.id: c for c in self.codes}
        for cut in range(len(parts) - 1, 1, -1):
            found = known.get(".".join(parts[:cut]))
            if found is not None:
                return found
        return None

    def theme_of(self, code_id: str) -> Theme:
        for t in self.themes:
            if any(c.id == code_id for c in t.codes):
                return t
        raise KeyError(code_id)

    def expand(self, term: str) -> list[str]:
        """A pattern string, or the members of the `@list` it names."""
        return list(self.terms[term[1:]]) if term.startswith("@") else [term]

    # -- (de)serialisation ------------------------------------------------
    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<text>") -> "Codebook":
        """Parse and validate YAML text (used by the review app before saving edits)."""
        data = parse_yaml_mapping(text, source, "'name', 'version_label' and 'themes'")
        try:
            book = cls.model_validate(data)
        except ValidationError as exc:
            raise CodebookError(_explain(exc, data, source)) from None
        book._source = source
        canonical = text.replace("\r\n", "\n").encode("utf-8")
        book._version = hashlib.sha256(canonical).hexdigest()[:12]
        return book

    def to_yaml(self) -> str:
        """YAML text that loads back to an equal codebook (comments are not kept)."""
        data: dict[str, Any] = {"name": self.name, "language": self.language, "version_label": self.version_label}
        if self.description:
            data["description"] = self.description
        if self.terms:
            data["terms"] = {k: list(v) for k, v in self.terms.items()}
        data["themes"] = []
        for t in self.themes:
            codes = []
            for c in t.codes:
                d = c.model_dump(exclude_defaults=True, exclude={"patterns", "negative", "context"})
                d["patterns"] = [p.to_data() for p in c.patterns]
                if c.negative:
                    d["negative"] = [n.to_data() for n in c.negative]
                if c.context:
                    d["context"] = [r.model_dump(exclude_defaults=True) for r in c.context]
                codes.append(d)
            data["themes"].append({"id": t.id, "name": t.name, "description": t.description, "codes": codes})
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _references(code: Code) -> list[tuple[str, str]]:
    """(field, "@list") for every term-list reference in a code."""
    refs: list[tuple[str, str]] = []
    refs += [(f"signals[{i}]", t) for i, t in enumerate(code.signals)]
    for kind in ("patterns", "negative"):
        for i, p in enumerate(getattr(code, kind)):
            refs += [(f"{kind}[{i}]", t) for t in ([p.pattern] if p.pattern is not None else p.near)]
    for i, r in enumerate(code.context):
        refs += [(f"context[{i}]", t) for t in [*r.require, *r.forbid]]
    return [(where, t) for where, t in refs if t.startswith("@")]


def _explain(exc: ValidationError, data: dict, source: str) -> str:
    """Turn pydantic error locations into 'file: code 'x', field 'patterns[2]': msg' lines."""
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 4 and loc[0] == "themes" and loc[2] == "codes":
            try:
                code = data["themes"][loc[1]]["codes"][loc[3]]
                cid = code.get("id", f"#{loc[3] + 1}") if isinstance(code, dict) else f"#{loc[3] + 1}"
            except (KeyError, IndexError, TypeError):
                cid = f"#{loc[3] + 1}"
            where, loc = f"code '{cid}', ", loc[4:]
        elif len(loc) >= 2 and loc[0] == "themes":
            try:
                tid = data["themes"][loc[1]].get("id", f"#{loc[1] + 1}")
            except (KeyError, IndexError, TypeError, AttributeError):
                tid = f"#{loc[1] + 1}"
            where, loc = f"theme '{tid}', ", loc[2:]
        # drop pydantic's union/function tags such as 'function-after[...]'
        parts = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "int"}))]
        field = ""
        for p in parts:
            field += f"[{p}]" if isinstance(p, int) else (f".{p}" if field else str(p))
        msg = err["msg"].removeprefix("Value error, ")
        if msg.startswith("code '"):  # a cross-field check that already says where
            lines.append(f"{source}: {msg}")
            continue
        m = re.match(r"^([\w\[\]\.]+): (.*)$", msg)
        if not field and m:  # model-level check naming its own field, e.g. "context[0].applies_to: ..."
            field, msg = m.group(1), m.group(2)
        lines.append(f"{source}: {where}field '{field or '(top level)'}': {msg}")
    return "\n".join(lines)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook YAML file (default: the shipped barnevern codebook)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read codebook: {exc.strerror}") from None
    return Codebook.from_yaml_text(text, source=str(path))
