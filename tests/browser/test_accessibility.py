"""axe-core (npm, pinned in package.json) finds no violation on either page, in
the light and dark themes, on a laptop and on a phone, with their content shown:
an answer, the history with an item's corrections open, and one execution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.browsing import DESKTOP, PHONE, Browsing
from tests.browser.recognizer import chosen

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.x A and AA, and axe's best practices.
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _violations(page: Page) -> list[dict[str, Any]]:
    assert AXE.is_file(), f"{AXE} is missing: run `npm ci`"
    page.add_script_tag(path=AXE)
    result = page.evaluate("tags => axe.run(document, { runOnly: { type: 'tag', values: tags } })", RULE_TAGS)
    return [
        {"rule": each["id"], "impact": each["impact"], "where": [node["target"] for node in each["nodes"]][:5]}
        for each in result["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_neither_page_has_an_accessibility_violation(
    browsing: Browsing, mnist_seven: Path, scheme: Literal["light", "dark"], viewport: ViewportSize
) -> None:
    # The page's Content-Security-Policy refuses injected scripts; axe is one.
    page = browsing.open(viewport=viewport, color_scheme=scheme, bypass_csp=True)
    item = chosen(page, mnist_seven)
    page.get_by_test_id("history-item").first.get_by_test_id("feedback-pick").click()
    found = _violations(page)
    assert found == [], json.dumps(found, indent=1)

    page.goto(f"/console.html#{item['id']}")
    expect(page.locator("#detail-heading")).to_have_text(item["id"])
    page.locator("#detail-io summary").first.click()
    found = _violations(page)
    assert found == [], json.dumps(found, indent=1)
