"""Suggestions for new codes: groups of segments about the same thing among those no code fits.

TF-IDF on the segments' lemmas (stop words out, the same words as the word counts),
factorised with NMF (scikit-learn), learnt from at most 20,000 segments (a random
sample) and then applied to all, so 100,000 segments take seconds, not minutes. Each
group is a component: its distinguishing words are the component's heaviest words, its
segments those whose strongest component it is, and its typical segments the three
that load on it most. A group the researcher
names becomes a code (definition drafted from the words, examples from the typical
segments) and its segments are coded as the researcher's decisions, audited.
"""
from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import exists, not_, select

from qualcode.search.frequencies import store_counts
from qualcode.store import schema

FIT_SAMPLE = 20_000  # segments the groups are learnt from (a random sample when there are more)
MAX_WORDS = 10_000  # the most widespread words the factorisation works on
AMONG = {
    "uncoded": "segmenter uten koder (gjennomgått uten koder, eller uten maskinforslag)",
    "unfitted": "gjennomgåtte segmenter uten koder",
    "all": "alle segmenter som kan kodes",
}
Progress = Callable[[float, str], None]  # (share done 0..1, what is happening)


@dataclass
class Group:
    number: int
    words: list[str]
    weights: list[float]
    segment_ids: list[int]  # strongest first
    typical: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.segment_ids)


@dataclass
class Discovery:
    groups: list[Group]
    segments: int  # how many segments were grouped
    seconds: float
    note: str = ""


def candidate_segments(session, among: str = "uncoded", ids: list[int] | None = None) -> list[int]:
    """Codable segments to look for new themes in: ``among`` one of ``AMONG``, optionally within ``ids``."""
    from qualcode.review.labels import reviewed_labels

    if among not in AMONG:
        raise ValueError(f"among must be one of {', '.join(AMONG)}, not {among!r}")
    S, C = schema.Segment, schema.Coding
    query = select(S.id).where(S.codable).order_by(S.id)
    labels = reviewed_labels(session) if among != "all" else {}
    if among == "uncoded":
        suggested = select(C.id).where(C.segment_id == S.id, C.source.in_(("rule", "model")), C.applied, C.active)
        query = query.where(not_(exists(suggested)))
    found = session.scalars(query).all()
    if among == "unfitted":
        found = [s for s in found if s in labels and not labels[s]]
    elif among == "uncoded":
        found = [s for s in found if not labels.get(s)]
        reviewed_empty = [s for s, codes in labels.items() if not codes]  # reviewed, suggestions rejected
        found = sorted(set(found) | set(reviewed_empty))
    if ids is not None:
        wanted = set(ids)
        found = [s for s in found if s in wanted]
    return list(found)


