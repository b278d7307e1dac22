"""The learned coder: reviewers' decisions on top of the codebook's rules.

Per code, a class-balanced logistic regression reads lemma uni- and bigrams (TF-IDF)
and the rule coder's scores for every code. Its out-of-fold probability is blended
with the rule score (mapped so the code's ``min_score`` sits at 0.5); the blend
weight and the threshold are chosen by inner cross-validation on the training data.
The rule decision is the default: a learned one replaces it only if it beats it by
a margin in cross-validation AND the whole choice, repeated on bootstrap resamples,
also wins on the rows each resample left out (the best of many blends on small
folds flatters itself). With fewer than 5 positives for a code, or 40 labelled
segments in all, the rule decision stays - few labels never make coding worse than
the codebook alone. Probabilities are Platt-calibrated once a code has 8 positives
and 8 negatives. Everything is seeded, so a fit is reproducible.

Character n-grams were tried: ten times the training time, no gain in
cross-validation (the lemmas already fold inflection).

Training data is what people wrote: reviewer labels, ``--train`` files and the
codebook's own example sentences (each a positive for its code, always on the
training side of inner folds) - never the model's own unreviewed predictions.
"""
from __future__ import annotations

import logging
import pickle
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from qualcode.coding.codebook import Codebook
from qualcode.coding.evaluation import binary_kappa
from qualcode.coding.rules import RuleCoder

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the pickled layout changes
MIN_POSITIVES = 5  # below this a code keeps its rule decision (too few to judge a change by)
MIN_LABELLED = 40  # below this every code does: kappa on fewer segments is too coarse to overrule a codebook
MIN_CALIBRATION = 8  # positives (and negatives) needed before Platt scaling is trusted
INNER_FOLDS = 5
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of the learned probability in the blend
THRESHOLDS = np.round(np.arange(0.1, 0.91, 0.05), 2)
RULE_MARGIN = 0.02  # a learned decision must beat the rule's out-of-fold kappa by this much
RULE_GAIN = 1.0  # scale of the rule-score features next to the unit-norm TF-IDF row
BOOTSTRAP = 200  # resamples that check a learned decision really beats the rule (see _choose)
MAX_LOSS_SHARE = 0.25  # share of resamples in which the learned pick may still lose to the rule
LARGE = 2000  # labelled rows above which 3 inner folds are enough (keeps retraining fast)
C = 10.0  # inverse regularisation of the logistic regressions (class-balanced)
_EPS = 1e-6


# -- text analysis -------------------------------------------------------------------------

class _BoundedCache(OrderedDict):
    """Least-recently-used text → lemma string cache (corpora repeat texts across runs/folds)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: str, value: str) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


_LEMMAS = _BoundedCache(100_000)


def _lemma_string(doc) -> str:
    return " ".join((t.lemma_ or t.lower_).lower() for t in doc if t.is_alpha or t.text == "§")


def analyse(texts: Sequence[str], rules: RuleCoder) -> tuple[list[str], np.ndarray]:
    """Lemma strings and the rule-score matrix (texts × codebook codes) from ONE NLP pass."""
    ids = rules.codebook.code_ids
    col = {c: j for j, c in enumerate(ids)}
    scores = np.zeros((len(texts), len(ids)))
    lemmas = []
    for i, doc in enumerate(rules.nlp.pipe(list(texts), batch_size=256)):
        for sug in rules.code_doc(doc):
            scores[i, col[sug.code]] = sug.score
        lemma = _lemma_string(doc)
        _LEMMAS.put(doc.text, lemma)
        lemmas.append(lemma)
    return lemmas, scores


def lemmatise(texts: Sequence[str], nlp=None) -> list[str]:
    """Lemma strings for texts, parsing only those not seen before."""
    missing = [t for t in dict.fromkeys(texts) if t not in _LEMMAS]
    if missing:
        if nlp is None:
            from qualcode.nlp import load_nlp

            nlp = load_nlp()
        for text, doc in zip(missing, nlp.pipe(missing, batch_size=256)):
            _LEMMAS.put(text, _lemma_string(doc))
    return [_LEMMAS[t] for t in texts]


def rule_prior(scores: np.ndarray, min_scores: np.ndarray) -> np.ndarray:
    """Rule scores mapped piecewise-linearly so each code's min_score lands on 0.5.

    Thresholding the result at 0.5 gives exactly the rule coder's decision."""
    scores = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    low = scores / (2 * min_scores)
    high = 0.5 + 0.5 * (scores - min_scores) / np.maximum(1 - min_scores, _EPS)
    return np.where(scores < min_scores, low, np.minimum(high, 1.0))


