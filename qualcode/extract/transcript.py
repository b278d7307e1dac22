"""Speaker turns in interview transcripts, whatever the file format.

Transcripts mark turns with a speaker label at the start of a paragraph or line —
``I:``, ``IP:``, ``Intervjuer:``, ``Barnevernleder:``, ``Kari:``, bold in Word, ``**Kari:**`` in
Markdown — optionally with a timestamp before or after the label (``[00:12:31] I:``,
``00:03:12 Kari:``, ``Kari (00:12):``).  Plans have colons too ("Mål:", "Tiltak:", "Merk:"),
so a label must be short, at a line start, a known role word or a name-like word that
recurs as a speaker, and never a word the document uses as a common noun.  A document
is a transcript only when such turns alternate between speakers, cover most of its text
and some of them ask questions — or when the manifest says it is an interview.

``detect_turns`` fills ``doc.turns``/``doc.is_transcript``; ``content_start`` tells the
segmenter where the spoken text of a turn begins (after its label and timestamp).
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from qualcode.documents import ExtractedDocument, Role, Turn

INTERVIEWER_WORDS = {
    "i", "int", "intervjuer", "intervjuar", "interviewer", "forsker", "forskar", "researcher", "moderator",
    "mod", "fasilitator", "facilitator",
}
INFORMANT_WORDS = {
    "ip", "inf", "informant", "intervjuperson", "intervjuobjekt", "respondent", "resp", "deltaker", "deltakar",
    "deltager", "participant", "barnevernleder", "barnevernsleder", "barnevernleiar", "barnevernsleiar",
    "koordinator", "plankoordinator", "leder", "leiar", "rektor", "styrer", "helsesykepleier", "helsesøster",
    "kommunalsjef", "oppvekstsjef", "kommunedirektør", "rådmann", "saksbehandler", "fagleder", "fagleiar",
    "avdelingsleder", "enhetsleder", "virksomhetsleder", "psykolog", "lærer", "konsulent", "rådgiver",
    "rådgjevar", "ansatt", "tilsett", "ordfører", "politiker", "miljøterapeut", "familieterapeut", "sosionom",
    "barnevernspedagog", "helsesjef", "kommuneoverlege", "sjef", "direktør",
}
ROLE_WORDS: dict[str, Role] = {**{w: "interviewer" for w in INTERVIEWER_WORDS},
                               **{w: "informant" for w in INFORMANT_WORDS}}

# Words that head a line with a colon in plans and metadata; never speakers.
HEADING_WORDS = set("""
mål målet hovedmål delmål tiltak tiltaket merk nb obs ps ansvar ansvarlig frist frister status tid tidspunkt
sted dato prosjekt varighet koder kode kilde kilder tema eksempel eksempler formål bakgrunn målgruppe målgrupper
innhold resultat resultater oppsummering notat kommentar kommentarer tips definisjon hjemmel lovhjemmel
evaluering økonomi budsjett spørsmål svar fase periode aktivitet aktiviteter vedlegg figur tabell kapittel side
se jf les kontakt telefon tlf mobil e-post epost adresse nettside web url år utfordring utfordringer styrker
svakheter nivå indikator indikatorer ressurser kostnad kostnader oppstart rapportering organisering forankring
metode kunnskapsgrunnlag vurdering konklusjon anbefaling anbefalinger sammendrag innledning strategi visjon
verdier prioritering resultatmål effektmål gevinst risiko note fotnote referanse lenke tittel navn stilling
rolle intervju transkribert transkripsjon transkribent kommune fylke enhet tjeneste avdeling kategori type felt
opplysning forfatter versjon revidert vedtatt godkjent saksnummer arkiv referat møte deltakere fravær agenda
sak vedtak forslag innstilling tjenester samarbeid samarbeidspartnere tilbud målsetting målsettinger oppfølging
tidsplan milepæler sluttdato startdato utført gjennomført planlagt begrunnelse beskrivelse forklaring
""".split())

TRANSCRIPT_TYPES = {"intervju", "interview", "transkripsjon", "transcript", "transkript", "fokusgruppe",
                    "fokusgruppeintervju", "gruppeintervju", "samtale"}

_TS_CORE = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
TIMESTAMP = rf"(?:\[{_TS_CORE}\]|\({_TS_CORE}\)|{_TS_CORE})"
_WORD = r"[^\W\d_][\w.'’-]*"
_LABEL = rf"(?:{_WORD}(?:[ ](?:{_WORD}|\d{{1,2}})){{0,2}}|\[[A-ZÆØÅ-]+(?: \d+)?\])"
_LABEL_LINE = re.compile(
    rf"(?:(?P<ts1>{TIMESTAMP})[ \t]*(?:[-–][ \t]*)?(?:\n[ \t]*)?)?"
    rf"(?P<open>\*\*)?(?P<label>{_LABEL})"
    rf"(?:[ \t]*\((?P<paren>[^\W\d][^()\n]{{0,29}})\))?"
    rf"(?:[ \t]*(?P<ts2>{TIMESTAMP}))?"
    r"(?P<close1>\*\*)?[ \t]*[:：](?P<close2>\*\*)?(?=\s|$)"
    rf"[ \t]*(?:(?P<ts3>{TIMESTAMP})(?=\s|$)[ \t]*)?"
)
_NAME_WORD = re.compile(r"(?:[A-ZÆØÅÄÖÜÉ][a-zæøåäöüéèáó'’-]+\.?|[A-ZÆØÅ]\.)")
_INITIALS = re.compile(r"[A-ZÆØÅ]{1,3}")
_PLACEHOLDER = re.compile(r"\[[A-ZÆØÅ-]+(?: \d+)?\]")
_TRAILING_NUMBER = re.compile(r"[ .]*\d+$")
_LOWER_WORD = re.compile(r"(?<![\w-])[a-zæøå][a-zæøåäöüé-]*")
_NOTE = re.compile(r"[\[(][^\[\]()]*[\])]")
# "I = intervjuer", "Per Olav = intervjuer", "Kari Nilsen (barnevernleder)"
_LEGEND = re.compile(r"(?<![\w-])(?P<label>[A-ZÆØÅ][\wæøå]*(?: [A-ZÆØÅ][\wæøå]*){0,2})\s*(?:=|\()\s*"
                     r"(?P<role>[a-zæøå]{4,})")
_SENTENCE_END = "[.!?…»”\"\\)\\]]"

MIN_TURNS = 4           # label-started paragraphs before the text alone says "transcript"
MIN_ALTERNATION = 0.6   # share of turns whose speaker differs from the one before
MIN_COVERAGE = 0.5      # share of the text inside turns
MIN_QUESTIONS = 0.15    # share of turns with a question: interviews ask, plans with "Leder:" lines do not
MIN_MEDIAN_WORDS = 5    # turns are speech, not "Koordinator: Enhetsleder." field lines


@dataclass
class _Label:
    pos: int            # where the label (or its timestamp) begins
    content: int        # where the spoken text begins
    label: str          # as written, without markup
    key: str            # case-folded identity
    kind: str           # "role" | "name" | "initials"
    role: Role | None
    timestamp: str | None
    bold: bool = False


def role_of_label(label: str) -> Role | None:
    """The role a label names by itself ("IP", "Intervjuer", "Informant 2"), else None."""
    stem = _TRAILING_NUMBER.sub("", label.strip().strip("*").rstrip(":")).strip()
    key = stem.lower()
    if key in ROLE_WORDS:
        return ROLE_WORDS[key]
    first = key.split()[0] if key.split() else ""
    return ROLE_WORDS.get(first) if len(first) >= 4 else None


def is_role_label(label: str) -> bool:
    """Does the label name a role rather than a person (and may therefore be kept as is)?"""
    return role_of_label(label) is not None


def interviewer_turn(text: str) -> bool:
    """Does the text open with an interviewer's label ("I:", "Intervjuer:", "[00:12] Forsker:")?
    Such a turn is context, not data: it is never coded (see `Segment.codable`), also when
    segments arrive as plain text (`qualcode classify`, reference sets)."""
    pos = len(text) - len(text.lstrip())
    label = _parse(text, pos, min(len(text), pos + 80))
    return label is not None and label.role == "interviewer"


def is_transcript_type(doc_type: str | None) -> bool:
    return (doc_type or "").strip().lower() in TRANSCRIPT_TYPES


def content_start(text: str, start: int, end: int | None = None) -> int:
    """Offset where a turn's spoken text begins: after its timestamp and speaker label."""
    end = len(text) if end is None else end
    match = _LABEL_LINE.match(text, start, end)
    pos = match.end() if match else start
    while pos < end and text[pos].isspace():
        pos += 1
    return pos if pos < end else start


