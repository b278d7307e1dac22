"""Numbers the Norwegian way, one place for every page: decimal comma, space between thousands, "–" for nothing.

``number(0.714)`` → "0,71", ``integer(12345)`` → "12 345", ``percent(0.467)`` → "46,7 %";
a missing or undefined value (None, NaN) is shown as "–", never "None", "nan" or "<NA>".
"""
from __future__ import annotations

import math

MISSING = "–"
THIN = "\u00a0"  # no-break space: "12 345" and "46,7 %" never break across lines


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value, digits: int = 2) -> str:
    """Decimal comma and a real minus sign; "–" when missing."""
    if _missing(value):
        return MISSING
    text = f"{float(value):,.{digits}f}".replace(",", THIN).replace(".", ",")
    return text.replace("-", "−")


def integer(value) -> str:
    """Whole number with a space between thousands; "–" when missing."""
    if _missing(value):
        return MISSING
    return f"{int(round(float(value))):,}".replace(",", THIN).replace("-", "−")


def percent(share, digits: int = 1) -> str:
    """A share (0–1) as "46,7 %"; "–" when missing."""
    if _missing(share):
        return MISSING
    return f"{number(100 * float(share), digits)}{THIN}%"


def names(items) -> str:
    """"Kari, Ola og Per"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " og " + items[-1]


def md_escape(text) -> str:
    """Document or user text shown through st.markdown without being read as Markdown (or :color[…])."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~:$" else ch for ch in str(text))
