"""The Norwegian pipeline: lemmas for domain words, abbreviations, sentence splitting."""
from __future__ import annotations

import pytest

from qualcode.nlp import ABBREVIATIONS, lemmatize, load_nlp, pipeline_name


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


@pytest.mark.parametrize("word, lemma", [
    ("barneverntjenestene", "barneverntjeneste"),
    ("utfordringene", "utfordring"),
    ("kommunene", "kommune"),
    ("tiltakene", "tiltak"),
])
def test_domain_words_lemmatise(nlp, word, lemma):
    doc = nlp(f"Vi snakket om {word} i går.")
    assert doc[3].lemma_ == lemma
    assert lemmatize(word) == lemma


def test_sentence_initial_capital_lemmatises_like_running_text(nlp):
    doc = nlp("Utfordringene er store.")
    assert doc[0].lemma_ == "utfordring"


def test_abbreviations_do_not_split_sentences(nlp):
    text = ("Kommunen skal bl.a. lage en plan, jf. § 15-1 i loven, og den skal f.eks. "
            "beskrive samarbeidet mellom etatene.")
    assert len(list(nlp(text).sents)) == 1


def test_more_abbreviations_inside_one_sentence(nlp):
    text = "Se kap. 4 og Prop. 133 L s. 12, dvs. forarbeidene ift. loven osv. for detaljer."
    assert len(list(nlp(text).sents)) == 1


def test_real_sentence_boundaries_still_split(nlp):
    doc = nlp("Planen ble vedtatt i fjor. Nå skal den rulleres. Hvem har ansvaret?")
    assert [s.text for s in doc.sents] == ["Planen ble vedtatt i fjor.", "Nå skal den rulleres.", "Hvem har ansvaret?"]


@pytest.mark.parametrize("abbr", ["jf.", "bl.a.", "f.eks.", "kap.", "nr.", "ca.", "mv.", "m.m.", "Innst.",
                                  "Prop.", "dvs.", "osv.", "mht.", "ift.", "evt.", "pga.", "ev.", "o.l.", "s."])
def test_required_abbreviations_are_single_tokens(nlp, abbr):
    assert abbr in ABBREVIATIONS or abbr.lower() in ABBREVIATIONS
    assert abbr in [t.text for t in nlp(f"Dette gjelder {abbr} flere saker")]


def test_load_nlp_is_cached_and_named(nlp):
    assert load_nlp() is nlp
    name = pipeline_name(nlp)
    assert name
    if "simplemma_lemmatizer" in nlp.pipe_names:
        assert "simplemma" in name


def test_pipe_handles_empty_and_many_texts(nlp):
    docs = list(nlp.pipe(["", "Én setning.", "To setninger. Her er nummer to."] * 50))
    assert len(docs) == 150
    assert len(docs[0]) == 0
    assert len(list(docs[2].sents)) == 2


# -- simplemma's dictionary, kept decoded in the cache folder -------------------------------

def _fresh_lemmatizer():
    from qualcode.nlp import CachedDictionaries, lemmatizer_over

    return lemmatizer_over(CachedDictionaries())


WORDS = ["barneverntjenestene", "foreldrene", "tiltakene", "samarbeidet", "tenestene", "ungdommene", "xqzt"]


def test_the_cached_dictionary_gives_simplemmas_own_lemmas_and_is_read_back(tmp_path, monkeypatch):
    import simplemma
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    monkeypatch.setenv("QUALCODE_CACHE_DIR", str(tmp_path))
    expected = [simplemma.lemmatize(w, lang="nb") for w in WORDS]
    assert [_fresh_lemmatizer().lemmatize(w, "nb") for w in WORDS] == expected
    kept = list(tmp_path.glob("simplemma-*-nb.marshal*"))
    assert len(kept) == 1 and kept[0].stat().st_size > 1_000_000
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # written whole, then renamed

    def no_decoding(self, lang):
        raise AssertionError("decoded again although the cache folder holds the dictionary")

    monkeypatch.setattr(DefaultDictionaryFactory, "_get_dictionary_uncached", no_decoding)
    assert [_fresh_lemmatizer().lemmatize(w, "nb") for w in WORDS] == expected


def test_a_damaged_cache_file_is_decoded_again_and_replaced(tmp_path, monkeypatch):
    import marshal

    import simplemma

    monkeypatch.setenv("QUALCODE_CACHE_DIR", str(tmp_path))
    broken = tmp_path / f"simplemma-{simplemma.__version__}-nb.marshal{marshal.version}"
    broken.write_bytes(b"\x00 not marshal data")
    assert _fresh_lemmatizer().lemmatize("barneverntjenestene", "nb") == "barneverntjeneste"
    assert broken.stat().st_size > 1_000_000


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QUALCODE_CACHE_DIR", str(blocker / "qualcode"))
    assert _fresh_lemmatizer().lemmatize("kommunene", "nb") == "kommune"