def detect_turns(doc: ExtractedDocument, *, doc_type: str | None = None,
                 bold_starts: Iterable[int] = ()) -> ExtractedDocument:
    """Mark ``doc`` as a transcript and fill its turns when the evidence says so.

    ``doc_type`` is the manifest's type: an interview type makes the document a
    transcript whatever its labels look like; a plan type skips detection.
    ``bold_starts`` are offsets of paragraphs that begin with a bold label (Word).
    """
    forced = is_transcript_type(doc_type)
    if not forced and "plan" in (doc_type or "").lower():
        return doc
    labels, legend = _legend_lines(doc.text, _accepted(doc, _with_inline_turns(doc, _candidates(doc, set(bold_starts)))))
    turns = _turns(doc, labels)
    if forced or _looks_like_transcript(doc, turns, labels):
        doc.is_transcript = True
        doc.turns = _with_roles(doc.text, turns, labels, legend)
        if not doc.turns:
            doc.warnings.append("interview without recognisable speaker labels: segmented by paragraph")
    return doc


def _candidates(doc: ExtractedDocument, bold_starts: set[int]) -> list[_Label]:
    """Every line start that reads like a speaker label."""
    text = doc.text
    found: list[_Label] = []
    for block in doc.blocks:
        if block.kind in ("table", "list"):
            continue
        line_start = block.start
        while line_start < block.end:
            line_end = text.find("\n", line_start, block.end)
            line_end = block.end if line_end < 0 else line_end
            if not found or line_start >= found[-1].content:
                bold = block.start in bold_starts and line_start == block.start
                label = _parse(text, line_start, block.end, bold=bold)
                if label is not None:
                    found.append(label)
            line_start = line_end + 1
    return found


