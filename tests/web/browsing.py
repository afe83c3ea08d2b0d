"""What the browser tests share: Debian's Chromium driven by Playwright, the page's screenshots,
and the check that every visible form control has a label. Their fixtures are in conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_KEY = "browser-test-key-5c1f"  # must never reach a page or a download

# A browser test module's marks: `pytestmark = needs_chromium`. `-m "not browser"` leaves them out
# (CI on Windows and macOS, where Debian's Chromium is not to be had).
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium: `make test` installs it"
    ),
]

# Every visible form control must have a label (or be a button with words).
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) &&
                !el.getAttribute('aria-label'))
  .map(el => el.name || el.id)"""


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A page of a fresh headless Chromium, 1280x800, downloads accepted, 15 s per wait."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def shoot(page: Any, name: str) -> Path:
    """A full-page screenshot in tests/screenshots/ (git-ignored), for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
