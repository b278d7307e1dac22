"""Unicode clean-up and line joining, so every engine yields the same kind of text.

The frozen document text is what codings point into, so it must be normalised exactly
once, here: NFKC (ligatures, full-width forms, non-breaking spaces), soft hyphens and
pdfium's soft-hyphen markers, line endings, odd bullet glyphs and whitespace.  Joining
the lines of a paragraph also repairs line-end hyphenation, deciding join-vs-keep from
evidence (what follows the hyphen, and which spellings the document itself uses).
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from typing import Iterable

BULLET = "•"
# Glyphs PDFs and word processors use for list bullets; all become BULLET at line start.
BULLET_GLYPHS = "•●▪■◦○◾◼▸►‣⁃∙·⦁\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8\u2023\u25cf\u25aa\u25a0\u25e6\u2219"
_CID = re.compile(r"\(cid:(\d+)\)")
_MARKS = re.compile("[\x02\ufffe\u00ad]")
_LEADING_BULLET = re.compile(rf"^\s*(?:[{re.escape(BULLET_GLYPHS)}]|\(cid:\d+\))\s*")
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

SOFT_HYPHEN = "\u00ad"           # a real soft hyphen: always a hyphenation point
PDFIUM_HYPHEN_MARKS = "\x02\ufffe"  # pdfium's mark for a hyphen it thinks ends a line
HYPHENS = "-\u2010\u2011"

# Words that follow a suspended-compound hyphen: "barne- og ungdomstjenester".
_CONJUNCTIONS = {"og", "eller", "samt", "til", "enn", "and", "or", "nor", "to", "and/or", "og/eller"}
_WORD = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*")
# A capitalised word after a lower-case word or comma: a name, not a sentence start.
_NAME = re.compile(r"(?<=[a-zæøåäöüé0-9,;] )([A-ZÆØÅÄÖÜ][^\W\d_]*)(?![-\u2010\u2011\w])")


def normalize_text(text: str) -> str:
    """Normalise a whole text (DOCX paragraph, plain-text file): lines kept, spaces tidied."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(normalize_line(line) for line in text.split("\n"))


def normalize_line(line: str) -> str:
    """Normalise one line of text; a leading bullet glyph becomes ``"• "``.

    Soft-hyphen markers at the very end are kept (as ``SOFT_HYPHEN`` or ``-``) so that
    :func:`join_lines` can still see the hyphenation point.
    """
    tail = ""
    stripped = line.rstrip()
    if stripped.endswith(SOFT_HYPHEN):
        tail, stripped = SOFT_HYPHEN, stripped[:-1]
    elif stripped and stripped[-1] in PDFIUM_HYPHEN_MARKS:
        tail, stripped = "-", stripped[:-1]
    bullet = bool(_LEADING_BULLET.match(stripped))
    if bullet:
        stripped = _LEADING_BULLET.sub("", stripped, count=1)
    if _MARKS.search(stripped):
        stripped = _MARKS.sub("", stripped)
    if "(cid:" in stripped:
        stripped = _CID.sub("", stripped)
    stripped = _INVISIBLE.sub("", unicodedata.normalize("NFKC", stripped))
    stripped = _SPACES.sub(" ", stripped).strip()
    if bullet:
        stripped = f"{BULLET} {stripped}" if stripped else BULLET
    return stripped + tail


class Lexicon:
    """Spellings seen in one document: evidence for keeping or dropping a line-end hyphen."""

    def __init__(self, lines: Iterable[str] = ()):
        self.words: Counter[str] = Counter()
        self.names: set[str] = set()  # capitalised words seen mid-sentence: "Nav", "Bufdir"
        self._sorted: list[str] | None = None
        for line in lines:
            self.add(line)

    def add(self, line: str) -> None:
        self._sorted = None
        words = _WORD.findall(line)
        if words and line.rstrip()[-1:] in HYPHENS + SOFT_HYPHEN and line.rstrip()[:-1].endswith(words[-1]):
            words.pop()  # the fragment before a line-end hyphen is not evidence
        self.words.update(w.lower() for w in words)
        self.names.update(_NAME.findall(line))

    def has(self, word: str) -> bool:
        return self.words.get(word.lower(), 0) > 0

    def has_prefix(self, prefix: str) -> bool:
        """Is some word of the document spelled starting with ``prefix``?"""
        if self._sorted is None:
            self._sorted = sorted(self.words)
        prefix = prefix.lower()
        i = bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)


