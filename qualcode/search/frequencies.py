"""Word frequencies per group (theme, code, municipality, year, document type) and the words that set a group apart.

Words are lemmas (``terms``), so "tiltak", "tiltaket" and "tiltakene" count as one, and a
compound counts as itself ("foreldreveiledning"); Norwegian stop words (bokmål and
nynorsk), numbers and one-letter words are left out.

Distinguishing words: the log-odds ratio with an informative Dirichlet prior (Monroe,
Colaresi & Quinn 2008, "Fightin' Words"), group against the rest of the corpus. For
word w with y_g occurrences among the group's n_g words and y_r among the rest's n_r,
and prior α_w = A · y_w / n (A = ``PRIOR``, y_w and n the whole corpus's):

    δ = ln((y_g + α_w) / (n_g + A − y_g − α_w)) − ln((y_r + α_w) / (n_r + A − y_r − α_w))
    z = δ / √(1 / (y_g + α_w) + 1 / (y_r + α_w))

z > 1.96 means the group uses the word more than the rest at the 5 % level. The
prior keeps rare words from topping the list on one or two occurrences.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from qualcode.search.stopwords import stop_words
from qualcode.search.terms import lemmas as text_lemmas

if TYPE_CHECKING:
    from qualcode.analysis.frame import AnalysisData

PRIOR = 100.0
Z_SIGNIFICANT = 1.96
GROUPINGS = {"theme": "tema", "code": "kode", "place": "kommune", "year": "år", "doc_type": "dokumenttype"}


def content_words(lemmas: Iterable[str]) -> list[str]:
    """The lemmas that say something: no stop words, numbers or single letters."""
    stop = stop_words()
    return [w for w in lemmas if len(w) > 1 and not w.isdigit() and w not in stop]


@dataclass
class Counts:
    """A segments × words count matrix and the vocabulary of its columns."""

    matrix: sparse.csr_matrix
    vocabulary: np.ndarray
    segment_ids: np.ndarray

    @classmethod
    def build(cls, segment_ids: Sequence[int], lemma_lists: Iterable[Iterable[str]]) -> "Counts":
        from sklearn.feature_extraction.text import CountVectorizer

        docs = [content_words(lemmas) for lemmas in lemma_lists]
        vectorizer = CountVectorizer(analyzer=lambda doc: doc, min_df=1)
        if not any(docs):
            return cls(sparse.csr_matrix((len(docs), 0), dtype=np.int64), np.array([], dtype=object),
                       np.asarray(segment_ids))
        matrix = vectorizer.fit_transform(docs).tocsr()
        return cls(matrix, vectorizer.get_feature_names_out(), np.asarray(segment_ids))

    def rows(self, segment_ids: Iterable[int]) -> np.ndarray:
        index = pd.Index(self.segment_ids)
        found = index.get_indexer(list(segment_ids))
        return found[found >= 0]


def lemma_lists_from_texts(texts: Iterable[str]) -> list[list[str]]:
    return [text_lemmas(t or "") for t in texts]


def lemma_lists_from_index(session, segment_ids: Sequence[int]) -> list[list[str]]:
    """The stored lemmas of ``segment_ids`` (index them first: ``index.index_missing``)."""
    from sqlalchemy import select

    from qualcode.store import schema

    T = schema.SearchTerms
    found: dict[int, str] = {}
    ids = list(segment_ids)
    for start in range(0, len(ids), 20_000):
        chunk = ids[start:start + 20_000]
        found.update(session.execute(select(T.segment_id, T.lemmas).where(T.segment_id.in_(chunk))).all())
    return [found.get(i, "").split() for i in ids]


def _group_matrix(counts: Counts, groups: dict[str, Iterable[int]]) -> tuple[list[str], sparse.csr_matrix]:
    """A groups × segments indicator matrix (a segment can sit in several groups, e.g. codes)."""
    keys = list(groups)
    data, rows, cols = [], [], []
    for g, key in enumerate(keys):
        idx = counts.rows(groups[key])
        rows += [g] * len(idx)
        cols += idx.tolist()
        data += [1] * len(idx)
    shape = (len(keys), counts.matrix.shape[0])
    return keys, sparse.csr_matrix((data, (rows, cols)), shape=shape, dtype=np.int64)


def top_words(counts: Counts, groups: dict[str, Iterable[int]], n: int = 20) -> pd.DataFrame:
    """The ``n`` most frequent words of each group: count, per 1,000 words, segments with the word."""
    keys, g = _group_matrix(counts, groups)
    totals = np.asarray(g @ counts.matrix.sum(axis=1)).ravel()
    freq = (g @ counts.matrix).toarray() if keys else np.zeros((0, 0))
    present = (g @ (counts.matrix > 0).astype(np.int64)).toarray() if keys else np.zeros((0, 0))
    rows = []
    for i, key in enumerate(keys):
        order = np.lexsort((counts.vocabulary, -freq[i]))[:n] if freq.shape[1] else []
        for rank, j in enumerate(order, start=1):
            if freq[i, j] <= 0:
                break
            rows.append({"group": key, "rank": rank, "word": counts.vocabulary[j], "count": int(freq[i, j]),
                         "per_1000": round(1000 * freq[i, j] / totals[i], 2) if totals[i] else 0.0,
                         "segments": int(present[i, j])})
    return pd.DataFrame(rows, columns=["group", "rank", "word", "count", "per_1000", "segments"])


def log_odds(y_group: np.ndarray, y_rest: np.ndarray, prior: float = PRIOR) -> tuple[np.ndarray, np.ndarray]:
    """(δ, z) per word for a group against the rest (see the module docstring)."""
    y_group, y_rest = y_group.astype(float), y_rest.astype(float)
    y_all = y_group + y_rest
    n_group, n_rest, n_all = y_group.sum(), y_rest.sum(), y_all.sum()
    alpha = prior * y_all / n_all if n_all else np.zeros_like(y_all)
    delta = (np.log((y_group + alpha) / (n_group + prior - y_group - alpha))
             - np.log((y_rest + alpha) / (n_rest + prior - y_rest - alpha)))
    with np.errstate(divide="ignore"):
        z = delta / np.sqrt(1.0 / (y_group + alpha) + 1.0 / (y_rest + alpha))
    return delta, z


def distinguishing(counts: Counts, groups: dict[str, Iterable[int]], corpus: Iterable[int] | None = None,
                   n: int = 15, all_words: bool = False) -> pd.DataFrame:
    """Per group, the words it uses more than the rest of ``corpus`` (default: every counted segment),
    by z-score; only significant ones (z > 1.96) unless ``all_words``."""
    keys, g = _group_matrix(counts, groups)
    corpus_rows = counts.rows(corpus) if corpus is not None else np.arange(counts.matrix.shape[0])
    in_corpus = np.zeros(counts.matrix.shape[0], dtype=np.int64)
    in_corpus[corpus_rows] = 1
    y_corpus = np.asarray(counts.matrix.T @ in_corpus).ravel()
    rows = []
    for i, key in enumerate(keys):
        member = np.asarray(g[i].todense()).ravel() * in_corpus
        y_group = np.asarray(counts.matrix.T @ member).ravel()
        y_rest = y_corpus - y_group
        if not y_group.sum() or not y_rest.sum():
            continue
        delta, z = log_odds(y_group, y_rest)
        order = np.lexsort((counts.vocabulary, -z))
        n_group, n_rest = y_group.sum(), y_rest.sum()
        taken = 0
        for j in order:
            if taken >= n or (not all_words and (z[j] <= Z_SIGNIFICANT or y_group[j] == 0)):
                break
            rows.append({"group": key, "word": counts.vocabulary[j], "count": int(y_group[j]),
                         "per_1000": round(1000 * y_group[j] / n_group, 2),
                         "rest_per_1000": round(1000 * y_rest[j] / n_rest, 2),
                         "log_odds": round(float(delta[j]), 3), "z": round(float(z[j]), 2)})
            taken += 1
    return pd.DataFrame(rows, columns=["group", "word", "count", "per_1000", "rest_per_1000", "log_odds", "z"])


# -- groups from the analysis data -------------------------------------------------------------------
def groups_of(data: "AnalysisData", by: str) -> tuple[dict[str, list[int]], list[int]]:
    """(group label → segment ids, corpus segment ids) for a grouping of the analysis data.

    Themes and codes: the segments that carry them (reviewer-confirmed, plus machine
    suggestions when the data includes them), against the segments in scope. Municipality,
    year and type: every codable segment of the selection."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    seg = data.segments
    if by in ("theme", "code"):
        cod = data.codings
        name = "theme_name" if by == "theme" else "code_name"
        order = data.theme_order(cod["theme"]) if by == "theme" else data.code_order(cod["code"])
        labels = dict(zip(cod[by], cod[name]))
        groups = {labels[k]: sorted(set(cod.loc[cod[by] == k, "segment_id"])) for k in order}
        return groups, seg.loc[seg["in_scope"], "segment_id"].tolist()
    codable = seg[seg["codable"]]
    groups = {str(k): part["segment_id"].tolist()
              for k, part in codable.dropna(subset=[by]).groupby(by, sort=True)}
    return groups, codable["segment_id"].tolist()


