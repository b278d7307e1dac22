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
_HYPHEN_FRAGMENT = re.compile(r"(?<![^\W_]|[-\u2010\u2011])([^\W_]+(?:[-\u2010\u2011][^\W_]+)*)[-\u2010\u2011\u00ad]\s*$", re.M)
_NAME = re.compile(r"(?<=[a-zæøåäöüé0-9,;] )([A-ZÆØÅÄÖÜ][^\W\d_]*)(?![-\u2010\u2011\w])")


def normalize_text(text: str) -> str:
    """Normalise a whole text (DOCX paragraph, plain-text file): lines kept, spaces tidied."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(normalize_lines(text.split("\n")))


# Whole-page normalisation: the same steps as normalize_line, each regex run once over the
# page's lines joined by "\n" (anchors in MULTILINE mode), with private-use sentinels
# carrying a line's end-of-line hyphen and leading bullet through the clean-up.
_S_SOFT, _S_HYPHEN, _S_BULLET = "\ue000", "\ue001", "\ue002"
_SENTINELS = re.compile("[\ue000-\ue002]")
_TAIL_SOFT = re.compile(r"\u00ad[^\S\n]*$", re.M)
_TAIL_MARK = re.compile(r"[\x02\ufffe][^\S\n]*$", re.M)
_LEADING_BULLETS = re.compile(rf"^[^\S\n]*(?:[{re.escape(BULLET_GLYPHS)}]|\(cid:\d+\))[^\S\n]*", re.M)
_EDGE_SPACES = re.compile(r"^[^\S\n]+|[^\S\n]+$", re.M)
_TAIL_SENTINEL = re.compile(" *([\ue000\ue001])$", re.M)
_BULLET_TEXT = re.compile("^\ue002 *(?=[^\n])", re.M)
_BULLET_ALONE = re.compile("^\ue002 *$", re.M)


def normalize_lines(lines: list[str]) -> list[str]:
    """``[normalize_line(l) for l in lines]``, with each regex run once for all the lines."""
    if not lines:
        return []
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    if _SENTINELS.search(text):
        text = _SENTINELS.sub("", text)
    text = _TAIL_SOFT.sub(_S_SOFT, text)
    text = _TAIL_MARK.sub(_S_HYPHEN, text)
    text = _LEADING_BULLETS.sub(_S_BULLET, text)
    text = _MARKS.sub("", text)
    if "(cid:" in text:
        text = _CID.sub("", text)
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    text = _EDGE_SPACES.sub("", _SPACES.sub(" ", text))
    text = _TAIL_SENTINEL.sub(lambda m: SOFT_HYPHEN if m.group(1) == _S_SOFT else "-", text)
    if _S_BULLET in text:
        text = _BULLET_ALONE.sub(BULLET, _BULLET_TEXT.sub(BULLET + " ", text))
    out = text.split("\n")
    if len(out) != len(lines):  # a character NFKC turned into a line break: fall back, line by line
        return [normalize_line(line) for line in lines]
    return out


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
        lines = list(lines)
        if lines:
            self.add("\n".join(lines))

    def add(self, text: str) -> None:
        """Count the words of ``text`` (one line or many, "\n"-separated)."""
        self._sorted = None
        self.words.update(w.lower() for w in _WORD.findall(text))
        # the fragment before a line-end hyphen is not evidence
        self.words.subtract(w.lower() for w in _HYPHEN_FRAGMENT.findall(text))
        self.names.update(_NAME.findall(text))

    def has(self, word: str) -> bool:
        return self.words.get(word.lower(), 0) > 0

    def has_prefix(self, prefix: str) -> bool:
        """Is some word of the document spelled starting with ``prefix``?"""
        if self._sorted is None:
            self._sorted = sorted(w for w, n in self.words.items() if n > 0)
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
    token = stem[-_TAIL_CHARS:].rsplit(None, 1)[-1] if stem.strip() else ""
    if "://" in token or token.startswith("www.") or "/" in token or "@" in token:
        return left + right.lstrip()  # URLs, paths and e-mail addresses keep their hyphens
    prefix_match = _LAST_WORD.search(stem[-_TAIL_CHARS:])
    prefix = prefix_match.group() if prefix_match else ""
    right = right.lstrip()
    suffix_match = _FIRST_WORD.match(right)
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


_TAIL_CHARS = 400  # joining decisions look at most this far back into the text built so far
_LAST_WORD = re.compile(r"[^\W_]+$")
_FIRST_WORD = re.compile(r"[^\W_]+")
_URL_TAIL = re.compile(r"(?:https?://|www\.)\S*$")
_URL_HEAD = re.compile(r"^[a-z0-9][\w\-.~%]*[./?=&#][\w\-./?=&#%~:)\]]*")
_SCHEME_END = re.compile(r"(?:^|\W)(?:https?|ftp)(:/{0,2})?$")
_URL_INNER = re.compile(r"[^\W_][-./?=&#%~_][^\W_]")  # URL punctuation between letters/digits


def joins_url(left: str, right: str, lexicon: Lexicon | None = None) -> bool:
    """A URL broken at the line end: "…https://www.l" + "arvik-kommune.no/…" (no space).

    The next line goes on the URL when it starts with a URL-shaped token (URL punctuation
    inside it), or when the two pieces make a word the document uses ("…-ekstremis" +
    "me)" → "ekstremisme"); a URL that ends in punctuation ends there.
    """
    left = left[-_TAIL_CHARS:]
    head = right.lstrip()
    scheme = _SCHEME_END.search(left)
    if scheme:
        sep = scheme.group(1) or ""
        if not sep:
            return bool(re.match(r"s?://", head))  # broken inside the scheme: "http" + "s://www…"
        return head.startswith("/") if sep != "://" else bool(head[:1].isalnum())
    tail = _URL_TAIL.search(left)
    if not tail or tail.group()[-1:] in ".,;:)]>" or not head:
        return False
    token = head.split(None, 1)[0]
    if _URL_HEAD.match(token) or (not token[0].isupper() and _URL_INNER.search(token)):
        return True
    if lexicon is not None:
        before = _LAST_WORD.search(tail.group())
        after = _FIRST_WORD.match(token)
        if before and after and len(before.group()) >= 2:
            return lexicon.has(before.group() + after.group())
    return False


def join_lines(lines: Iterable[str], lexicon: Lexicon | None = None, starts: list[int] | None = None) -> str:
    """Join the (normalised) lines of one paragraph into one string, repairing hyphenation.

    When ``starts`` is given, the offset in the result where each input line begins is
    appended to it (a hyphen-joined line begins right after the joined stem).  Linear in
    the paragraph's length: only the piece since the last plain space is re-examined.
    """
    done: list[str] = []  # finished pieces, joined by single spaces
    done_len = 0          # len(" ".join(done) + " ") once there is a piece
    last = ""             # the piece the next line may be glued to
    for line in lines:
        line = line.strip()
        if starts is not None:
            length = done_len + len(last)
            starts.append(length + (1 if length and line else 0))
        if not line:
            continue
        if not last:
            last = line
            continue
        joined = join_hyphenated(last, line, lexicon)
        if joined is None and joins_url(last, line, lexicon):
            joined = last + line
        if joined is not None:
            last = joined
        else:
            done.append(last)
            done_len += len(last) + 1
            last = line
    done.append(last)
    out = " ".join(piece for piece in done if piece)
    if out.endswith(SOFT_HYPHEN):
        out = out[:-1]
    return out