def join_hyphenated(left: str, right: str, lexicon: Lexicon | None = None) -> str | None:
    """Join two lines whose first ends in a hyphen; None when ``left`` has no line-end hyphen.

    Keeps real hyphens — "barne- og", "Sør-Trøndelag", "§ 4-12", "NAV-kontor", and any
    hyphenated spelling the document uses elsewhere — and drops hyphenation otherwise.
    """
    if left.endswith(SOFT_HYPHEN):
        return left[:-1] + right
    if not left or left[-1] not in HYPHENS or len(left) < 2 or not left[-2].isalnum():
        return None
    stem = left[:-1]
    token = stem.rsplit(None, 1)[-1] if stem.strip() else ""
    if "://" in token or token.startswith("www.") or "/" in token or "@" in token:
        return left + right.lstrip()  # URLs, paths and e-mail addresses keep their hyphens
    prefix_match = re.search(r"[^\W_]+$", stem)
    prefix = prefix_match.group() if prefix_match else ""
    right = right.lstrip()
    suffix_match = re.match(r"[^\W_]+", right)
    suffix = suffix_match.group() if suffix_match else ""
    if not suffix:  # "-\n," or "-\n/": the hyphen belongs to the text before
        return left + right
    if suffix.lower() in _CONJUNCTIONS and (len(right) == len(suffix) or not right[len(suffix)].isalnum()):
        return left + " " + right
    keep = left + right
    join = stem + right
    if suffix[0].isupper() or suffix[0].isdigit() or prefix[-1:].isdigit():
        return keep
    if len(prefix) >= 2 and prefix.isupper():
        return keep  # acronym compounds: "NAV-kontoret", "PPT-tjenesten"
    if lexicon is not None:
        hyphenated, joined = f"{prefix}-{suffix}", f"{prefix}{suffix}"
        if lexicon.has(hyphenated) and not lexicon.has(joined):
            return keep
        if lexicon.has(joined) or lexicon.has_prefix(prefix + suffix[:4]):
            return join
        if lexicon.has_prefix(f"{prefix}-{suffix[:4]}"):
            return keep
        if prefix in lexicon.names:
            return keep  # a name used on its own elsewhere: "Nav-loven", "Bufdir-rapporten"
    return join


_URL_TAIL = re.compile(r"(?:https?://|www\.)\S*$")
_URL_HEAD = re.compile(r"^[a-z0-9][\w\-.~%]*[./?=&#][\w\-./?=&#%~:)\]]*")


def joins_url(left: str, right: str) -> bool:
    """A URL broken at the line end: "…https://www.l" + "arvik-kommune.no/…" (no space)."""
    if re.search(r"(?:^|\W)(?:https?|ftp)$", left) and re.match(r"s?://", right.lstrip()):
        return True  # broken inside the scheme: "http" + "s://www…"
    tail = _URL_TAIL.search(left)
    if not tail or tail.group()[-1:] in ".,;:)]":
        return False
    return bool(_URL_HEAD.match(right.lstrip()))


def join_lines(lines: Iterable[str], lexicon: Lexicon | None = None, starts: list[int] | None = None) -> str:
    """Join the (normalised) lines of one paragraph into one string, repairing hyphenation.

    When ``starts`` is given, the offset in the result where each input line begins is
    appended to it (a hyphen-joined line begins right after the joined stem).
    """
    out = ""
    for line in lines:
        line = line.strip()
        if starts is not None:
            starts.append(len(out) + (1 if out and line else 0))
        if not line:
            continue
        if not out:
            out = line
            continue
        joined = join_hyphenated(out, line, lexicon)
        if joined is None:
            joined = out + line if joins_url(out, line) else f"{out} {line}"
        out = joined
    if out.endswith(SOFT_HYPHEN):
        out = out[:-1]
    return out
