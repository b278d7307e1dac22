"""Replace personal data in a text with stable placeholders, before it is stored or printed.

What is replaced, and how it is recognised:

- e-mail addresses → ``[E-POST n]``;
- fødselsnummer (11 digits whose two mod-11 control digits check out; other 11-digit
  numbers are left alone) → ``[FØDSELSNUMMER]`` (numbered when a text holds several);
- Norwegian phone numbers (8 digits as 3-2-3, 2-2-2-2, 4-4 or run together, with or
  without +47/0047) → ``[TELEFON n]``;
- street addresses ("Storgata 12", "Kirkeveien 5B", "Olav Tryggvasons gate 3", with an
  optional ", 1234 Sted") → ``[ADRESSE n]``;
- personal names → ``[PERSON n]``: names from a names file, first names from a list of
  common first names with the capitalised words after them ("Hilde Marie Sandnes"),
  capitalised word runs mid-sentence that are not places, institutions or months, names
  in e-mail addresses (so "Ola" links to ola.brekke@…), spaCy PER entities when the
  ``nb_core_news_sm`` model is installed, and afterwards every later mention of a
  known person's first name or surname on its own.

The same person, number or address keeps the same placeholder throughout a text.
Everything here is plain text in, plain text out; ``pseudonymise_document`` carries the
replacement over to an extracted document's offsets, blocks and speaker turns.
"""
from __future__ import annotations

import os
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

from qualcode.privacy.gazetteer import (
    AMBIGUOUS_FIRST_NAMES, FIRST_NAMES, INSTITUTIONS, KEEP_PHRASES, LOCATION_PREPOSITIONS, MONTHS_AND_DAYS,
    PLACE_MARKERS, PLACE_PREFIXES, PLACES,
)

LABELS = {"person": "PERSON", "phone": "TELEFON", "email": "E-POST", "fnr": "FØDSELSNUMMER", "address": "ADRESSE"}
PRIORITY = ("email", "fnr", "phone", "address", "person")  # earlier kinds win overlaps

