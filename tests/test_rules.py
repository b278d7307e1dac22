"""The rule coder: matching, evidence offsets, negatives, context rules, output contract."""
from __future__ import annotations

import pytest

from qualcode.coding.codebook import Codebook, load_codebook
from qualcode.coding.rules import RuleCoder, Suggestion, predict_records
from qualcode.nlp import load_nlp

TOY = """\
name: Toy
language: nb
version_label: toy
terms:
  penger: [budsjett*, midler, penger]
  negativ: [kutt*, mangl*, "ikke nok"]
themes:
  - id: niva
    name: Nivå
    codes:
      - id: niva.universell
        name: Universell
        definition: Alle.
        patterns: ["alle barn og unge", "alle barn i"]
      - id: niva.indikert
        name: Indikert
        definition: Enkeltbarn.
        patterns:
          - barneverntjeneste
          - "tidlig innsats"
          - "*tiltak"
          - {near: [klare, tegn*], within: 3}
        negative:
          - "kjernebarnevern*"
          - {pattern: "statistikk*", scope: sentence}
  - id: barriere
    name: Barrierer
    codes:
      - id: barriere.okonomi
        name: Økonomi
        definition: Lite penger.
        patterns: ["@penger", "innsparing*"]
        context:
          - applies_to: ["@penger"]
            require: ["@negativ"]
            scope: sentence
"""


@pytest.fixture(scope="module")
def toy() -> RuleCoder:
    return RuleCoder(Codebook.from_yaml_text(TOY), load_nlp())


@pytest.fixture(scope="module")
def coder() -> RuleCoder:
    return RuleCoder(load_codebook(), load_nlp())


def only(suggestions: list[Suggestion], code: str) -> Suggestion | None:
    return next((s for s in suggestions if s.code == code), None)


def test_lemma_match_with_evidence_offsets(toy):
    text = "I fjor fikk Barneverntjenestene mange nye saker."
    sug = only(toy.code_texts([text])[0], "niva.indikert")
    assert sug is not None and 0.5 <= sug.score <= 1
    [ev] = sug.evidence
    assert text[ev.start:ev.end] == ev.text == "Barneverntjenestene"
    assert ev.pattern == "barneverntjeneste"


def test_phrase_wildcard_and_near_offsets_slice_back(toy):
    text = "Vi ser klare tegn på omsorgssvikt. Familien fikk hjelpetiltak og tidlig innsats."
    sug = only(toy.code_texts([text])[0], "niva.indikert")
    got = {(text[e.start:e.end], e.pattern) for e in sug.evidence}
    assert got == {("klare", "near(klare, tegn*, 3)"), ("tegn", "near(klare, tegn*, 3)"),
                   ("hjelpetiltak", "*tiltak"), ("tidlig innsats", "tidlig innsats")}
    assert all(text[e.start:e.end] == e.text for e in sug.evidence)
    assert sug.score > 0.8  # three distinct patterns are strong evidence


def test_more_distinct_evidence_scores_higher(toy):
    one, three = toy.code_texts(["Barneverntjenesten kom.",
                                 "Barneverntjenesten ga hjelpetiltak og tidlig innsats."])
    assert only(three, "niva.indikert").score > only(one, "niva.indikert").score >= 0.5


def test_near_rule_respects_distance(toy):
    assert only(toy.code_texts(["Det var klare og tydelige og mange andre tegn."])[0], "niva.indikert") is None


def test_negative_pattern_suppresses_overlapping_match(toy):
    # one word that matches the positive "*tiltak" and the negative "kjernebarnevern*"
    assert only(toy.code_texts(["Vi vil ha flere kjernebarnevernstiltak."])[0], "niva.indikert") is None
    assert only(toy.code_texts(["Vi vil ha flere hjelpetiltak."])[0], "niva.indikert") is not None


def test_sentence_scoped_negative_only_blocks_its_sentence(toy):
    blocked = toy.code_texts(["Statistikken viser mange hjelpetiltak."])[0]
    assert only(blocked, "niva.indikert") is None
    kept = only(toy.code_texts(["Statistikken er ny. Familien fikk hjelpetiltak."])[0], "niva.indikert")
    assert kept is not None and [e.text for e in kept.evidence] == ["hjelpetiltak"]


def test_context_rule_needs_negative_framing_in_same_sentence(toy):
    neutral, negative, elsewhere = toy.code_texts([
        "Kommunen fikk midler til to nye stillinger.",
        "Budsjettet ble kuttet igjen.",
        "Budsjettet ble vedtatt i desember. Noen tiltak ble kuttet.",
    ])
    assert only(neutral, "barriere.okonomi") is None
    assert only(negative, "barriere.okonomi").score >= 0.5
    assert only(elsewhere, "barriere.okonomi") is None
    # patterns outside applies_to are not subject to the rule
    assert only(toy.code_texts(["Det blir innsparinger."])[0], "barriere.okonomi") is not None