def _parse(text: str, pos: int, limit: int, *, bold: bool = False) -> _Label | None:
    match = _LABEL_LINE.match(text, pos, limit)
    if not match:
        return None
    raw = match.group("label")
    words = raw.split()
    if len(raw) > 40 or len(words) > 3:
        return None
    paren = match.group("paren")
    role = role_of_label(raw)
    if role is not None:
        kind = "role"
    elif _PLACEHOLDER.fullmatch(raw):
        kind = "name"
    elif _INITIALS.fullmatch(_TRAILING_NUMBER.sub("", raw)) and raw.lower() not in HEADING_WORDS:
        kind = "initials"
    elif raw.lower() in HEADING_WORDS or words[0].lower() in HEADING_WORDS:
        return None
    elif all(_NAME_WORD.fullmatch(w) for w in words):
        kind = "name"
    elif (bold or match.group("open")) and _NAME_WORD.fullmatch(words[0]):
        kind = "name"  # a bold label may be longer: "Leiar i PPT"
    else:
        return None
    if paren and ROLE_WORDS.get(paren.strip().lower()):
        role = ROLE_WORDS[paren.strip().lower()]
    content = match.end()
    while content < len(text) and text[content].isspace():
        content += 1  # a label alone on its line: the turn's text starts on the next one
    timestamp = next((match.group(g) for g in ("ts1", "ts2", "ts3") if match.group(g)), None)
    return _Label(pos, content, raw.rstrip("."), raw.rstrip(".").lower(), kind, role,
                  timestamp.strip("[]()") if timestamp else None, bold=bold or bool(match.group("open")))


