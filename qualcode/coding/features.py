"""What the model reads: one NLP pass gives the rule coder's suggestions, the lemmas and word forms.

Text features are TF-IDF weights (sublinear tf, smooth idf - the definitions of
scikit-learn's ``TfidfVectorizer``) of two blocks, with rows normalised by their pivoted
length (`LENGTH_SLOPE`) rather than to unit length:

- lemma uni- and bigrams (inflection folded by the lemmatiser);
- character 3-5-grams of each word form padded with spaces (``char_wb``): they carry
  compounds ("barneverntjenesten", "foreldrerettleiing") and nynorsk spellings that
  the lemmatiser leaves apart.

They are computed here with numpy/scipy rather than by fitting a vectoriser at
prediction time: character n-grams are extracted once per distinct word form, not
once per occurrence, and `classify` never imports scikit-learn (importing it takes
longer than coding a thousand segments). `tests/test_features.py` checks the numbers
against scikit-learn's vectorisers.

Latent dimensions next to the two blocks (150 SVD components of the lemma block, to carry paraphrase
across documents) scored no better held out (5 folds of whole documents, 238 documents: macro
kappa 0.668 -> 0.667, plans 0.708 -> 0.701, municipal 0.754 -> 0.740): not kept.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

from qualcode.extract.transcript import interviewer_turn

CHAR_RANGE = (3, 5)
# Pivoted length normalisation (Singhal, Buckley & Mitra 1996): a row is divided by
# norm**LENGTH_SLOPE * pivot**(1 - LENGTH_SLOPE), the pivot being the median norm of the training
# texts, instead of by its norm. Under unit length a long interview turn that touches four themes
# spreads one unit of weight over all four, so each weighs far less than in a short paragraph on
# one theme, and the text model missed them; a text of median length weighs as before. Held out by
# reference set (2,733 segments, 46 documents), with the text blocks at the model's TEXT_GAIN: macro
# kappa 0.622 -> 0.638, interviews 0.580 -> 0.606, plans 0.635 -> 0.664, reports 0.632 -> 0.623
# (slope 0.5 scored about the same).
LENGTH_SLOPE = 0.7


@dataclass
class Analysis:
    """Everything one NLP pass over some texts yields for coding."""

    suggestions: list  # per text: the rule coder's Suggestions
    rule_scores: np.ndarray  # texts × codebook codes
    pattern_hits: sparse.csr_matrix  # texts × patterns (1 where a pattern counted)
    lemmas: list[list[str]]  # per text: lemmas of word tokens (and "§")
    forms: list[list[str]]  # per text: lower-cased word forms
    evidence: np.ndarray | None = None  # texts × codes: the rule coder found any evidence (signals too)
    offsets: list[list[tuple[int, int]]] | None = None  # per text: (start, end) of each word in ``lemmas``
    questions: np.ndarray | None = None  # per text: an interviewer's turn (context, never coded)

    def __len__(self) -> int:
        return len(self.lemmas)

    def take(self, rows) -> "Analysis":
        rows = list(rows)
        return Analysis([self.suggestions[i] for i in rows], self.rule_scores[rows], self.pattern_hits[rows],
                        [self.lemmas[i] for i in rows], [self.forms[i] for i in rows],
                        None if self.evidence is None else self.evidence[rows],
                        None if self.offsets is None else [self.offsets[i] for i in rows],
                        None if self.questions is None else self.questions[rows])

    @staticmethod
    def concat(parts: Sequence["Analysis"]) -> "Analysis":
        parts = [p for p in parts if len(p)]
        if not parts:
            raise ValueError("nothing to concatenate")
        return Analysis([s for p in parts for s in p.suggestions], np.vstack([p.rule_scores for p in parts]),
                        sparse.vstack([p.pattern_hits for p in parts], format="csr"),
                        [x for p in parts for x in p.lemmas], [x for p in parts for x in p.forms],
                        None if any(p.evidence is None for p in parts) else np.vstack([p.evidence for p in parts]),
                        None if any(p.offsets is None for p in parts) else [x for p in parts for x in p.offsets],
                        None if any(p.questions is None for p in parts) else np.concatenate([p.questions for p in parts]))


def analyse(texts: Sequence[str], rules, batch_size: int = 256) -> Analysis:
    """Run the NLP pipeline once per text; rule suggestions, lemmas and forms from the same Doc."""
    from spacy.attrs import IDX, IS_ALPHA, LEMMA, LENGTH, LOWER

    code_col = {c: j for j, c in enumerate(rules.codebook.code_ids)}
    n_pat = len(rules.pattern_labels)
    texts = list(texts)
    scores = np.zeros((len(texts), len(code_col)))
    evidence = np.zeros((len(texts), len(code_col)), dtype=bool)
    suggestions, lemmas, forms, offsets = [], [], [], []
    hit_rows, hit_cols = [], []
    section = None
    for i, doc in enumerate(rules.nlp.pipe(texts, batch_size=batch_size)):
        sugs = rules.code_doc(doc, texts[i])
        suggestions.append(sugs)
        for s in sugs:
            scores[i, code_col[s.code]] = s.score
            evidence[i, code_col[s.code]] = True
            hit_cols += s.patterns
            hit_rows += [i] * len(s.patterns)
        strings = doc.vocab.strings
        if section is None:
            section = strings.add("§")
        rows = doc.to_array([LOWER, LEMMA, IS_ALPHA, IDX, LENGTH]).tolist() if len(doc) else []
        words = [(low, lem, idx, idx + n) for low, lem, alpha, idx, n in rows if alpha or low == section]
        forms.append([strings[low] for low, _, _, _ in words])
        lemmas.append([(strings[lem] if lem else strings[low]).lower() for low, lem, _, _ in words])
        offsets.append([(start, end) for _, _, start, end in words])
    hits = sparse.csr_matrix((np.ones(len(hit_rows)), (hit_rows, hit_cols)), shape=(len(texts), n_pat))
    hits.data[:] = 1.0
    questions = np.array([interviewer_turn(t) for t in texts], dtype=bool)
    return Analysis(suggestions, scores, hits, lemmas, forms, evidence, offsets, questions)


def word_grams(lemmas: list[str]) -> list[str]:
    return lemmas + [f"{a} {b}" for a, b in zip(lemmas, lemmas[1:])]


def char_grams(form: str, lo: int = CHAR_RANGE[0], hi: int = CHAR_RANGE[1]) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of one word."""
    w = f" {form} "
    out = []
    for n in range(lo, hi + 1):
        if len(w) < n:
            break
        out += [w[i:i + n] for i in range(len(w) - n + 1)]
        if len(w) == n:
            break
    return out


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log((1.0 + n_docs) / (1.0 + df)) + 1.0


