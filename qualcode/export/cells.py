"""Spreadsheet cells that cannot run: every CSV and Excel writer passes its values through here.

Document text and manifest values are hostile input. A cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel
and LibreOffice (``=HYPERLINK(…)``, DDE ``=cmd|…``). Following OWASP's CSV-injection
guidance such text is prefixed with a single quote, which spreadsheets show as
text; numbers stay numbers. In ``.xlsx`` files the cell is also written as text
(never a formula) and marked "quote prefix", as Excel does for a typed ``'``.

Use ``safe_value`` for one value, ``safe_frame`` for a table before ``to_csv``, and
``neutralise_sheet`` on an openpyxl worksheet after writing it.
"""
from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# full-width forms that some spreadsheet programs also read as formula starts
_WIDE = ("\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could take ``text`` for a formula (leading spaces do not hide it)."""
    stripped = text.lstrip(" \u00a0\n")
    return stripped.startswith(FORMULA_START + _WIDE) or text.startswith(FORMULA_START)


def safe_value(value):
    """``value`` with formula-like text neutralised; everything that is not text unchanged."""
    if isinstance(value, str) and value and is_formula_like(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot run as formulas."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(safe_value, na_action="ignore")
    out.columns = [safe_value(c) for c in out.columns]
    return out


def neutralise_sheet(sheet) -> int:
    """Make every formula-like cell of an openpyxl worksheet plain text; returns how many it changed."""
    changed = 0
    for row in sheet.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and value and (cell.data_type == "f" or is_formula_like(value)):
                cell.value = value  # re-binding a str whose first char is "=" makes it a formula again…
                cell.data_type = "s"  # …so the type is set after the value
                cell.quotePrefix = True
                changed += 1
    return changed
