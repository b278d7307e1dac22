"""Transparent rule coder: codebook patterns matched on lemmas and word forms.

Every suggestion carries its evidence (character offsets into the input text and
the pattern that fired), so a researcher can see exactly why a code was proposed.

Matching works token by token: each token is tested (once per distinct word form,
cached) against all single-word terms of the codebook; phrases are sequences of
such terms. A term matches if the token's lower-cased form or its lemma equals it,
or - with `*` - starts/ends with it (`forebygg*`, `*kompetanse`, `*barnevern*`).

Work is proportional to what hits: an index from phrase sequences to the patterns
that use them says which patterns a segment can fire at all; only those are
evaluated, and negatives and context rules only for codes that fired. The
exhaustive path (every pattern of every code) is kept for tests that prove the
index changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from spacy.attrs import IDX, LEMMA, LOWER, ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from qualcode.coding.codebook import Codebook, ContextRule
from qualcode.extract.transcript import interviewer_turn
from qualcode.nlp import lemmatize, load_nlp

THRESHOLD = 0.5  # default decision threshold; a code may set its own `min_score`


@dataclass(frozen=True)
class Evidence:
    start: int  # character offset into the coded text
    end: int
    text: str
    pattern: str


@dataclass
class Suggestion:
    code: str
    score: float  # in [0, 1]; >= the code's min_score (default 0.5) means "apply"
    evidence: list[Evidence] = field(default_factory=list)
    patterns: tuple[int, ...] = ()  # global ids (RuleCoder.pattern_labels) of the patterns that counted


Hit = tuple[int, int]  # token span [start, end)
MARKUP = frozenset("*_#`")  # tokens made only of these are Markdown/PDF noise


class _Terms:
    """Interns single-token terms and tells which of them a word form matches."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.exact: dict[str, list[int]] = {}
        self.prefix: dict[str, list[int]] = {}
        self.suffix: dict[str, list[int]] = {}
        self.infix: list[tuple[str, int]] = []
        self._cache: dict[str, frozenset[int]] = {}

    def add(self, term: str) -> int:
        term = term.lower()
        if term in self.ids:
            return self.ids[term]
        tid = self.ids[term] = len(self.ids)
        core = term.strip("*")
        if term.startswith("*") and term.endswith("*") and len(term) > 2:
            self.infix.append((core, tid))
        elif term.endswith("*") and len(term) > 1:
            self.prefix.setdefault(core, []).append(tid)
        elif term.startswith("*") and len(term) > 1:
            self.suffix.setdefault(core, []).append(tid)
        else:
            self.exact.setdefault(term, []).append(tid)
        return tid

    def match(self, form: str) -> frozenset[int]:
        hit = self._cache.get(form)
        if hit is None:
            found = list(self.exact.get(form, ()))
            for i in range(1, len(form) + 1):
                found += self.prefix.get(form[:i], ())
                found += self.suffix.get(form[-i:], ())
            found += [tid for core, tid in self.infix if core in form]
            if len(self._cache) > 500_000:
                self._cache.clear()
            hit = self._cache[form] = frozenset(found)
        return hit


