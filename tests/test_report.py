"""Reports: a self-contained HTML file that renders offline, an Excel workbook and a CSV folder.

Runs on SQLite and, when $QUALCODE_TEST_DB is set, on PostgreSQL (see conftest.py).
"""
from __future__ import annotations

from pathlib import Path

import lxml.html
import openpyxl
import pandas as pd
import pytest
from fixtures.store import build_store
from typer.testing import CliRunner

from qualcode.analysis import load
from qualcode.analysis.frequencies import totals
from qualcode.analysis.tables import report_tables
from qualcode.cli.app import app
from qualcode.export.report_html import external_references, render_report
from qualcode.export.report_tables import sheet_name, write_csv_folder, write_xlsx

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def store(new_store) -> str:
    db = new_store()
    build_store(db)
    return db


@pytest.fixture(scope="module")
def html(store) -> str:
    return render_report(load(store), store_name="store.db")


@pytest.fixture(scope="module")
def machine_html(store) -> str:
    return render_report(load(store, include_machine=True))


def test_html_loads_nothing_from_the_network(html, machine_html):
    for page in (html, machine_html):
        doc = lxml.html.fromstring(page)
        assert not doc.xpath("//script[@src] | //link[@href] | //iframe | //object | //embed")
        assert all(not img.get("src", "").startswith(("http:", "https:", "//")) for img in doc.iter("img"))
        assert external_references(page) == []
        assert "http://" not in page and "https://" not in page


def test_guard_finds_external_resources():
    assert external_references('<script src="https://cdn.example/vega.js"></script>')
    assert external_references('<link href="//fonts.example/css" rel="stylesheet">')
    assert external_references("<style>body { background: url(https://x.example/a.png) }</style>")
    assert external_references('<img src="http://x.example/a.png">')
    assert not external_references('<a href="#tema">Tema</a><p>Se https-lenken i planen</p>')


def test_html_has_every_section_charts_and_citations(html):
    doc = lxml.html.fromstring(html)
    ids = {el.get("id") for el in doc.iter("section")}
    assert ids == {"oversikt", "tema", "kommuner", "kode-dokument", "samforekomst", "fullstendighet", "ar", "sitater",
                   "ord"}
    assert doc.get("lang") == "nb"
    assert len(doc.xpath("//svg")) >= 5  # themes, codes, places, co-occurrence, completeness, years
    footers = [f.text_content() for f in doc.xpath("//blockquote/footer")]
    assert any("(Fjordvik kommune, s. 2–3)" in f for f in footers)
    assert any("(Østby kommune, intervju, barnevernleder)" in f for f in footers)
    assert any("(ukjent-plan.txt, s. 1)" in f for f in footers)
    assert "Grunnlag: bekreftede kodinger." in doc.text_content()


def test_html_tables_match_the_analysis(store, html):
    doc = lxml.html.fromstring(html)
    section = doc.get_element_by_id("tema")
    table = section.xpath(".//table")[0]
    header = [th.text_content() for th in table.xpath(".//thead//th")]
    rows = [[td.text_content() for td in tr.xpath("td")] for tr in table.xpath(".//tbody/tr")]
    shown = {r[header.index("tema-ID")]: int(r[header.index("segmenter")]) for r in rows}
    expected = totals(load(store), "theme")
    assert shown == dict(zip(expected["theme"], expected["segments"]))
    share = {r[header.index("tema-ID")]: r[header.index("andel (%)")] for r in rows}
    assert share["plan"] == "57,1"  # Norwegian decimal comma


def test_machine_codings_are_marked_in_the_report(html, machine_html):
    assert "maskin (regel og modell)" in machine_html  # § 15-1 evidence from a machine suggestion
    assert "Grunnlag: bekreftede kodinger og maskinforslag." in machine_html
    assert "maskin (regel" not in html


def test_report_of_an_empty_store_still_renders(db):
    page = render_report(load(db))
    doc = lxml.html.fromstring(page)
    assert "Det finnes ingen kodinger i grunnlaget ennå" in doc.text_content()
    assert external_references(page) == []


