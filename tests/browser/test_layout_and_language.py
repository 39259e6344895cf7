"""Phone-sized screens, the language switch and the local-only console link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.browsing import PHONE, Browsing
from tests.browser.recognizer import SEVEN_STROKE, draw, predict

NO_HORIZONTAL_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"


def test_a_phone_viewport_has_no_horizontal_scroll(browsing: Browsing, mnist_seven: Path) -> None:
    """At 360x740, with a result, history and an error all shown, nothing overflows sideways."""
    page = browsing.open(viewport=PHONE)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    draw(page, SEVEN_STROKE)
    predict(page)
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)

    page.get_by_role("tab", name="Image").click()
    pdf: FilePayload = {"name": "not-an-image.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not really"}
    page.get_by_test_id("file-input").set_input_files(pdf)
    page.get_by_test_id("predict-button").click()
    expect(page.get_by_test_id("error-message")).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)

    page.goto("/console.html")
    page.get_by_test_id("execution-item").first.click()
    expect(page.get_by_test_id("execution-state").first).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_the_language_switch_changes_the_texts_and_is_remembered(page: Page) -> None:
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Recognise a handwritten digit")
    switch = page.get_by_test_id("language-switch")

    switch.click()
    expect(heading).to_have_text("Nhận dạng chữ số viết tay")
    expect(page.get_by_test_id("predict-button")).to_have_text("Nhận dạng")
    assert page.evaluate("document.documentElement.lang") == "vi"

    page.reload()
    expect(heading).to_have_text("Nhận dạng chữ số viết tay")
    page.get_by_test_id("language-switch").click()
    expect(heading).to_have_text("Recognise a handwritten digit")


@pytest.mark.parametrize(("locale", "heading"), [("vi-VN", "Nhận dạng chữ số viết tay"), ("en-GB", "Recognise a handwritten digit")])
def test_the_first_language_follows_the_browser(browsing: Browsing, locale: str, heading: str) -> None:
    page = browsing.open(locale=locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_results_and_errors_are_translated_too(page: Page) -> None:
    draw(page, SEVEN_STROKE)
    predict(page)
    page.get_by_test_id("language-switch").click()
    expect(page.get_by_test_id("history-item").first).to_contain_text("Đọc là")
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")


def test_the_executions_console_is_linked_on_the_local_stack(page: Page) -> None:
    link = page.get_by_role("link", name="Executions")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/console\.html$"))