def _accepted(doc: ExtractedDocument, labels: list[_Label]) -> list[_Label]:
    """Keep role labels, and name labels that behave like speakers rather than headings."""
    from qualcode.privacy.gazetteer import FIRST_NAMES, INSTITUTIONS, MONTHS_AND_DAYS, PLACES

    counts = Counter(lab.key for lab in labels)
    lower_words = set(_LOWER_WORD.findall(doc.text))
    # when the speakers are role labels that recur (I/IP), a label seen once is a quote, not a speaker:
    # "IP: Det står i planen:\nKoordinator: enhetsleder for familieteamet."
    recurring = {lab.key: lab.kind for lab in labels if counts[lab.key] >= 2}
    role_speakers = len(recurring) >= 2 and set(recurring.values()) == {"role"}
    keep = []
    for lab in labels:
        if role_speakers and counts[lab.key] < 2:
            continue
        if lab.kind == "role":
            keep.append(lab)
            continue
        first = lab.label.split()[0]
        if lab.kind == "initials":
            ok = counts[lab.key] >= 2
        else:
            known_name = first in FIRST_NAMES
            ok = (first not in INSTITUTIONS and first not in PLACES and first not in MONTHS_AND_DAYS
                  and (known_name or first.lower() not in lower_words)
                  and (counts[lab.key] >= 2 or lab.bold or known_name or lab.role is not None))
        if ok:
            keep.append(lab)
    return keep


def _legend_lines(text: str, labels: list[_Label]) -> tuple[list[_Label], dict[str, Role]]:
    """Header lines that say who is who ("Intervjuer: Per Olav", or "Intervjuer: Per Olav
    Informant: Kari" on one line) are a legend, not turns.

    A role-labelled line that holds nothing but such pairs, naming a speaker of the
    document, gives those speakers their roles; the line itself is left out of the turns.
    """
    speakers = {lab.key for lab in labels if lab.kind != "role"}
    legend: dict[str, Role] = {}
    keep = []
    for lab in labels:
        if lab.kind == "role":
            end = text.find("\n", lab.content)
            pairs = _legend_pairs(f"{lab.label}: {text[lab.content:len(text) if end < 0 else end]}")
            if pairs and any(name in speakers for _, name in pairs):
                for role, name in pairs:
                    legend.setdefault(name, role)
                continue
        keep.append(lab)
    return keep, legend


def _legend_pairs(line: str) -> list[tuple[Role, str]] | None:
    """[(role, name key)] for "Role: Name [Role: Name …]", else None."""
    parts = line.split(":")
    label, pairs = parts[0].strip(), []
    for i, part in enumerate(parts[1:], start=1):
        words = [w.strip(".,;") for w in part.split()]
        names, next_label = (words, None) if i == len(parts) - 1 else (words[:-1], words[-1] if words else None)
        role = role_of_label(label) if label else None
        if role is None or not 1 <= len(names) <= 3 or not all(_NAME_WORD.fullmatch(w) for w in names):
            return None
        pairs.append((role, " ".join(names).lower()))
        label = next_label
    return pairs or None


def _with_inline_turns(doc: ExtractedDocument, labels: list[_Label]) -> list[_Label]:
    """Add turns a PDF ran together into one paragraph: "… svar. 00:05:43 Ola: …".

    Only in a document whose line-start labels carry timestamps, and only timestamped.
    """
    if not any(lab.timestamp for lab in labels):
        return labels
    pattern = re.compile(rf"(?<={_SENTENCE_END} )(?={TIMESTAMP}[ \t]+)")
    starts = {lab.pos for lab in labels}
    extra = []
    for block in doc.blocks:
        if block.kind != "paragraph":
            continue
        for match in pattern.finditer(doc.text, block.start, block.end):
            label = _parse(doc.text, match.start(), block.end)
            if label is not None and label.timestamp and label.pos not in starts:
                extra.append(label)
    return sorted(labels + extra, key=lambda lab: lab.pos) if extra else labels