def test_xlsx_has_one_sheet_per_table(store, tmp_path):
    data = load(store)
    tables = report_tables(data)
    path = write_xlsx(data, tmp_path / "r.xlsx", tables)
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == len(tables) == len({t.key for t in tables})
    assert all(len(name) <= 31 for name in book.sheetnames)
    sheet = book["Tema"]
    header = [c.value for c in sheet[1]]
    rows = {r[header.index("tema-ID")]: r[header.index("segmenter")] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["plan"] == 8 and rows["barriere"] == 3


def test_sheet_names_are_safe_and_unique():
    used: set[str] = set()
    names = [sheet_name("§ 15-1: hva/planene [omtaler]?", used), sheet_name("x" * 40, used), sheet_name("x" * 40, used)]
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert len(set(names)) == 3


def test_csv_folder_has_one_file_per_table(store, tmp_path):
    data = load(store)
    files = write_csv_folder(data, tmp_path / "csv")
    assert len(files) == len(report_tables(data))
    tema = pd.read_csv(tmp_path / "csv" / "tema.csv", encoding="utf-8-sig")
    assert dict(zip(tema["tema-ID"], tema["segmenter"]))["niva"] == 4
    assert (tmp_path / "csv" / "tema.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads æøå right


def test_cli_report_formats(store, tmp_path):
    runner = CliRunner()
    for args, target in ((["-o", str(tmp_path / "r.html")], tmp_path / "r.html"),
                         (["--format", "xlsx", "-o", str(tmp_path / "r.xlsx")], tmp_path / "r.xlsx"),
                         (["--format", "csv", "-o", str(tmp_path / "csv")], tmp_path / "csv" / "koder.csv"),
                         (["--include-machine", "--kommune", "Fjordvik kommune", "-o", str(tmp_path / "f.html")],
                          tmp_path / "f.html")):
        result = runner.invoke(app, ["report", "--db", store, *args])
        assert result.exit_code == 0, result.output
        assert target.is_file()
    filtered = (tmp_path / "f.html").read_text(encoding="utf-8")
    assert "Nordby kommune" not in filtered and "Utvalg:" in filtered
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "nope.db"), "-o", str(tmp_path / "x.html")])
    assert missing.exit_code != 0 and not (tmp_path / "nope.db").exists()


