"""The analysis tables as an Excel workbook (one sheet per table) or a folder of CSV files.

Numbers stay numbers (researchers pivot and chart them further); headers are the
Norwegian ones the report uses. CSV is UTF-8 with a BOM so Excel opens æøå right.
Text that a spreadsheet would run as a formula is neutralised (``qualcode.export.cells``),
and files are written whole or not at all (``qualcode.files``).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.tables import Table, report_tables
from qualcode.export.cells import neutralise_sheet, safe_frame
from qualcode.files import atomic_write, write_text_atomic

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
    """Write to a path (whole or not at all) or to a binary file object (e.g. BytesIO for a download)."""
    tables = tables if tables is not None else report_tables(data)
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
        with atomic_write(path, "wb") as handle:
            _write_workbook(handle, tables)
        return path
    _write_workbook(path, tables)
    return path


def _write_workbook(target, tables: list[Table]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    used: set[str] = set()
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for table in tables:
            frame = _excel_safe(table.display())
            name = sheet_name(table.sheet or table.title, used)
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            neutralise_sheet(sheet)
            sheet.freeze_panes = "A2"
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for i, column in enumerate(frame.columns, start=1):
                longest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
                sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest + 2))


def csv_text(table: Table) -> str:
    """One table as CSV text with a BOM, formula-like cells neutralised. Rows end in \\r\\n (RFC 4180), so a
    field holding a lone \\r is quoted too and cannot start a new row in Excel."""
    return "\ufeff" + safe_frame(table.display()).to_csv(index=False, lineterminator="\r\n")


def write_csv_folder(data: AnalysisData, folder: Path, tables: list[Table] | None = None) -> list[Path]:
    """One CSV file per table. The files are written in a hidden folder beside ``folder`` first, so
    an interrupted write leaves the previous files (or no folder), never a cut file."""
    tables = tables if tables is not None else report_tables(data)
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        names = []
        for table in tables:
            write_text_atomic(staging / f"{table.key}.csv", csv_text(table))
            names.append(f"{table.key}.csv")
        if not folder.exists():
            os.replace(staging, folder)
        else:
            for name in names:
                os.replace(staging / name, folder / name)
            staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [folder / name for name in names]


def csv_zip_bytes(data: AnalysisData, tables: list[Table] | None = None) -> bytes:
    """The CSV folder as a zip in memory (for download buttons)."""
    import io
    import zipfile

    tables = tables if tables is not None else report_tables(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            archive.writestr(f"{table.key}.csv", csv_text(table))
    return buffer.getvalue()


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers and pandas NA as plain values openpyxl can write."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.api.extensions.ExtensionDtype) and out[column].dtype.kind in "iuf":
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out
