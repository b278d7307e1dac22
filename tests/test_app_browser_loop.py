"""Browser smoke test of the researcher's loop: the codebook editor and Reliabilitet with a disagreement list.

Same set-up as test_app_browser (real `qualcode app`, headless Debian Chromium); the
screenshots land in test-artifacts/screenshots/ (kodebok-*.png, reliabilitet-uenigheter.png).
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from qualcode.review import actions
from qualcode.store import schema, session_factory
from test_app_browser import SHOTS, _assert_clean, _settle, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def _open(page, url, link, title):
    page.goto(url)
    _settle(page, "Oversikt")
    name = page.locator('[data-testid="stSidebar"] input[type="text"]').first
    if name.input_value() != "Kari":
        name.fill("Kari")
        page.keyboard.press("Enter")
        time.sleep(0.5)
    page.locator('[data-testid="stSidebarNav"] a', has_text=link).first.click()
    _settle(page, title)


def test_codebook_editor_in_chromium(server, page):
    url, _db = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    _open(page, url, "Kodebok", "Kodebok")
    page.get_by_role("tab", name="Ny kode").click()
    page.get_by_role("button", name="Legg til kode").wait_for(timeout=30_000)
    _assert_clean(page, "Kodebok – ny kode")
    page.screenshot(path=str(SHOTS / "kodebok-ny-kode.png"), full_page=True)
    page.get_by_role("tab", name="Endre eller slett").click()
    time.sleep(0.5)
    page.get_by_text("Slett", exact=True).click()  # the radio option
    page.get_by_text("Ingenting slettes fra databasen").wait_for(timeout=30_000)
    _settle(page, "Kodebok")
    _assert_clean(page, "Kodebok – slett")
    page.screenshot(path=str(SHOTS / "kodebok-endre.png"), full_page=True)


def test_reliability_with_a_disagreement_in_chromium(server, page):
    url, db = server
    factory = session_factory(db)
    with factory() as s:
        segs = list(s.scalars(select(schema.Segment.id).where(schema.Segment.codable).order_by(schema.Segment.id)
                              .limit(3)))
    for seg, code in zip(segs, ["niva.universell", "plan.mal", "barriere.kapasitet"]):
        with factory() as s:
            v = s.get(schema.Segment, seg).review_version
        v = actions.add(factory, seg, code, "Ola", v)
        v = actions.mark_done(factory, seg, "Ola", v)
        v = actions.reject(factory, seg, code, "Kari", v)
        actions.mark_done(factory, seg, "Kari", v)
    _open(page, url, "Reliabilitet", "Reliabilitet")
    page.get_by_role("heading", name="Uenigheter").wait_for(timeout=30_000)  # below the agreement tables
    _assert_clean(page, "Reliabilitet")
    body = page.locator("body").inner_text()
    assert "Uenigheter" in body and "Ola: gjelder" in body and "Kari: gjelder ikke" in body
    assert "kappa_" not in body and "None" not in body
    page.screenshot(path=str(SHOTS / "reliabilitet-uenigheter.png"), full_page=True)
    page.get_by_role("heading", name="Samsvar per kode").scroll_into_view_if_needed()
    time.sleep(0.5)
    page.screenshot(path=str(SHOTS / "reliabilitet-per-kode.png"))
    page.get_by_role("heading", name="Uenigheter").scroll_into_view_if_needed()
    page.get_by_role("button", name="Gjelder", exact=True).first.click()
    deadline = time.monotonic() + 20
    found = []
    while time.monotonic() < deadline and not found:
        with factory() as s:
            found = s.scalars(select(schema.Adjudication)).all()
        time.sleep(0.3)
    assert len(found) == 1 and found[0].adjudicator == "Kari"
    _settle(page, "Reliabilitet")
    _assert_clean(page, "Reliabilitet etter avgjørelse")
    page.screenshot(path=str(SHOTS / "reliabilitet-etter-avgjorelse.png"), full_page=True)


def test_rename_a_code_and_see_it_in_the_history_in_chromium(server, page):
    url, db = server
    _open(page, url, "Kodebok", "Kodebok")
    page.get_by_role("tab", name="Endre eller slett").click()
    time.sleep(0.5)
    page.get_by_text("Gi nytt navn", exact=True).click()
    name = page.get_by_role("textbox", name="Nytt navn")
    name.wait_for(timeout=30_000)
    _settle(page, "Kodebok")
    name.fill("Universelt forebyggende arbeid")
    name.press("Tab")
    time.sleep(0.5)
    page.get_by_role("button", name="Lagre nytt navn").click()
    deadline, renamed = time.monotonic() + 30, None
    while time.monotonic() < deadline and renamed != "Universelt forebyggende arbeid":
        with session_factory(db)() as s:
            renamed = s.get(schema.Code, "niva.universell").name
        time.sleep(0.3)
    assert renamed == "Universelt forebyggende arbeid"
    page.get_by_text("heter nå «Universelt forebyggende arbeid»").wait_for(timeout=30_000)
    _settle(page, "Kodebok")
    _assert_clean(page, "Kodebok etter nytt navn")
    page.get_by_role("tab", name="Historikk").click()
    time.sleep(1.0)
    page.screenshot(path=str(SHOTS / "kodebok-historikk.png"), full_page=True)


def test_metadata_editor_on_the_overview_in_chromium(server, page):
    url, _db = server
    _open(page, url, "Oversikt", "Oversikt")
    page.get_by_text("Rett dokumentopplysninger").click()
    page.get_by_role("button", name="Lagre opplysninger").wait_for(timeout=30_000)
    _assert_clean(page, "Oversikt – dokumentopplysninger")
    page.get_by_role("button", name="Lagre opplysninger").scroll_into_view_if_needed()
    time.sleep(1.0)
    page.screenshot(path=str(SHOTS / "oversikt-dokumentopplysninger.png"))