def _turns(doc: ExtractedDocument, labels: list[_Label]) -> list[tuple[int, int, _Label]]:
    """(start, end, label) of each turn: from its label to the next label or a table/heading."""
    text = doc.text
    stops = sorted(b.start for b in doc.blocks
                   if b.kind == "table" or (b.kind == "heading" and doc.engine != "text"))
    out = []
    for i, lab in enumerate(labels):
        end = labels[i + 1].pos if i + 1 < len(labels) else len(text)
        end = min([end] + [s for s in stops if lab.content <= s < end])
        end = _trim_notes(text, lab.content, end)
        out.append((lab.pos, end, lab))
    return out


def _trim_notes(text: str, start: int, end: int) -> int:
    """End of a turn without trailing blank space and transcriber notes ("[Slutt på opptak]")."""
    while True:
        while end > start and text[end - 1].isspace():
            end -= 1
        cut = text.rfind("\n\n", start, end)
        if cut < 0 or not _NOTE.fullmatch(text[cut:end].strip()):
            return end
        end = cut


def _looks_like_transcript(doc: ExtractedDocument, turns, labels: list[_Label]) -> bool:
    if len(turns) < MIN_TURNS or len({lab.key for lab in labels}) < 2:
        return False
    changes = sum(a.key != b.key for a, b in zip(labels, labels[1:]))
    if changes / (len(labels) - 1) < MIN_ALTERNATION:
        return False
    covered = sum(end - start for start, end, _ in turns)
    if covered / max(1, len(doc.text.strip())) < MIN_COVERAGE:
        return False
    spoken = [doc.text[lab.content:end] for _, end, lab in turns]
    words = sorted(len(text.split()) for text in spoken)
    if words[len(words) // 2] < MIN_MEDIAN_WORDS:
        return False
    return sum("?" in text for text in spoken) / len(turns) >= MIN_QUESTIONS


def _with_roles(text: str, turns, labels: list[_Label], legend: dict[str, Role] | None = None) -> list[Turn]:
    """Turns with roles: from role words, a legend ("Kari = intervjuer", "Intervjuer: Kari"), else who asks."""
    if not turns:
        return []
    roles: dict[str, Role] = {lab.key: lab.role for lab in labels if lab.role is not None}
    for key, role in (legend or {}).items():
        roles.setdefault(key, role)
    preamble = text[:turns[0][0]]
    for match in _LEGEND.finditer(preamble):
        role = ROLE_WORDS.get(match.group("role"))
        if role is not None:
            roles.setdefault(match.group("label").lower(), role)
    speakers = list(dict.fromkeys(lab.key for _, _, lab in turns))
    unknown = [s for s in speakers if s not in roles]
    if unknown:
        if "interviewer" in roles.values():
            roles.update({s: "informant" for s in unknown})
        else:
            stats: dict[str, list[tuple[bool, int]]] = defaultdict(list)
            for start, end, lab in turns:
                stats[lab.key].append(("?" in text[lab.content:end], end - lab.content))

            def interviewer_score(key: str) -> tuple:
                rows = stats[key]
                return (sum(q for q, _ in rows) / len(rows), -sum(n for _, n in rows) / len(rows),
                        -speakers.index(key))

            asker = max(unknown, key=interviewer_score)
            roles.update({s: "interviewer" if s == asker else "informant" for s in unknown})
    names = {}
    for _, _, lab in turns:
        names.setdefault(lab.key, lab.label)
    return [Turn(start, end, number, names[lab.key], roles[lab.key], lab.timestamp)
            for number, (start, end, lab) in enumerate(turns, start=1)]
