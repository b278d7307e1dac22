"""Text features computed without scikit-learn at prediction time equal scikit-learn's vectorisers
(unit-length rows), and pivoted rows rescale exactly those by their length."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from qualcode.coding.codebook import load_codebook
from qualcode.coding.features import LENGTH_SLOPE, TextFeatures, analyse, char_grams, word_grams
from qualcode.coding.rules import RuleCoder

TEXTS = ["Barneverntjenesten samarbeider tett med skolen og helsestasjonen.",
         "Kommunen har for få ansatte, og turnover i barneverntenesta er høy.",
         "Planen skal sikre tidlig innsats i barnehagen: rett hjelp til rett tid (§ 1-10).",
         "Vi samarbeider med barnehagen og skolen om foreldreveiledning.",
         "Det er stor turnover, og barnehagen merker det."]


@pytest.fixture(scope="module")
def analysed():
    book = load_codebook()
    return analyse(TEXTS, RuleCoder(book))


def test_blocks_equal_sklearn_tfidf(analysed):
    feats = TextFeatures(min_df=2, pivoted=False).fit(analysed.lemmas, analysed.forms)
    words = TfidfVectorizer(analyzer=word_grams, min_df=2, sublinear_tf=True).fit(analysed.lemmas)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, lowercase=False)
    joined = [" ".join(f) for f in analysed.forms]
    chars.fit(joined)
    assert set(feats.words) == set(words.vocabulary_) and set(feats.chars) == set(chars.vocabulary_)
    ours_w = feats.word_block(analysed.lemmas).toarray()
    theirs_w = words.transform(analysed.lemmas).toarray()[:, [words.vocabulary_[g] for g in sorted(feats.words, key=feats.words.get)]]
    assert np.allclose(ours_w, theirs_w)
    ours_c = feats.char_block(analysed.forms).toarray()
    theirs_c = chars.transform(joined).toarray()[:, [chars.vocabulary_[g] for g in sorted(feats.chars, key=feats.chars.get)]]
    assert np.allclose(ours_c, theirs_c)


def test_one_pass_gives_rules_lemmas_and_forms(analysed):
    assert analysed.rule_scores.shape == (len(TEXTS), 25)
    assert analysed.pattern_hits.shape[0] == len(TEXTS) and set(analysed.pattern_hits.data) <= {1.0}
    assert "§" in analysed.lemmas[2] and "barneverntjenesten" in analysed.forms[0]
    assert analysed.evidence.any(axis=1).all()  # every text here has some evidence


def test_char_grams_match_char_wb_for_short_words():
    assert char_grams("i") == [" i "]
    assert char_grams("og") == [" og", "og ", " og "]


def test_arrays_round_trip(analysed):
    feats = TextFeatures(min_df=1).fit(analysed.lemmas, analysed.forms)
    again = TextFeatures.from_arrays(feats.to_arrays("x."), "x.", 1)
    assert np.allclose(feats.transform(analysed.lemmas, analysed.forms).toarray(),
                       again.transform(analysed.lemmas, analysed.forms).toarray())


def test_pivoted_rows_weigh_long_texts_more_and_a_median_text_as_before(analysed):
    """Each row is scikit-learn's unit row times (its norm / the median norm) ** (1 - LENGTH_SLOPE)."""
    feats = TextFeatures(min_df=2).fit(analysed.lemmas, analysed.forms)
    raw = TfidfVectorizer(analyzer=word_grams, min_df=2, sublinear_tf=True, norm=None).fit(analysed.lemmas)
    norms = np.linalg.norm(raw.transform(analysed.lemmas).toarray(), axis=1)
    assert feats.word_pivot == pytest.approx(np.median(norms[norms > 0]))
    unit = TextFeatures(min_df=2, pivoted=False).fit(analysed.lemmas, analysed.forms).word_block(analysed.lemmas)
    pivoted = feats.word_block(analysed.lemmas)
    scale = (norms / feats.word_pivot) ** (1 - LENGTH_SLOPE)
    assert np.allclose(pivoted.toarray(), unit.toarray() * scale[:, None])
    row_norms = np.linalg.norm(pivoted.toarray(), axis=1)
    longest, shortest = np.argmax(norms), np.argmin(norms)
    assert row_norms[longest] > 1.0 > row_norms[shortest]
    assert feats.char_pivot > 0 and not np.allclose(np.linalg.norm(feats.char_block(analysed.forms).toarray(), axis=1), 1.0)
