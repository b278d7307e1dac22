"""Words of a text as search and word counts see them: lemma, compound head and compound parts.

The lemma comes from ``qualcode.nlp.lemmatize`` - the lemmatiser of the project's
Norwegian pipeline, the one the rule coder matches codebook terms against - so a word
the coder sees as "veiledning" is "veiledning" to search and word counts too. The
lemma is taken per word form, without context, so the query side and the index side
always agree.

Norwegian writes compounds as one word and inflects only the last part (the head):
"foreldreveiledningen" is a kind of "veiledning". ``split_compound`` finds the parts
with the lemmatiser's own dictionary: the longest known head whose rest is a known
word (or itself a compound), allowing a linking -s- or -e- ("barnevern-s-tjeneste",
"barn-e-hage"). Parts are at least four letters (heads) or three (modifiers), and
particles ("opp", "fore", "over" ...) are never modifiers, so lexicalised words such as
"oppvekst" or "forebygging" stay whole.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


WORD = re.compile(r"[^\W_]+")
MIN_HEAD = 4
MIN_MODIFIER = 3
LEAST_IN_KNOWN = 5  # parts of a word the dictionary knows as a whole
LINKS = ("s", "e")
# verbal/prepositional particles: as first part they make lexicalised words, not compounds
PARTICLES = frozenset("""
    an av be bak er for fore fra frå gjen imot inn med mis mot om opp over på sam til ufor under ut
    utan uten ved for
""".split())
ANALYSER_VERSION = 1  # bump when lemmas, heads or parts change: the search index is rebuilt


@dataclass(frozen=True)
class Term:
    """What one word form means to search: its lemma, the head of its compound (the lemma
    again for a simple word), the compound's longer heads and its other parts."""

    lemma: str
    head: str
    tails: tuple[str, ...] = ()  # longer heads of a compound of three or more parts
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Token:
    start: int  # character offsets into the analysed text
    end: int
    form: str  # lower-cased
    term: Term


def lemmatize(form: str) -> str:
    """The pipeline's lemma of one lower-cased form (``qualcode.nlp``, imported on first use:
    spaCy stays unloaded until a word is analysed)."""
    from qualcode.nlp import lemmatize as nlp_lemmatize

    return nlp_lemmatize(form)


def _clean(word: str) -> str:
    return "".join(ch for ch in word if ch.isalnum())


@lru_cache(maxsize=1)
def _known():
    from qualcode.nlp import is_known

    return is_known


def _split(word: str, least: int) -> tuple[int, tuple[tuple[int, int], ...]] | None:
    """Where the longest known head of ``word`` starts, and the spans of the modifier's parts."""
    known = _known()
    for i in range(max(MIN_MODIFIER, least), len(word) - max(MIN_HEAD, least) + 1):  # longest head first
        if not known(word[i:]):
            continue
        modifier = word[:i]
        for mod in (modifier, *(modifier[:-1] for link in LINKS if modifier.endswith(link))):
            if len(mod) < max(MIN_MODIFIER, least) or mod in PARTICLES:
                continue
            inner = _spans(mod)
            if inner or known(mod):
                return i, inner or ((0, len(mod)),)
    return None


@lru_cache(maxsize=200_000)
def _spans(word: str) -> tuple[tuple[int, int], ...]:
    """Spans of a compound's parts in ``word`` (linking letters left out); ``()`` for a simple word.

    A word the dictionary knows as a whole is only split into parts of five letters or
    more ("barnevern|tjeneste", not "vei|ledning" or "kart|legging")."""
    if len(word) < MIN_HEAD + MIN_MODIFIER or not word.isalpha():
        return ()
    found = _split(word, LEAST_IN_KNOWN if _known()(word) else 0)
    if found is None:
        return ()
    i, modifier = found
    return (*modifier, *(_shift(_spans(word[i:]), i) or ((i, len(word)),)))


def _shift(spans: tuple[tuple[int, int], ...], by: int) -> tuple[tuple[int, int], ...]:
    return tuple((a + by, b + by) for a, b in spans)


def split_compound(word: str) -> tuple[str, ...]:
    """The parts of a compound lemma, left to right (``()`` if it is not a compound)."""
    return tuple(word[a:b] for a, b in _spans(word))


def _lemma_and_spans(form: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A compound the dictionary does not know gets its lemma from its head's form
    ("barnevernsleder" = "barnevern" + "s" + lemma of "leder"), so its head lemmatises
    exactly like the head word on its own - and a search for the head finds it."""
    if len(form) >= MIN_HEAD + MIN_MODIFIER and form.isalpha() and not _known()(form):
        found = _split(form, 0)
        if found is not None:
            i, modifier = found
            head = _clean(lemmatize(form[i:])) or form[i:]
            return form[:i] + head, (*modifier, *(_shift(_spans(head), i) or ((i, i + len(head)),)))
    lemma = _clean(lemmatize(form)) or form
    return lemma, _spans(lemma)


@lru_cache(maxsize=300_000)
def term(form: str) -> Term:
    """The term of one lower-cased word form (cached: a corpus repeats a small vocabulary)."""
    lemma, spans = _lemma_and_spans(form)
    if not spans:
        return Term(lemma, lemma)
    n = len(spans)
    head = lemma[spans[-1][0]:]
    # longer heads: "veiledningstilbud" in "familieveiledningstilbud" (whose head is "tilbud")
    tails = tuple(lemma[spans[i][0]:] for i in range(1, n - 1))
    # every other run of adjacent parts: "familie", "veiledning", "familieveiledning"
    runs = (lemma[spans[i][0]:spans[j - 1][1]] for i in range(n) for j in range(i + 1, n))
    parts = tuple(dict.fromkeys(p for p in runs if p not in (lemma, head) and p not in tails))
    return Term(lemma, head, tails, parts)


def candidates(form: str) -> tuple[str, ...]:
    """What a query word is looked up as: its lemma, and the word itself taken as a lemma.

    A form the lemmatiser reads two ways ("leder": the verb "lede" or the noun "leder")
    then still finds every inflection of both, as the rule coder's terms do."""
    lemma = term(form).lemma
    return (lemma,) if lemma == form else (lemma, form)


def tokens(text: str) -> list[Token]:
    """Every word of ``text`` (letters and digits; punctuation separates) with its term."""
    return [Token(m.start(), m.end(), form, term(form))
            for m in WORD.finditer(text) for form in (m.group().lower(),)]


def words(text: str) -> list[str]:
    """The lower-cased word forms of ``text`` (a query's words, say)."""
    return [m.group().lower() for m in WORD.finditer(text)]


def lemmas(text: str) -> list[str]:
    """The lemma of every word of ``text``, in order."""
    return [term(m.group().lower()).lemma for m in WORD.finditer(text)]


@dataclass(frozen=True)
class IndexText:
    """The columns a segment is indexed by: lemmas and heads (one per word, in order, so
    phrases and NEAR work on them), the longer heads and the other parts of its compounds."""

    lemmas: str
    heads: str
    tails: str
    parts: str


def index_text(text: str) -> IndexText:
    terms = [term(m.group().lower()) for m in WORD.finditer(text)]
    return IndexText(" ".join(t.lemma for t in terms), " ".join(t.head for t in terms),
                     " ".join(p for t in terms for p in t.tails), " ".join(p for t in terms for p in t.parts))
