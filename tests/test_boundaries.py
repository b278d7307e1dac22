"""Every decision boundary of the coder, pinned from both sides: flipping `>=` to `>` or
`<` to `<=` at any of them fails a test here."""
from __future__ import annotations

import numpy as np
import pytest

from qualcode.coding.coder import KEEP_WEAK_ABOVE, Coder
from qualcode.coding.codebook import Codebook
from qualcode.coding.model import CodeModel, rule_prior
from qualcode.coding.rules import RuleCoder, predict_records

BOOK = """
name: Grenser
version_label: "grenser v1"
themes:
  - id: a
    name: A
    codes:
      - id: a.halv
        name: Halv
        definition: Ett mønster med vekt 1 gir akkurat 0,5, som er min_score.
        patterns: ["hund*"]
        min_score: 0.5
      - id: a.naer
        name: Nær
        definition: To ord med høyst ett ord imellom (within 2).
        patterns: [{near: [klare, tegn], within: 2}]
      - id: a.kontekst
        name: Kontekst
        definition: Katt teller bare med «liten» høyst to ord unna.
        patterns: ["katt"]
        context:
          - require: [liten]
            scope: 2
      - id: a.svak
        name: Svak
        definition: Vekt som gir akkurat KEEP_WEAK_ABOVE.
        patterns: [{pattern: "fugl", weight: 0.32192809488736235}]
"""


@pytest.fixture(scope="module")
def rules() -> RuleCoder:
    return RuleCoder(Codebook.from_yaml_text(BOOK))


def score_of(rules, text, code):
    return next((s.score for s in rules.code_texts([text])[0] if s.code == code), None)


def test_min_score_is_reached_exactly_and_applies(rules):
    assert score_of(rules, "Hunden sov.", "a.halv") == 0.5  # exactly min_score
    [row] = predict_records([{"id": "x", "text": "Hunden sov."}], rules)
    assert "a.halv" in row["codes"]
    [found] = Coder(rules.codebook, rules, "test").suggest(["Hunden sov."])
    assert [m.applied for m in found if m.code == "a.halv"] == [True]
    [row] = Coder(rules.codebook, rules, "test").predict_records([{"id": "x", "text": "Hunden sov."}])
    assert "a.halv" in row["codes"]


def test_prior_maps_min_score_to_exactly_half():
    assert rule_prior(np.array([[0.5]]), np.array([0.5]))[0, 0] == 0.5
    assert rule_prior(np.array([[0.4999]]), np.array([0.5]))[0, 0] < 0.5


@pytest.mark.parametrize("text, hit", [
    ("Vi så klare tegn.", True),              # side by side: gap 0
    ("Vi så klare og tegn.", True),           # one word between: gap 1 < within 2
    ("Vi så klare og tydelige tegn.", False),  # two words between: gap 2, not < 2
])
def test_near_distance_is_strictly_less_than_within(rules, text, hit):
    assert (score_of(rules, text, "a.naer") is not None) is hit


@pytest.mark.parametrize("text, hit", [
    ("En liten grå katt.", True),       # one word between: distance 1 < 2
    ("En liten og grå katt.", False),   # two words between: distance 2, not < 2
])
def test_context_scope_in_words_is_strict(rules, text, hit):
    assert (score_of(rules, text, "a.kontekst") is not None) is hit


def test_weak_suggestions_kept_from_exactly_keep_weak_above(rules):
    score = score_of(rules, "En fugl sang.", "a.svak")
    assert score == pytest.approx(KEEP_WEAK_ABOVE, abs=1e-4) and score >= KEEP_WEAK_ABOVE
    [found] = Coder(rules.codebook, rules, "test").suggest(["En fugl sang."])
    assert [(m.code, m.applied) for m in found] == [("a.svak", False)]


def test_model_threshold_applies_at_exactly_the_threshold(rules):
    """A model with too few labels keeps the rule decision: probability 0.5 at min_score,
    threshold 0.5 - the apply step must code it (p >= t), in `decide` and in `suggest`."""
    texts = ["Hunden sov.", "Katten sov.", "Været var fint."] * 4
    model = CodeModel(seed=0).fit_texts(texts, [set()] * len(texts), rules.codebook, rules=rules)
    proba = model.predict_proba(["Hunden sov."], rules=rules)
    j = model.code_ids.index("a.halv")
    assert proba[0, j] == model.thresholds["a.halv"] == 0.5
    assert "a.halv" in model.decide(proba)[0]
    [found] = Coder(rules.codebook, rules, "test", model, True).suggest(["Hunden sov."])
    assert [m.applied for m in found if m.code == "a.halv" and m.source == "model"] == [True]


# -- when a learned decision may replace the prior's ------------------------------------------

def test_a_learned_decision_exactly_the_margin_above_the_prior_is_taken():
    from qualcode.coding.model import _select

    kappas = np.array([[0.50, 0.50, 0.50], [0.52, 0.5199, 0.60]])  # prior first, then one candidate per column
    assert _select(kappas, 0.02).tolist() == [1, 0, 1]
    assert _select(kappas, 0.0).tolist() == [1, 1, 1]


