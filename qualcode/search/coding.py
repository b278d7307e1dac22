"""From a search to codes: code every hit as a reviewer, or offer the search to a code as patterns.

Coding hits goes through ``qualcode.review.actions.add_many`` (one transaction, one audit
row per coding plus a summary, undone as a whole with ``undo_many``). A saved search
becomes a *proposal* (``search_proposals``): the codebook patterns that say what the
search says, waiting in the codebook editor until someone accepts (the patterns are
added to the code, a new codebook version) or dismisses it.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.review import actions
from qualcode.search.index import chunks
from qualcode.search.query import And, Near, Node, Not, Or, Phrase, Word, parse, to_text
from qualcode.search.search import Filters, SearchResult
from qualcode.search.terms import candidates
from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.schema import utcnow

MAX_WITHIN = 50  # the codebook's largest `within`


def code_hits(factory, result: SearchResult, code: str, reviewer: str, only: list[int] | None = None,
              filters: Filters | None = None) -> actions.BatchResult:
    """Apply ``code`` as ``reviewer`` to every hit of ``result`` (or the ``only`` ones among them).

    Headings and interviewer questions are not coded; segments someone changed since the
    search are left alone (``changed``) - search again to include them.
    """
    chosen = None if only is None else set(only)
    wanted = result.ids if chosen is None else [i for i in result.ids if i in chosen]
    codable: set[int] = set()
    with factory() as session:
        for chunk in chunks(wanted):
            codable.update(session.scalars(select(schema.Segment.id).where(schema.Segment.id.in_(chunk),
                                                                           schema.Segment.codable)))
    versions = {i: result.versions[i] for i in wanted if i in codable}
    detail = {"query": result.query, "hits": result.total}
    if filters is not None and filters.describe():
        detail["filters"] = filters.describe()
    return actions.add_many(factory, code, reviewer, versions, **detail)


# -- a search as codebook patterns -------------------------------------------------------------
def _term(word: Word, parts: bool) -> str:
    if word.prefix:
        return word.text + "*"
    lemma = candidates(word.text)[0]
    return f"*{lemma}*" if parts else f"*{lemma}"  # the word, and compounds it heads (or sits in)


def _phrase(node: Word | Phrase, parts: bool) -> str:
    if isinstance(node, Word):
        return _term(node, parts)
    return " ".join(w.text + "*" if w.prefix else candidates(w.text)[0] for w in node.words)


def _positive(node: Node, parts: bool) -> list:
    if isinstance(node, (Word, Phrase)):
        return [_phrase(node, parts)]
    if isinstance(node, Near):
        return [{"near": [_term(node.a, parts), _term(node.b, parts)], "within": min(node.within + 1, MAX_WITHIN)}]
    if isinstance(node, Or):
        return [p for item in node.items for p in _positive(item, parts)]
    raise ValueError("nested AND")


def _label(pattern) -> str:
    if isinstance(pattern, str):
        return pattern
    return f"near({pattern['near'][0]}, {pattern['near'][1]}, {pattern['within']})"


def proposal_fragment(query: str | Node, parts: bool = False) -> dict:
    """Codebook entries that say what the search says: ``patterns`` (words, phrases, near),
    and for AND / NOT a ``context`` rule (the other words in the same segment) and
    ``negative`` patterns, both limited to the new patterns."""
    node = parse(query) if isinstance(query, str) else query
    if not isinstance(node, And):
        return {"patterns": _positive(node, parts)}
    positive = [i for i in node.items if not isinstance(i, Not)]
    negative = [i.item for i in node.items if isinstance(i, Not)]
    patterns = _positive(positive[0], parts)
    labels = [_label(p) for p in patterns]
    out: dict = {"patterns": patterns}
    require = [p for item in positive[1:] for p in _positive(item, parts) if isinstance(p, str)]
    if len(positive) > 1:
        if len(require) != len(positive) - 1:
            raise ValueError("NEAR as a second condition cannot become a codebook context rule")
        out["context"] = [{"applies_to": labels, "require": require, "scope": "segment"}]
    if negative:
        out["negative"] = [{"pattern": p, "scope": "segment", "applies_to": labels}
                           for item in negative for p in _positive(item, parts) if isinstance(p, str)]
    return out


def fragment_yaml(fragment: dict) -> str:
    return yaml.safe_dump(fragment, allow_unicode=True, sort_keys=False, width=100)


def save_proposal(factory, code: str, query: str, reviewer: str, *, parts: bool = False,
                  filters: Filters | None = None, hits: int = 0, note: str = "") -> int:
    """Store the search as a pattern proposal for ``code`` (audited); returns its id."""
    reviewer = " ".join((reviewer or "").split())
    if not reviewer:
        raise ValueError("a reviewer name is required")
    node = parse(query)
    fragment = proposal_fragment(node, parts)
    with factory.begin() as session:
        if session.scalar(select(schema.Code.code).where(schema.Code.code == code, schema.Code.active)) is None:
            raise actions.UnknownCodeError(f"unknown code {code!r}")
        row = schema.SearchProposal(code=code, query=to_text(node), patterns=[fragment], hits=hits, note=note,
                                    options={"parts": parts, "filters": filters.describe() if filters else ""},
                                    created_by=reviewer, status="pending")
        session.add(row)
        session.flush()
        record(session, reviewer, "propose_patterns", "search_proposal", row.id, code=code, query=row.query,
               hits=hits)
        return row.id


def pending_proposals(session: Session, code: str | None = None) -> list[schema.SearchProposal]:
    """Proposals waiting for a decision (for ``code``, or all), oldest first - for the codebook editor."""
    P = schema.SearchProposal
    query = select(P).where(P.status == "pending").order_by(P.created_at, P.id)
    if code is not None:
        query = query.where(P.code == code)
    return list(session.scalars(query))


def _decide(session: Session, proposal_id: int, reviewer: str, status: str) -> schema.SearchProposal:
    row = session.get(schema.SearchProposal, proposal_id)
    if row is None or row.status != "pending":
        raise LookupError(f"no pending proposal {proposal_id}")
    row.status, row.decided_by, row.decided_at = status, reviewer, utcnow()
    record(session, reviewer, f"proposal_{status}", "search_proposal", row.id, code=row.code, query=row.query)
    return row


def dismiss_proposal(factory, proposal_id: int, reviewer: str) -> None:
    with factory.begin() as session:
        _decide(session, proposal_id, reviewer, "dismissed")


def accept_proposal(factory, proposal_id: int, reviewer: str, current: Path, own: Path):
    """Add the proposal's patterns to its code (a new codebook version) and mark it accepted."""
    from qualcode.search.codebook_bridge import extend_code

    with factory() as session:
        row = session.get(schema.SearchProposal, proposal_id)
        if row is None or row.status != "pending":
            raise LookupError(f"no pending proposal {proposal_id}")
        code, fragment = row.code, row.patterns[0]
    book = extend_code(factory, current, own, reviewer, code, fragment)
    with factory.begin() as session:
        _decide(session, proposal_id, reviewer, "accepted")
    return book