def counts_of(data: "AnalysisData", session=None) -> Counts:
    """Word counts of the data's codable segments: stored lemmas when a session is given, else analysed now."""
    seg = data.segments[data.segments["codable"]]
    ids = seg["segment_id"].tolist()
    lists = lemma_lists_from_index(session, ids) if session is not None else lemma_lists_from_texts(seg["text"])
    return Counts.build(ids, lists)


WORD_NOTE = "Ord = grunnform (lemma); stoppord (bokmål og nynorsk), tall og enkeltbokstaver er utelatt."
AGAINST = {"theme": "segmentene med temaet", "place": "kommunens dokumenter"}


def word_tables(data: "AnalysisData", counts: Counts | None = None) -> list:
    """The report's word tables: the most frequent words overall, and frequent and distinguishing
    words per theme and per municipality."""
    from qualcode.analysis.tables import Table

    counts = counts if counts is not None else counts_of(data)
    everything = data.segments.loc[data.segments["codable"], "segment_id"].tolist()
    overall = top_words(counts, {"alle": everything}, n=25).drop(columns="group")
    tables = [Table("ord-totalt", "Vanligste ord i utvalget", overall, WORD_NOTE, sheet="Ord totalt")]
    for by, key, title, column in (("theme", "tema", "tema", "theme_name"), ("place", "kommune", "kommune", "place")):
        groups, corpus = groups_of(data, by)
        top = top_words(counts, groups, n=15).rename(columns={"group": column})
        tables.append(Table(f"ord-per-{key}", f"Vanligste ord per {title}", top, WORD_NOTE, sheet=f"Ord per {title}"))
        dist = distinguishing(counts, groups, corpus, n=10).rename(columns={"group": column})
        tables.append(Table(f"kjennetegnende-ord-per-{key}", f"Kjennetegnende ord per {title}", dist,
                            f"Ord som brukes mer i {AGAINST[by]} enn i resten av materialet (log-odds med "
                            "informativ prior, z > 1,96).", sheet=f"Kjennetegn per {title}"))
    return tables


def word_frequencies(store, by: str = "theme", n: int = 10, *, distinguishing_words: bool = False,
                     include_machine: bool = False, data: "AnalysisData | None" = None) -> pd.DataFrame:
    """The frequent (or distinguishing) words per group of a store (path, URL or sessionmaker),
    read from the search index (segments it lacks are indexed first)."""
    from qualcode.analysis.frame import load, open_session
    from qualcode.search.index import index_missing

    if not callable(store):
        from qualcode.store.db import session_factory

        store = session_factory(str(store))
    index_missing(store)
    data = data if data is not None else load(store, include_machine=include_machine)
    with open_session(store) as session:
        counts = counts_of(data, session)
    groups, corpus = groups_of(data, by)
    if distinguishing_words:
        return distinguishing(counts, groups, corpus, n=n)
    return top_words(counts, groups, n=n)
