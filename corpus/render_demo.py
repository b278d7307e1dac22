#!/usr/bin/env python3
"""Render the fictional demo corpus in ``corpus/demo-src/`` to ``corpus/demo/``.

Run from the project root::

    .venv/bin/python corpus/render_demo.py            # render everything
    .venv/bin/python corpus/render_demo.py fjordvik   # only sources whose name contains "fjordvik"

Every document in the corpus is fictional (municipalities, people, numbers).
Output is deterministic: PDFs are written with ``invariant=1`` and DOCX files
get fixed core properties and fixed zip timestamps, so re-rendering an
unchanged source gives byte-identical files.

Source markup
=============

One source file per document, ``corpus/demo-src/<name>.md``, UTF-8.

Front matter (required) between two ``---`` lines, ``key: value`` per line:

``output``        file name written to ``corpus/demo/`` (extension decides nothing;
                  ``format`` does)
``format``        ``pdf`` (default), ``docx`` or ``txt``
``title``         document title (PDF/DOCX metadata)
``author``        metadata author (default: the municipality)
``municipality``  e.g. ``Fjordvik kommune``
``year``          2024 or 2025
``type``          ``plan`` or ``intervju``
``informant_role`` ``barnevernleder`` or ``koordinator``; empty for plans
                  (output, municipality, year, type and informant_role of every
                  source are written to ``corpus/demo/manifest.csv``)
``layout``        initial page layout: ``one-column`` (default) or ``two-column``
``header``        running header, left part, printed on every page
``header_right``  running header, right part (optional)
``footer``        running footer; ``{page}`` and ``{pages}`` are substituted,
                  e.g. ``Side {page} av {pages}`` or ``{page}``
``footer_left``   small left-aligned footer text (optional)
``footer_align``  ``center`` (default), ``right`` or ``left``
``font``          ``Helvetica`` (default) or ``Times``
``font_size``     body font size in points (default 10.5; 9.5 is a good
                  value for two-column pages)
``justify``       ``yes`` (default) or ``no``
``bullet``        bullet character for ``-`` lists (default en dash; note that
                  reportlab writes U+2022 as byte 0x7F, which some extractors
                  cannot map)
``accent``        colour of headings and table header rows (default #1f4e79)
``hyphenate``     ``yes`` (default) or ``no`` -- automatic Norwegian hyphenation
                  of long words at line ends (see ``NorwegianHyphenator``)

For ``docx`` only ``header`` (page header text) and ``font_size`` apply.

Body (``pdf`` and ``docx``):

``# Text`` / ``## Text`` / ``### Text``   headings, levels 1-3
blank line                              ends a block; consecutive text lines are
                                        joined into one paragraph
``- item``                              bullet list (consecutive lines; a line
                                        indented by two spaces continues the item)
``1. item``                             numbered list
``| a | b | c |``                       table; the first row is the header row, a
                                        ``|---|---|`` row after it is optional
``> text``                              shaded fact box (consecutive ``>`` lines form
                                        one box; a ``>`` line alone starts a new
                                        paragraph inside the box)
``**bold**``, ``*italic*``              inline emphasis (also in tables and lists)
``%% comment``                          ignored

Directives (a line starting with ``@``):

``@layout one-column`` / ``@layout two-column``   switch page layout; the new
                                        layout starts on a new page
``@pagebreak``                          start a new page
``@columnbreak``                        continue in the next frame (column)
``@title Text``, ``@subtitle Text``, ``@meta Text``   title block lines
``@spacer N``                           vertical space of N points
``@colwidths 14,40,26,20``              relative column widths for the next table
``@condbreak N``                        new frame unless N points are left
(headings are always kept with the block that follows them)

``txt`` documents: the body is written out verbatim (front matter removed).
In ``docx`` documents a paragraph beginning with ``**Label:**`` is a speaker turn
and is rendered with the label as a bold run.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    FrameBreak,
    KeepTogether,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

HERE = Path(__file__).resolve().parent
SRC = HERE / "demo-src"
OUT = HERE / "demo"

# ---------------------------------------------------------------------------
# Norwegian hyphenation (no external dictionary needed)
# ---------------------------------------------------------------------------

VOWELS = set("aeiouyæøåéAEIOUYÆØÅÉ")
# consonant groups that are pronounced as one sound and are never split
DIGRAPHS = ("skj", "kj", "sj", "tj", "gj")

# Compound parts used to find word-internal boundaries, so that e.g.
# "helsestasjonen" breaks as helse-stasjonen, never helses-tasjonen.
LEXICON = """
barn barne vern verne tjeneste tjenester tjenesten tjenestene tjenestenes foreldre
veiledning veiledningen program programmet programmer forebygging forebyggingen
forebyggende forebyggings helse stasjon stasjonen stasjoner skole skolen skolene
skoler kommune kommunen kommunene kommunens kommunal kommunale samarbeid samarbeidet
samarbeide samarbeider tverr faglig faglige etatlig etatlige sektoriell sektorielle
oppvekst omsorg omsorgs svikt atferd atferds vansker vanske vansken vanskene innsats
innsatsen innsatser tiltak tiltaket tiltakene ansvar ansvaret ansvars fordeling
fordelingen plan planen planer planene arbeid arbeidet arbeids gruppe gruppen
grupper gruppene styring styrings koordinator koordinatoren koordinatorer
koordinering koordineringen kompetanse kompetansen ungdom ungdommen ungdoms
ungdommer familie familien familier familiene senter senteret psykisk psykiske rus
utsatte terskel tilbud tilbudet tilbudene hjelpe hjelp bekymring bekymringer melding
meldingen meldinger undersøkelse undersøkelsen undersøkelser fritid fritids leder
lederen ledere ledelse ledelsen møte møtet møter nettverk nettverket nettverkene
læring lærings erfaring erfaringer erfarings deling utveksling politisk politiske
folke rådgiver rådgivere direktør direktøren direktorat direktoratet oppfølging
oppfølgingen spesialist avdeling avdelingen team teamet kurs kurset trening grunn
grunnlag grunnlaget beredskap tjenesteområde område området områdene sykepleier
sykepleiere pedagogisk pedagogiske psykolog psykologer bolig boliger økonomi
økonomisk økonomiske budsjett budsjettet stilling stillinger stillingen stillingene
prioritering prioriteringer rullering revidering revisjon handling handlings del
delen mål målet målene strategi strategier lov loven lovverk lovverket krav kravet
nivå nivået nivåene trekant trekanten samhandling samhandlingen modell modellen
modeller kartlegging kartleggingen styre bydel rettet befolkning befolknings hus
huset basert barnas barnets barns individ individuell individuelle utvikling
utviklingen sosial sosiale fattigdom inkludering inntekt inntekts lav inn over
takelse rutine rutiner rutinene rutinen middel midler bruk bruken utenfor skap skole
skolens fysio terapi terapeut hverdag hverdager mestring mestrings foreldreskap
miljø miljøet miljøer lokal lokale samfunn samfunnet samfunns økonomien vekst
veileder veilederen ressurs ressurser ressursene dag dager kveld kvelds ettermiddag
gutter jenter elev elever elevene lærer lærere lærerne rektor rektorer mobbing
fravær mottak flyktning flyktninger bosetting introduksjon innvandrer innvandrere
språk kultur idrett idretts frivillig frivillige lag laget lagene kontakt kontakten
kontaktperson person personer tilsyn sak saken saker sakene beslutning beslutninger
vedtak vedtaket styret avtale avtaler avtalen kjerne ut nabo ansatt ansatte
representant representanter potensial under hage hagen hager hagene vernet vernets
bruker brukere brukerne organisasjon organisasjoner arena arenaer arbeider arbeidere
tid tiden endring endringer endringene sjef sjefen sjefene stab staben sektor sektoren
sektorer sentre sentrene sentral sentralen støtte samtale samtaler samtalen alder
oversikt oversikten kunn kjenn spiller rygg raden foster hjem hjemmet voksen psykiatri
ordnet ordnede hoved oppgave oppgaver oppgavene øya spørre dobbelt akutt sam kvalitet
kvalitets plikt plikten fag plass plasser pott første gangs kriminalitet
kriminalitets enkelt stående felles funksjon evne videre utdanning ordning ordningen
fjord region regionen kommuner
syke pleier pleiere pleierne direktør direktøren eier
""".split()
LEXICON_SET = {w for w in LEXICON if len(w) >= 3}
LINKS = ("s", "e")
# prefixes that keep an s+consonant cluster with the stem (be-skri-ve,
# for-stå, av-stand, in-sti-tu-sjon); "opp" is always a boundary
PREFIXES = ("fram", "for", "inn", "per", "sam", "til", "sær", "opp", "be", "er", "av", "in")

# explicit hyphenations that the rules above get wrong or ugly
EXCEPTIONS = {
    "terskel": "ter-skel",
    "terskelen": "ter-ske-len",
    "problem": "pro-blem",
    "problemer": "pro-ble-mer",
    "problemene": "pro-ble-me-ne",
    "problemet": "pro-ble-met",
    "forklarer": "for-kla-rer",
    "forenklet": "for-enk-let",
    "forutsatt": "for-ut-satt",
    "forutsetningen": "for-ut-set-nin-gen",
    "forebygge": "fore-byg-ge",
    "forankret": "for-an-kret",
    "foreligger": "fore-lig-ger",
    "foreldrene": "for-eldre-ne",
    "foreldrenes": "for-eldre-nes",
    "inkludering": "in-klu-de-ring",
    "inkluderende": "in-klu-de-ren-de",
    "understreket": "un-der-stre-ket",
    "terskelige": "ter-ske-li-ge",
    "nyansatte": "ny-an-sat-te",
    "nyutdannede": "ny-ut-dan-ne-de",
    "nyankomne": "ny-an-kom-ne",
    "utadrettet": "ut-ad-ret-tet",
    "utadrettede": "ut-ad-ret-te-de",
    "utarbeidet": "ut-ar-bei-det",
    "utarbeider": "ut-ar-bei-der",
    "utjevning": "ut-jev-ning",
    "uenigheter": "uenig-he-ter",
    "midlertidige": "mid-ler-ti-di-ge",
    "fireåring": "fire-åring",
    "leveårene": "leve-år-ene",
    "annenhver": "an-nen-hver",
    "budskapet": "bud-ska-pet",
    "forskningen": "forsk-nin-gen",
    "overskridelser": "over-skri-del-ser",
    "forutsetter": "for-ut-set-ter",
    "forutsetning": "for-ut-set-ning",
    "forutsetninger": "for-ut-set-nin-ger",
    "forbedring": "for-bed-ring",
    "forbedringer": "for-bed-rin-ger",
    "understreke": "un-der-stre-ke",
    "understreker": "un-der-stre-ker",
    "program": "pro-gram",
    "programmet": "pro-gram-met",
    "programmer": "pro-gram-mer",
    "samarbeid": "sam-ar-beid",
    "samarbeidet": "sam-ar-bei-det",
    "samarbeide": "sam-ar-bei-de",
    "samarbeider": "sam-ar-bei-der",
    "ansvar": "an-svar",
    "ansvaret": "an-sva-ret",
    "ansvarlig": "an-svar-lig",
    "ansvarlige": "an-svar-li-ge",
    "forebygging": "fore-byg-ging",
    "forebyggingen": "fore-byg-gin-gen",
    "forebyggende": "fore-byg-gen-de",
    "overtakelse": "over-ta-kel-se",
    "foreldre": "for-eldre",
    "koordinator": "ko-or-di-na-tor",
    "koordinering": "ko-or-di-ne-ring",
    "atferd": "at-ferd",
    "evaluering": "eva-lu-e-ring",
    "evalueringen": "eva-lu-e-rin-gen",
    "undersøkelse": "un-der-sø-kel-se",
    "undersøkelser": "un-der-sø-kel-ser",
    "undersøkelsen": "un-der-sø-kel-sen",
    "interkommunalt": "inter-kom-mu-nalt",
    "interkommunale": "inter-kom-mu-na-le",
    "interkommunal": "inter-kom-mu-nal",
    "statsforvalteren": "stats-for-val-te-ren",
    "helsesykepleier": "hel-se-sy-ke-plei-er",
    "helsesykepleiere": "hel-se-sy-ke-plei-e-re",
    "helsesykepleierne": "hel-se-sy-ke-plei-er-ne",
}


LEXICON_SET |= set(EXCEPTIONS)


def _syllable_breaks(part: str) -> list[int]:
    """Break positions inside one simple (non-compound) word part.

    Norwegian rule of thumb: between two vowels one consonant moves to the next
    line (ka-ste -> kas-te, tje-nes-ten); sounds written with two or three
    letters (kj, sj, skj, tj, gj) are not split.
    """
    low = part.lower()
    nuclei = []  # (start, end) of vowel groups
    i = 0
    while i < len(low):
        if low[i] in VOWELS:
            j = i
            while j < len(low) and low[j] in VOWELS:
                j += 1
            nuclei.append((i, j))
            i = j
        else:
            i += 1
    breaks = []
    for (s1, e1), (s2, e2) in zip(nuclei, nuclei[1:]):
        cluster = low[e1:s2]
        if not cluster:
            continue
        pos = s2 - 1  # one consonant goes over
        for dg in DIGRAPHS:
            if cluster.endswith(dg) and len(cluster) >= len(dg):
                pos = s2 - len(dg)
                break
        else:
            if len(cluster) >= 2 and (
                (cluster[-1] == "r" and cluster[-2] in "pbtdgkf")
                or (cluster[-1] == "l" and cluster[-2] in "pb")
            ):
                pos = s2 - 2  # pro-gram, in-te-gre-ring, ek-sem-pler
        if pos >= e1:
            breaks.append(pos)
    return breaks


def _segment(word: str) -> list[str] | None:
    """Split a lower-case word into known compound parts (with linking s/e)."""
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 3, n + 1):
            piece = word[i:j]
            cands = [piece]
            if piece[-1] in LINKS and piece[:-1] in LEXICON_SET:
                cands.append(piece[:-1])
            if any(c in LEXICON_SET for c in cands):
                cand = best[i] + [piece]
                if best[j] is None or len(cand) < len(best[j]):
                    best[j] = cand
    return best[n]


def _hyphen_points(word: str) -> tuple[list[int], list[int]]:
    """(compound boundaries, syllable breaks) for one word."""
    low = word.lower()
    if low in EXCEPTIONS:
        pts, k = [], 0
        for ch in EXCEPTIONS[low]:
            if ch == "-":
                pts.append(k)
            else:
                k += 1
        return [], pts
    for pre in PREFIXES:
        rest = low[len(pre):]
        if low.startswith(pre) and len(rest) >= 5 and (
            pre == "opp" or (rest[0] == "s" and rest[1] not in VOWELS)
        ):
            # be-skri-ver, for-stå-el-se, av-stan-der, opp-læ-ring
            b2, s2 = _hyphen_points(word[len(pre):])
            n = len(pre)
            return [n] + [n + b for b in b2], [n + x for x in s2]
    parts = _segment(low)
    if not parts:
        # known first part + unknown rest (e.g. barnevern+leders)
        parts = [low]
        for k in range(len(low) - 4, 4, -1):
            if low[:k] not in LEXICON_SET:
                continue
            if low[k] in LINKS and len(low) - k >= 4:
                k += 1  # linking s/e belongs to the first part
            rest = _segment(low[k:])
            if rest or len(low) - k >= 6:
                parts = [low[:k]] + (rest if rest else [low[k:]])
                break
    bounds, sylls, off = [], [], 0
    for idx, p in enumerate(parts):
        if p in EXCEPTIONS:
            inner = _hyphen_points(p)[1]
        elif p[-1] in LINKS and p[:-1] in EXCEPTIONS:
            inner = _hyphen_points(p[:-1])[1]
        else:
            # no one-letter syllable at the start of a part, and no dangling
            # two-letter syllable before the next part (helse-stasjon, not
            # hel-sestasjon; kompetanse-arbeid, not kompetan-searbeid)
            last = idx == len(parts) - 1
            inner = [b for b in _syllable_breaks(p)
                     if b >= 2 and len(p) - b >= (2 if last else 3)]
        sylls.extend(off + b for b in inner)
        off += len(p)
        if idx < len(parts) - 1:
            bounds.append(off)
    ok = lambda x: 2 <= x <= len(word) - 3  # noqa: E731
    bounds = sorted({b for b in bounds if ok(b)})
    sylls = sorted({b for b in sylls if ok(b) and b not in bounds})
    return bounds, sylls


def norwegian_hyphen_points(word: str) -> list[int]:
    """All permitted break positions in ``word`` (ascending)."""
    bounds, sylls = _hyphen_points(word)
    return sorted(bounds + sylls)


class NorwegianHyphenator:
    """Callable for ``ParagraphStyle.hyphenationLang``.

    reportlab calls it with a word and expects an iterable of (head, tail)
    pairs (the same protocol as pyphen's ``iterate``) and takes the first pair
    whose head fits on the line.  We offer compound boundaries first
    (foreldre-representanter), then ordinary syllable breaks, each longest
    head first.
    """

    def __call__(self, word: str):
        bounds, sylls = _hyphen_points(word)
        for p in reversed(bounds):
            yield word[:p], word[p:]
        for p in reversed(sylls):
            yield word[:p], word[p:]


HYPHENATOR = NorwegianHyphenator()

# ---------------------------------------------------------------------------
# Source parsing
# ---------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # h1 h2 h3 para bullets numbers table box directive
    text: str = ""
    items: list = field(default_factory=list)
    arg: str = ""


def read_source(path: Path) -> tuple[dict, str]:
    raw = path.read_text(encoding="utf-8")
    if not raw.startswith("---\n"):
        raise SystemExit(f"{path}: missing front matter")
    end = raw.index("\n---\n", 4)
    meta = {}
    for line in raw[4:end].splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    return meta, raw[end + 5 :]


TABLE_SEP = re.compile(r"^\|\s*:?-{2,}")


def parse_blocks(body: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []
    lines = body.splitlines()

    def flush():
        if para:
            blocks.append(Block("para", " ".join(s.strip() for s in para)))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("%%"):
            i += 1
            continue
        if not s:
            flush()
            i += 1
            continue
        if s.startswith("@"):
            flush()
            name, _, arg = s[1:].partition(" ")
            blocks.append(Block("directive", name, arg=arg.strip()))
            i += 1
            continue
        m = re.match(r"^(#{1,3})\s+(.*)$", s)
        if m:
            flush()
            blocks.append(Block(f"h{len(m.group(1))}", m.group(2)))
            i += 1
            continue
        if s.startswith("- ") or re.match(r"^\d+\.\s", s):
            flush()
            kind = "bullets" if s.startswith("- ") else "numbers"
            items: list[str] = []
            while i < len(lines):
                ln = lines[i]
                st = ln.strip()
                if kind == "bullets" and st.startswith("- "):
                    items.append(st[2:])
                elif kind == "numbers" and re.match(r"^\d+\.\s", st):
                    items.append(re.sub(r"^\d+\.\s+", "", st))
                elif st and ln.startswith("  ") and items:
                    items[-1] += " " + st
                else:
                    break
                i += 1
            blocks.append(Block(kind, items=items))
            continue
        if s.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                st = lines[i].strip()
                if not TABLE_SEP.match(st):
                    rows.append([c.strip() for c in st.strip("|").split("|")])
                i += 1
            blocks.append(Block("table", items=rows))
            continue
        if s.startswith(">"):
            flush()
            paras: list[list[str]] = [[]]
            while i < len(lines) and lines[i].strip().startswith(">"):
                t = lines[i].strip()[1:].strip()
                if t:
                    paras[-1].append(t)
                elif paras[-1]:
                    paras.append([])
                i += 1
            blocks.append(Block("box", items=[" ".join(p) for p in paras if p]))
            continue
        para.append(line)
        i += 1
    flush()
    return blocks


def inline(text: str) -> str:
    """Markup -> reportlab paragraph XML."""
    t = escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", t)
    return t


# ---------------------------------------------------------------------------
# PDF rendering (reportlab platypus)
# ---------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
MARGIN_X = 2.2 * cm
MARGIN_TOP = 2.6 * cm
MARGIN_BOTTOM = 2.4 * cm
GUTTER = 0.8 * cm

FONTS = {
    "Helvetica": ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique"),
    "Times": ("Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic"),
}


def make_styles(meta: dict) -> dict[str, ParagraphStyle]:
    regular, bold, italic, _ = FONTS[meta.get("font", "Helvetica")]
    size = float(meta.get("font_size", "10.5"))
    justify = meta.get("justify", "yes") != "no"
    hyph = meta.get("hyphenate", "yes") != "no"
    body = ParagraphStyle(
        "body",
        fontName=regular,
        fontSize=size,
        leading=round(size * 1.38, 1),
        alignment=TA_JUSTIFY if justify else TA_LEFT,
        spaceAfter=size * 0.6,
        hyphenationLang=HYPHENATOR if hyph else "",
        embeddedHyphenation=1 if hyph else 0,
        hyphenationMinWordLength=11,
        uriWasteReduce=0,
    )
    accent = colors.HexColor(meta.get("accent", "#1f4e79"))
    return {
        "body": body,
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=bold, fontSize=size + 5, leading=size + 8,
            alignment=TA_LEFT, spaceBefore=size * 1.2, spaceAfter=size * 0.6,
            textColor=accent, hyphenationLang="", keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=bold, fontSize=size + 2, leading=size + 5,
            alignment=TA_LEFT, spaceBefore=size * 0.9, spaceAfter=size * 0.4,
            textColor=accent, hyphenationLang="", keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3", parent=body, fontName=bold, fontSize=size + 0.5, leading=size + 3,
            alignment=TA_LEFT, spaceBefore=size * 0.6, spaceAfter=size * 0.25,
            hyphenationLang="", keepWithNext=1,
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=bold, fontSize=22, leading=27,
            alignment=TA_LEFT, spaceAfter=10, textColor=accent, hyphenationLang="",
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontName=regular, fontSize=14, leading=18,
            alignment=TA_LEFT, spaceAfter=8, hyphenationLang="",
        ),
        "meta": ParagraphStyle(
            "meta", parent=body, fontName=italic, fontSize=size - 0.5,
            leading=size + 3, alignment=TA_LEFT, textColor=colors.HexColor("#444444"),
            spaceAfter=3, hyphenationLang="",
        ),
        "item": ParagraphStyle("item", parent=body, spaceAfter=size * 0.25),
        "cell": ParagraphStyle(
            "cell", parent=body, fontSize=size - 1, leading=(size - 1) * 1.25,
            alignment=TA_LEFT, spaceAfter=0, hyphenationMinWordLength=9,
        ),
        "cellhead": ParagraphStyle(
            "cellhead", parent=body, fontName=bold, fontSize=size - 1,
            leading=(size - 1) * 1.25, alignment=TA_LEFT, spaceAfter=0,
            textColor=colors.white, hyphenationLang="",
        ),
        "box": ParagraphStyle(
            "box", parent=body, fontSize=size - 0.5, leading=(size - 0.5) * 1.35,
            alignment=TA_LEFT, spaceAfter=4, hyphenationLang="",
        ),
    }


class DemoDoc(BaseDocTemplate):
    def __init__(self, target, meta: dict, total_pages: int | None, **kw):
        super().__init__(
            target,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=meta.get("title", ""),
            author=meta.get("author", meta.get("municipality", "")),
            subject=meta.get("subject", "Fiktivt demodokument (qualcode)"),
            creator="qualcode corpus/render_demo.py",
            producer="qualcode demo corpus",
            invariant=1,
            **kw,
        )
        self.meta = meta
        self.total_pages = total_pages
        regular, bold, italic, _ = FONTS[meta.get("font", "Helvetica")]
        self._fonts = (regular, bold, italic)
        w = PAGE_W - 2 * MARGIN_X
        h = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM
        one = Frame(MARGIN_X, MARGIN_BOTTOM, w, h, id="body", leftPadding=0,
                    rightPadding=0, topPadding=0, bottomPadding=0)
        cw = (w - GUTTER) / 2
        left = Frame(MARGIN_X, MARGIN_BOTTOM, cw, h, id="left", leftPadding=0,
                     rightPadding=0, topPadding=0, bottomPadding=0)
        right = Frame(MARGIN_X + cw + GUTTER, MARGIN_BOTTOM, cw, h, id="right",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        first = meta.get("layout", "one-column")
        templates = {
            "one-column": PageTemplate(id="one-column", frames=[one], onPage=self.decorate),
            "two-column": PageTemplate(id="two-column", frames=[left, right], onPage=self.decorate),
        }
        order = [first] + [k for k in templates if k != first]
        self.addPageTemplates([templates[k] for k in order])

    def decorate(self, canv, doc):
        regular, bold, italic = self._fonts
        m = self.meta
        canv.saveState()
        top = PAGE_H - MARGIN_TOP + 0.9 * cm
        canv.setFont(regular, 8.5)
        canv.setFillColor(colors.HexColor("#333333"))
        if m.get("header"):
            canv.drawString(MARGIN_X, top, m["header"])
        if m.get("header_right"):
            canv.drawRightString(PAGE_W - MARGIN_X, top, m["header_right"])
        canv.setStrokeColor(colors.HexColor("#999999"))
        canv.setLineWidth(0.5)
        canv.line(MARGIN_X, top - 4, PAGE_W - MARGIN_X, top - 4)
        bottom = MARGIN_BOTTOM - 1.2 * cm
        text = m.get("footer", "{page}").format(
            page=doc.page, pages=self.total_pages or "?"
        )
        align = m.get("footer_align", "center")
        canv.setFont(regular, 8.5)
        if align == "right":
            canv.drawRightString(PAGE_W - MARGIN_X, bottom, text)
        elif align == "left":
            canv.drawString(MARGIN_X, bottom, text)
        else:
            canv.drawCentredString(PAGE_W / 2, bottom, text)
        if m.get("footer_left") and align != "left":
            canv.setFont(italic, 7.5)
            canv.drawString(MARGIN_X, bottom, m["footer_left"])
        canv.restoreState()


def build_story(blocks: list[Block], st: dict, meta: dict, avail_w: float) -> list:
    story: list = []
    colwidths = None
    layout = meta.get("layout", "one-column")
    col_w = (avail_w - GUTTER) / 2
    size = st["body"].fontSize
    for b in blocks:
        width = avail_w if layout == "one-column" else col_w
        if b.kind == "directive":
            name, arg = b.text, b.arg
            if name == "layout":
                layout = arg
                story += [NextPageTemplate(arg), PageBreak()]
            elif name == "pagebreak":
                story.append(PageBreak())
            elif name == "columnbreak":
                story.append(FrameBreak())
            elif name in ("title", "subtitle", "meta"):
                story.append(Paragraph(inline(arg), st[name]))
            elif name == "spacer":
                story.append(Spacer(1, float(arg)))
            elif name == "colwidths":
                colwidths = [float(x) for x in arg.split(",")]
            elif name == "condbreak":
                story.append(CondPageBreak(float(arg)))
            else:
                raise SystemExit(f"unknown directive @{name}")
        elif b.kind in ("h1", "h2", "h3"):
            story.append(Paragraph(inline(b.text), st[b.kind]))
        elif b.kind == "para":
            story.append(Paragraph(inline(b.text), st["body"]))
        elif b.kind in ("bullets", "numbers"):
            items = [ListItem(Paragraph(inline(t), st["item"]), leftIndent=14)
                     for t in b.items]
            if b.kind == "bullets":
                lf = ListFlowable(items, bulletType="bullet", start=meta.get("bullet", "\u2013"),
                                  leftIndent=14, bulletFontName=st["body"].fontName,
                                  bulletFontSize=size, bulletOffsetY=0)
            else:
                lf = ListFlowable(items, bulletType="1", leftIndent=16,
                                  bulletFontName=st["body"].fontName, bulletFontSize=size)
            story += [lf, Spacer(1, size * 0.4)]
        elif b.kind == "table":
            rows = b.items
            ncol = max(len(r) for r in rows)
            rel = colwidths or [1] * ncol
            colwidths = None
            tot = sum(rel)
            cws = [width * r / tot for r in rel]
            data = []
            for ri, r in enumerate(rows):
                r = r + [""] * (ncol - len(r))
                sty = st["cellhead"] if ri == 0 else st["cell"]
                data.append([Paragraph(inline(c), sty) for c in r])
            t = Table(data, colWidths=cws, repeatRows=1, hAlign="LEFT")
            accent = st["h1"].textColor
            t.setStyle(TableStyle([
                ("BACKGROUND", (0, 0), (-1, 0), accent),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8a8a8a")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1),
                 [colors.white, colors.HexColor("#eef2f7")]),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]))
            story += [t, Spacer(1, size * 0.9)]
        elif b.kind == "box":
            inner = [[Paragraph(inline(p), st["box"])] for p in b.items]
            t = Table(inner, colWidths=[width], hAlign="LEFT")
            t.setStyle(TableStyle([
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#e8eef4")),
                ("LINEBEFORE", (0, 0), (0, -1), 2.5, st["h1"].textColor),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 5),
            ]))
            story += [KeepTogether(t), Spacer(1, size * 0.8)]
        else:  # pragma: no cover
            raise SystemExit(f"unknown block {b.kind}")
    return story


def render_pdf(meta: dict, body: str, out: Path) -> int:
    blocks = parse_blocks(body)
    avail_w = PAGE_W - 2 * MARGIN_X

    def build(total):
        buf = io.BytesIO()
        doc = DemoDoc(buf, meta, total)
        st = make_styles(meta)
        doc.build(build_story(blocks, st, meta, avail_w))
        return buf.getvalue(), doc.page

    _, pages = build(None)  # first pass: count pages for "Side N av M"
    data, pages2 = build(pages)
    assert pages == pages2
    out.write_bytes(data)
    return pages


# ---------------------------------------------------------------------------
# DOCX rendering (python-docx)
# ---------------------------------------------------------------------------

RUN_RE = re.compile(r"(\*\*.+?\*\*|(?<![\w*])\*(?!\s).+?(?<!\s)\*(?![\w*]))")


def _add_runs(par, text: str):
    for piece in RUN_RE.split(text):
        if not piece:
            continue
        if piece.startswith("**") and piece.endswith("**"):
            par.add_run(piece[2:-2]).bold = True
        elif piece.startswith("*") and piece.endswith("*") and len(piece) > 2:
            par.add_run(piece[1:-1]).italic = True
        else:
            par.add_run(piece)


def render_docx(meta: dict, body: str, out: Path) -> int:
    import datetime

    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(float(meta.get("font_size", "10.5")))
    for sec in doc.sections:
        sec.left_margin = sec.right_margin = Cm(2.2)
        sec.top_margin = sec.bottom_margin = Cm(2.2)
    cp = doc.core_properties
    fixed = datetime.datetime(2025, 1, 1, 12, 0, 0)
    cp.title = meta.get("title", "")
    cp.author = meta.get("author", "")
    cp.last_modified_by = meta.get("author", "")
    cp.subject = "Fiktivt demodokument (qualcode)"
    cp.created = fixed
    cp.modified = fixed
    cp.revision = 1
    cp.comments = ""
    section = doc.sections[0]
    if meta.get("header"):
        section.header.paragraphs[0].text = meta["header"]
    for b in parse_blocks(body):
        if b.kind in ("h1", "h2", "h3"):
            doc.add_heading(b.text, level=int(b.kind[1]))
        elif b.kind == "para":
            p = doc.add_paragraph()
            _add_runs(p, b.text)
        elif b.kind in ("bullets", "numbers"):
            style = "List Bullet" if b.kind == "bullets" else "List Number"
            for t in b.items:
                _add_runs(doc.add_paragraph(style=style), t)
        elif b.kind == "table":
            rows = b.items
            t = doc.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            t.style = "Table Grid"
            for ri, r in enumerate(rows):
                for ci, c in enumerate(r):
                    cell = t.cell(ri, ci)
                    cell.text = ""
                    _add_runs(cell.paragraphs[0], f"**{c}**" if ri == 0 else c)
        elif b.kind == "box":
            for t in b.items:
                p = doc.add_paragraph(style="Intense Quote")
                _add_runs(p, t)
        elif b.kind == "directive":
            if b.text in ("title", "subtitle"):
                doc.add_paragraph(b.arg, style="Title" if b.text == "title" else "Subtitle")
            elif b.text == "meta":
                p = doc.add_paragraph()
                _add_runs(p, f"*{b.arg}*")
            elif b.text == "pagebreak":
                doc.add_page_break()
    buf = io.BytesIO()
    doc.save(buf)
    out.write_bytes(_normalise_zip(buf.getvalue()))
    return 0


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx) with fixed timestamps and order -> deterministic bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        first = [n for n in names if n == "[Content_Types].xml"]
        for name in first + sorted(n for n in names if n not in first):
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return buf.getvalue()


# ---------------------------------------------------------------------------


def render(path: Path, out_dir: Path = OUT) -> tuple[str, str, int]:
    meta, body = read_source(path)
    fmt = meta.get("format", "pdf")
    out = out_dir / meta["output"]
    if fmt == "pdf":
        pages = render_pdf(meta, body, out)
    elif fmt == "docx":
        pages = render_docx(meta, body, out)
    elif fmt == "txt":
        out.write_text(body.lstrip("\n"), encoding="utf-8")
        pages = 0
    else:
        raise SystemExit(f"{path}: unknown format {fmt}")
    return out.name, fmt, pages


MANIFEST_FIELDS = ["file", "municipality", "year", "type", "informant_role", "size_class"]


def write_manifest(sources: list[Path], out_dir: Path = OUT) -> Path:
    """manifest.csv from the front matter of *all* sources (sorted by file name)."""
    import csv

    rows = []
    for path in sources:
        meta, _ = read_source(path)
        rows.append({
            "file": meta["output"],
            "municipality": meta["municipality"],
            "year": meta["year"],
            "type": meta["type"],
            "informant_role": meta.get("informant_role", ""),
            "size_class": meta.get("size_class", ""),
        })
    rows.sort(key=lambda r: r["file"])
    out = out_dir / "manifest.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out


def main(argv: list[str]) -> int:
    """Render all sources (or those whose names contain an argument); `--out DIR` writes elsewhere."""
    out_dir = OUT
    if "--out" in argv:
        i = argv.index("--out")
        out_dir = Path(argv[i + 1])
        out_dir.mkdir(parents=True, exist_ok=True)
        argv = argv[:i] + argv[i + 2:]
    all_sources = sorted(SRC.glob("*.md"))
    sources = all_sources
    if argv:
        sources = [s for s in sources if any(a in s.name for a in argv)]
    for s in sources:
        name, fmt, pages = render(s, out_dir)
        extra = f"{pages} pages" if pages else ""
        print(f"{s.name:40s} -> {name:45s} {fmt:5s} {extra}")
    print(f"wrote {write_manifest(all_sources, out_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