def _candidates(n_wrong_learned: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.zeros(120, dtype=bool)
    y[:30] = True
    prior, learned = y.copy(), y.copy()
    prior[[0, 1, 2, 3, 4, 5, 6, 7, 40, 41, 42, 43]] ^= True  # 12 mistakes
    learned[[8, 9, 10, 11, 12, 13, 50, 51, 52, 53, 54, 55][:n_wrong_learned]] ^= True  # elsewhere
    return y, np.array([prior, learned])


def test_the_base_takes_a_modest_gain_that_adapting_to_a_few_reviews_would_not_trust():
    from qualcode.coding.model import ADAPT_GUARD, BASE_GUARD, _choose

    y, candidates = _candidates(9)  # 9 mistakes instead of 12: better, but not in three resamples of four
    assert _choose(y, candidates, 0, ADAPT_GUARD)[0] == 0
    assert _choose(y, candidates, 0, BASE_GUARD)[0] == 1
    y, candidates = _candidates(2)  # a clear gain: both take it
    assert _choose(y, candidates, 0, ADAPT_GUARD)[0] == 1 and _choose(y, candidates, 0, BASE_GUARD)[0] == 1
    y, candidates = _candidates(12)  # as many mistakes: neither gives up the prior
    assert _choose(y, candidates, 0, ADAPT_GUARD)[0] == 0 and _choose(y, candidates, 0, BASE_GUARD)[0] == 0


def _reviews_against_reference() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """300 reference rows the prior codes right (the learned decision misses 20 of them) and
    60 reviewed rows where the prior misses 15 positives (the learned decision none)."""
    y = np.zeros(360, dtype=bool)
    y[:150] = True
    y[300:330] = True
    prior, learned = y.copy(), y.copy()
    learned[np.r_[0:10, 150:160]] ^= True
    prior[300:315] = False
    weights = np.r_[np.ones(300), np.full(60, 5.0)]
    return y, np.array([prior, learned]), weights


def test_a_decision_is_judged_with_the_weights_the_fit_learns_with():
    from qualcode.coding.model import BASE_GUARD, _choose

    y, candidates, weights = _reviews_against_reference()
    assert _choose(y, candidates, 0, BASE_GUARD)[0] == 0  # counted once, the reference outvotes the reviews
    assert _choose(y, candidates, 0, BASE_GUARD, weights)[0] == 1  # weighted up, the reviews count as the fit's rows do
    assert _choose(y, candidates, 0, BASE_GUARD, np.ones(len(y)))[0] == 0  # unit weights change nothing


def test_fit_hands_its_row_weights_to_the_judgment(monkeypatch):
    from test_model import BOOK as ANIMALS, make

    from qualcode.coding import model as model_module
    from qualcode.coding.features import analyse

    seen = []
    real = model_module._choose

    def spy(y, candidates, seed, guard, weights=None):
        seen.append(None if weights is None else np.asarray(weights).copy())
        return real(y, candidates, seed, guard, weights)

    monkeypatch.setattr(model_module, "_choose", spy)
    book = Codebook.from_yaml_text(ANIMALS)
    texts, labels = make(120, 3)
    weights = np.r_[np.ones(60), np.full(60, 3.0)]
    CodeModel(inner_folds=3).fit(analyse(texts, RuleCoder(book)), labels, book,
                                 groups=[f"d{i % 4}" for i in range(120)], sample_weight=weights)
    assert seen and all(w is not None and np.array_equal(w, weights) for w in seen)


def test_a_weighted_kappa_counts_a_row_of_weight_three_as_three_rows():
    from qualcode.coding.evaluation import binary_kappa

    y, candidates, _ = _reviews_against_reference()
    weights = np.r_[np.ones(300), np.full(60, 3.0)]
    tripled = np.r_[np.arange(300), np.repeat(np.arange(300, 360), 3)]
    for decision in candidates:
        assert binary_kappa(y, decision, weights) == pytest.approx(binary_kappa(y[tripled], decision[tripled]))
        assert binary_kappa(y, decision, weights) != pytest.approx(binary_kappa(y, decision))


@pytest.mark.parametrize("many_rows, folds", [(121, 5), (120, 3)])
def test_from_many_labelled_rows_on_three_inner_folds(monkeypatch, many_rows, folds):
    """Judging on fewer, larger folds starts exactly at MANY_ROWS labelled rows (5,000 reviews
    retrain in under 30 s); below it every choice still sees five folds."""
    from test_model import BOOK as ANIMALS, make

    from qualcode.coding import model as model_module
    from qualcode.coding.features import analyse

    asked = []
    real = model_module._folds

    def spy(n, groups, k, seed):
        asked.append(k)
        return real(n, groups, k, seed)

    monkeypatch.setattr(model_module, "_folds", spy)
    monkeypatch.setattr(model_module, "MANY_ROWS", many_rows)
    book = Codebook.from_yaml_text(ANIMALS)
    texts, labels = make(120, 3)
    CodeModel().fit(analyse(texts, RuleCoder(book)), labels, book, groups=[f"d{i % 6}" for i in range(120)])
    assert asked == [folds]


@pytest.mark.parametrize("many_rows, keeps_base_c", [(121, False), (120, True)])
def test_from_many_labelled_rows_an_adapting_model_keeps_the_bases_c(monkeypatch, many_rows, keeps_base_c):
    """Below MANY_ROWS a model adapting the base searches the C grid; from it on it keeps the base's C."""
    from test_model import BOOK as ANIMALS, make

    from qualcode.coding import model as model_module
    from qualcode.coding.features import analyse

    book = Codebook.from_yaml_text(ANIMALS)
    rules = RuleCoder(book)
    texts, labels = make(120, 5)
    base = CodeModel().fit(analyse(texts, rules), labels, book, groups=[f"b{i % 4}" for i in range(120)])
    tried = set()
    real = CodeModel._fit_lr

    def spy(self, X, y, w, C):
        tried.add(C)
        return real(self, X, y, w, C)

    monkeypatch.setattr(CodeModel, "_fit_lr", spy)
    monkeypatch.setattr(model_module, "MANY_ROWS", many_rows)
    texts, labels = make(120, 6)
    CodeModel(base=base).fit(analyse(texts, rules), labels, book, groups=[f"d{i % 6}" for i in range(120)])
    assert tried == ({base.C} if keeps_base_c else set(model_module.C_GRID))