class _Compiled:
    """All patterns of a codebook compiled to sequences of term-id sets."""

    def __init__(self, book: Codebook) -> None:
        self.book = book
        self.terms = _Terms()
        self.seqs: list[tuple[frozenset[int], ...]] = []
        self._seq_ids: dict[str, list[int]] = {}
        self.first: dict[int, list[int]] = {}
        self._tok_cache: dict[tuple[int, int], frozenset[int]] = {}
        self._markup: dict[int, bool] = {}
        self._length: dict[int, int] = {}
        self._info: dict[tuple[int, int, int], tuple] = {}
        self._starts: dict[frozenset[int], tuple] = {}

    def token_terms(self, low: int, lemma: int, strings) -> frozenset[int]:
        """Terms matched by a token (given as string hashes) via its lower-cased form,
        its pipeline lemma or its simplemma lemma; a trailing "." glued on by the
        tokenizer ("PyC.") is ignored."""
        key = (low, lemma)
        hit = self._tok_cache.get(key)
        if hit is None:
            text = strings[low]
            forms = {text, strings[lemma].lower() if lemma else text, lemmatize(text)}
            if len(text) > 2 and text.endswith(".") and text[-2].isalpha():
                forms.add(text[:-1])
            hit = frozenset().union(*(self.terms.match(f) for f in forms))
            if len(self._tok_cache) > 500_000:  # bound memory on huge corpora
                self._tok_cache.clear()
            self._tok_cache[key] = hit
        return hit

    def token_info(self, orth: int, low: int, lemma: int, strings) -> tuple:
        """(markup only?, length, matched terms, one-word sequences it completes, longer
        sequences it may start by their second word's term, does it start any?) of a token,
        cached per (form, lower, lemma)."""
        key = (orth, low, lemma)
        got = self._info.get(key)
        if got is None:
            terms = self.token_terms(low, lemma, strings)
            single, longer = self.starts(terms)
            got = (self.is_markup(orth, strings), self.length(orth, strings), terms, single, longer,
                   bool(single or longer))
            if len(self._info) > 500_000:
                self._info.clear()
            self._info[key] = got
        return got

    def starts(self, terms: frozenset[int]) -> tuple[tuple[int, ...], dict[int, tuple[tuple[int, tuple], ...]]]:
        """Sequences that can start at a token matching ``terms``: one-word ones (a hit
        at once) and longer ones by the term their second word must match (the rest still to
        check), cached per term set."""
        got = self._starts.get(terms)
        if got is None:
            sids = sorted({s for tid in terms for s in self.first.get(tid, ())})
            longer: dict[int, list[tuple[int, tuple]]] = {}
            for s in sids:
                if len(self.seqs[s]) > 1:
                    for tid in self.seqs[s][1]:
                        longer.setdefault(tid, []).append((s, self.seqs[s]))
            got = (tuple(s for s in sids if len(self.seqs[s]) == 1), {t: tuple(v) for t, v in longer.items()})
            self._starts[terms] = got
        return got

    def length(self, orth: int, strings) -> int:
        n = self._length.get(orth)
        if n is None:
            n = self._length[orth] = len(strings[orth])
        return n

    def is_markup(self, orth: int, strings) -> bool:
        flag = self._markup.get(orth)
        if flag is None:
            flag = self._markup[orth] = MARKUP.issuperset(strings[orth])
        return flag

    def seq_ids(self, pattern: str) -> list[int]:
        """Sequence ids for a pattern string (an @list expands to one sequence per member)."""
        if pattern not in self._seq_ids:
            ids = []
            for member in self.book.expand(pattern):
                seq = tuple(frozenset([self.terms.add(t)]) for t in member.split(" "))
                sid = len(self.seqs)
                self.seqs.append(seq)
                for tid in seq[0]:
                    self.first.setdefault(tid, []).append(sid)
                ids.append(sid)
            self._seq_ids[pattern] = ids
        return self._seq_ids[pattern]


class _DocView:
    """Per-document match state: which sequences hit where, and sentence ids.

    Markup-only tokens (`*`, `**`, `_` from Markdown/PDF extraction) are skipped so
    they do not break phrases; positions below index the remaining tokens."""

    def __init__(self, doc: Doc, comp: _Compiled, text: str | None = None) -> None:
        self.text = text if text is not None else doc.text
        self.hits: dict[int, list[Hit]] = {}
        self.idx: list[int] = []  # character offset of each position
        self.sent_of: list[int] = []  # sentence number of each position
        self._info: list[tuple] = []  # the token_info of each position
        if not len(doc):
            return
        # whole-document columns and one cached lookup per token: this runs over every token,
        # and most tokens match nothing, so only the few that start a sequence are visited
        columns = doc.to_array([ORTH, LOWER, LEMMA, SENT_START, IDX])
        orth, low, lem, _, idx = columns.T.tolist()
        starts = columns[:, 3].astype(np.int64) == 1
        sent = np.cumsum(starts) - (1 if starts[0] else 0)  # the first token opens sentence 0 either way
        cache, strings = comp._info, doc.vocab.strings
        info = [cache.get(key) or comp.token_info(*key, strings) for key in zip(orth, low, lem)]
        sent_of = sent.tolist()
        if any(got[0] for got in info):  # drop markup-only tokens
            keep = [i for i, got in enumerate(info) if not got[0]]
            info, idx, sent_of = [info[i] for i in keep], [idx[i] for i in keep], [sent_of[i] for i in keep]
        self.idx, self.sent_of, self._info = idx, sent_of, info
        hits, n = self.hits, len(info)
        for i in [i for i, got in enumerate(info) if got[5]]:
            got = info[i]
            for s in got[3]:
                if s in hits:
                    hits[s].append((i, i + 1))
                else:
                    hits[s] = [(i, i + 1)]
            if not got[4] or i + 1 == n:
                continue
            # only the phrases whose second word the next token matches (each word is one term, `seq_ids`)
            for tid in info[i + 1][2]:
                for s, seq in got[4].get(tid, ()):
                    end = i + len(seq)
                    if end == i + 2 or (end <= n and all(not seq[k].isdisjoint(info[i + k][2])
                                                         for k in range(2, len(seq)))):
                        hits.setdefault(s, []).append((i, end))

    def chars(self, span: Hit) -> tuple[int, int]:
        """Character offsets of a span (in view positions) in the document text."""
        last = span[1] - 1
        return self.idx[span[0]], self.idx[last] + self._info[last][1]

    def find(self, seq_ids: list[int]) -> list[Hit]:
        hits = self.hits
        if len(seq_ids) == 1:  # one sequence: its hits are already in order and distinct
            return hits.get(seq_ids[0], [])
        out: list[Hit] = []
        for s in seq_ids:
            if s in hits:
                out += hits[s]
        return sorted(set(out)) if out else out