def discover(factory, segment_ids: list[int], k: int = 8, *, progress: Progress | None = None,
             seed: int = 0, words: int = 10) -> Discovery:
    """Up to ``k`` groups among ``segment_ids`` (largest first)."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    from qualcode.search.index import index_missing

    report = progress or (lambda share, what: None)
    started = time.perf_counter()
    report(0.0, "Oppdaterer søkeindeksen")
    index_missing(factory, lambda done, todo: report(0.1 * done / max(todo, 1), "Oppdaterer søkeindeksen"))
    report(0.1, "Leser ordene")
    with factory() as session:
        counts = store_counts(session)
    rows = counts.rows(segment_ids)
    found = counts.segment_ids[rows]
    matrix = counts.matrix[rows]
    enough = np.asarray(matrix.sum(axis=1)).ravel() >= 3  # segments with at least three content words
    ids = [int(i) for i in found[enough]]
    matrix = matrix[enough]
    if len(ids) < max(2 * k, 6):
        return Discovery([], len(ids), time.perf_counter() - started,
                         f"For få segmenter å gruppere ({len(ids)} med nok innhold); velg et større utvalg.")
    report(0.25, "Vekter ordene (TF-IDF)")
    df = np.asarray((matrix > 0).sum(axis=0)).ravel()
    usable = np.where((df >= (2 if len(ids) < 5000 else 5)) & (df <= 0.5 * len(ids)))[0]
    usable = usable[np.argsort(-df[usable], kind="stable")][:MAX_WORDS]
    if len(usable) < 2:
        return Discovery([], len(ids), time.perf_counter() - started, "Segmentene har for få felles ord.")
    x = TfidfTransformer(sublinear_tf=True).fit_transform(matrix[:, usable])
    vocabulary = counts.vocabulary[usable]
    k = max(1, min(k, x.shape[1] - 1, len(ids) // 3))
    sample = np.arange(x.shape[0])
    if len(sample) > FIT_SAMPLE:  # the groups are learnt from a sample, then every segment is placed
        sample = np.sort(np.random.default_rng(seed).choice(len(sample), FIT_SAMPLE, replace=False))
    report(0.4, f"Finner {k} grupper (NMF på {len(sample)} segmenter)")
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
    model.fit(x[sample])
    report(0.75, "Plasserer segmentene i gruppene")
    weights = model.transform(x)
    report(0.9, "Velger typiske segmenter")
    components = model.components_
    strongest = weights.argmax(axis=1)
    loaded = weights.max(axis=1) > 0
    groups = []
    for g in range(k):
        members = np.where((strongest == g) & loaded)[0]
        if not len(members):
            continue
        members = members[np.argsort(-weights[members, g], kind="stable")]
        top = np.argsort(-components[g], kind="stable")[:words]
        share = weights[members, g] / np.maximum(weights[members].sum(axis=1), 1e-12)
        typical = [int(m) for m, s in zip(members, share) if s >= 0.5][:3] or [int(m) for m in members[:3]]
        groups.append(Group(g + 1, [str(vocabulary[j]) for j in top], [round(float(components[g, j]), 4) for j in top],
                            [ids[m] for m in members], [ids[m] for m in typical]))
    groups.sort(key=lambda grp: -grp.size)
    for number, grp in enumerate(groups, start=1):
        grp.number = number
    report(1.0, "Ferdig")
    return Discovery(groups, len(ids), time.perf_counter() - started)


# -- from a group to a code ------------------------------------------------------------------------------
def slug(name: str) -> str:
    """A code id part from a name: "Frivillige lag og foreninger" → "frivillige_lag_og_foreninger"."""
    text = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"_+", "_", re.sub(r"[^a-z]+", "_", text)).strip("_")[:60] or "ny_kode"


def _first_sentence(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    m = re.search(r"(?<=[.!?])\s", text)
    sentence = text[:m.start()] if m and m.start() >= 30 else text
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0] + " …"


def draft_code(group: Group, name: str, theme: str, texts: dict[int, str]) -> dict:
    """A new code drafted from a group: definition from its words, examples from its typical segments."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("give the new code a name")
    words = group.words[:6]
    return {
        "id": f"{theme}.{slug(name)}",
        "name": name,
        "definition": (f"Segmenter om {name.lower()}: {', '.join(words)}. "
                       "(Utkast fra «Nye koder» – skriv om til en definisjon av hva koden omfatter.)"),
        "patterns": words[:5],
        "examples": [_first_sentence(texts[s]) for s in group.typical if texts.get(s)],
    }


def create_code(factory, group: Group, code: dict, reviewer: str, current, own, theme_name: str | None = None,
                segment_ids: list[int] | None = None):
    """Add ``code`` to the codebook and code the group's segments (or ``segment_ids``) with it as
    ``reviewer``'s decisions (audited, undoable as a whole). Returns (codebook, batch result)."""
    from qualcode.review.actions import add_many
    from qualcode.search.codebook_bridge import add_code
    from qualcode.search.index import chunks

    book = add_code(factory, current, own, reviewer, code, theme_name=theme_name)
    targets = segment_ids if segment_ids is not None else group.segment_ids
    versions: dict[int, int] = {}
    with factory() as session:
        for chunk in chunks(targets):
            versions.update(session.execute(select(schema.Segment.id, schema.Segment.review_version)
                                            .where(schema.Segment.id.in_(chunk))).all())
    result = add_many(factory, code["id"], reviewer, versions, discovered_words=group.words[:10])
    return book, result
