"""The history of this browser: kept across reloads, paged, and correctable."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.browsing import Browsing
from tests.browser.recognizer import VERTICAL_STROKE, canvas_has_ink, draw, predict


def client_id(page: Page) -> str:
    value = page.evaluate("localStorage.getItem('digits.clientId')")
    assert isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value)
    return value


def test_history_survives_a_reload(page: Page) -> None:
    draw(page, VERTICAL_STROKE)
    item = predict(page)
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    identity = client_id(page)

    page.reload()

    entry = page.get_by_test_id("history-item")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"Read as {item['digit']}")
    assert entry.get_attribute("data-id") == item["id"]
    assert canvas_has_ink(page, "[data-testid=history-item] canvas")
    assert client_id(page) == identity


def test_a_correction_is_saved_and_shown_after_a_reload(page: Page, mnist_seven: Path) -> None:
    page.get_by_test_id("file-input").set_input_files(mnist_seven)
    item = predict(page)
    entry = page.get_by_test_id("history-item").first

    with page.expect_response(f"**/api/predictions/{item['id']}/feedback") as saved:
        entry.get_by_label("It was").select_option("4")
    assert saved.value.status == 200
    expect(entry).to_contain_text("Saved")

    page.reload()
    entry = page.get_by_test_id("history-item").first
    expect(entry).to_contain_text("Corrected to 4")
    expect(entry.get_by_label("It was")).to_have_value("4")
    stored = page.request.get(f"/api/predictions/{item['id']}", params={"clientId": client_id(page)}).json()
    assert stored["feedbackLabel"] == 4


def test_more_history_is_loaded_on_demand_newest_first(page: Page) -> None:
    """Given more predictions than one page (10), the rest come with "Show more"."""
    identity = client_id(page)
    image = page.evaluate(
        """() => { const c = document.createElement('canvas'); c.width = c.height = 64;
                   const x = c.getContext('2d'); x.fillRect(28, 8, 8, 48); return c.toDataURL(); }"""
    )
    made = [
        page.request.post("/api/predictions", data={"image": image, "clientId": identity}).json()["id"]
        for _ in range(12)
    ]
    page.reload()
    entries = page.get_by_test_id("history-item")
    expect(entries).to_have_count(10)
    page.get_by_role("button", name="Show more").click()
    expect(entries).to_have_count(12)
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()
    assert [entries.nth(i).get_attribute("data-id") for i in range(12)] == made[::-1]


def test_each_browser_sees_only_its_own_history(browsing: Browsing) -> None:
    first = browsing.open()
    draw(first, VERTICAL_STROKE)
    predict(first)
    expect(first.get_by_test_id("history-item")).to_have_count(1)

    second = browsing.open()
    expect(second.locator("#history-empty")).to_be_visible()
    expect(second.get_by_test_id("history-item")).to_have_count(0)