_UPPER = "A-ZÆØÅÄÖÜÉÈÁÀÓÍÚČĆŠŽŁŃŚŹŻ"
_LOWER = "a-zæøåäöüéèáàóòíìúùñçčćšžłńśźżőűâêîôûëïÿ"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>«»\"]+")
_FNR = re.compile(r"(?<![\w+])(?<!\d )(\d{6}) ?(\d{5})(?![\w])(?! \d)")
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d )(?:(?:\+|00)47 ?|\(\+47\) ?)?"
    r"(?P<num>[2-9]\d{2} \d{2} \d{3}|[2-9]\d(?: \d{2}){3}|[2-9]\d{3} \d{4}|[2-9]\d{7})"
    r"(?![\w])(?! ?\d)"
)
_MONEY = re.compile(r"\s*(?:kr\b|kroner|NOK|%|prosent|,-)", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")
_MONTH = r"(?:jan|feb|mar|apr|mai|jun|jul|aug|sep|okt|nov|des)[a-z]*\b"  # "Solbakken 12. februar" is a date
_STREET_SUFFIX = (
    "gata|gaten|gate|veien|vegen|vei|veg|stien|stigen|plassen|plass|torget|torg|alléen|allé|bakken|"
    "brygga|bryggen|kaia|kaien|lia|haugen|svingen|løkka|tunet|ringen|sletta|jordet|åsen|myra|berget|"
    "vollen|kroken|stredet|smuget|stranda|kleiva|grenda"
)
_ADDRESS = re.compile(
    rf"(?<![\w-])(?:[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}]?[{_LOWER}]+)?(?:{_STREET_SUFFIX})"
    rf"|(?:[{_UPPER}][{_LOWER}]+s? ){{1,3}}(?:gate|gata|vei|veg|allé|plass|torg))"
    rf" \d{{1,3}}(?:[A-Za-z]|[ ][A-Z])?(?![\w,.]\d|[\w])(?!\.? ?{_MONTH})"
    rf"(?:,? \d{{4}} [{_UPPER}][{_LOWER}]+(?: [{_UPPER}][{_LOWER}]+)?)?"
)
_TOKEN = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
# a name may wrap onto the next line of a text file, but a speaker label there starts a new turn
_NAME_RUN = re.compile(rf"(?<![\w@.-]){_TOKEN}(?:(?: |\n(?!{_TOKEN}:)){_TOKEN}){{0,3}}(?![\w@-])")
_LOWER_WORD = re.compile(rf"(?<![\w-])[{_LOWER.replace('-', '')}][{_LOWER}]*")
_SENTENCE_BREAK = set(".!?:;…\n•–-)]\"»|")
_GENITIVE = "s"


@dataclass(frozen=True)
class Replacement:
    """One span of the original text and the placeholder that replaces it."""

    start: int
    end: int
    kind: str
    original: str
    placeholder: str = ""


@dataclass
class _Person:
    tokens: tuple[str, ...]
    mentions: list[int] = field(default_factory=list)  # offsets, to pick the nearest person
    placeholder: str = ""

    @property
    def first(self) -> str:
        return self.tokens[0]

    @property
    def last(self) -> str:
        return self.tokens[-1]


@dataclass
class Pseudonymised:
    """The pseudonymised text and what was replaced (offsets refer to the original text)."""

    text: str
    replacements: list[Replacement]
    _names: dict[str, str] = field(default_factory=dict)
    _originals: dict[str, tuple[str, str]] = field(default_factory=dict)
    _ends: list[int] | None = field(default=None, repr=False)
    _deltas: list[int] = field(default_factory=list, repr=False)

    def mapping(self) -> list[tuple[str, str, str]]:
        """(placeholder, kind, original) once per placeholder: what the local store keeps."""
        return [(ph, kind, original) for ph, (kind, original) in self._originals.items()]

    def placeholder_for(self, name: str) -> str | None:
        """The placeholder of a person known by ``name`` (full name, first name or surname)."""
        return self._names.get(name)

    def shift(self, offset: int, *, end: bool = False) -> int:
        """Where an offset of the original text lies in the pseudonymised text."""
        if self._ends is None:
            self._ends = [rep.end for rep in self.replacements]
            self._deltas = list(accumulate(len(rep.placeholder) - (rep.end - rep.start) for rep in self.replacements))
        i = bisect_right(self._ends, offset)  # replacements wholly before the offset
        delta = self._deltas[i - 1] if i else 0
        if i < len(self.replacements) and self.replacements[i].start < offset:  # inside one: snap to its edge
            rep = self.replacements[i]
            return rep.start + delta + (len(rep.placeholder) if end else 0)
        return offset + delta


def pseudonymise_text(text: str, names: Iterable[str] = (), *, use_ner: bool | None = None) -> Pseudonymised:
    """Replace personal data in ``text``; ``names`` are names known to occur (a names file, speakers)."""
    return _Finder(text, names, use_ner).run()


def fnr_is_valid(digits: str) -> bool:
    """Do the two mod-11 control digits of an 11-digit fødselsnummer (or D-number) check out?"""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    k1 = 11 - sum(w * x for w, x in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(w * x for w, x in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), d[:9] + [k1])) % 11
    k2 = 0 if k2 == 11 else k2
    return k1 != 10 and k2 != 10 and (k1, k2) == (d[9], d[10])