def _weights(counts: sparse.csr_matrix, idf: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Sublinear tf times idf, and each row's norm (0 for an empty row)."""
    counts = counts.tocsr().astype(float)
    counts.sum_duplicates()
    counts.data = 1.0 + np.log(counts.data)
    counts = counts @ sparse.diags(idf)
    return counts, np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())


def _median_norm(counts: sparse.csr_matrix, idf: np.ndarray) -> float:
    norms = _weights(counts, idf)[1]
    return float(np.median(norms[norms > 0])) if (norms > 0).any() else 0.0


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray, pivot: float = 0.0) -> sparse.csr_matrix:
    """TF-IDF rows divided by their norm, or with a ``pivot`` by their pivoted norm (`LENGTH_SLOPE`)."""
    weights, norms = _weights(counts, idf)
    norms[norms == 0] = 1.0
    if pivot > 0:
        norms = norms ** LENGTH_SLOPE * pivot ** (1.0 - LENGTH_SLOPE)
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ weights)


class TextFeatures:
    """Vocabularies, idf and length pivots of the lemma and character blocks; fitted on training
    texts (without ``char_grams`` the character block stays empty: lemmas only; ``pivoted=False``
    gives unit-length rows, as scikit-learn's vectorisers)."""

    def __init__(self, min_df: int = 2, char_grams: bool = True, pivoted: bool = True) -> None:
        self.min_df = min_df
        self.char_grams = char_grams
        self.pivoted = pivoted
        self.words: dict[str, int] = {}
        self.chars: dict[str, int] = {}
        self.word_idf = np.zeros(0)
        self.char_idf = np.zeros(0)
        self.word_pivot = 0.0  # median norm of the training texts' rows (0: unit-length rows)
        self.char_pivot = 0.0
        self._form_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_features(self) -> int:
        return len(self.words) + len(self.chars)

    def fit(self, lemmas: list[list[str]], forms: list[list[str]]) -> "TextFeatures":
        n = len(lemmas)
        wdf = Counter(g for doc in lemmas for g in set(word_grams(doc)))
        cdf = Counter(g for doc in forms if self.char_grams for g in {g for f in set(doc) for g in char_grams(f)})
        self.words = {g: i for i, g in enumerate(sorted(g for g, c in wdf.items() if c >= self.min_df))}
        self.chars = {g: i for i, g in enumerate(sorted(g for g, c in cdf.items() if c >= self.min_df))}
        self.word_idf = _idf(np.array([wdf[g] for g in self.words], dtype=float), n)
        self.char_idf = _idf(np.array([cdf[g] for g in self.chars], dtype=float), n)
        self._form_cache = {}
        if self.pivoted:
            self.word_pivot = _median_norm(self._word_counts(lemmas), self.word_idf)
            self.char_pivot = _median_norm(self._char_counts(forms), self.char_idf) if self.chars else 0.0
        return self

    def word_block(self, lemmas: list[list[str]]) -> sparse.csr_matrix:
        return _tfidf(self._word_counts(lemmas), self.word_idf, self.word_pivot)

    def char_block(self, forms: list[list[str]]) -> sparse.csr_matrix:
        return _tfidf(self._char_counts(forms), self.char_idf, self.char_pivot)

    def _word_counts(self, lemmas: list[list[str]]) -> sparse.csr_matrix:
        vocab, rows, cols = self.words, [], []
        for i, doc in enumerate(lemmas):
            found = [vocab[g] for g in word_grams(doc) if g in vocab]
            cols += found
            rows += [i] * len(found)
        return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(lemmas), len(vocab)))

    def _char_counts(self, forms: list[list[str]]) -> sparse.csr_matrix:
        """Doc × form-type counts times form-type × n-gram counts: n-grams once per distinct form."""
        types: dict[str, int] = {}
        rows, cols = [], []
        for i, doc in enumerate(forms):
            for f in doc:
                rows.append(i)
                cols.append(types.setdefault(f, len(types)))
        doc_type = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(forms), len(types)))
        t_rows, t_cols, t_vals = [], [], []
        for f, t in types.items():
            idx, cnt = self._grams_of(f)
            t_rows += [t] * len(idx)
            t_cols += idx.tolist()
            t_vals += cnt.tolist()
        type_gram = sparse.csr_matrix((t_vals, (t_rows, t_cols)), shape=(len(types), len(self.chars)))
        return doc_type @ type_gram

    def _grams_of(self, form: str) -> tuple[np.ndarray, np.ndarray]:
        got = self._form_cache.get(form)
        if got is None:
            c = Counter(self.chars[g] for g in char_grams(form) if g in self.chars)
            got = (np.fromiter(c.keys(), dtype=np.int64, count=len(c)), np.fromiter(c.values(), dtype=float, count=len(c)))
            if len(self._form_cache) > 200_000:
                self._form_cache.clear()
            self._form_cache[form] = got
        return got

    def transform(self, lemmas: list[list[str]], forms: list[list[str]]) -> sparse.csr_matrix:
        if not self.chars:  # lemmas only: skip splitting every word form into n-grams
            return self.word_block(lemmas)
        return sparse.hstack([self.word_block(lemmas), self.char_block(forms)], format="csr")

    # plain arrays for safe storage -------------------------------------------------------
    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}words": np.array(sorted(self.words, key=self.words.get), dtype=str),
                f"{prefix}chars": np.array(sorted(self.chars, key=self.chars.get), dtype=str),
                f"{prefix}word_idf": self.word_idf, f"{prefix}char_idf": self.char_idf,
                f"{prefix}pivots": np.array([self.word_pivot, self.char_pivot])}

    @classmethod
    def from_arrays(cls, arrays, prefix: str, min_df: int) -> "TextFeatures":
        tf = cls(min_df)
        tf.words = {str(g): i for i, g in enumerate(arrays[f"{prefix}words"].tolist())}
        tf.chars = {str(g): i for i, g in enumerate(arrays[f"{prefix}chars"].tolist())}
        tf.word_idf = np.asarray(arrays[f"{prefix}word_idf"], dtype=float)
        tf.char_idf = np.asarray(arrays[f"{prefix}char_idf"], dtype=float)
        tf.word_pivot, tf.char_pivot = (float(v) for v in arrays[f"{prefix}pivots"])
        return tf
