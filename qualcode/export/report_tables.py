"""The analysis tables as an Excel workbook (one sheet per table) or a folder of CSV files.

Numbers stay numbers (researchers pivot and chart them further); headers are the
Norwegian ones the report uses. CSV is UTF-8 with a BOM so Excel opens æøå right.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.tables import Table, report_tables

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, used: set[str]) -> str:
    """An Excel-safe, unique sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("-", title)[:31].strip() or "Ark"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" {n}"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def write_xlsx(data: AnalysisData, path, tables: list[Table] | None = None):
    """Write to a path (or a binary file object, e.g. BytesIO for a download)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    tables = tables if tables is not None else report_tables(data)
    path = Path(path) if isinstance(path, (str, Path)) else path
    used: set[str] = set()
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table in tables:
            frame = _excel_safe(table.display())
            name = sheet_name(table.sheet or table.title, used)
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for i, column in enumerate(frame.columns, start=1):
                longest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
                sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest + 2))
    return path


def write_csv_folder(data: AnalysisData, folder: Path, tables: list[Table] | None = None) -> list[Path]:
    tables = tables if tables is not None else report_tables(data)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        target = folder / f"{table.key}.csv"
        table.display().to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\n")
        written.append(target)
    return written


def csv_zip_bytes(data: AnalysisData, tables: list[Table] | None = None) -> bytes:
    """The CSV folder as a zip in memory (for download buttons)."""
    import io
    import zipfile

    tables = tables if tables is not None else report_tables(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            text = table.display().to_csv(index=False, lineterminator="\n")
            archive.writestr(f"{table.key}.csv", "\ufeff" + text)
    return buffer.getvalue()


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers and pandas NA as plain values openpyxl can write."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.api.extensions.ExtensionDtype) and out[column].dtype.kind in "iuf":
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out
