"""Scanned plans: OCR with Tesseract when a page has no text layer.

The scanned plan is made here: a text PDF generated with reportlab, rendered page by page
to greyscale JPEGs with pypdfium2 and wrapped as an image-only PDF.  Its words must come
back with >= 95 % accuracy through the same header/footer, paragraph and segment steps.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher

import pytest
from fixtures.pdfs import make_pdf, scan_pdf, wrap

from qualcode.extract import ExtractionError, extract_file
from qualcode.extract import ocr as tesseract
from qualcode.segment import segment_document

PLAN = [
    ("Barnevernet og helsestasjonen skal samarbeide tett om foreldreveiledning for familier med små barn. "
     "Kommunen tilbyr kurs i ICDP til alle foreldre, og helsesykepleier følger opp familier som trenger mer."),
    ("Skolen har ansvar for å oppdage mobbing og omsorgssvikt tidlig. Lærerne skal vite hvordan de melder "
     "bekymring, og rektor sørger for at alle ansatte får opplæring hvert år."),
    ("Tiltakene evalueres årlig i oppvekstteamet. Planen rulleres hvert fjerde år og vedtas av kommunestyret, "
     "som også får en kort rapport om hvordan det forebyggende arbeidet går."),
]

needs_tesseract = pytest.mark.skipif(tesseract.unavailable() is not None, reason="Tesseract with Norwegian data "
                                     "is not installed (apt-get install tesseract-ocr tesseract-ocr-nor)")


def words(text: str) -> list[str]:
    return re.findall(r"[0-9a-zæøåé]+", text.lower())


@pytest.fixture(scope="module")
def scanned_plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    pages = [[("heading", "Plan for forebygging"), ("para", wrap(PLAN[0], 470)), ("para", wrap(PLAN[1], 470))],
             [("heading", "Oppfølging"), ("para", wrap(PLAN[2], 470))]]
    source = make_pdf(folder / "plan.pdf", pages, header="Testvik kommune – forebyggende plan")
    return scan_pdf(source, folder / "skannet.pdf")


@needs_tesseract
def test_scanned_plan_is_read_with_ocr_through_the_same_steps(scanned_plan):
    seen = []
    doc = extract_file(scanned_plan, progress=lambda done, total, ocr: seen.append((done, total, ocr)))
    assert seen == [(0, 2, True), (1, 2, True), (1, 2, True), (2, 2, True)]  # before and after each page
    expected = words(" ".join(["Plan for forebygging", PLAN[0], PLAN[1], "Oppfølging", PLAN[2]]))
    accuracy = SequenceMatcher(None, expected, words(doc.text), autojunk=False).ratio()
    assert accuracy >= 0.95, accuracy
    assert "Testvik kommune" not in doc.text and "Side 1" not in doc.text  # running header and footer dropped
    assert [p.page for p in doc.ocr_pages] == [1, 2]
    assert all(50 <= p.confidence <= 100 and p.words > 20 and p.engine.startswith("tesseract") for p in doc.ocr_pages)
    assert doc.engine.endswith("+tesseract")
    segments = segment_document(doc)
    assert [s.page_start for s in segments if s.kind == "paragraph"] == [1, 1, 2]
    for s in segments:
        assert doc.text[s.start:s.end] == s.text


def test_ocr_never_gives_a_one_line_reason(scanned_plan):
    with pytest.raises(ExtractionError) as info:
        extract_file(scanned_plan, ocr="never")
    assert str(info.value) == "no text layer — scanned? OCR is off (--ocr never); use --ocr auto"


def test_without_tesseract_a_scan_gets_the_install_command(scanned_plan, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where tesseract is not installed
    tesseract._unavailable.cache_clear()
    try:
        with pytest.raises(ExtractionError) as info:
            extract_file(scanned_plan)
        message = str(info.value)
        assert "\n" not in message
        assert "apt-get install tesseract-ocr tesseract-ocr-nor" in message
    finally:
        tesseract._unavailable.cache_clear()


@needs_tesseract
def test_text_pages_are_not_ocred_unless_asked(tmp_path):
    pdf = make_pdf(tmp_path / "tekst.pdf", [[("para", wrap(PLAN[0], 470))]])
    assert extract_file(pdf).ocr_pages == []
    forced = extract_file(pdf, ocr="always")
    assert [p.page for p in forced.ocr_pages] == [1]
    assert SequenceMatcher(None, words(PLAN[0]), words(forced.text), autojunk=False).ratio() >= 0.95
