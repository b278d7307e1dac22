"""Smoke test in a real browser: `qualcode app` serves every page without an exception.

Starts the app as `qualcode app --db <filled store> --port <free port>`, drives
headless Debian Chromium through Playwright (no downloaded browsers), saves a
screenshot per page under test-artifacts/screenshots/ and makes one review
decision end to end.
"""
from __future__ import annotations

import os
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
