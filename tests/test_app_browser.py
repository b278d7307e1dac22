"""Smoke test in a real browser: `qualcode app` serves every page without an exception.

Starts the app as `qualcode app --db <filled store> --port <free port>`, drives
headless Debian Chromium through Playwright (no downloaded browsers), saves a
screenshot per page under test-artifacts/screenshots/ and makes one review
decision end to end.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from qualcode.store import schema, session_factory

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# (link text in the sidebar, page title)
PAGES = [("Oversikt", "Oversikt"), ("Import", "Import"), ("Gjennomgang", "Gjennomgang"), ("Kodebok", "Kodebok"),
         ("Analyse", "Analyse"), ("Reliabilitet", "Reliabilitet"), ("Eksport", "Eksport")]

pytestmark = pytest.mark.browser


def _chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing on CI (apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"`qualcode app` exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the app did not answer on {url} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_app import fill_store

    _chromium()
    folder = tmp_path_factory.mktemp("browser")
    db = fill_store(str(folder / "store.db"), folder / "corpus")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qualcode.cli import main; main()", "app", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={k: v for k, v in os.environ.items() if k != "QUALCODE_DB"})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, db
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        # a persistent context is how Playwright passes --user-data-dir=<profile> to Chromium
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1440, "height": 1000}, locale="nb-NO")
        yield context.pages[0] if context.pages else context.new_page()
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _settle(page, title: str) -> None:
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')",
                           timeout=30_000)
    time.sleep(0.8)  # let late elements (dataframes, fragments) paint


def _assert_clean(page, name: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, f"{name}: Streamlit exception shown"
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"{name}: error shown: {errors.first.inner_text()}"
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error:" not in body, f"{name}: error text on the page"


def test_every_page_loads_in_chromium(server, page):
    url, _db = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(url)
    _settle(page, "Oversikt")
    page.locator('[data-testid="stSidebar"] input[type="text"]').first.fill("Kari")
    page.keyboard.press("Enter")
    time.sleep(0.5)
    for link, title in PAGES:
        page.locator('[data-testid="stSidebarNav"] a', has_text=link).first.click()
        _settle(page, title)
        _assert_clean(page, title)
        page.screenshot(path=str(SHOTS / f"{link.lower()}.png"), full_page=True)


def test_a_review_decision_reaches_the_store(server, page):
    url, db = server
    page.locator('[data-testid="stSidebarNav"] a', has_text="Gjennomgang").first.click()
    _settle(page, "Gjennomgang")
    assert page.locator('[data-testid="stSidebar"] input[type="text"]').first.input_value() == "Kari"
    page.get_by_role("button", name="Ferdig – neste ▶").click()
    deadline = time.monotonic() + 20
    reviews = []
    while time.monotonic() < deadline and not reviews:
        with session_factory(db)() as s:
            reviews = s.scalars(select(schema.SegmentReview).where(schema.SegmentReview.reviewer == "Kari")).all()
        time.sleep(0.3)
    assert len(reviews) == 1
    _settle(page, "Gjennomgang")
    _assert_clean(page, "Gjennomgang etter «Ferdig»")
    page.screenshot(path=str(SHOTS / "gjennomgang-etter-ferdig.png"), full_page=True)


def _wait_for_name(page, name: str) -> None:
    page.wait_for_function("n => (document.querySelector('[data-testid=stSidebar] input[type=text]') || {}).value"
                           " === n", arg=name, timeout=30_000)


def _shown_segment(page) -> int:
    marker = page.locator("[class*='st-key-segment_']").first.get_attribute("class")
    return int(marker.split("st-key-segment_")[1].split()[0])


def _wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting for the store")


def test_review_page_fits_1440x900_and_works_from_the_keyboard(server, page):
    url, db = server
    page.set_viewport_size({"width": 1440, "height": 900})
    page.reload()  # the name is in the address (?reviewer=Kari): a reload keeps it
    _settle(page, page.locator("h1").first.inner_text() or "Gjennomgang")
    assert "reviewer=Kari" in page.url
    _wait_for_name(page, "Kari")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Gjennomgang").first.click()
    _settle(page, "Gjennomgang")
    page.locator("[class*='st-key-sug_']").first.wait_for(timeout=30_000)
    # a rerun interrupted by the reload can leave the old page beside the new one for a moment
    page.wait_for_function("() => document.querySelectorAll('.st-key-nav_done').length === 1", timeout=30_000)
    page.locator(".st-key-nav_done button:visible").first.wait_for(timeout=30_000)
    time.sleep(0.5)
    _assert_clean(page, "Gjennomgang 1440×900")
    page.screenshot(path=str(SHOTS / "gjennomgang-1440x900.png"))  # the screen, not the whole page
    # the whole segment, every suggestion and the main action are on the one screen
    for what, locator in (("segment", page.locator("[data-testid='stHtml']", has_text="Segment –").first),
                          ("«Ferdig – neste»", page.locator(".st-key-nav_done button:visible").first),
                          ("last suggestion", page.locator("[class*='st-key-sug_']").last)):
        box = locator.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 900, f"{what} is off the 1440×900 screen: {box}"
    legend = page.locator(".qc-keys").inner_text()
    assert "godta" in legend and "ferdig – neste" in legend
    # G accepts the focused (first) suggestion, Enter finishes the segment and brings the next one, at the top
    seg = _shown_segment(page)
    page.locator("h1").first.click()  # focus on the page, not in a text field
    page.keyboard.press("g")

    def decided() -> bool:
        with session_factory(db)() as s:
            return s.scalar(select(schema.Coding.id).where(schema.Coding.segment_id == seg,
                                                           schema.Coding.source == "reviewer")) is not None
    _wait_for(decided)
    _settle(page, "Gjennomgang")
    page.keyboard.press("Enter")

    def done() -> bool:
        with session_factory(db)() as s:
            return s.scalar(select(schema.SegmentReview.id).where(schema.SegmentReview.segment_id == seg)) is not None
    _wait_for(done)
    page.wait_for_function(f"() => !document.querySelector('.st-key-segment_{seg}')", timeout=30_000)
    _settle(page, "Gjennomgang")
    scrolled = page.evaluate("() => { const m = document.querySelector('[data-testid=stMain]'); "
                             "return m ? m.scrollTop : window.scrollY; }")
    assert scrolled == 0 and _shown_segment(page) != seg
    page.screenshot(path=str(SHOTS / "gjennomgang-1440x900-etter-tastatur.png"))


def test_norwegian_labels_and_addressable_pages(server, page):
    url, _db = server
    page.goto(f"{url}/oversikt?reviewer=Kari")  # opened directly, not through the start page
    _settle(page, "Oversikt")
    assert "Fant ikke siden" not in page.locator("body").inner_text()
    assert "Page not found" not in page.locator("body").inner_text()
    page.goto(f"{url}/import?reviewer=Kari")
    _settle(page, "Import")
    uploader = page.locator('[data-testid="stFileUploader"]').inner_text()
    assert "Maks 200 MB per fil" in uploader and "per file" not in uploader and "Upload" not in uploader
    page.screenshot(path=str(SHOTS / "import-norsk.png"))
    page.goto(f"{url}/analyse?reviewer=Kari&visning=Kode+%C3%97+dokument")  # a view has its own address too
    _settle(page, "Analyse")
    _assert_clean(page, "Analyse, Kode × dokument")
    _wait_for_name(page, "Kari")  # the name came with the address
    # the view the address names is the one shown (its table, or that the selection has no codings yet)
    page.get_by_text(re.compile(r"Segmenter per kode og dokument \(alle|Ingen kodinger i utvalget")).first.wait_for(
        timeout=60_000)
    _settle(page, "Analyse")
    assert "visning=Kode" in page.url
    page.screenshot(path=str(SHOTS / "analyse-kode-dokument.png"), full_page=True)


def test_the_html_report_downloads_with_its_charts(server, page):
    """The export page makes the report like the command does (charts drawn in a spawned process,
    from inside the Streamlit server), and the file has its charts inline."""
    url, _db = server
    page.goto(f"{url}/eksport?reviewer=Kari")
    _settle(page, "Eksport")
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="HTML-rapport").click()
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Tematisk analyse" in html and html.count("<svg") >= 1
    assert "http://" not in html and "https://" not in html
