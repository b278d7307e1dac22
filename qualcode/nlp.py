"""Norwegian (bokmål) NLP pipeline for qualcode.

`load_nlp()` prefers the trained `nb_core_news_sm` pipeline when it is installed.
Otherwise it builds a light pipeline that needs no model download:
`spacy.blank("nb")` + `sentencizer` + a lemmatizer backed by `simplemma`.
Both get tokenizer special cases for Norwegian abbreviations, so sentences do
not split inside "jf.", "bl.a.", "Prop." and the like.

simplemma decodes its compressed 640,000-word dictionary on first use, about 0.7 s in
every process that lemmatises; `CachedDictionaries` keeps a decoded copy in the user's
cache folder (read in ~0.2 s), so short commands such as `classify` start faster.
"""
from __future__ import annotations

import logging
import marshal
import os
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy
import simplemma
import spacy
from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy
from simplemma.strategies.dictionaries import DefaultDictionaryFactory
from simplemma.strategies.dictionaries.dictionary_factory import MappingStrToByteString
from spacy.attrs import LEMMA, LOWER
from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokens import Doc

from qualcode.files import write_bytes_atomic

TRAINED_MODEL = "nb_core_news_sm"
LEMMATIZER_NAME = "simplemma_lemmatizer"

# Abbreviations common in Norwegian public reports and laws. Each is kept as one
# token (so the sentencizer never sees a bare "." inside it).
ABBREVIATIONS = (
    "jf.", "bl.a.", "f.eks.", "kap.", "nr.", "ca.", "mv.", "m.m.", "Innst.", "Prop.",
    "dvs.", "osv.", "mht.", "ift.", "evt.", "pga.", "ev.", "o.l.", "s.", "mfl.",
    "m.fl.", "ifm.", "ila.", "iht.", "inkl.", "ref.", "St.meld.", "Meld.", "pkt.",
    "mill.", "mrd.", "kr.", "vedr.", "utg.", "bv.tj.", "etc.",
)


log = logging.getLogger(__name__)
LANGUAGE = "nb"


def cache_dir() -> Path:
    """Where qualcode keeps files it can rebuild (QUALCODE_CACHE_DIR, else the XDG cache folder)."""
    explicit = os.environ.get("QUALCODE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qualcode"


class CachedDictionaries(DefaultDictionaryFactory):
    """simplemma's own dictionaries, decoded once per machine and simplemma version."""

    def _get_dictionary_uncached(self, lang: str):
        path = cache_dir() / f"simplemma-{simplemma.__version__}-{lang}.marshal{marshal.version}"
        try:
            table = marshal.loads(path.read_bytes())
            if isinstance(table, dict) and table:
                return MappingStrToByteString(table)
        except (OSError, EOFError, ValueError, TypeError):
            pass  # absent or damaged: decode again below
        mapping = super()._get_dictionary_uncached(lang)
        table = {key.encode(): value.encode() for key, value in mapping.items()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, marshal.dumps(table))
        except OSError as err:
            log.debug("could not keep simplemma's dictionary in %s: %s", path.parent, err)
        return MappingStrToByteString(table)


def lemmatizer_over(dictionaries) -> simplemma.Lemmatizer:
    """simplemma's default lemmatiser, reading ``dictionaries``."""
    return simplemma.Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=dictionaries))


_DICTIONARIES = CachedDictionaries()
_LEMMATIZER = lemmatizer_over(_DICTIONARIES)
_LOOKUP = DictionaryLookupStrategy(_DICTIONARIES)


@lru_cache(maxsize=200_000)
def lemmatize(word: str) -> str:
    """Lemma of one lower-cased word (cached: corpora repeat a small vocabulary)."""
    if not word or not word[0].isalpha():
        return word
    return _LEMMATIZER.lemmatize(word, LANGUAGE).lower()


def is_known(word: str) -> bool:
    """Is ``word`` in simplemma's Norwegian dictionary (as `simplemma.is_known`)?"""
    return _LOOKUP.get_lemma(unicodedata.normalize("NFC", word), LANGUAGE) is not None


_LEMMA_HASH: dict[int, int] = {}


@Language.component(LEMMATIZER_NAME)
def simplemma_lemmatizer(doc: Doc) -> Doc:
    """Set `token.lemma_` from simplemma; lower-cases first so sentence-initial
    words and headings lemmatise like running text. Works on hash arrays, not
    Token objects, because this runs on every token of every segment."""
    if not len(doc):
        return doc
    strings = doc.vocab.strings
    lemmas = []
    for h in doc.to_array(LOWER).tolist():
        lh = _LEMMA_HASH.get(h)
        if lh is None:
            lh = _LEMMA_HASH[h] = strings.add(lemmatize(strings[h]))
        lemmas.append(lh)
    doc.from_array([LEMMA], numpy.array(lemmas, dtype="uint64").reshape(-1, 1))
    return doc


def add_abbreviations(nlp: Language) -> None:
    """Register the abbreviations (and capitalised variants) as tokenizer special cases."""
    for abbr in ABBREVIATIONS:
        for variant in {abbr, abbr[0].upper() + abbr[1:], abbr.lower()}:
            nlp.tokenizer.add_special_case(variant, [{ORTH: variant}])


@lru_cache(maxsize=1)
def load_nlp() -> Language:
    """Load (once per process) the best available Norwegian pipeline.

    Set QUALCODE_NLP=blank to skip the trained model (faster, and the same
    lemmas on every machine)."""
    nlp = None
    if os.environ.get("QUALCODE_NLP", "").lower() != "blank":
        try:
            nlp = spacy.load(TRAINED_MODEL, exclude=["ner"])
        except (OSError, ImportError):
            nlp = None
    if nlp is None:
        nlp = spacy.blank("nb")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe(LEMMATIZER_NAME)
    add_abbreviations(nlp)
    return nlp


def pipeline_name(nlp: Language) -> str:
    """Human-readable description of the pipeline that produced the analyses."""
    if LEMMATIZER_NAME in nlp.pipe_names:
        return "spacy.blank('nb') + sentencizer + simplemma"
    meta = nlp.meta
    return f"{meta.get('lang', 'nb')}_{meta.get('name', 'pipeline')} {meta.get('version', '')}".strip()
