"""The history of this browser: kept across reloads, paged, reopened, corrected,
deleted item by item or cleared, all surviving a reload."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, Request, expect

from tests.browser.browsing import Browsing
from tests.browser.recognizer import (
    SEVEN_STROKE,
    VERTICAL_STROKE,
    canvas_has_ink,
    chosen,
    client_id,
    drawn,
    is_feedback,
    shown_digit,
)

# Past the page's undo window for a correction (site/js/feedback.js UNDO_WINDOW_MS).
PAST_UNDO_WINDOW = "00:06"


def _stop_the_clock(page: Page) -> None:
    """From now on the page's timers fire only when the test moves its clock on."""
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)


def _feedback_requests(page: Page) -> list[Request]:
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if is_feedback(request) else None)
    return sent


def _stored_ids(page: Page) -> list[str]:
    answer = page.request.get("/api/predictions", params={"clientId": client_id(page)})
    assert answer.ok
    return [item["id"] for item in answer.json()["items"]]


def test_history_survives_a_reload(page: Page) -> None:
    item = drawn(page, VERTICAL_STROKE)
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    identity = client_id(page)

    page.reload()

    entry = page.get_by_test_id("history-item")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"Read as {item['digit']}")
    assert entry.get_attribute("data-id") == item["id"]
    assert canvas_has_ink(page, "[data-testid=history-item] canvas")
    assert client_id(page) == identity


def test_a_correction_by_keyboard_sends_exactly_one_request(page: Page, mnist_seven: Path) -> None:
    """Moving through the digits with arrow keys sends nothing; choosing one sends one
    request once the undo window has passed, and the correction survives a reload."""
    page.clock.install()
    page.reload()
    sent = _feedback_requests(page)
    item = chosen(page, mnist_seven)
    _stop_the_clock(page)
    panel = page.locator("#result-feedback")

    panel.get_by_test_id("feedback-pick").focus()
    page.keyboard.press("Enter")
    picker = panel.get_by_role("group", name="Which digit was it?")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("button", name="0")).to_be_focused()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(picker.get_by_role("button", name="4")).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel.get_by_test_id("feedback-status")).to_contain_text("Corrected to 4.")
    expect(panel.get_by_test_id("feedback-undo")).to_be_focused()
    assert sent == []

    with page.expect_response(f"**/api/predictions/{item['id']}/feedback") as saved:
        page.clock.fast_forward(PAST_UNDO_WINDOW)
    assert saved.value.status == 200
    expect(panel.get_by_test_id("feedback-status")).to_have_text("Saved.")
    assert len(sent) == 1 and sent[0].post_data_json == {"clientId": client_id(page), "label": 4}

    page.reload()
    entry = page.get_by_test_id("history-item").first
    expect(entry).to_contain_text("Corrected to 4")
    stored = page.request.get(f"/api/predictions/{item['id']}", params={"clientId": client_id(page)}).json()
    assert stored["feedbackLabel"] == 4


def test_a_correction_undone_sends_nothing_and_the_read_digit_is_no_correction(page: Page, mnist_seven: Path) -> None:
    page.clock.install()
    page.reload()
    sent = _feedback_requests(page)
    item = chosen(page, mnist_seven)
    _stop_the_clock(page)
    entry = page.get_by_test_id("history-item").first

    entry.get_by_test_id("feedback-pick").click()
    expect(entry.get_by_role("button", name="7", exact=True)).to_be_disabled()
    entry.get_by_role("button", name="2", exact=True).click()
    entry.get_by_test_id("feedback-undo").click()
    page.clock.fast_forward(PAST_UNDO_WINDOW)
    expect(entry.get_by_test_id("feedback-status")).to_be_hidden()
    assert sent == []

    with page.expect_response(f"**/api/predictions/{item['id']}/feedback"):
        entry.get_by_test_id("feedback-right").click()
        page.clock.fast_forward(PAST_UNDO_WINDOW)
    expect(entry).to_contain_text("Confirmed right")
    assert len(sent) == 1 and sent[0].post_data_json == {"clientId": client_id(page), "label": 7}


def test_an_item_deleted_after_confirmation_stays_deleted_after_a_reload(page: Page, mnist_seven: Path) -> None:
    kept = drawn(page, VERTICAL_STROKE)
    gone = chosen(page, mnist_seven)
    entries = page.get_by_test_id("history-item")
    expect(entries).to_have_count(2)

    newest = entries.first
    newest.get_by_test_id("history-delete").click()
    newest.get_by_role("button", name="Keep it").click()
    expect(entries).to_have_count(2)

    entries.first.get_by_test_id("history-delete").click()
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        entries.first.get_by_test_id("history-delete-confirm").click()
    assert deleted.value.status == 204
    expect(entries).to_have_count(1)
    expect(page.locator("#result")).to_be_hidden()  # the result shown was the deleted item

    page.reload()
    expect(entries).to_have_count(1)
    assert entries.first.get_attribute("data-id") == kept["id"]
    assert _stored_ids(page) == [kept["id"]] and gone["id"] not in _stored_ids(page)


def test_clear_my_history_after_confirmation_survives_a_reload(browsing: Browsing, mnist_seven: Path) -> None:
    page = browsing.open()
    drawn(page, VERTICAL_STROKE)
    chosen(page, mnist_seven)
    other = browsing.open()
    theirs = drawn(other, SEVEN_STROKE)

    page.get_by_test_id("clear-history").click()
    dialog = page.get_by_role("dialog", name="Clear your history?")
    expect(dialog).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "DELETE") as cleared:
        dialog.get_by_test_id("clear-history-confirm").click()
    assert cleared.value.status == 204
    expect(page.get_by_test_id("history-item")).to_have_count(0)
    expect(page.locator("#history-empty")).to_be_visible()

    page.reload()
    expect(page.locator("#history-empty")).to_be_visible()
    assert _stored_ids(page) == []
    assert _stored_ids(other) == [theirs["id"]]  # only this browser's history


def _is_listing(url: str) -> bool:
    return "/api/predictions?" in url


def test_a_history_that_failed_to_load_can_be_loaded_again(browsing: Browsing) -> None:
    first = browsing.open()
    item = drawn(first, VERTICAL_STROKE)
    first.route(_is_listing, lambda route: route.abort("connectionrefused"))
    first.reload()
    problem = first.locator("#history-error")
    expect(problem).to_contain_text("The history could not be loaded.")
    first.unroute(_is_listing)

    first.get_by_role("button", name="Try again").click()
    expect(problem).to_be_hidden()
    expect(first.get_by_test_id("history-item")).to_have_count(1)
    assert first.get_by_test_id("history-item").get_attribute("data-id") == item["id"]


def test_selecting_an_item_shows_it_in_the_result_panel(page: Page, mnist_seven: Path) -> None:
    drawn(page, VERTICAL_STROKE)
    chosen(page, mnist_seven)
    assert shown_digit(page) == "7"

    older = page.get_by_test_id("history-item").nth(1)
    older.get_by_role("button", name="Read as 1").click()
    assert shown_digit(page) == "1"
    expect(page.get_by_test_id("result-note")).to_contain_text("From your history")
    expect(older).to_have_class("history-item is-open")


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
    drawn(first, VERTICAL_STROKE)
    expect(first.get_by_test_id("history-item")).to_have_count(1)

    second = browsing.open()
    expect(second.locator("#history-empty")).to_be_visible()
    expect(second.get_by_test_id("history-item")).to_have_count(0)
