"""Run a query tree on the store: SQLite FTS5, PostgreSQL tsquery, or a Python scan elsewhere.

All three read the same ``search_terms`` rows and mean what ``qualcode.search.match``
means (tests compare them on the same corpus):

- FTS5 (``search_fts``, migration 0008): a word is ``{lemmas heads tails} : ("c1" OR "c2")``,
  a phrase ``lemmas : ("a" + "b")``, NEAR ``{lemmas heads} : NEAR("a" "b", N)`` (FTS5
  keeps NEAR inside one column, as ``match`` does).
- PostgreSQL: one GIN index over the weighted tsvector of the four columns (A lemmas,
  B heads, C tails, D parts); a word is ``c1:ABC | c2:ABC``, a phrase ``a:A <-> b:A``,
  NEAR the distances 1..N+1 in both orders, per weight.
- Anywhere else: the rows are read and ``match`` decides (no index; slow on big stores).
"""
from __future__ import annotations

from itertools import product

from sqlalchemy import Select, column, table, text
from sqlalchemy.orm import Session

from qualcode.search.match import Doc, matches
from qualcode.search.query import And, Near, Node, Not, Or, Phrase, Word
from qualcode.search.terms import candidates
from qualcode.store import schema

MAX_ALTERNATIVES = 32  # a phrase whose words have two readings each is tried in every combination
# must equal the expression of the GIN index made by migration 0008, or PostgreSQL will not use it
PG_VECTOR = ("setweight(to_tsvector('simple', search_terms.lemmas), 'A') || "
             "setweight(to_tsvector('simple', search_terms.heads), 'B') || "
             "setweight(to_tsvector('simple', search_terms.tails), 'C') || "
             "setweight(to_tsvector('simple', search_terms.parts), 'D')")
FTS = table("search_fts", column("rowid"))


def backend_name(session: Session) -> str:
    dialect = session.get_bind().dialect.name
    return {"sqlite": "fts5", "postgresql": "postgresql"}.get(dialect, "scan")


def _alternatives(word: Word) -> tuple[str, ...]:
    return (word.text,) if word.prefix else candidates(word.text)


def _combinations(words: tuple[Word, ...]) -> list[tuple[tuple[str, Word], ...]]:
    options = [[(alt, w) for alt in _alternatives(w)] for w in words]
    combos = list(product(*options))
    if len(combos) > MAX_ALTERNATIVES:  # keep the lemma reading only
        combos = [tuple((_alternatives(w)[0], w) for w in words)]
    return combos


# -- SQLite FTS5 ----------------------------------------------------------------------------------
def _fts_string(value: str, word: Word) -> str:
    return '"' + value.replace('"', '""') + '"' + ("*" if word.prefix else "")


def fts5_expression(node: Node, parts: bool = False) -> str:
    """The FTS5 MATCH expression for ``node`` on ``search_fts``."""
    if isinstance(node, Word):
        cols = "{lemmas heads tails parts}" if parts else "{lemmas heads tails}"
        return f"{cols} : (" + " OR ".join(_fts_string(a, node) for a in _alternatives(node)) + ")"
    if isinstance(node, Phrase):
        phrases = ["(" + " + ".join(_fts_string(a, w) for a, w in combo) + ")" for combo in _combinations(node.words)]
        return "lemmas : (" + " OR ".join(phrases) + ")"
    if isinstance(node, Near):
        nears = [f"NEAR({_fts_string(a, wa)} {_fts_string(b, wb)}, {node.within})"
                 for (a, wa), (b, wb) in _combinations((node.a, node.b))]
        return "{lemmas heads} : (" + " OR ".join(nears) + ")"
    if isinstance(node, Or):
        return " OR ".join(f"({fts5_expression(i, parts)})" for i in node.items)
    if isinstance(node, And):
        positive = [f"({fts5_expression(i, parts)})" for i in node.items if not isinstance(i, Not)]
        negative = [f"({fts5_expression(i.item, parts)})" for i in node.items if isinstance(i, Not)]
        return "(" + " AND ".join(positive) + ")" + "".join(f" NOT {n}" for n in negative)
    raise ValueError(f"cannot search for {node!r} on its own")


# -- PostgreSQL --------------------------------------------------------------------------------------
def _lexeme(value: str, word: Word, weights: str) -> str:
    return "'" + value.replace("'", "''") + "':" + ("*" if word.prefix else "") + weights


def tsquery(node: Node, parts: bool = False) -> str:
    """The ``to_tsquery('simple', …)`` text for ``node`` on the weighted search vector."""
    if isinstance(node, Word):
        weights = "ABCD" if parts else "ABC"
        return "(" + " | ".join(_lexeme(a, node, weights) for a in _alternatives(node)) + ")"
    if isinstance(node, Phrase):
        return "(" + " | ".join("(" + " <-> ".join(_lexeme(a, w, "A") for a, w in combo) + ")"
                                for combo in _combinations(node.words)) + ")"
    if isinstance(node, Near):
        out = []
        for weight in "AB":
            for (a, wa), (b, wb) in _combinations((node.a, node.b)):
                la, lb = _lexeme(a, wa, weight), _lexeme(b, wb, weight)
                out += [f"({x} <{k}> {y})" for k in range(1, node.within + 2) for x, y in ((la, lb), (lb, la))]
        return "(" + " | ".join(out) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(tsquery(i, parts) for i in node.items) + ")"
    if isinstance(node, And):
        return "(" + " & ".join(("!" + tsquery(i.item, parts)) if isinstance(i, Not) else tsquery(i, parts)
                                for i in node.items) + ")"
    raise ValueError(f"cannot search for {node!r} on its own")


# -- running it -----------------------------------------------------------------------------------------
def matching(session: Session, node: Node, base: Select, parts: bool = False, backend: str | None = None) -> list:
    """The rows of ``base`` (a select over ``segments``) whose segment matches ``node``, in ``base``'s order."""
    backend = backend or backend_name(session)
    S, T = schema.Segment, schema.SearchTerms
    if backend == "fts5":
        query = base.join(FTS, FTS.c.rowid == S.id).where(
            text("search_fts MATCH :fts").bindparams(fts=fts5_expression(node, parts)))
        return list(session.execute(query))
    if backend == "postgresql":
        query = base.join(T, T.segment_id == S.id).where(
            text(f"({PG_VECTOR}) @@ to_tsquery('simple', :tsq)").bindparams(tsq=tsquery(node, parts)))
        return list(session.execute(query))
    query = base.join(T, T.segment_id == S.id).add_columns(T.lemmas, T.heads, T.tails, T.parts)
    out = []
    for row in session.execute(query):
        if matches(node, Doc.from_columns(*row[-4:]), parts):
            out.append(row[:-4])
    return out

