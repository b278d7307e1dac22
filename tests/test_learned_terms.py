"""Terms a base model learns per code: mined across documents, shown as evidence, never deciding."""
from __future__ import annotations

import numpy as np
import pytest

from qualcode.coding import validation
from qualcode.coding.coder import Coder
from qualcode.coding.codebook import Codebook
from qualcode.coding.learned_terms import MIN_DOCUMENTS, MIN_POSITIVES, TermFinder, mine_terms
from qualcode.coding.model import CodeModel
from qualcode.coding.rules import RuleCoder
from test_model import BOOK, make
from test_validation import blind_hold_out

CODES = ["a", "b"]


def corpus(coded: list[tuple[str, bool]]) -> tuple[list[list[str]], np.ndarray, list[str]]:
    """Segments ``(document, has code a)``, each containing the term «ventetid»; code b never."""
    lemmas = [["lang", "ventetid"] for _ in coded]
    labels = np.array([[is_a, False] for _, is_a in coded])
    return lemmas, labels, [doc for doc, _ in coded]


def test_a_term_needs_enough_positives_documents_and_precision():
    enough = [("d1", True), ("d2", True), ("d3", True)]
    assert "ventetid" in mine_terms(*corpus(enough), CODES).get("a", [])
    # exactly MIN_PRECISION (3 of 6 segments with the term carry the code) still counts ...
    assert "ventetid" in mine_terms(*corpus(enough + [("d4", False)] * 3), CODES)["a"]
    # ... one more segment without the code does not
    assert "ventetid" not in mine_terms(*corpus(enough + [("d4", False)] * 4), CODES).get("a", [])
    # every positive from fewer documents than MIN_DOCUMENTS: one report's wording, not learned
    few_docs = [("d1", True)] * 3 + [("d2", True)] * 3
    assert MIN_DOCUMENTS == 3 and "ventetid" not in mine_terms(*corpus(few_docs), CODES).get("a", [])
    # fewer positives than MIN_POSITIVES, even from different documents
    assert MIN_POSITIVES == 3 and "ventetid" not in mine_terms(*corpus(enough[:2]), CODES).get("a", [])
    assert "b" not in mine_terms(*corpus(enough), CODES)


def test_function_words_are_never_terms():
    lemmas = [["i", "år", "og", "hun"]] * 4
    labels = np.array([[True, False]] * 4)
    assert mine_terms(lemmas, labels, ["d1", "d2", "d3", "d4"], CODES) == {}


def test_finder_marks_the_text_and_prefers_a_pair_to_its_word():
    text = "Det er lang ventetid hos BUP."
    lemmas = ["det", "være", "lang", "ventetid", "hos", "bup"]
    offsets = [(0, 3), (4, 6), (7, 11), (12, 20), (21, 24), (25, 28)]
    finder = TermFinder({"a": ["ventetid", "lang ventetid"], "b": ["bup"], "unknown": ["hos"]}, CODES)
    found = finder.evidence(text, lemmas, offsets)
    assert [(e["text"], e["pattern"]) for e in found["a"]] == [("lang ventetid", "lært: lang ventetid")]
    assert [text[e["start"]:e["end"]] for e in found["b"]] == ["BUP"]
    assert finder.hits([lemmas, ["ingenting"]]).tolist() == [[True, True], [False, False]]


@pytest.fixture(scope="module")
def book() -> Codebook:
    return Codebook.from_yaml_text(BOOK)


@pytest.fixture(scope="module")
def base(book) -> tuple[CodeModel, RuleCoder]:
    rules = RuleCoder(book)
    texts, labels = make(150, seed=11)
    return CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules, groups=[i % 3 for i in range(150)]), rules


def test_base_model_learns_the_word_the_rules_miss_and_keeps_it(base):
    model, _ = base
    assert "valp" in model.terms["dyr.hund"]  # the rules only know «hund*»
    assert not any(t.startswith("hund") for t in model.terms.get("dyr.katt", []))
    assert CodeModel.from_bytes(model.to_bytes()).terms == model.terms


def test_suggestions_show_learned_terms_beside_the_rules_evidence(base, book):
    model, rules = base
    text = "Valpen sov i kurven. Hunden bjeffet."
    [row] = Coder(book, rules, "test", model).suggest([text])
    dog = next(mc for mc in row if mc.source == "model" and mc.code == "dyr.hund")
    marked = {(text[e["start"]:e["end"]], e["pattern"]) for e in dog.evidence}
    assert any(t.startswith("Valpen") and p.startswith("lært: valp") for t, p in marked), marked
    assert any(p.startswith("hund") for _, p in marked)  # the codebook pattern's own evidence stays
    rule_row = next(mc for mc in row if mc.source == "rule" and mc.code == "dyr.hund")
    assert not any(e["pattern"].startswith("lært") for e in rule_row.evidence)  # the rules' row is the rules' alone
    # learned terms are evidence, not decisions: without them the model scores the same
    plain = CodeModel.from_bytes(model.to_bytes())
    plain.terms = {}
    assert plain.predict_proba([text], rules=rules).tolist() == model.predict_proba([text], rules=rules).tolist()


def test_a_store_model_shows_its_base_terms(base, book):
    model, rules = base
    texts, labels = make(60, seed=12)
    adapted = CodeModel(seed=0, base=model).fit_texts(texts, labels, book, rules=rules, groups=[i % 2 for i in range(60)])
    assert adapted.terms == {}
    assert adapted.term_finder().hits([["valp"]])[0, adapted.code_ids.index("dyr.hund")]


def test_held_out_coverage_counts_terms_learned_without_the_held_out_document(tmp_path, monkeypatch):
    held, book = blind_hold_out(tmp_path, monkeypatch, 4)  # terms are mined inside each blind fold
    codes = validation.code_table(held, book.code_ids).set_index("code")
    # puppies are coded as dogs but only «hund*» is a pattern: learned terms close that gap
    assert codes.loc["dyr.hund", "coverage"] > codes.loc["dyr.hund", "coverage_codebook"]
    assert (codes["coverage"] >= codes["coverage_codebook"]).all()
    table = validation.genre_table(held, book.code_ids)
    assert table["evidence_precision"].between(0, 1).all()