class _Finder:
    """One pass over one text: find, resolve overlaps, link persons, number placeholders."""

    def __init__(self, text: str, names: Iterable[str], use_ner: bool | None) -> None:
        self.text = text
        self.names = [n.strip() for n in names if n and n.strip()]
        self.use_ner = use_ner
        self.taken: list[tuple[int, int]] = []  # sorted, non-overlapping spans already claimed
        self.spans: list[Replacement] = []
        self.lower_words = set(_LOWER_WORD.findall(_EMAIL.sub(" ", _URL.sub(" ", text))))
        self.places = self._places()

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> Pseudonymised:
        for start, end in self._protected():
            self._claim(start, end)
        self._add(("email", m.start(), m.end()) for m in _EMAIL.finditer(self.text))
        self._add(("fnr", m.start(), m.end()) for m in _FNR.finditer(self.text)
                  if fnr_is_valid(m.group(1) + m.group(2)))
        self._add(("phone", m.start(), m.end()) for m in _PHONE.finditer(self.text) if self._is_phone(m))
        self._add(("address", m.start(), m.end()) for m in _ADDRESS.finditer(self.text))
        persons = self._persons()
        return self._result(persons)

    def _add(self, found: Iterable[tuple[str, int, int]]) -> None:
        for kind, start, end in found:
            if self._claim(start, end):
                self.spans.append(Replacement(start, end, kind, self.text[start:end]))

    def _claim(self, start: int, end: int) -> bool:
        """Reserve [start, end) unless it overlaps a span already claimed."""
        i = bisect_right(self.taken, (start, float("inf")))
        if i > 0 and self.taken[i - 1][1] > start:
            return False
        if i < len(self.taken) and self.taken[i][0] < end:
            return False
        self.taken.insert(i, (start, end))
        return True

    def _free(self, start: int, end: int) -> bool:
        i = bisect_right(self.taken, (start, float("inf")))
        return not ((i > 0 and self.taken[i - 1][1] > start) or (i < len(self.taken) and self.taken[i][0] < end))

    def _protected(self) -> list[tuple[int, int]]:
        """URLs and fixed names of things (kept, and never part of a name)."""
        spans = [(m.start(), m.end()) for m in _URL.finditer(self.text)]
        for phrase in KEEP_PHRASES:
            spans += [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", self.text)]
        return sorted(spans)

    # -- numbers ------------------------------------------------------------------------------
    def _is_phone(self, match: re.Match) -> bool:
        before = self.text[max(0, match.start() - 5):match.start()]
        if _MONEY.match(self.text, match.end()) or re.search(r"(?:kr\.?|NOK)\s*$", before, re.IGNORECASE):
            return False  # an amount of money, not a phone number
        groups = match.group("num").split()
        return not (len(groups) == 2 and all(_YEAR.fullmatch(g) for g in groups))

    # -- places -------------------------------------------------------------------------------
    def _places(self) -> set[str]:
        """Capitalised words this text uses as places: "Fjordvik kommune", "på Havøy"."""
        places = set()
        for match in re.finditer(rf"({_TOKEN}) ([{_LOWER}]+)", self.text):
            if match.group(2) in PLACE_MARKERS:
                places.add(match.group(1))
        for match in re.finditer(rf"(?<![\w-])([{_LOWER}]+) ({_TOKEN})(?![\w-])", self.text):
            if match.group(1) in LOCATION_PREPOSITIONS and match.group(2) not in FIRST_NAMES:
                places.add(match.group(2))
        return places

    # -- names --------------------------------------------------------------------------------
    def _persons(self) -> list[_Person]:
        persons: list[_Person] = []
        known_first = set(FIRST_NAMES)
        for name in self.names:
            tokens = tuple(name.split())
            known_first.add(tokens[0])
            if len(tokens) > 1:  # a lone name is linked later, to a full name if one matches
                self._person_for(persons, tokens)
        for match in _EMAIL.finditer(self.text):
            tokens = _name_from_email(match.group(), known_first)
            if tokens:
                self._person_for(persons, tokens)
        mentions: list[tuple[int, int, tuple[str, ...]]] = []
        for start, end in self._explicit_mentions():
            mentions.append((start, end, tuple(self.text[start:end].split())))
        mentions += self._run_mentions(known_first)
        mentions += self._ner_mentions()
        accepted = []
        for start, end, tokens in sorted(mentions, key=lambda m: (m[0], -(m[1] - m[0]))):
            if self._claim(start, end):
                accepted.append((start, end, tokens))
        for start, end, tokens in accepted:
            if len(tokens) > 1:
                self._person_for(persons, tokens).mentions.append(start)
        singles = [(s, e, t) for s, e, t in accepted if len(t) == 1]
        singles += self._token_mentions(persons)
        for start, end, (token,) in sorted(singles):
            person = self._link(persons, _base(token, persons, known_first), start)
            person.mentions.append(start)
        full = [(s, e) for s, e, t in accepted if len(t) > 1]
        self.spans += [Replacement(s, e, "person", self.text[s:e]) for s, e in full + [(s, e) for s, e, _ in singles]]
        return persons

    def _explicit_mentions(self) -> list[tuple[int, int]]:
        """Occurrences of the names given (names file, speaker labels), longest first."""
        out = []
        for name in sorted(set(self.names), key=len, reverse=True):
            for match in re.finditer(rf"(?<![\w@.-]){re.escape(name)}(?:{_GENITIVE})?(?![\w@-])", self.text):
                out.append((match.start(), match.end()))
        return out

    def _run_mentions(self, known_first: set[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """Names among runs of capitalised words: a first name and what follows, or an unknown run."""
        out = []
        for run in _NAME_RUN.finditer(self.text):
            tokens, offsets = [], []
            for match in re.finditer(r"\S+", run.group()):
                tokens.append(match.group())
                offsets.append(run.start() + match.start())
            sentence_start = self._sentence_start(run.start())
            i, found_first = 0, False
            while i < len(tokens):
                tok = tokens[i]
                if _is_first_name(tok, known_first) and self._free(offsets[i], offsets[i] + len(tok)):
                    found_first = True
                    j = i + 1
                    while j < len(tokens) and j - i < 4 and self._surname_like(tokens[j]):
                        j += 1
                    at_start = sentence_start and i == 0
                    if j == i + 1 and (tok in AMBIGUOUS_FIRST_NAMES or tok.lower() in self.lower_words) and at_start:
                        i += 1
                        continue  # "Dag etter dag", "Per i dag": a word, not a name
                    out.append((offsets[i], offsets[j - 1] + len(tokens[j - 1]), tuple(tokens[i:j])))
                    i = j
                else:
                    i += 1
            if not found_first:
                out += self._unknown_runs(tokens, offsets)
        return out

    def _unknown_runs(self, tokens: list[str], offsets: list[int]) -> list[tuple[int, int, tuple[str, ...]]]:
        """Runs without a known first name, taken line by line (a line break may end a table cell)."""
        out = []
        lines: list[list[int]] = [[]]
        for k in range(len(tokens)):
            if k and "\n" in self.text[offsets[k - 1]:offsets[k]]:
                lines.append([])
            lines[-1].append(k)
        for line in lines:
            if line and self._sentence_start(offsets[line[0]]):
                line = line[1:]  # "Kontakt Zainab Hussein": the sentence's first word is not part of it
            words = [tokens[k] for k in line]
            if len(words) >= 2:
                start, end = offsets[line[0]], offsets[line[-1]] + len(words[-1])
                if self._unknown_name_run(start, end, words):
                    out.append((start, end, tuple(words)))
        return out

    def _surname_like(self, token: str) -> bool:
        return token not in INSTITUTIONS and token not in MONTHS_AND_DAYS and token not in PLACE_PREFIXES

    def _unknown_name_run(self, start: int, end: int, tokens: list[str]) -> bool:
        """A capitalised run mid-sentence with no first name in it: a name unless it looks like a thing."""
        before = self.text[max(0, start - 20):start].split()
        if before and before[-1].lower() in LOCATION_PREPOSITIONS:
            return False
        after = self.text[end:end + 30].split()
        if after and after[0].strip(",.;:") in PLACE_MARKERS:
            return False
        for tok in tokens:
            if (tok in INSTITUTIONS or tok in PLACES or tok in self.places or tok in MONTHS_AND_DAYS
                    or tok in PLACE_PREFIXES or tok.lower() in self.lower_words):
                return False
        return True

    def _ner_mentions(self) -> list[tuple[int, int, tuple[str, ...]]]:
        """PER entities from spaCy's trained Norwegian pipeline, when it is installed."""
        if self.use_ner is False or (self.use_ner is None and os.environ.get("QUALCODE_NER", "1") == "0"):
            return []
        nlp = _ner_pipeline()
        if nlp is None:
            return []
        out = []
        for ent in nlp(self.text).ents:
            tokens = tuple(ent.text.split())
            if ent.label_ == "PER" and tokens and all(
                    re.fullmatch(_TOKEN, t) and t not in INSTITUTIONS and t not in PLACES and t not in self.places
                    for t in tokens):
                out.append((ent.start_char, ent.end_char, tokens))
        return out

    def _token_mentions(self, persons: list[_Person]) -> list[tuple[int, int, tuple[str]]]:
        """Later mentions of a known person's first name or surname on its own ("Nesheim sa …")."""
        # a surname that is also a place is linked unless this text uses it as one ("Sandnes kommune")
        tokens = {t for p in persons for t in p.tokens if len(t) > 1 and t not in self.places and t not in INSTITUTIONS}
        out = []
        for token in sorted(tokens, key=len, reverse=True):
            for match in re.finditer(rf"(?<![\w@.-]){re.escape(token)}(?:{_GENITIVE})?(?![\w@-])", self.text):
                if token.lower() in self.lower_words and self._sentence_start(match.start()):
                    continue  # "Per i dag …" in a text that also says "per år"
                if self._claim(match.start(), match.end()):
                    out.append((match.start(), match.end(), (token,)))
        return out

    def _sentence_start(self, pos: int) -> bool:
        i = pos - 1
        while i >= 0 and self.text[i] in " \t«\"'(“":
            i -= 1
        return i < 0 or self.text[i] in _SENTENCE_BREAK

    @staticmethod
    def _person_for(persons: list[_Person], tokens: tuple[str, ...]) -> _Person:
        """The person a full name belongs to (same first name and surname, or one name inside the other)."""
        for person in persons:
            if person.tokens == tokens:
                return person
            mine, theirs = set(tokens), set(person.tokens)
            if len(person.tokens) > 1 and len(tokens) > 1 and person.last == tokens[-1] and (
                    person.first == tokens[0] or mine <= theirs or theirs <= mine):
                if len(tokens) > len(person.tokens):
                    person.tokens = tokens
                return person
        persons.append(_Person(tokens))
        return persons[-1]

    @staticmethod
    def _link(persons: list[_Person], token: str, pos: int) -> _Person:
        """The person a lone first name or surname refers to: the nearest one mentioned before."""
        candidates = [p for p in persons if token in p.tokens]
        if not candidates:
            persons.append(_Person((token,)))
            return persons[-1]
        before = [(max((m for m in p.mentions if m < pos), default=-1), p) for p in candidates]
        best = max(before, key=lambda item: item[0])
        return best[1] if best[0] >= 0 else candidates[0]

    # -- placeholders -------------------------------------------------------------------------
    def _result(self, persons: list[_Person]) -> Pseudonymised:
        spans = sorted(self.spans, key=lambda r: r.start)
        counters: dict[str, int] = {}
        by_key: dict[tuple[str, str], str] = {}
        person_of = {}
        for person in persons:
            for m in person.mentions:
                person_of[m] = person
        fnr_keys = {_key("fnr", r.original) for r in spans if r.kind == "fnr"}
        originals: dict[str, tuple[str, str]] = {}
        out: list[Replacement] = []
        for rep in spans:
            if rep.kind == "person":
                person = person_of[rep.start]
                key = ("person", str(id(person)))
                original = " ".join(person.tokens)
            else:
                key = (rep.kind, _key(rep.kind, rep.original))
                original = rep.original
            if key not in by_key:
                counters[rep.kind] = counters.get(rep.kind, 0) + 1
                label = LABELS[rep.kind]
                single_fnr = rep.kind == "fnr" and len(fnr_keys) == 1
                by_key[key] = f"[{label}]" if single_fnr else f"[{label} {counters[rep.kind]}]"
                originals[by_key[key]] = (rep.kind, original)
            if rep.kind == "person":
                person_of[rep.start].placeholder = by_key[key]
            out.append(Replacement(rep.start, rep.end, rep.kind, rep.original, by_key[key]))
        names = {}
        for person in persons:
            if person.placeholder:
                names.setdefault(" ".join(person.tokens), person.placeholder)
                for token in person.tokens:
                    names.setdefault(token, person.placeholder)
        parts, last = [], 0
        for rep in out:
            parts += [self.text[last:rep.start], rep.placeholder]
            last = rep.end
        parts.append(self.text[last:])
        return Pseudonymised("".join(parts), out, names, originals)


def _key(kind: str, original: str) -> str:
    """What makes two mentions the same number/address/e-mail."""
    if kind in ("phone", "fnr"):
        digits = re.sub(r"\D", "", original)
        return digits[-8:] if kind == "phone" else digits
    return " ".join(original.lower().split())


def _is_first_name(token: str, known: set[str]) -> bool:
    """A known first name, also in the genitive ("Turids") or hyphenated ("Ole-Martin")."""
    token = _strip_genitive(token, known) if token not in known else token
    return token in known or ("-" in token and all(part in known for part in token.split("-")))


def _strip_genitive(token: str, known: set[str]) -> str:
    """"Turids" → "Turid" when the stem is a known name."""
    if token.endswith(_GENITIVE) and token[:-1] in known:
        return token[:-1]
    return token


def _base(token: str, persons: list[_Person], known_first: set[str]) -> str:
    """A lone name as its person knows it: without a genitive s unless the s belongs to the name."""
    if any(token in p.tokens for p in persons):
        return token
    return _strip_genitive(token, {t for p in persons for t in p.tokens} | known_first)


def _name_from_email(address: str, known_first: set[str]) -> tuple[str, ...] | None:
    """"turid.nesheim@…" → ("Turid", "Nesheim") when the first part is a known first name."""
    parts = re.split(r"[._]", address.split("@")[0])
    if not 2 <= len(parts) <= 3 or not all(p.replace("-", "").isalpha() for p in parts):
        return None
    tokens = tuple("-".join(w.capitalize() for w in p.split("-")) for p in parts)
    return tokens if _is_first_name(tokens[0], known_first) else None


@lru_cache(maxsize=1)
def _ner_pipeline():
    """spaCy's ``nb_core_news_sm`` with only its NER, or None when it is not installed."""
    try:
        import spacy

        if not spacy.util.is_package("nb_core_news_sm"):
            return None
        return spacy.load("nb_core_news_sm", exclude=["parser", "lemmatizer", "attribute_ruler", "morphologizer"])
    except Exception:  # a broken model install must not stop ingestion; the rules still run
        return None


# -- documents --------------------------------------------------------------------------------

NAMES_FILE = "names.txt"
NAMES_ENV = "QUALCODE_NAMES"


def read_names(path) -> list[str]:
    """Names in a names file: one per line; blank lines and ``#`` comments are skipped."""
    from pathlib import Path

    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def load_names(source, names_file=None) -> list[str]:
    """Known names for one source file: ``names_file``, the file named by $QUALCODE_NAMES,
    and a ``names.txt`` beside the source (each optional)."""
    from pathlib import Path

    files = [names_file, os.environ.get(NAMES_ENV) or None, Path(source).parent / NAMES_FILE]
    names: list[str] = []
    for path in files:
        if path and Path(path).is_file():
            names += read_names(path)
    return list(dict.fromkeys(names))


def pseudonymise_document(doc, names: Iterable[str] = ()):
    """A copy of an extracted document with personal data replaced, and the mapping.

    Offsets of blocks, page marks and turns are carried over to the new text, table
    cells are rewritten, and speaker labels that are names become their placeholders
    (role labels such as "IP" or "Intervjuer" stay).  Returns ``(document, mapping)``
    with mapping rows ``(placeholder, kind, original)``.
    """
    from dataclasses import replace

    from qualcode.documents import ExtractedDocument
    from qualcode.extract.transcript import is_role_label

    speakers = {t.speaker for t in doc.turns if not is_role_label(t.speaker) and not t.speaker.startswith("[")}
    result = pseudonymise_text(doc.text, [*names, *sorted(speakers)])
    if not result.replacements:
        return doc, []
    text = result.text
    blocks = []
    for block in doc.blocks:
        start, end = result.shift(block.start), result.shift(block.end, end=True)
        rows = block.rows
        if rows is not None:
            rows = tuple(tuple(line.split(" | ")) for line in text[start:end].split("\n"))
        blocks.append(replace(block, start=start, end=end, rows=rows))
    turns = [replace(t, start=result.shift(t.start), end=result.shift(t.end, end=True),
                     speaker=result.placeholder_for(t.speaker) or t.speaker if t.speaker in speakers else t.speaker)
             for t in doc.turns]
    marks = [(result.shift(offset), page) for offset, page in doc.page_marks]
    new = ExtractedDocument(text=text, blocks=blocks, page_count=doc.page_count, engine=doc.engine,
                            is_transcript=doc.is_transcript, turns=turns, warnings=list(doc.warnings),
                            page_marks=marks)
    return new, result.mapping()