class RuleCoder:
    """Codes texts with the codebook's patterns, negatives and context rules."""

    def __init__(self, codebook: Codebook, nlp: Language | None = None) -> None:
        self.codebook = codebook
        self.nlp = nlp if nlp is not None else load_nlp()
        self._codes = codebook.codes  # (the property builds a new list on every call)
        self._comp = comp = _Compiled(codebook)
        # per code: each pattern / negative as (sequence ids, near-partner ids or None)
        self._pos: list[list[tuple[list[int], list[int] | None]]] = []
        self._neg: list[list[tuple[list[int], list[int] | None]]] = []
        # sequence id -> (code, pattern) pairs that can only fire if that sequence hits
        # (for a near rule: its first term), so a segment is checked only against them
        self._index: dict[int, list[tuple[int, int]]] = {}
        self.pattern_labels: list[str] = []  # global pattern id -> "code: label" (model features)
        self._pattern_id: list[list[int]] = []
        self._patterns = [code.all_patterns for code in self._codes]  # signals last, weight 0
        for ci, code in enumerate(codebook.codes):  # compile everything up front
            self._pos.append([self._plan(p) for p in self._patterns[ci]])
            self._neg.append([self._plan(p) for p in code.negative])
            self._pattern_id.append([])
            for pi, (a, _b) in enumerate(self._pos[-1]):
                for sid in a:
                    self._index.setdefault(sid, []).append((ci, pi))
                self._pattern_id[-1].append(len(self.pattern_labels))
                self.pattern_labels.append(f"{code.id}: {self._patterns[ci][pi].label}")
            for r in code.context:
                for t in [*r.require, *r.forbid]:
                    comp.seq_ids(t)

    def _plan(self, p) -> tuple[list[int], list[int] | None]:
        if p.pattern is not None:
            return self._comp.seq_ids(p.pattern), None
        return self._comp.seq_ids(p.near[0]), self._comp.seq_ids(p.near[1])

    def code_texts(self, texts: list[str], batch_size: int = 256) -> list[list[Suggestion]]:
        """Suggestions for each text (batched through `nlp.pipe`)."""
        docs = self.nlp.pipe(texts, batch_size=batch_size)
        return [self.code_doc(doc, text) for doc, text in zip(docs, texts)]

    def code_doc(self, doc: Doc, text: str | None = None, *, exhaustive: bool = False) -> list[Suggestion]:
        """Suggestions for one parsed document, strongest first (score 0: only signals hit).
        (`text` is `doc.text`, passed when known because rebuilding it is slow;
        `exhaustive` evaluates every pattern of every code, as a check on the index.)"""
        if interviewer_turn(doc.text if text is None else text):
            return []  # the interviewer's question is context, not data
        view = _DocView(doc, self._comp, text)
        if exhaustive:
            todo = {ci: range(len(pats)) for ci, pats in enumerate(self._patterns)}
        else:
            found: dict[int, set[int]] = {}
            index = self._index
            for sid in view.hits:
                for ci, pi in index.get(sid, ()):
                    found.setdefault(ci, set()).add(pi)
            todo = {ci: sorted(pis) for ci, pis in found.items()}
        out = [s for s in (self._code(ci, view, todo[ci]) for ci in sorted(todo)) if s is not None]
        return sorted(out, key=lambda s: -s.score)

    def scores(self, doc: Doc) -> dict[str, float]:
        """Score for every code (0.0 when nothing matched)."""
        got = {s.code: s.score for s in self.code_doc(doc)}
        return {cid: got.get(cid, 0.0) for cid in self.codebook.code_ids}

    # -- internals ----------------------------------------------------------
    @staticmethod
    def _pattern_hits(plan, within: int, view: _DocView) -> list[list[Hit]]:
        """Hits of one compiled pattern; a near-rule hit is the pair of spans."""
        ids_a, ids_b = plan
        a = view.find(ids_a)
        if ids_b is None or not a:
            return [[h] for h in a]
        pairs = []
        for hb in view.find(ids_b):
            for ha in a:
                gap = max(ha[0], hb[0]) - min(ha[1], hb[1])
                if ha != hb and gap < within and view.sent_of[ha[0]] == view.sent_of[hb[0]]:
                    pairs.append(sorted([ha, hb]))
        return pairs

    def _code(self, ci: int, view: _DocView, pattern_idx: Iterable[int]) -> Suggestion | None:
        code, pats = self._codes[ci], self._patterns[ci]
        found: list[tuple[int, list[Hit]]] = []
        plans = self._pos[ci]
        for i in pattern_idx:
            found += [(i, spans) for spans in self._pattern_hits(plans[i], pats[i].within, view)]
        if not found:
            return None
        for neg, plan in zip(code.negative, self._neg[ci]):
            bad = [s for spans in self._pattern_hits(plan, neg.within, view) for s in spans]
            if bad:
                targets = set(neg.applies_to) if neg.applies_to else None
                found = [(i, spans) for i, spans in found
                         if (targets is not None and pats[i].label not in targets)
                         or not _blocked(spans, bad, neg.scope, view)]
        for rule in code.context:
            applies = set(rule.applies_to) if rule.applies_to else None
            found = [(i, spans) for i, spans in found
                     if (applies is not None and pats[i].label not in applies)
                     or self._context_ok(rule, spans, view)]
        found = _dedupe(found, pats)
        if not found:
            return None
        counts: dict[int, int] = {}
        for i, _ in found:
            counts[i] = counts.get(i, 0) + 1
        # distinct patterns add their full weight; repeats of one pattern add a little
        strength = sum(pats[i].weight * (1 + 0.25 * min(n - 1, 2)) for i, n in counts.items())
        score = round(1 - 0.5 ** (strength * code.weight), 4)
        evidence = []
        for i, spans in found:
            for span in spans:
                a, b = view.chars(span)
                evidence.append(Evidence(a, b, view.text[a:b], pats[i].label))
        ids = self._pattern_id[ci]
        return Suggestion(code.id, score, sorted(set(evidence), key=lambda ev: (ev.start, ev.end, ev.pattern)),
                          tuple(sorted(ids[i] for i in counts)))

    def _context_ok(self, rule: ContextRule, spans: list[Hit], view: _DocView) -> bool:
        def near(terms: list[str]) -> bool:
            for t in terms:
                for h in view.find(self._comp.seq_ids(t)):
                    if any(_in_scope(h, s, rule.scope, view) for s in spans):
                        return True
            return False

        return (not rule.require or near(rule.require)) and not (rule.forbid and near(rule.forbid))


