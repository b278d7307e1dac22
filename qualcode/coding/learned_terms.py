"""Words people coded a code with, across documents: evidence where the codebook has none.

Texts say what a code means in their own words, so the codebook's patterns find no
evidence for a quarter of the codes people gave on documents the rules were not written
from. The base model therefore also keeps, per code, the lemmas and lemma pairs its
reference data ties to that code:

- found in at least ``MIN_POSITIVES`` segments coded with it, from at least
  ``MIN_DOCUMENTS`` documents (one document's wording is not a municipality's vocabulary);
- at least ``MIN_PRECISION`` of the segments that contain the term carry the code;
- at least one word of it is a content word (4+ letters, not a stop word), so «i år» or
  «og hun» never count.

A learned term never codes a segment - the model's decision stands - it marks the words
in the app («lært: ventetid») and counts as evidence in coverage. Terms are mined inside
each training fold of `qualcode evaluate --by ...`, so held-out coverage is honest.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Sequence

import numpy as np

from qualcode.coding.features import word_grams

MIN_POSITIVES = 3
MIN_DOCUMENTS = 3
MIN_PRECISION = 0.5
MIN_CONTENT_LETTERS = 4
LABEL = "lært"  # how the app names a learned term's evidence («lært: ventetid»)


def _stop_words() -> frozenset[str]:
    from spacy.lang.nb.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def mine_terms(lemmas: Sequence[Sequence[str]], labels: np.ndarray, groups: Sequence, code_ids: Sequence[str]
               ) -> dict[str, list[str]]:
    """Per code, the terms of labelled segments (``labels``: segments × codes, bool) that pass
    the module's rules; ``groups`` names each segment's document."""
    stop = _stop_words()

    def content(term: str) -> bool:
        return any(len(w) >= MIN_CONTENT_LETTERS and w not in stop for w in term.split())

    containing: Counter = Counter()
    coded: dict[int, Counter] = defaultdict(Counter)
    documents: dict[int, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for doc_lemmas, row, group in zip(lemmas, labels, groups):
        terms = {t for t in word_grams(list(doc_lemmas)) if content(t)}
        codes = np.flatnonzero(row)
        for term in terms:
            containing[term] += 1
            for j in codes:
                coded[j][term] += 1
                documents[j][term].add(group)
    found = {}
    for j, code in enumerate(code_ids):
        keep = [t for t, n in coded[j].items()
                if n >= MIN_POSITIVES and len(documents[j][t]) >= MIN_DOCUMENTS and n >= MIN_PRECISION * containing[t]]
        if keep:
            found[code] = sorted(keep)
    return found


class TermFinder:
    """Finds a model's learned terms in analysed texts."""

    def __init__(self, terms: dict[str, list[str]], code_ids: Sequence[str]) -> None:
        self.code_ids = list(code_ids)
        col = {c: j for j, c in enumerate(self.code_ids)}
        self.codes_of: dict[str, list[int]] = defaultdict(list)
        for code, words in terms.items():
            if code in col:
                for w in words:
                    self.codes_of[w].append(col[code])

        self.pair_starts = {t.split(" ", 1)[0] for t in self.codes_of if " " in t}

    def __bool__(self) -> bool:
        return bool(self.codes_of)

    def found(self, lemmas: Sequence[str]) -> list[tuple[str, int, int]]:
        """The learned terms in one text: (term, first token, last token); a pair is only
        spelled out where its first word starts some learned pair (coding runs this per segment)."""
        codes_of, starts, out = self.codes_of, self.pair_starts, []
        last = len(lemmas) - 1
        for i, lem in enumerate(lemmas):
            if lem in codes_of:
                out.append((lem, i, i))
            if lem in starts and i < last and f"{lem} {lemmas[i + 1]}" in codes_of:
                out.append((f"{lem} {lemmas[i + 1]}", i, i + 1))
        return out

    def hits(self, lemmas: Sequence[Sequence[str]]) -> np.ndarray:
        """texts × codes: a learned term of the code occurs in the text."""
        out = np.zeros((len(lemmas), len(self.code_ids)), dtype=bool)
        for i, doc in enumerate(lemmas):
            for term, _, _ in self.found(doc):
                out[i, self.codes_of[term]] = True
        return out

    def evidence(self, text: str, lemmas: Sequence[str], offsets: Sequence[tuple[int, int]]) -> dict[str, list[dict]]:
        """Code -> evidence dicts ({"start", "end", "text", "pattern"}) of the learned terms in one
        text; where a pair and its word both match, the pair alone is kept."""
        found: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        for term, first, last in self.found(lemmas):
            for j in self.codes_of[term]:
                found[j].append((offsets[first][0], offsets[last][1], term))
        out: dict[str, list[dict]] = {}
        for j, spans in found.items():
            kept: list[dict] = []
            for start, end, term in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):  # longest first
                if not any(k["start"] < end and start < k["end"] for k in kept):
                    kept.append({"start": start, "end": end, "text": text[start:end], "pattern": f"{LABEL}: {term}"})
            out[self.code_ids[j]] = sorted(kept, key=lambda k: k["start"])
        return out
