"""Smoke test in a real browser: the Søk page finds words in context, and the result is captured.

Reuses the app server and Chromium page of ``test_app_browser`` (a filled store served by
`qualcode app`); the screenshot lands in test-artifacts/screenshots/sok-kwic.png.
"""
from __future__ import annotations

import time

import pytest

from test_app_browser import SHOTS, _assert_clean, _settle, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def _open_search(page, url: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(url)
    _settle(page, "Oversikt")
    page.locator('[data-testid="stSidebar"] input[type="text"]').first.fill("Kari")
    page.keyboard.press("Enter")
    time.sleep(0.5)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Søk").first.click()
    _settle(page, "Søk")


def test_a_search_shows_keyword_in_context_lines(server, page):  # noqa: F811
    url, _db = server
    _open_search(page, url)
    box = page.locator('input[aria-label="Søk etter"]')
    box.fill("tiltak OR tjeneste")
    page.get_by_role("button", name="Søk", exact=True).click()
    page.get_by_text("treff", exact=False).first.wait_for(timeout=30_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    _settle(page, "Søk")
    _assert_clean(page, "Søk")
    body = page.locator("body").inner_text()
    assert "treff i" in body and "Kod alle" in body
    page.screenshot(path=str(SHOTS / "sok-kwic.png"), full_page=True)


def test_word_frequencies_and_new_codes_render(server, page):  # noqa: F811
    url, _db = server
    _open_search(page, url)
    page.get_by_text("Ordfrekvenser").first.click()
    page.locator('[data-testid*="VegaLite"]').first.wait_for(timeout=60_000)
    _settle(page, "Søk")
    _assert_clean(page, "Ordfrekvenser")
    page.screenshot(path=str(SHOTS / "sok-ordfrekvenser.png"), full_page=True)
    page.get_by_text("Nye koder").first.click()
    _settle(page, "Søk")
    page.get_by_text("alle segmenter som kan kodes").first.click()
    _settle(page, "Søk")
    page.locator('input[aria-label="Antall grupper"]').fill("2")
    page.keyboard.press("Enter")
    _settle(page, "Søk")
    page.get_by_role("button", name="Finn grupper").click()
    page.get_by_text("Gruppe 1", exact=False).first.wait_for(timeout=60_000)
    _settle(page, "Søk")
    _assert_clean(page, "Nye koder")
    page.screenshot(path=str(SHOTS / "sok-nye-koder.png"), full_page=True)