@pytest.mark.browser
def test_report_renders_offline_in_chromium(html, tmp_path):
    from playwright.sync_api import sync_playwright

    from conftest import ON_CI

    if not CHROMIUM.exists():
        if ON_CI:
            pytest.fail(f"{CHROMIUM} is missing on CI (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")

    page_file = tmp_path / "rapport.html"
    page_file.write_text(html, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(offline=True)
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        assert page.title() == "Tematisk analyse"
        assert page.locator("section#tema svg").count() >= 1
        box = page.locator("section#tema svg").first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50  # the chart has a real size
        page.screenshot(path=str(tmp_path / "rapport.png"), full_page=True)
        browser.close()
    assert requests == [page_file.as_uri()]
    assert (tmp_path / "rapport.png").stat().st_size > 10_000



def test_export_page_offers_every_download(store):
    from streamlit.testing.v1 import AppTest

    script = f"""
from types import SimpleNamespace
from qualcode.store.db import session_factory
from qualcode.app import export_page
export_page.render(SimpleNamespace(db={store!r}, factory=session_factory({store!r})))
"""
    at = AppTest.from_string(script, default_timeout=60).run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["HTML-rapport", "Excel (xlsx)", "CSV (zip)", "Prosjekt (.qdpx)", "Kodebok (.qdc)"]
    assert "22 bekreftede kodinger" in " ".join(m.value for m in at.markdown)


def test_report_format_follows_the_file_name(store, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--db", store, "-o", str(tmp_path / "tabeller.xlsx")])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(tmp_path / "tabeller.xlsx").sheetnames  # a workbook, not HTML in disguise
    result = runner.invoke(app, ["report", "--db", store, "-o", str(tmp_path / "mappe")])
    assert result.exit_code == 0 and (tmp_path / "mappe" / "tema.csv").is_file()  # no suffix: a CSV folder


@pytest.mark.parametrize("args, message", [
    (["--format", "html", "-o", "r.xlsx"], "r.xlsx (that would be xlsx)"),
    (["--format", "xlsx", "-o", "r.html"], "r.html (that would be html)"),
    (["-o", "r.pdf"], "cannot tell the format from '.pdf'"),
    (["-o", "r.csv"], "give a folder"),
])
def test_report_refuses_a_format_that_does_not_match_the_name(store, tmp_path, args, message):
    args = [a if not a.startswith("r.") else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(app, ["report", "--db", store, *args])
    assert result.exit_code != 0 and message in str(result.exception)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_export_format_follows_the_file_name(store, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["export", "--db", store, "-o", str(tmp_path / "kodebok.qdc")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kodebok.qdc").read_bytes().lstrip().startswith(b"<?xml")
    result = runner.invoke(app, ["export", "--db", store, "--format", "qdpx", "-o", str(tmp_path / "p.qdc")])
    assert result.exit_code != 0 and "does not match" in str(result.exception)


def test_a_chart_that_fails_costs_only_that_chart(store, monkeypatch):
    """One chart whose spec raises and one that the drawing process cannot draw: the report still has
    the other charts."""
    from qualcode.analysis import charts
    from qualcode.export import report_html

    def broken(_data):
        raise ValueError("no spec")

    real_json = report_html.spec_json

    def undrawable_cooccurrence(chart):
        spec = real_json(chart)
        return "{not json" if "Samforekomst" in spec else spec

    whole = lxml.html.fromstring(render_report(load(store)))
    monkeypatch.setattr(charts, "code_document_heatmap", broken)
    monkeypatch.setattr(report_html, "spec_json", undrawable_cooccurrence)
    page = lxml.html.fromstring(render_report(load(store)))
    assert 0 < len(page.xpath("//svg")) <= len(whole.xpath("//svg")) - 2
    assert {el.get("id") for el in page.iter("section")} == {el.get("id") for el in whole.iter("section")}


def test_every_chart_of_the_report_is_valid_vega_lite(store):
    """The report writes specs without validating them (speed), so they are validated here."""
    from qualcode.analysis import charts
    from qualcode.search.charts import word_bars
    from qualcode.search.frequencies import word_tables

    for data in (load(store), load(store, include_machine=True)):
        for make in (charts.theme_bars, charts.code_bars, charts.share_heatmap, charts.cooccurrence_heatmap,
                     charts.code_document_heatmap, charts.completeness_chart, charts.years_chart):
            make(data).to_dict()  # raises on a spec the schema rejects
            make(data).to_dict()["config"]["axis"]["labelExpr"]  # labels cut by characters, not measured
        word_bars(word_tables(data)[0].frame, "Ord").to_dict()
    assert charts.code_document_heatmap(load(store), max_documents=1).to_dict()


def test_the_drawing_process_dying_costs_no_chart():
    """When the drawing process is gone, charts are drawn in the report's own process."""
    import os
    import signal

    from qualcode.export.svg import SvgDrawer

    spec = '{"mark": "bar", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a", "type": "quantitative"}}}'
    with SvgDrawer() as drawer:
        assert drawer.submit(spec).result(timeout=60).startswith("<svg")
        for pid in list(drawer._pool._processes):
            os.kill(pid, signal.SIGKILL)
        drawn = [drawer.submit(spec) for _ in range(2)]
        assert all(f.result(timeout=60).startswith("<svg") for f in drawn)


def test_a_closed_drawer_leaves_no_pool_thread_for_the_interpreters_exit():
    """A report that fails early closes its drawer while the process still warms up; the pool's
    thread must end then, not race the interpreter's exit (Python 3.11 printed "Bad file descriptor")."""
    import threading
    from concurrent.futures.process import _ExecutorManagerThread

    from qualcode.export.svg import SvgDrawer

    SvgDrawer().close()
    assert not [t for t in threading.enumerate() if isinstance(t, _ExecutorManagerThread) and t.is_alive()]
