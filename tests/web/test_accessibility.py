"""WCAG 2.1 AA in a real browser: axe-core on every page of the flow, at a laptop's width, a
phone's (390 px) and the narrowest a page must work at (320 px, WCAG's reflow), and nothing wider
than the window at any of them.

axe-core is the engine Lighthouse uses; ``axe-playwright-python`` bundles it and injects it into
the page. A serious or critical finding fails the test (so does any finding of the rules behind
the issue's findings), with the rule, what it says and where.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.web.server import WebHandle, running_web
from importer.web.settings import WebSettings
from tests.helpers import CLINIC_MAPPING, SAMPLES, env_for
from tests.web.browsing import API_KEY, needs_chromium, shoot

pytestmark = needs_chromium

WIDTHS = (1280, 390, 320)  # a laptop, a phone, WCAG 1.4.10's reflow width
BLOCKING = ("serious", "critical")
# The rules behind the findings of issue 14 fail the test whatever impact axe gives them.
ALWAYS_BLOCKING = ("landmark-unique", "color-contrast", "scope-attr-valid", "meta-viewport")
PAGE_WIDTH = "() => document.documentElement.scrollWidth"
STYLE = Path(__file__).resolve().parents[2] / "importer" / "web" / "static" / "style.css"


@pytest.fixture
def slow_web(sandbox: Any, tmp_path: Path) -> Iterator[WebHandle]:
    """The page with the clinic's mapping, and a sandbox slow enough to see the progress page."""
    sandbox.configure(api_key=API_KEY, latency_seconds=1.0)
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "clinic.yaml").write_bytes(CLINIC_MAPPING.read_bytes())
    settings = WebSettings(
        mappings_dir=mappings,
        ledger_path=tmp_path / "state.sqlite",
        runs_dir=tmp_path / "runs",
        batch_size=5,  # 3 requests of a second or more each: the progress page stays a while
        requests_per_minute=60.0,
        environ=env_for(sandbox, api_key=API_KEY),
    )
    with running_web(settings) as handle:
        yield handle


def blocking_findings(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING or v["id"] in ALWAYS_BLOCKING
    ]


def check_page(page: Any, name: str, *, widths: tuple[int, ...] = WIDTHS) -> None:
    """At each width: no horizontal scrolling of the page, no serious or critical axe finding."""
    findings: dict[str, list[str]] = {}
    too_wide: dict[int, int] = {}
    for width in widths:
        page.set_viewport_size({"width": width, "height": 800})
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => done(null)))")
        scroll_width = int(page.evaluate(PAGE_WIDTH))
        if scroll_width > width:
            too_wide[width] = scroll_width
            shoot(page, f"a11y-{name}-{width}")
        found = blocking_findings(page)
        if found:
            findings[f"{width} px"] = found
    page.set_viewport_size({"width": 1280, "height": 800})
    assert too_wide == {}, f"{name}: page wider than the window (window: page) {too_wide}"
    assert findings == {}, f"{name}: {findings}"


def test_every_page_of_the_flow_passes_axe_at_every_width(
    slow_web: WebHandle, browser_page: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.goto(slow_web.url + "/")
    expect(page.get_by_role("heading", name="Import appointments into Apptoto")).to_be_visible()
    check_page(page, "upload")

    # The columns step.
    page.get_by_label("Mapping").select_option("match-columns")
    page.get_by_label("Spreadsheet").set_input_files(str(SAMPLES / "appointments.csv"))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    # A group's title heads the rows below it, not columns.
    assert page.locator("#matching-table tr.group th").first.get_attribute("scope") == "rowgroup"
    check_page(page, "columns")

    # The review of a workbook with invalid rows (their table scrolls in a region of its own).
    page.goto(slow_web.url + "/")
    page.get_by_label("Mapping").select_option("clinic.yaml")
    page.get_by_label("Spreadsheet").set_input_files(str(SAMPLES / "appointments.xlsx"))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible()
    expect(page.locator(".count-zero").first).to_be_visible()  # the faded zero is checked too
    check_page(page, "review")

    # The progress page, while the slow sandbox answers (one width: it is short-lived).
    page.get_by_role("button", name="Send 14 events to Apptoto").click()
    expect(page.get_by_role("heading", name="Sending appointments.xlsx")).to_be_visible()
    assert page.locator("#progress-text[aria-live]").count() == 0  # counts are not read out
    check_page(page, "progress", widths=(320,))

    # The result, which says its final count aloud once, and the past runs on the first page.
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=30_000)
    announcement = page.get_by_role("status").filter(has_text="Import finished")
    expect(announcement).to_have_text(re.compile(r"^Import finished: 14 created, 8 .+\.$"))
    check_page(page, "result")
    page.goto(slow_web.url + "/")
    expect(page.get_by_role("link", name="Open the run of appointments.xlsx")).to_have_count(1)
    check_page(page, "past-runs")


def test_the_progress_is_said_once_per_step_not_at_every_count(
    slow_web: WebHandle, browser_page: Any
) -> None:
    """A screen reader hears "Sending to Apptoto…" once, not "5 of 14 sent" every 400 ms."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(slow_web.url + "/")
    page.get_by_label("Mapping").select_option("clinic.yaml")
    page.get_by_label("Spreadsheet").set_input_files(str(SAMPLES / "appointments.xlsx"))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Send 14 events to Apptoto").click()
    expect(page.get_by_role("heading", name="Sending appointments.xlsx")).to_be_visible()
    # Record every change of the page's live regions until the page reloads with the result.
    page.evaluate(
        """() => {
          window.heard = [];
          const live = document.querySelectorAll('[aria-live], [role=status], [role=alert]');
          const observer = new MutationObserver(() => live.forEach(
            el => window.heard.push(el.id + ': ' + el.textContent.trim())));
          live.forEach(el => observer.observe(el, {childList: true, characterData: true,
                                                   subtree: true}));
        }"""
    )
    page.wait_for_function("() => document.getElementById('bar').value >= 10", timeout=20_000)
    heard = page.evaluate("() => window.heard")
    assert [text for text in heard if "sent" in text] == []  # no count read out
    assert len(set(heard)) <= 2, heard  # "Sending to Apptoto…" (and a wait), once each


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two ``#rrggbb`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_focus_ring_stands_out_from_every_background_it_is_drawn_on() -> None:
    """WCAG 1.4.11: 3:1 against the white cards, the paper and the table headers."""
    css = STYLE.read_text(encoding="utf-8")
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    focus = variables["focus"]
    for background in (variables["card"], variables["paper"], "#f0f1ed", "#ffffff"):
        assert contrast(focus, background) >= 3.0, (focus, background)
    assert round(contrast("#f0b429", "#ffffff"), 2) == 1.86  # the old ring, as axe measured it


def test_no_scroll_box_borrows_the_name_of_its_section() -> None:
    """Two regions named alike (a section and its table's scroll box) confuse landmark lists:
    every scroll box has a name of its own (axe's landmark-unique, also on pages the flow above
    does not reach)."""
    templates = STYLE.parents[1] / "templates"
    borrowed = [
        f"{path.name}: {tag}"
        for path in sorted(templates.glob("*.html"))
        for tag in re.findall(r"<div[^>]*role=\"region\"[^>]*>", path.read_text(encoding="utf-8"))
        if "aria-labelledby" in tag or "aria-label=" not in tag
    ]
    assert borrowed == []
