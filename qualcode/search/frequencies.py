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
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from qualcode.search.stopwords import is_content, stop_words
from qualcode.search.terms import lemmas as text_lemmas
from qualcode.search.word_counts import CountArrays, count_codes, count_joined

if TYPE_CHECKING:
    from qualcode.analysis.frame import AnalysisData

PRIOR = 100.0
Z_SIGNIFICANT = 1.96
GROUPINGS = {"theme": "tema", "code": "kode", "place": "kommune", "year": "år", "doc_type": "dokumenttype"}


def content_words(lemmas: Iterable[str]) -> list[str]:
    stop = stop_words()
    return [w for w in lemmas if is_content(w, stop)]


@dataclass
class Counts:
    """A segments × words count matrix and the vocabulary of its columns."""

    matrix: sparse.csr_matrix
    vocabulary: np.ndarray
    segment_ids: np.ndarray

    @classmethod
    def build(cls, segment_ids: Sequence[int], lemma_lists: Iterable[Sequence[str]]) -> "Counts":
        """Count the content words of each segment (vectorised: one hash pass over all tokens)."""
        lists = lemma_lists if isinstance(lemma_lists, list) else list(lemma_lists)
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        flat = np.fromiter(chain.from_iterable(lists), dtype=object, count=int(lengths.sum()))
        codes, uniques = pd.factorize(flat)
        return cls.of(count_codes(segment_ids, codes, uniques, lengths))

    @classmethod
    def from_joined(cls, segment_ids: Sequence[int], joined: Sequence[str]) -> "Counts":
        """Count from whitespace-joined lemmas (the search index's form)."""
        return cls.of(count_joined(segment_ids, joined))

    @classmethod
    def of(cls, arrays: CountArrays) -> "Counts":
        matrix = sparse.csr_matrix((arrays.data, arrays.indices, arrays.indptr),
                                   shape=(len(arrays.segment_ids), len(arrays.vocabulary)))
        return cls(matrix, arrays.vocabulary, arrays.segment_ids)

    @cached_property
    def index(self) -> pd.Index:
        """Row number of each segment id."""
        return pd.Index(self.segment_ids)

    def rows(self, segment_ids: Iterable[int]) -> np.ndarray:
        found = self.index.get_indexer(list(segment_ids))
        return found[found >= 0]


def lemma_lists_from_texts(texts: Iterable[str]) -> list[list[str]]:
    return [text_lemmas(t or "") for t in texts]


def _group_matrix(counts: Counts, groups: dict[str, Iterable[int]]) -> tuple[list[str], sparse.csr_matrix]:
    """A groups × segments indicator matrix (a segment can sit in several groups, e.g. codes)."""
    keys = list(groups)
    members = [list(groups[key]) for key in keys]
    sizes = [len(m) for m in members]
    found = counts.index.get_indexer(np.fromiter(chain.from_iterable(members), dtype=np.int64, count=sum(sizes)))
    rows = np.repeat(np.arange(len(keys)), sizes)
    known = found >= 0
    shape = (len(keys), counts.matrix.shape[0])
    return keys, sparse.csr_matrix((np.ones(int(known.sum()), dtype=np.int64), (rows[known], found[known])),
                                   shape=shape, dtype=np.int64)