# -- per-code decision ---------------------------------------------------------------------

@dataclass
class CodeFit:
    """What was learned for one code; ``clf`` is None when the code keeps its rule decision."""

    code: str
    n_pos: int
    weight: float = 0.0  # share of the learned probability in the blend
    threshold: float = 0.5  # on the (calibrated) probability
    platt: tuple[float, float] | None = None  # a, b of sigmoid(a * blend + b)
    clf: LogisticRegression | None = None
    cv_kappa: float | None = None  # inner-CV kappa of the chosen decision
    rule_kappa: float | None = None  # inner-CV kappa of the rule decision on the same rows

    def probability(self, learned: np.ndarray | None, prior: np.ndarray) -> np.ndarray:
        blend = prior if learned is None or self.weight == 0 else self.weight * learned + (1 - self.weight) * prior
        if self.platt is None:
            return np.clip(blend, 0.0, 1.0)
        a, b = self.platt
        return 1.0 / (1.0 + np.exp(-(a * blend + b)))


def _weighted_kappas(y: np.ndarray, P: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Kappa of each candidate row of ``P`` (m × n, bool) against ``y`` under each column of
    row weights ``W`` (n × B): an m × B matrix (1.0 where both sides are constant and equal)."""
    tp = (P & y).astype(float) @ W
    pp = P.astype(float) @ W
    pos = y.astype(float) @ W
    N = W.sum(axis=0)
    po = (N - pp - pos + 2 * tp) / N
    pe = (pp * pos + (N - pp) * (N - pos)) / (N * N)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = (po - pe) / (1 - pe)
    return np.where(pe >= 1 - 1e-12, 1.0, k)


def _select(kappas: np.ndarray) -> np.ndarray:
    """Index of the chosen candidate per column: the best, unless it fails to beat the rule
    (row 0) by RULE_MARGIN."""
    best = kappas.argmax(axis=0)
    top = kappas[best, np.arange(kappas.shape[1])]
    return np.where(top >= kappas[0] + RULE_MARGIN, best, 0)


def _choose(y: np.ndarray, candidates: np.ndarray, seed: int) -> tuple[int, float]:
    """Pick a decision (row of ``candidates``; row 0 = the rule) and say whether it is safe.

    Picking the best of many blends on small folds flatters the winner. So the whole
    pick is repeated on bootstrap resamples and judged on the rows each resample left
    out: unless that out-of-bag gain over the rule is positive on average, the rule
    decision stays (row 0). Returns (row, in-sample kappa of the row)."""
    full = _weighted_kappas(y, candidates, np.ones((len(y), 1)))[:, 0]
    pick = int(_select(full[:, None])[0])
    if pick == 0 or BOOTSTRAP == 0:
        return pick, float(full[pick])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(y), size=(BOOTSTRAP, len(y)))
    inbag = np.zeros((len(y), BOOTSTRAP))
    np.add.at(inbag, (draws, np.arange(BOOTSTRAP)[:, None]), 1.0)
    oob = (inbag == 0).astype(float)
    chosen = _select(_weighted_kappas(y, candidates, inbag))
    k_oob = _weighted_kappas(y, candidates, oob)
    cols = np.arange(BOOTSTRAP)
    gain = np.nan_to_num(k_oob[chosen, cols] - k_oob[0, cols])
    safe = gain.mean() > 0 and np.mean(gain < 0) <= MAX_LOSS_SHARE
    return (pick, float(full[pick])) if safe else (0, float(full[0]))


def _platt(scores: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
    lr = LogisticRegression(C=1e4, random_state=seed).fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


@dataclass
class _Design:
    """Feature blocks shared by all codes of one fit."""

    word: TfidfVectorizer
    min_scores: np.ndarray

    def matrix(self, lemmas: Sequence[str], scores: np.ndarray) -> sparse.csr_matrix:
        prior = rule_prior(scores, self.min_scores)
        return sparse.hstack([self.word.transform(lemmas), sparse.csr_matrix(RULE_GAIN * prior)], format="csr")


# -- the model -----------------------------------------------------------------------------

@dataclass
class CodeModel:
    """Multi-label coder; see the module docstring for how rules and labels combine."""

    seed: int = 0
    inner_folds: int = INNER_FOLDS
    code_ids: list[str] = field(default_factory=list)
    codebook_version: str = ""
    fits: dict[str, CodeFit] = field(default_factory=dict)
    n_labelled: int = 0
    n_examples: int = 0
    version: str = ""  # the store artefact's version, set when saved or loaded
    _design: _Design | None = None
    _rules: RuleCoder | None = field(default=None, repr=False)

    # fitting -------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], label_sets: Sequence[Iterable[str]], codebook: Codebook,
            rule_scores: np.ndarray | None = None, *, rules: RuleCoder | None = None,
            use_examples: bool = True) -> "CodeModel":
        """Learn from labelled texts (+ the codebook's examples); rule_scores is texts × codes."""
        rules = self._bind(rules, codebook)
        self.code_ids, self.codebook_version = list(codebook.code_ids), codebook.version
        known = set(self.code_ids)
        texts = list(texts)
        label_sets = [set(ls) & known for ls in label_sets]
        if rule_scores is None:
            lemmas, rule_scores = analyse(texts, rules)
        else:
            rule_scores = self._score_matrix(rule_scores, len(texts))
            lemmas = lemmatise(texts, rules.nlp)
        ex_texts, ex_codes = ([], [])
        if use_examples:
            ex_texts, ex_codes = _examples(codebook)
        ex_lemmas, ex_scores = analyse(ex_texts, rules) if ex_texts else ([], np.zeros((0, len(self.code_ids))))
        self.n_labelled, self.n_examples = len(texts), len(ex_texts)

        min_scores = np.array([codebook.code(c).min_score for c in self.code_ids])
        word = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        word.fit(lemmas + ex_lemmas)
        self._design = _Design(word, min_scores)
        X = self._design.matrix(lemmas + ex_lemmas, np.vstack([rule_scores, ex_scores]))
        prior = rule_prior(np.vstack([rule_scores, ex_scores]), min_scores)
        n = len(texts)
        self.fits = {}
        for j, code in enumerate(self.code_ids):
            y = np.array([code in ls for ls in label_sets] + [c == code for c in ex_codes], dtype=bool)
            self.fits[code] = self._fit_code(code, X, y, prior[:, j], n)
        return self

    def _fit_code(self, code: str, X, y: np.ndarray, prior: np.ndarray, n: int) -> CodeFit:
        """Out-of-fold probabilities on the labelled rows (examples always train) pick the
        blend weight and threshold; the rule decision stays unless clearly beaten."""
        y_lab, prior_lab = y[:n], prior[:n]
        n_pos = int(y_lab.sum())
        fit = CodeFit(code, n_pos)
        if n < MIN_LABELLED or n_pos < MIN_POSITIVES or n - n_pos < MIN_POSITIVES:
            return fit
        k = self.inner_folds if n < LARGE else min(self.inner_folds, 3)  # plenty of rows per fold anyway
        folds = StratifiedKFold(min(k, n_pos), shuffle=True, random_state=self.seed)
        extra = np.arange(n, len(y))
        oof = np.zeros(n)
        for train, test in folds.split(np.zeros(n), y_lab):
            rows = np.concatenate([train, extra])
            oof[test] = self._classifier().fit(X[rows], y[rows]).predict_proba(X[test])[:, 1]
        options = [(0.0, 0.5)] + [(w, float(t)) for w in BLEND_WEIGHTS[1:] for t in THRESHOLDS]
        candidates = np.array([(w * oof + (1 - w) * prior_lab) >= t for w, t in options])
        fit.rule_kappa = binary_kappa(y_lab, candidates[0])
        pick, fit.cv_kappa = _choose(y_lab, candidates, self.seed)
        fit.weight, fit.threshold = options[pick]
        if fit.weight > 0:
            fit.clf = self._classifier().fit(X, y)
        if n_pos >= MIN_CALIBRATION and n - n_pos >= MIN_CALIBRATION:
            a, b = _platt(fit.weight * oof + (1 - fit.weight) * prior_lab, y_lab, self.seed)
            if a > 0:  # a monotone map: the threshold moves with it, decisions stay the same
                fit.platt = (a, b)
                fit.threshold = float(1.0 / (1.0 + np.exp(-(a * fit.threshold + b))))
        return fit

    def _classifier(self) -> LogisticRegression:
        return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, random_state=self.seed,
                                  max_iter=1000)

    # prediction ----------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str], rule_scores: np.ndarray | None = None, *,
                      rules: RuleCoder | None = None) -> np.ndarray:
        """Calibrated probabilities, texts × ``code_ids``, all in [0, 1]."""
        if self._design is None:
            raise RuntimeError("the model has not been fitted")
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.code_ids)))
        if rule_scores is None:
            lemmas, rule_scores = analyse(texts, self._bind(rules))
        else:
            rule_scores = self._score_matrix(rule_scores, len(texts))
            coder = rules if rules is not None else self._rules
            lemmas = lemmatise(texts, coder.nlp if coder is not None else None)
        X = self._design.matrix(lemmas, rule_scores)
        prior = rule_prior(rule_scores, self._design.min_scores)
        out = np.zeros((len(texts), len(self.code_ids)))
        for j, code in enumerate(self.code_ids):
            fit = self.fits[code]
            learned = None if fit.clf is None or fit.weight == 0 else fit.clf.predict_proba(X)[:, 1]
            out[:, j] = fit.probability(learned, prior[:, j])
        return out

    @property
    def thresholds(self) -> dict[str, float]:
        return {c: self.fits[c].threshold for c in self.code_ids}

    def decide(self, proba: np.ndarray) -> list[list[str]]:
        thr = np.array([self.fits[c].threshold for c in self.code_ids])
        return [[c for c, hit in zip(self.code_ids, row) if hit] for row in proba >= thr]

    def predict_records(self, records: list[dict], *, rules: RuleCoder | None = None) -> list[dict]:
        """`{"id", "codes", "scores"}` per record, like ``rules.predict_records``."""
        proba = self.predict_proba([r.get("text") or "" for r in records], rules=rules)
        return [{"id": rec.get("id"), "codes": codes,
                 "scores": {c: round(float(p), 4) for c, p in zip(self.code_ids, row)}}
                for rec, codes, row in zip(records, self.decide(proba), proba)]

    def summary(self) -> dict:
        """Per-code choices (JSON-friendly), stored with the artefact and printed by `train`."""
        return {c: {"n_pos": f.n_pos, "weight": f.weight, "threshold": round(f.threshold, 4),
                    "calibrated": f.platt is not None,
                    "cv_kappa": None if f.cv_kappa is None else round(f.cv_kappa, 4),
                    "rule_kappa": None if f.rule_kappa is None else round(f.rule_kappa, 4)}
                for c, f in self.fits.items()}

    # persistence ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        state = {"format": FORMAT, "sklearn": sklearn.__version__, "model": self}
        return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 6)

    @classmethod
    def from_bytes(cls, payload: bytes) -> "CodeModel":
        state = pickle.loads(zlib.decompress(payload))  # local store only: never load foreign payloads
        if state.get("format") != FORMAT:
            raise ValueError(f"model payload format {state.get('format')} is not {FORMAT}; retrain with `qualcode train`")
        if state.get("sklearn") != sklearn.__version__:
            log.warning("model trained with scikit-learn %s, running %s", state.get("sklearn"), sklearn.__version__)
        return state["model"]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_rules"] = None  # the spaCy pipeline is rebuilt, never pickled
        return state

    # helpers -------------------------------------------------------------------------------
    def _bind(self, rules: RuleCoder | None, codebook: Codebook | None = None) -> RuleCoder:
        """The rule coder to analyse texts with; when predicting, it must be for our codebook."""
        if codebook is not None:  # fitting: the given (or a fresh) coder for this codebook
            if rules is not None and rules.codebook.version != codebook.version:
                raise ValueError("the rule coder is for another codebook version than the one to fit")
            self._rules = rules if rules is not None else RuleCoder(codebook)
            return self._rules
        rules = rules if rules is not None else self._rules
        if rules is None:
            raise ValueError("pass rules=RuleCoder(codebook) to score new texts with a loaded model")
        if rules.codebook.version != self.codebook_version:
            raise ValueError(f"model was trained for codebook {self.codebook_version}, "
                             f"not {rules.codebook.version}; retrain it")
        self._rules = rules
        return rules

    def _score_matrix(self, scores, n: int) -> np.ndarray:
        if isinstance(scores, np.ndarray):
            matrix = scores.astype(float)
        else:
            matrix = np.array([[float(s.get(c, 0.0)) for c in self.code_ids] for s in scores])
        if matrix.shape != (n, len(self.code_ids)):
            raise ValueError(f"rule_scores must be {n} × {len(self.code_ids)}, got {matrix.shape}")
        return matrix


def _examples(codebook: Codebook) -> tuple[list[str], list[str]]:
    texts, codes = [], []
    for code in codebook.codes:
        for ex in code.examples:
            texts.append(ex)
            codes.append(code.id)
    return texts, codes


def classify_with_training(coder, train_records: list[dict], records: list[dict], *, seed: int = 0) -> list[dict]:
    """Train on labelled records (+ codebook examples), then code ``records``.

    The path `qualcode classify --train` and `qualcode evaluate --cv` share."""
    if not train_records:
        raise ValueError("no labelled records to train on")
    model = CodeModel(seed=seed).fit([r.get("text") or "" for r in train_records],
                                     [r.get("codes") or [] for r in train_records], coder.codebook,
                                     rules=coder.rules)
    return model.predict_records(records, rules=coder.rules)