def _dedupe(found: list[tuple[int, list[Hit]]], pats) -> list[tuple[int, list[Hit]]]:
    """One word is evidence once: a single-span hit inside a stronger pattern's
    single-span hit (e.g. `samarbeid*` and `samarbeide` on "samarbeidet") is dropped."""
    kept: list[tuple[int, list[Hit]]] = []
    for i, spans in sorted(found, key=lambda f: (-pats[f[0]].weight, f[1][0][0] - f[1][-1][1])):
        if len(spans) == 1 and any(len(k) == 1 and k[0][0] <= spans[0][0] and spans[0][1] <= k[0][1]
                                   for _, k in kept):
            continue
        kept.append((i, spans))
    return kept


def _in_scope(h: Hit, s: Hit, scope, view: _DocView) -> bool:
    if scope == "segment":
        return True
    if scope == "sentence":
        return view.sent_of[h[0]] == view.sent_of[s[0]]
    return max(h[0], s[0]) - min(h[1], s[1]) < int(scope)


def _blocked(spans: list[Hit], bad: list[Hit], scope: str, view: _DocView) -> bool:
    if scope == "segment":
        return True
    if scope == "sentence":
        return any(view.sent_of[b[0]] == view.sent_of[s[0]] for b in bad for s in spans)
    return any(b[0] < s[1] and s[0] < b[1] for b in bad for s in spans)


def predict_records(records: list[dict], coder: RuleCoder) -> list[dict]:
    """`{"id", "codes", "scores"}` per record (text under "text"), scores for ALL codes.

    "codes" holds the codes whose score reaches the code's `min_score`."""
    book = coder.codebook
    cut = {c.id: c.min_score for c in book.codes}
    texts = [r.get("text") or "" for r in records]
    out = []
    for rec, suggestions in zip(records, coder.code_texts(texts)):
        scores = {cid: 0.0 for cid in book.code_ids}
        for s in suggestions:
            scores[s.code] = s.score
        codes = [cid for cid in book.code_ids if scores[cid] >= cut[cid]]
        out.append({"id": rec.get("id"), "codes": codes, "scores": scores})
    return out
