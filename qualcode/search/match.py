"""Evaluate a query tree on one segment in Python: does it match, and which words made it match.

This is the reference meaning of the search language. The full-text backends compile
the same tree to SQL and must agree with it (tested); the result page uses it to mark
the matching words of each hit, and databases without a full-text index search with it.

A word (W) matches a token when one of the word's candidates (``terms.candidates``:
its lemma, and the word itself read as a lemma) is the token's lemma, its compound
head or one of its longer heads - or, with ``parts`` on, one of its other compound
parts. A prefix word matches when one of those begins with it. Phrases compare lemmas
of adjacent tokens. NEAR compares lemmas, or compound heads, of tokens at most N words
apart, in either order.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from qualcode.search.query import And, Near, Node, Not, Or, Phrase, Word
from qualcode.search.terms import Token, candidates

LOOSE = -1  # matched through an unaligned column (a stored row), position unknown


@dataclass
class Doc:
    """One segment's terms: per token its lemma and head (aligned), longer heads and parts;
    ``loose_*`` hold longer heads and parts known only as a bag (from the stored columns)."""

    lemmas: list[str]
    heads: list[str]
    tails: list[tuple[str, ...]] = field(default_factory=list)
    parts: list[tuple[str, ...]] = field(default_factory=list)
    loose_tails: frozenset[str] = frozenset()
    loose_parts: frozenset[str] = frozenset()

    @classmethod
    def from_tokens(cls, tokens: Iterable[Token]) -> "Doc":
        tokens = list(tokens)
        return cls([t.term.lemma for t in tokens], [t.term.head for t in tokens],
                   [t.term.tails for t in tokens], [t.term.parts for t in tokens])

    @classmethod
    def from_columns(cls, lemmas: str, heads: str, tails: str, parts: str) -> "Doc":
        return cls(lemmas.split(), heads.split(), loose_tails=frozenset(tails.split()),
                   loose_parts=frozenset(parts.split()))


def _hits(value: str, word: Word, cands: tuple[str, ...]) -> bool:
    return value.startswith(word.text) if word.prefix else value in cands


def _any(values: Iterable[str], word: Word, cands: tuple[str, ...]) -> bool:
    return any(_hits(v, word, cands) for v in values)


def _cands(word: Word) -> tuple[str, ...]:
    return () if word.prefix else candidates(word.text)


def _word(doc: Doc, word: Word, parts: bool) -> set[int]:
    cands = _cands(word)
    found = set()
    for i, (lemma, head) in enumerate(zip(doc.lemmas, doc.heads)):
        if (_hits(lemma, word, cands) or _hits(head, word, cands)
                or (i < len(doc.tails) and _any(doc.tails[i], word, cands))
                or (parts and i < len(doc.parts) and _any(doc.parts[i], word, cands))):
            found.add(i)
    if _any(doc.loose_tails, word, cands) or (parts and _any(doc.loose_parts, word, cands)):
        found.add(LOOSE)
    return found


def _phrase(doc: Doc, phrase: Phrase) -> set[int]:
    words = [(w, _cands(w)) for w in phrase.words]
    k, found = len(words), set()
    for i in range(len(doc.lemmas) - k + 1):
        if all(_hits(doc.lemmas[i + j], w, c) for j, (w, c) in enumerate(words)):
            found.update(range(i, i + k))
    return found


def _near(doc: Doc, near: Near) -> set[int]:
    ca, cb = _cands(near.a), _cands(near.b)
    found = set()
    for column in (doc.lemmas, doc.heads):
        pa = [i for i, v in enumerate(column) if _hits(v, near.a, ca)]
        pb = [j for j, v in enumerate(column) if _hits(v, near.b, cb)]
        for i in pa:
            for j in pb:
                if i != j and abs(i - j) - 1 <= near.within:
                    found.update((i, j))
    return found


def positions(node: Node, doc: Doc, parts: bool = False) -> set[int] | None:
    """Token positions that make ``node`` match (``LOOSE`` for an unaligned match), or None."""
    if isinstance(node, Word):
        return _word(doc, node, parts) or None
    if isinstance(node, Phrase):
        return _phrase(doc, node) or None
    if isinstance(node, Near):
        return _near(doc, node) or None
    if isinstance(node, Or):
        found = [p for p in (positions(i, doc, parts) for i in node.items) if p is not None]
        return set().union(*found) if found else None
    if isinstance(node, And):
        out: set[int] = set()
        for item in node.items:
            if isinstance(item, Not):
                if positions(item.item, doc, parts) is not None:
                    return None
                continue
            found = positions(item, doc, parts)
            if found is None:
                return None
            out |= found
        return out
    if isinstance(node, Not):  # only inside And (the parser refuses a bare NOT)
        raise ValueError("a bare NOT cannot be evaluated")
    raise TypeError(f"not a query node: {node!r}")


def matches(node: Node, doc: Doc, parts: bool = False) -> bool:
    return positions(node, doc, parts) is not None