def _top(values: np.ndarray, vocabulary: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest values, ties in word order (without sorting the whole vocabulary)."""
    if not len(values) or n <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(values) > n:
        threshold = np.partition(values, len(values) - n)[len(values) - n]
        candidates = np.flatnonzero(values >= threshold)
    else:
        candidates = np.arange(len(values))
    return candidates[np.lexsort((vocabulary[candidates], -values[candidates]))][:n]


def top_words(counts: Counts, groups: dict[str, Iterable[int]], n: int = 20) -> pd.DataFrame:
    """The ``n`` most frequent words of each group: count, per 1,000 words, segments with the word."""
    keys, g = _group_matrix(counts, groups)
    totals = np.asarray(g @ counts.matrix.sum(axis=1)).ravel()
    freq = (g @ counts.matrix).toarray() if keys else np.zeros((0, 0))
    present = (g @ (counts.matrix > 0).astype(np.int64)).toarray() if keys else np.zeros((0, 0))
    rows = []
    for i, key in enumerate(keys):
        for rank, j in enumerate(_top(freq[i], counts.vocabulary, n), start=1):
            if freq[i, j] <= 0:
                break
            rows.append({"group": key, "rank": rank, "word": counts.vocabulary[j], "count": int(freq[i, j]),
                         "per_1000": round(1000 * freq[i, j] / totals[i], 2) if totals[i] else 0.0,
                         "segments": int(present[i, j])})
    return pd.DataFrame(rows, columns=["group", "rank", "word", "count", "per_1000", "segments"])


def log_odds(y_group: np.ndarray, y_rest: np.ndarray, prior: float = PRIOR) -> tuple[np.ndarray, np.ndarray]:
    """(δ, z) per word for a group against the rest (see the module docstring); words that occur
    in neither get δ = z = 0."""
    y_group, y_rest = y_group.astype(float), y_rest.astype(float)
    y_all = y_group + y_rest
    n_group, n_rest, n_all = y_group.sum(), y_rest.sum(), y_all.sum()
    delta, z = np.zeros_like(y_all), np.zeros_like(y_all)
    seen = y_all > 0
    if not n_all:
        return delta, z
    a, g, r = prior * y_all[seen] / n_all, y_group[seen], y_rest[seen]
    delta[seen] = np.log((g + a) / (n_group + prior - g - a)) - np.log((r + a) / (n_rest + prior - r - a))
    z[seen] = delta[seen] / np.sqrt(1.0 / (g + a) + 1.0 / (r + a))
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
    per_group = (g.multiply(in_corpus[np.newaxis, :]).tocsr() @ counts.matrix).toarray() if keys else None
    rows = []
    for i, key in enumerate(keys):
        y_group = per_group[i]
        y_rest = y_corpus - y_group
        if not y_group.sum() or not y_rest.sum():
            continue
        delta, z = log_odds(y_group, y_rest)
        order = _top(z, counts.vocabulary, n if not all_words else len(z))
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


_STORE_COUNTS: dict[str, tuple[tuple, Counts]] = {}


def store_counts(session) -> Counts:
    """Word counts of every indexed segment of the store: kept in memory until the index changes (so
    switching between groupings costs a matrix product), read from the store when saved there for the
    index as it is, else merged from the documents' counts, else counted now and saved for the next reader."""
    from qualcode.search.word_counts import count_index, index_state, read_documents, read_saved, save_counts

    state = index_state(session)
    where = str(session.get_bind().url)
    cached = _STORE_COUNTS.get(where)
    if cached is not None and cached[0] == state:
        return cached[1]
    arrays = read_saved(session, state)
    if arrays is None:
        arrays = read_documents(session, state)  # as quick to merge as the whole is to read: not saved
    if arrays is None:
        arrays = count_index(session)
        save_counts(session.get_bind(), state, arrays)
    counts = Counts.of(arrays)
    _STORE_COUNTS[where] = (state, counts)
    return counts


def counts_of(data: "AnalysisData", session=None) -> Counts:
    """Word counts of the data's segments: from the store's search index when it is complete
    (a matrix read, not a pass of the lemmatiser over 100,000 texts), else analysed now."""
    if session is not None:
        return store_counts(session)
    if data.store:
        from qualcode.search.index import missing_count
        from qualcode.store import session_factory

        with session_factory(data.store)() as indexed:
            if not missing_count(indexed):
                return store_counts(indexed)
    seg = data.segments[data.segments["codable"]]
    return Counts.build(seg["segment_id"].tolist(), lemma_lists_from_texts(seg["text"]))


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


def groups_from_store(session, by: str, *, include_machine: bool = False, places=(), years=(), doc_types=()
                      ) -> tuple[dict[str, list[int]], list[int]]:
    """``groups_of`` computed with a few SQL queries instead of the whole analysis frame (which
    reads every segment's text): the same definition - reviewers' codes on segments a reviewer
    finished, machine suggestions on the other codable ones when ``include_machine``."""
    from collections import defaultdict

    from sqlalchemy import select

    from qualcode.analysis.codebook_info import codebook_for_store
    from qualcode.analysis.frame import load_codes
    from qualcode.review.labels import reviewed_labels
    from qualcode.search.search import MACHINE_SOURCES, place_column
    from qualcode.store import schema

    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    S, D, C = schema.Segment, schema.Document, schema.Coding
    query = select(S.id, place_column(), D.year, D.doc_type).join(D, D.id == S.document_id).where(S.codable)
    if places:
        query = query.where(place_column().in_(list(places)))
    if years:
        query = query.where(D.year.in_(list(years)))
    if doc_types:
        query = query.where(D.doc_type.in_(list(doc_types)))
    rows = session.execute(query.order_by(S.id)).all()
    ids = [r[0] for r in rows]
    if by in ("place", "year", "doc_type"):
        column = {"place": 1, "year": 2, "doc_type": 3}[by]
        found: dict = defaultdict(list)
        for r in rows:
            found[r[column] if r[column] is not None or by != "doc_type" else "ukjent"].append(r[0])
        keys = sorted((k for k in found if k is not None), key=lambda k: (isinstance(k, str), k))
        return {str(k): found[k] for k in keys}, ids
    labels = reviewed_labels(session)
    wanted = set(ids)
    codes: dict[int, set[str]] = {i: labels[i] for i in ids if i in labels}
    if include_machine:
        for seg, code in session.execute(select(C.segment_id, C.code).where(
                C.source.in_(MACHINE_SOURCES), C.applied, C.active)):
            if seg in wanted and seg not in labels:
                codes.setdefault(seg, set()).add(code)
    scope = [i for i in ids if i in labels or include_machine]
    table = load_codes(session, codebook_for_store(session))
    names = dict(zip(table["code"], table["code_name" if by == "code" else "theme_name"]))
    themes = dict(zip(table["code"], table["theme"]))
    order = {c: n for n, c in enumerate(table["code"])}
    members: dict[str, set[int]] = defaultdict(set)
    for seg, found_codes in codes.items():
        for code in found_codes:
            key = code if by == "code" else themes.get(code, code.split(".")[0])
            members[key].add(seg)
    theme_names = dict(zip(table["theme"], table["theme_name"]))
    label = (lambda k: names.get(k, k)) if by == "code" else (lambda k: theme_names.get(k, k))
    rank = order if by == "code" else {t: min(n for c, n in order.items() if themes[c] == t) for t in set(themes.values())}
    keys = sorted(members, key=lambda k: (rank.get(k, 10**6), k))
    return {label(k): sorted(members[k]) for k in keys}, scope


def word_frequencies(store, by: str = "theme", n: int = 10, *, distinguishing_words: bool = False,
                     include_machine: bool = False, places=(), years=(), doc_types=()) -> pd.DataFrame:
    """The frequent (or distinguishing) words per group of a store (path, URL or sessionmaker),
    read from the search index (segments it lacks are indexed first)."""
    from qualcode.analysis.frame import open_session
    from qualcode.search.index import index_missing

    if not callable(store):
        from qualcode.store.db import session_factory

        store = session_factory(str(store))
    index_missing(store)
    with open_session(store) as session:
        counts = store_counts(session)
        groups, corpus = groups_from_store(session, by, include_machine=include_machine, places=places,
                                           years=years, doc_types=doc_types)
    if distinguishing_words:
        return distinguishing(counts, groups, corpus, n=n)
    return top_words(counts, groups, n=n)
