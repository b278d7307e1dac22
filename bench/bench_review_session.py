"""A scripted review session in the real app: 20 segments of the demo corpus in headless Chromium.

For each segment the "reviewer" rejects the first suggestion (when there is one) and presses
«Ferdig – neste»; the script waits until the decision is in the store. It measures the app's
share of a reviewer's time (render + write), not reading time.

    .venv/bin/python bench/bench_review_session.py [--segments 20] [--keys]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reviews(db: str) -> int:
    from qualcode.store import schema, session_factory

    with session_factory(db)() as s:
        return s.scalar(select(func.count()).select_from(schema.SegmentReview))


def _settle(page) -> None:
    """Wait until Streamlit has finished rerunning (idle twice, a moment apart)."""
    for _ in range(2):
        page.wait_for_function(IDLE, timeout=30_000)
        time.sleep(0.15)


def _done_button(page):
    """The one «Ferdig – neste» button (a rerun can briefly show the old one beside the new one)."""
    button = page.get_by_role("button", name="Ferdig – neste ▶")
    deadline = time.perf_counter() + 30
    while button.count() != 1 and time.perf_counter() < deadline:
        time.sleep(0.05)
    return button


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--keys", action="store_true",
                        help="use the keyboard shortcuts (A rejects the focused suggestion, Enter = «Ferdig – neste»)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    qualcode = str(Path(sys.executable).with_name("qualcode"))
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.db")
        subprocess.run([qualcode, "demo", "--db", db], check=True, capture_output=True)
        port = _port()
        server = subprocess.Popen([qualcode, "app", "--db", db, "--port", str(port)], start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(url)
                page.locator('[data-testid="stSidebar"] input[type="text"]').first.fill("Bench")
                page.keyboard.press("Enter")
                page.locator('[data-testid="stSidebarNav"] a', has_text="Gjennomgang").first.click()
                _done_button(page).wait_for(timeout=60_000)
                if args.keys:
                    page.locator("h1").first.click()  # the page, not a text field, has the keyboard
                times, retries = [], 0
                session_start = time.perf_counter()
                for n in range(1, args.segments + 1):
                    started = time.perf_counter()
                    reject = page.get_by_role("button", name="Avvis")
                    if reject.count():
                        before = page.locator("body").inner_text()
                        page.keyboard.press("a") if args.keys else reject.first.click()
                        page.wait_for_function("b => document.body.innerText !== b", arg=before, timeout=30_000)
                        _settle(page)
                    shown = page.locator('[data-testid="stMain"]').inner_text()
                    page.keyboard.press("Enter") if args.keys else _done_button(page).click()
                    clicked = time.perf_counter()
                    while _reviews(db) < n:
                        time.sleep(0.05)
                        if time.perf_counter() - clicked > 5:  # the click landed mid-rerun: press again
                            retries += 1
                            _settle(page)
                            _done_button(page).click()
                            clicked = time.perf_counter()
                    # the next segment is on screen and Streamlit has finished its rerun
                    page.wait_for_function(
                        "t => document.querySelector('[data-testid=\"stMain\"]').innerText !== t", arg=shown,
                        timeout=30_000)
                    _settle(page)
                    times.append(time.perf_counter() - started)
                total = time.perf_counter() - session_start
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    print(f"{args.segments} segments reviewed in {total:.1f} s of app time: median {statistics.median(times):.2f} s, "
          f"slowest {max(times):.2f} s per segment (reject one suggestion + «Ferdig – neste»"
          f"{', from the keyboard' if args.keys else ''}); "
          f"{retries} click(s) had to be repeated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
