"""Norwegian stop words (bokmål and nynorsk) for word frequencies and discovery.

Bokmål starts from spaCy's list (``spacy.lang.nb.stop_words``), which was built on news
text: it also drops nouns that carry meaning in child-welfare plans ("mål", "leder",
"kontakt", "tid", "mennesker" ...). Those are put back (``KEEP``), so a frequency table
never hides a plan's goals or a service's leader.
Question words, particles and interview fillers spaCy lacks are added. Nynorsk has no
spaCy list: ``NYNORSK`` is ours (pronouns, determiners, auxiliaries, conjunctions,
prepositions and adverbs in their nynorsk forms).

Stop words are compared with lemmas and with word forms, so inflected auxiliaries
("vart", "vore") and their lemmas both drop out.
"""
from __future__ import annotations

from functools import lru_cache

# content words in spaCy's news-based list that matter in prevention plans and interviews
KEEP = frozenset("""
    by folk grunn kontakt kroner land landet leder mennesker mål personer plass saken sted stedet tid
""".split())

BOKMAL_EXTRA = frozenset("""
    hva hvem hvordan hvorfor hvor hvilke hvilken hvilket hvis ikke noe noen ei et sitt mitt min mine din
    ditt dine deg dere deres seg selv sin sine hans hennes dens dets vårt våre oss jeg meg du han hun vi
    de dem det den denne dette disse som og eller men at om så da når mens fordi siden dersom enten
    verken hverken både av på i til fra med mot over under etter før ved hos uten gjennom mellom blant
    innen rundt langs per via jo vel altså liksom nok nå da her der dit hit ja nei mm hm eh ehm æh
    også bare ennå enda dessuten likevel derfor dermed ellers heller iallfall uansett nemlig slik sånn
    er var vært være blir ble blitt bli har hadde hatt ha kan kunne skal skulle vil ville må måtte bør
    burde får fikk fått få gjør gjorde gjort gjøre går gikk gått gå sier sa sagt si ser så sett se
    tar tok tatt ta kommer kom kommet komme andre annen annet alle alt hele helt mye mange flere mer
    mest noen ingen ingenting enhver hver hvert samme slike egen eget egne første siste neste litt
    lite veldig svært ganske mer mindre kanskje sikkert faktisk egentlig ofte alltid aldri aller
    en ett én to tre fire fem seks sju syv åtte ni ti hverandre finnes fins ifølge blant annet
""".split())

NYNORSK = frozenset("""
    eg meg deg ho han oss dykk dei deira deim dykkar ikkje kva kven korleis kvifor kor kvar kvart
    kvarandre kvarannan berre mykje nokon noko nokre nokså ingen inga inkje ingenting vere vore er var
    blir vert vart vorte blitt bli ha har hadde hatt kan kunne skal skulle vil ville må måtte bør burde
    og eller men at som om då så til frå med av på i for etter over under mellom mot utan ved gjennom
    hjå sidan fordi dersom viss medan både enn eit ein ei den det denne dette desse sin si sitt sine
    hans hennar min mi mitt mine din di ditt dine vår vårt våre også òg her der no alle alt heile
    andre anna annan same sjølv sjølve mange fleire meir mest litt lite slik sånn difor derfor likevel
    opp ut inn ned fram heim enno endå ennå nok jo vel altså dessutan korkje verken innan saman
    fekk få får gjer gjere gjorde gjort seg seier sa sagt ser såg sett tek tok teke kjem kom kome
    kome gjekk gått går nokon einannan kvarandre eigen eige eigne fyrste første siste neste ganske
    kanskje visst faktisk eigentleg ofte alltid aldri elles heller uansett nemleg mellom
    eitt to tre fire fem seks sju åtte ni ti
""".split())


def _spacy_nb() -> set[str]:
    """spaCy's bokmål list, read from its module file: importing ``spacy`` itself takes seconds,
    and word counts from the index need nothing else from it."""
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("spacy")
    path = Path(package.origin).parent / "lang" / "nb" / "stop_words.py"
    spec = importlib.util.spec_from_file_location("_qualcode_nb_stop_words", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.STOP_WORDS)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Bokmål and nynorsk stop words, lower case."""
    return frozenset((_spacy_nb() - KEEP) | BOKMAL_EXTRA | NYNORSK)


def is_stop(word: str) -> bool:
    return word in stop_words()


def is_content(word: str, stop: frozenset[str]) -> bool:
    """A lemma that says something: not a stop word, a number or a single letter."""
    return len(word) > 1 and not word.isdigit() and word not in stop
