"""What extraction keeps in the store beyond the text: tables with their cells, OCR'd pages.

A plan with a table of measures on a text page and a scanned second page is ingested for
real; the review side then finds the table around a row segment and the OCR mark of a
segment on the scanned page, and the app's extraction panel shows both (AppTest).
"""
from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fixtures.pdfs import make_pdf, scan_pdf, wrap
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from qualcode.extract import ocr as tesseract
from qualcode.ingest import ingest
from qualcode.pipeline import finish_run, start_run
from qualcode.review.segment_view import ocr_mark, table_around
from qualcode.store import schema, session_factory

MEASURES = [["Tiltak", "Målgruppe", "Ansvar"],
            ["Foreldreveiledning (ICDP)", "Alle foreldre med barn 0-6", "Helsestasjon"],
            ["PMTO", "Familier med barn 3-12", "Barnevernet"]]
SCANNED = ("Kommunen skal evaluere tiltakene hvert år i oppvekstteamet, og planen rulleres hvert fjerde år "
           "etter vedtak i kommunestyret.")

needs_tesseract = pytest.mark.skipif(tesseract.unavailable() is not None, reason="Tesseract with Norwegian data "
                                     "is not installed (apt-get install tesseract-ocr tesseract-ocr-nor)")


def plan_with_scanned_page(folder: Path) -> Path:
    """Page 1: text with a table of measures; page 2: a scanned page (image only)."""
    text = make_pdf(folder / "tekst.pdf", [[("para", ["Tiltakene i planen er:"]), ("table", MEASURES),
                                           ("para", ["Tabellen viser ansvaret."])]])
    scanned = scan_pdf(make_pdf(folder / "side2.pdf", [[("para", wrap(SCANNED, 470))]]), folder / "skann.pdf")
    merged = pdfium.PdfDocument.new()
    for part in (text, scanned):
        source = pdfium.PdfDocument(str(part))
        merged.import_pages(source)
        source.close()
    out = folder / "plan" / "testvik-plan.pdf"
    out.parent.mkdir()
    merged.save(str(out))
    merged.close()
    return out.parent


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("store")
    db = str(folder / "store.db")
    factory = session_factory(db)
    run = start_run(factory, "test", code=False)
    results = ingest(factory, [plan_with_scanned_page(folder)], run)
    finish_run(factory, run, {"ingested": len(results)})
    assert [r.status for r in results] == ["ingested"], results
    return db


@needs_tesseract
def test_tables_and_ocr_pages_are_stored(store):
    with session_factory(store)() as s:
        table = s.scalars(select(schema.DocumentTable)).one()
        assert (table.rows, table.header_rows, table.page_start) == (MEASURES, 1, 1)
        doc = s.scalars(select(schema.Document)).one()
        assert doc.text[table.start:table.end] == "\n".join(" | ".join(r) for r in MEASURES)
        page = s.scalars(select(schema.OcrPage)).one()
        assert page.page == 2 and page.confidence > 50 and page.words > 10
        kinds = [(seg.kind, seg.codable) for seg in s.scalars(select(schema.Segment).order_by(schema.Segment.seq))]
        assert ("table_header", False) in kinds and kinds.count(("table_row", True)) == 2


@needs_tesseract
def test_review_finds_the_table_around_a_row_and_the_ocr_mark(store):
    with session_factory(store)() as s:
        segs = {seg.kind: seg for seg in s.scalars(select(schema.Segment).order_by(schema.Segment.seq.desc()))}
        around = table_around(s, segs["table_row"].id)  # the first row (segments read last to first)
        assert around.headers == MEASURES[0] and around.rows == MEASURES[1:] and around.row == 0
        assert around.labelled == ("Tiltak: Foreldreveiledning (ICDP) | Målgruppe: Alle foreldre med barn 0-6 | "
                                   "Ansvar: Helsestasjon")
        assert table_around(s, segs["table_header"].id).row is None
        scanned = next(seg for seg in s.scalars(select(schema.Segment)) if seg.page_start == 2)
        mark = ocr_mark(s, scanned.id)
        assert mark.pages == [2] and mark.confidence > 50 and mark.engine.startswith("tesseract")
        assert ocr_mark(s, segs["table_row"].id) is None
        assert table_around(s, scanned.id) is None


def _panel(db: str, segment_id: int) -> None:
    from qualcode.app.extraction_context import show_extraction_context
    from qualcode.store import session_factory

    class Ctx:
        factory = session_factory(db)

    show_extraction_context(Ctx(), segment_id)


@needs_tesseract
def test_app_panel_shows_the_table_with_the_row_and_the_ocr_note(store):
    with session_factory(store)() as s:
        row = s.scalars(select(schema.Segment).where(schema.Segment.kind == "table_row")).first()
        scanned = next(seg for seg in s.scalars(select(schema.Segment)) if seg.page_start == 2)
    at = AppTest.from_function(_panel, args=(store, row.id), default_timeout=30).run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame.columns) == MEASURES[0] and frame.values.tolist() == MEASURES[1:]
    assert "Hele tabellen" in at.expander[0].label
    at = AppTest.from_function(_panel, args=(store, scanned.id), default_timeout=30).run()
    assert not at.exception
    notes = [c.value for c in at.caption] + [w.value for w in at.warning]
    assert any("lest med OCR" in n and "s. 2" in n for n in notes)


def _overview(db: str) -> None:
    from qualcode.app.extraction_context import show_ocr_documents
    from qualcode.store import session_factory

    class Ctx:
        factory = session_factory(db)

    show_ocr_documents(Ctx())


@needs_tesseract
def test_overview_lists_scanned_documents_with_confidence(store):
    at = AppTest.from_function(_overview, args=(store,), default_timeout=30).run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert frame["fil"].tolist() == ["testvik-plan.pdf"] and frame["sider med OCR"].tolist() == [1]
    assert 50 <= frame["sikkerhet (snitt) %"].iloc[0] <= 100
