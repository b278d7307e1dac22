"""Rows that keep what extraction learned beyond the text: tables with their cells, OCR'd pages."""
from __future__ import annotations

from qualcode.documents import ExtractedDocument
from qualcode.store import schema


def extraction_rows(document_id: int, doc: ExtractedDocument) -> list[schema.Base]:
    """``document_tables`` and ``ocr_pages`` rows for one stored document (add them in its transaction)."""
    tables = [b for b in doc.blocks if b.kind == "table" and b.rows]
    rows: list[schema.Base] = [
        schema.DocumentTable(document_id=document_id, seq=seq, start=b.start, end=b.end, page_start=b.page_start,
                             page_end=b.page_end, header_rows=b.header_rows, rows=[list(r) for r in b.rows])
        for seq, b in enumerate(tables)
    ]
    rows += [schema.OcrPage(document_id=document_id, page=p.page, confidence=p.confidence, words=p.words,
                            engine=p.engine) for p in doc.ocr_pages]
    return rows
