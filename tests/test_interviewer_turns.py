"""An interviewer's question is context, not data: no coder codes it, whichever way it arrives."""
from __future__ import annotations

import pytest

from qualcode.coding.coder import Coder
from qualcode.coding.codebook import Codebook
from qualcode.coding.features import analyse
from qualcode.coding.model import CodeModel
from qualcode.coding.rules import RuleCoder
from qualcode.extract.transcript import interviewer_turn
from test_model import BOOK, make


@pytest.mark.parametrize("text", ["I: Har dere en hund?", "Intervjuer: Og hunden?", "[00:12:03] I: Hunden?",
                                  "  Forsker (Kari): Fortell om hunden.", "Int: Hund?", "INTERVJUAR: Hunden?"])
def test_interviewer_labels_open_a_question(text):
    assert interviewer_turn(text)


@pytest.mark.parametrize("text", ["IP: Vi har en hund.", "Informant 2: Hunden.", "I 2023: Kommunen kjøpte en hund.",
                                  "I dag: hunden", "Mål: alle hunder", "Hunden, I: og", "Barnevernleder: Hunden."])
def test_other_labels_and_plain_text_are_not_questions(text):
    assert not interviewer_turn(text)


@pytest.fixture(scope="module")
def coder() -> Coder:
    book = Codebook.from_yaml_text(BOOK)
    rules = RuleCoder(book)
    texts, labels = make(150, seed=21)
    model = CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules, groups=[i % 3 for i in range(150)])
    return Coder(book, rules, "test", model)


def test_no_coder_codes_a_question_that_names_the_code(coder):
    answer, question = "IP: Valpen sov i kurven, og hunden bjeffet.", "I: Valpen sov i kurven, og hunden bjeffet?"
    assert coder.rules.code_texts([answer])[0] and coder.rules.code_texts([question]) == [[]]
    data = analyse([answer, question], coder.rules)
    assert data.questions.tolist() == [False, True]
    proba = coder.model.predict_analysis(data)
    assert proba[0].max() > 0.5 and proba[1].max() == 0.0
    answered, asked = coder.predict_records([{"id": "a", "text": answer}, {"id": "q", "text": question}])
    assert "dyr.hund" in answered["codes"] and asked["codes"] == []
    assert coder.with_model(None).predict_records([{"id": "q", "text": question}])[0]["codes"] == []
    assert coder.suggest([question]) == [[]]


def test_questions_are_not_learned_from(coder):
    """A question labelled with a code (a slip in a --train file) changes nothing the model learns."""
    texts, labels = make(90, seed=22)
    slips = ["I: Er katten glad i epler?"] * 6
    clean = CodeModel(seed=0).fit_texts(texts, labels, coder.codebook, rules=coder.rules,
                                        groups=[i % 3 for i in range(90)])
    slipped = CodeModel(seed=0).fit_texts(texts + slips, labels + [{"dyr.hund"}] * 6, coder.codebook,
                                          rules=coder.rules, groups=[i % 3 for i in range(96)])
    assert slipped.n_labelled == clean.n_labelled == 90
    probe = ["Katten spiste et eple.", "Valpen sov."]
    assert (slipped.predict_proba(probe, rules=coder.rules) == clean.predict_proba(probe, rules=coder.rules)).all()


def test_questions_among_always_training_rows_are_dropped_too(coder):
    """Store training passes the reference sets as rows that always train; their questions are not data either."""
    texts, labels = make(90, seed=23)
    data = analyse(texts, coder.rules)
    groups = [i % 3 for i in range(90)]
    extra_texts, extra_labels = make(20, seed=24)
    extra = analyse(extra_texts, coder.rules)
    slips = analyse(["I: Er katten glad i epler?"] * 6, coder.rules)
    clean = CodeModel(seed=0).fit(data, labels, coder.codebook, groups=groups,
                                  always=(extra, extra_labels, [1.0] * 20))
    slipped = CodeModel(seed=0).fit(data, labels, coder.codebook, groups=groups,
                                    always=(type(extra).concat([extra, slips]), extra_labels + [["dyr.hund"]] * 6,
                                            [1.0] * 26))
    assert slipped.n_always == clean.n_always == 20