def test_markup_does_not_break_phrases(toy):
    text = "Vi satser på *tidlig* innsats."
    sug = only(toy.code_texts([text])[0], "niva.indikert")
    assert sug is not None and sug.evidence[0].text == "tidlig* innsats"


def test_shipped_codebook_money_needs_negative_framing(coder):
    neutral, barrier = coder.code_texts([
        "Kommunestyret bevilget midler og to nye stillinger til helsestasjonen.",
        "Vi har ikke nok penger, og budsjettet blir strammere hvert år.",
    ])
    assert only(neutral, "barriere.okonomi") is None
    assert only(barrier, "barriere.okonomi").score >= 0.5


@pytest.mark.parametrize("text, code", [
    ("Vi mangler et felles språk mellom skolen og barnevernet.", "barriere.forstaelse"),
    ("Barnevernet bør være et kjernebarnevern som tar de mest alvorlige sakene.", "mandat.kjernebarnevern"),
    ("Det er stor turnover blant saksbehandlerne.", "barriere.kapasitet"),
    ("Kommunene deltar i et læringsnettverk der de deler erfaringer.", "suksess.erfaringsdeling"),
    ("Planen bygger på forebyggingstrekanten og Heckman-kurven.", "begrep.modell"),
    ("Det handler om å gi rett hjelp til rett tid.", "begrep.tidlig_innsats"),
])
def test_shipped_codebook_recognises_clear_cases(coder, text, code):
    sug = only(coder.code_texts([text])[0], code)
    assert sug is not None and sug.score >= 0.5, text
    assert all(text[e.start:e.end] == e.text for e in sug.evidence)


def test_unrelated_text_gets_no_codes(coder):
    assert coder.code_texts(["Møtet startet klokken ni og varte i to timer."]) == [[]]


def test_batch_and_single_doc_agree(coder):
    texts = ["Helsestasjonen når alle barn.", "Vi har for få ansatte.", ""]
    batch = coder.code_texts(texts)
    single = [coder.code_doc(load_nlp()(t)) for t in texts]
    assert batch == single


def test_predict_records_contract(coder):
    records = [{"id": "a", "text": "Det er stor turnover og for få ansatte i tjenesten."},
               {"id": "b", "text": ""},
               {"id": "c", "text": "Været var fint."}]
    out = predict_records(records, coder)
    assert [r["id"] for r in out] == ["a", "b", "c"]
    ids = coder.codebook.code_ids
    for row in out:
        assert set(row) == {"id", "codes", "scores"}
        assert list(row["scores"]) == ids  # every code, in codebook order
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in row["scores"].values())
        assert row["codes"] == [c for c in ids if row["scores"][c] >= coder.codebook.code(c).min_score]
    assert "barriere.kapasitet" in out[0]["codes"]
    assert out[1]["codes"] == [] and not any(out[1]["scores"].values())


def test_pattern_index_changes_no_result(coder, shared):
    """Only patterns whose terms occur are evaluated; every pattern of every code gives the same."""
    import json

    texts = []
    for path in (shared / "eval" / "dev.jsonl", shared / "eval" / "municipal" / "segments.jsonl"):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = list(coder.nlp.pipe(texts))
    indexed = [coder.code_doc(doc, text) for doc, text in zip(docs, texts)]
    exhaustive = [coder.code_doc(doc, text, exhaustive=True) for doc, text in zip(docs, texts)]
    assert indexed == exhaustive
    assert sum(len(s) for s in indexed) > len(texts)  # the check compares real suggestions


def test_suggestions_name_the_patterns_that_counted(toy):
    [sug] = [s for s in toy.code_texts(["Familien fikk hjelpetiltak og tidlig innsats."])[0] if s.code == "niva.indikert"]
    assert sorted(toy.pattern_labels[i] for i in sug.patterns) == ["niva.indikert: *tiltak",
                                                                    "niva.indikert: tidlig innsats"]


@pytest.mark.parametrize("text, hits", [
    ("Tilbudet gjelder alle barn og unge i kommunen.", ["alle barn og unge"]),
    ("Tilbudet gjelder alle barn i barnehagen.", ["alle barn i"]),
    ("Det gjelder alle barn og voksne.", []),  # the first three words match, the fourth does not
    ("Det gjelder alle barn og", []),  # the text ends inside the phrase
    ("Det gjelder alle", []),  # ... or right after its first word
    ("Alle barn og unge, alle barn i byen.", ["alle barn og unge", "alle barn i"]),
])
def test_phrases_need_every_word_in_order(toy, text, hits):
    sug = only(toy.code_texts([text])[0], "niva.universell")
    evidence = sug.evidence if sug is not None else ()
    assert sorted(e.pattern for e in evidence) == sorted(hits)
    assert all(text[e.start:e.end].lower() == e.pattern for e in evidence)
