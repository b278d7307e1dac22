"""How numbers and segments are written for people, in one place for the app, reports, exports and the CLI.

Numbers the Norwegian way: decimal comma, a space between thousands, a real minus
sign and "–" for nothing (never "None", "nan" or "<NA>"). A segment is named by its
document and its place in it, «Fjordvik 2024 plan, §12» (the 12th segment in reading
order), never by a database id, so every screen and file calls it the same.
"""
from __future__ import annotations

import math

MISSING = "–"
NBSP = "\u00a0"  # "12 345" and "46,7 %" never break across lines


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value, digits: int = 2) -> str:
    """0.714 → "0,71"; "–" when missing."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}".replace(",", NBSP).replace(".", ",").replace("-", "−")


def integer(value) -> str:
    """12345 → "12 345"; "–" when missing."""
    if _missing(value):
        return MISSING
    return f"{int(round(float(value))):,}".replace(",", NBSP).replace("-", "−")


def percent(share, digits: int = 1) -> str:
    """A share 0–1 as "46,7 %"; "–" when missing."""
    if _missing(share):
        return MISSING
    return f"{number(100 * float(share), digits)}{NBSP}%"


def share_of(count, total, digits: int = 1) -> str:
    """"46,7 % (7 av 15)": a percentage always with the counts it rests on; "– (0 av 0)" with no base."""
    base = f"({integer(count)} av {integer(total)})"
    if _missing(total) or not total:
        return f"{MISSING} {base}"
    return f"{percent(float(count) / float(total), digits)} {base}"


def names(items) -> str:
    """"Kari, Ola og Per"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]


def short_place(municipality, file_name: str = "") -> str:
    """"Fjordvik kommune" → "Fjordvik"; a document without a municipality is named by its file."""
    name = str(municipality).strip() if municipality is not None and not _is_na(municipality) else ""
    for suffix in (" kommune", " Kommune", " fylkeskommune"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or str(file_name or "?")


def segment_ref(municipality, year, doc_type, seq, file_name: str = "") -> str:
    """«Fjordvik 2024 plan, §12»: document (place, year, type) and the segment's number in reading order."""
    parts = [short_place(municipality, file_name)]
    if not _is_na(year) and str(year).strip():
        parts.append(str(int(year)))
    if isinstance(doc_type, str) and doc_type and doc_type != "ukjent":
        parts.append(doc_type)
    return f"{' '.join(parts)}, §{int(seq) + 1}"


def _is_na(value) -> bool:
    """None, NaN, pandas' NA or NaT (without importing pandas)."""
    if value is None or str(value) in ("<NA>", "nan", "NaT"):
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False
