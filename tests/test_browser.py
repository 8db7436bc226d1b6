"""The rendered reports as a reader sees them: headless Chromium via Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evaluation.report.texts import TEXTS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "output" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("doc", ["quarterly", "technical"])
def test_report_in_browser(browser, rendered_reports, lang, doc):
    path = rendered_reports["paths"][(lang, doc)]
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert problems == []

    images = page.locator("img")
    if doc == "quarterly":  # one lay figure per outcome family whose numbers may be shown
        shown = page.locator("li.finding:not([data-kind='not_yet'])").count()
        assert images.count() == shown >= 2
    else:
        assert images.count() >= 7
    for i in range(images.count()):
        img = images.nth(i)
        assert img.evaluate("el => el.complete && el.naturalWidth > 0"), f"image {i} not loaded"
    assert images.first.is_visible()

    tables = page.locator("table.report-table")
    assert tables.count() >= (1 if doc == "quarterly" else 8)
    assert tables.first.is_visible()
    assert page.locator("td.count").count() >= 10

    body = page.inner_text("body")
    title = TEXTS[lang]["title_" + doc].format(quarter="2026Q3")
    assert page.locator("h1", has_text=title).is_visible()
    if doc == "quarterly":
        findings = page.locator("li.finding")
        assert findings.count() == 3
        assert findings.first.is_visible()
        assert TEXTS[lang]["h_box"] in body
        expected = "For hver 100 unge" if lang == "da" else "For every 100 young people"
        assert expected in body
    else:
        assert page.locator("nav.report-toc a").count() >= 8
        assert TEXTS[lang]["h_manifest"] in body

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{doc}_{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    page.close()


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("doc", ["quarterly", "technical"])
def test_report_at_phone_width(browser, rendered_reports, lang, doc):
    """At 390 px the page does not scroll sideways (wide tables scroll in their own box) and
    every figure takes the width of the text, so its lettering stays readable."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(rendered_reports["paths"][(lang, doc)].as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = page.locator("img").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    text_width = page.locator("p").first.evaluate("el => el.getBoundingClientRect().width")
    assert widths and min(widths) >= 0.95 * text_width >= 330, (widths, text_width)
    page.screenshot(path=str(SCREENSHOTS / f"{doc}_{lang}_390.png"), full_page=True)
    page.close()
