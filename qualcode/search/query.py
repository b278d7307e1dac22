"""The search language: words, "phrases", NEAR, OR, NOT and parentheses, parsed into a small tree.

    veiledning                  the word in every inflection, and compounds it is the head of
                                ("foreldreveiledningen"); with compound parts on, also compounds
                                it begins or sits inside ("veiledningstilbud")
    forebygg*                   words (lemmas) that begin with "forebygg"
    "tidlig innsats"            a phrase: these words side by side («tidlig innsats» works too)
    NEAR(foreldre veiledning, 5)  both words, at most 5 words apart, in either order
                                (also NÆR(...), near(a, b, 5); without a number: 5)
    barnehage skole             both words (AND / OG may be written out)
    barnehage OR skole          either (also ELLER)
    barnevern NOT tiltak        the first without the second (also IKKE, or -tiltak)
    (skole OR barnehage) NOT privat

Operators are upper case; in lower case they are ordinary words. The tree is evaluated
by ``qualcode.search.match`` (in Python) and compiled by ``qualcode.search.backends``
(SQLite FTS5, PostgreSQL tsquery), which agree by construction and by test.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from qualcode.search.terms import WORD

DEFAULT_NEAR = 5
MAX_NEAR = 50


class QueryError(ValueError):
    """A search the parser cannot read; the message says what to change (in Norwegian, for the app)."""


@dataclass(frozen=True)
class Word:
    text: str  # lower-cased word form (without the "*")
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Near:
    a: Word
    b: Word
    within: int = DEFAULT_NEAR


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


Node = Word | Phrase | Near | And | Or | Not

OPERATORS = {"AND": "AND", "OG": "AND", "OR": "OR", "ELLER": "OR", "NOT": "NOT", "IKKE": "NOT"}
_TOKEN = re.compile(r"""
    (?P<near>(?:NEAR|NÆR|near|nær)\s*\()
  | (?P<quote>["«“”»])
  | (?P<open>\()
  | (?P<close>\))
  | (?P<minus>-(?=[^\W_]))
  | (?P<bare>[^\s()"«“”»]+)
""", re.VERBOSE)
_QUERY_WORD = re.compile(r"\*?(" + WORD.pattern + r")(\*?)")  # words are cut as the index cuts them
_QUOTE_END = {'"': '"', "«": "»", "“": "”", "”": "”", "»": "»"}


def parse(text: str) -> Node:
    """The tree of a query; raises QueryError with a plain explanation."""
    tokens = _lex(text)
    if not tokens:
        raise QueryError("Skriv minst ett ord å søke etter.")
    parser = _Parser(tokens)
    node = parser.or_expr()
    if parser.pos < len(tokens):
        raise QueryError(f"Forstod ikke «{tokens[parser.pos][1]}» i søket (mangler en parentes?).")
    _check_positive(node)
    return node


def _lex(text: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the pattern matches any non-space character
            raise QueryError(f"Forstod ikke tegnet «{text[pos]}».")
        kind = m.lastgroup
        if kind == "quote":
            end = text.find(_QUOTE_END[m.group()], m.end())
            if end < 0:
                raise QueryError("Et anførselstegn er ikke lukket: skriv uttrykket som \"tidlig innsats\".")
            out.append(("phrase", text[m.end():end]))
            pos = end + 1
            continue
        if kind == "near":
            end = text.find(")", m.end())
            if end < 0:
                raise QueryError("NEAR mangler sluttparentes: skriv NEAR(foreldre veiledning, 5).")
            out.append(("near", text[m.end():end]))
            pos = end + 1
            continue
        value = m.group()
        if kind == "bare" and value in OPERATORS:
            out.append(("op", OPERATORS[value]))
        else:
            out.append((kind, value))
        pos = m.end()
    return out


def _words(raw: str) -> list[Word]:
    """The words of a bare term or a phrase; a trailing "*" makes a word a prefix."""
    out = []
    for m in _QUERY_WORD.finditer(raw):
        out.append(Word(m.group(1).lower(), prefix=bool(m.group(2))))
    return out


def _term(raw: str) -> Node | None:
    words = _words(raw)
    if not words:
        return None
    return words[0] if len(words) == 1 else Phrase(tuple(words))


def _near(body: str) -> Near:
    parts = [p for p in re.split(r"[\s,;]+", body.strip()) if p]
    within = DEFAULT_NEAR
    if parts and parts[-1].isdigit():
        within = int(parts.pop())
    words = [w for p in parts for w in _words(p)]
    if len(words) != 2:
        raise QueryError("NEAR tar to ord og et tall: NEAR(foreldre veiledning, 5).")
    if not 0 <= within <= MAX_NEAR:
        raise QueryError(f"Avstanden i NEAR må være mellom 0 og {MAX_NEAR} ord.")
    return Near(words[0], words[1], within)


class _Parser:
    def __init__(self, tokens: list[tuple[str, object]]):
        self.tokens, self.pos = tokens, 0

    def peek(self) -> tuple[str, object] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek() == ("op", "OR"):
            self.pos += 1
            items.append(self.and_expr())
        if any(i is None for i in items):
            raise QueryError("Det er ingenting å søke etter på en av sidene av OR/ELLER." if len(items) > 1
                             else "Skriv minst ett ord å søke etter.")
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node | None:
        items = []
        while True:
            token = self.peek()
            if token is None or token in (("op", "OR"),) or token[0] == "close":
                break
            if token == ("op", "AND"):
                self.pos += 1
                continue
            item = self.unary()
            if item is not None:
                items.append(item)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node | None:
        kind, value = self.tokens[self.pos]
        if (kind, value) == ("op", "NOT") or kind == "minus":
            self.pos += 1
            if self.peek() is None:
                raise QueryError("NOT/IKKE må følges av et ord.")
            item = self.unary()
            return None if item is None else Not(item)
        return self.atom()

    def atom(self) -> Node | None:
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "open":
            inner = self.or_expr()
            if self.peek() is None or self.peek()[0] != "close":
                raise QueryError("En parentes er ikke lukket.")
            self.pos += 1
            return inner
        if kind == "close":
            raise QueryError("En sluttparentes står uten startparentes.")
        if kind == "phrase":
            return _term(str(value))
        if kind == "near":
            return _near(str(value))
        return _term(str(value))


def _check_positive(node: Node) -> None:
    """Every AND needs something that must be there, and OR cannot take a bare NOT
    (a search for "everything except" would list the whole corpus)."""
    if isinstance(node, Not):
        raise QueryError("Et søk kan ikke bare bestå av NOT/IKKE: skriv hva som skal finnes, f.eks. «barnevern IKKE tiltak».")
    if isinstance(node, And):
        if all(isinstance(i, Not) for i in node.items):
            raise QueryError("NOT/IKKE trenger et ord som skal finnes, f.eks. «barnevern IKKE tiltak».")
        for i in node.items:
            _check_positive(i.item if isinstance(i, Not) else i)
    if isinstance(node, Or):
        for i in node.items:
            _check_positive(i)


def words_of(node: Node) -> list[Word]:
    """Every word the query looks for (not the ones it excludes)."""
    if isinstance(node, Word):
        return [node]
    if isinstance(node, Phrase):
        return list(node.words)
    if isinstance(node, Near):
        return [node.a, node.b]
    if isinstance(node, Not):
        return []
    return [w for item in node.items for w in words_of(item)]


def to_text(node: Node) -> str:
    """The query written back in canonical form (for messages, saved searches and tests)."""
    if isinstance(node, Word):
        return node.text + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return '"' + " ".join(to_text(w) for w in node.words) + '"'
    if isinstance(node, Near):
        return f"NEAR({to_text(node.a)} {to_text(node.b)}, {node.within})"
    if isinstance(node, Not):
        return "NOT " + _wrapped(node.item)
    joiner = " OR " if isinstance(node, Or) else " "
    return joiner.join(_wrapped(i) if isinstance(node, And) or isinstance(i, Or) else to_text(i) for i in node.items)


def _wrapped(node: Node) -> str:
    return f"({to_text(node)})" if isinstance(node, (And, Or)) else to_text(node)

