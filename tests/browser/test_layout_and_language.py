"""Phone-sized screens, targets big enough for a finger, the dark theme, the
language switch and the local-only console link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.browsing import PHONE, Browsing
from tests.browser.recognizer import SEVEN_STROKE, chosen, draw, drawn

NO_HORIZONTAL_SCROLL = "document.scrollingElement.scrollWidth <= window.innerWidth"
# Every control a finger uses, as big as WCAG's enhanced target size (2.5.5); tabs at least 40 px.
TARGET_PX = 44
TAB_PX = 40
SMALL_TARGETS = """(least) => Array.from(document.querySelectorAll('button, select, a.run-link, a.nav-link, .sample'))
    .filter((node) => node.checkVisibility() && !node.closest('[role=tablist]'))
    .map((node) => [node.textContent.trim() || node.getAttribute('aria-label'), node.getBoundingClientRect()])
    .filter(([, box]) => box.height < least || box.width < least)
    .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""


def _on_screen(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not displayed"
    viewport = page.viewport_size
    assert viewport is not None
    return (
        box["y"] >= 0
        and box["y"] + box["height"] <= viewport["height"]
        and box["x"] + box["width"] <= viewport["width"]
    )


def test_on_a_phone_the_answer_to_a_drawing_is_on_screen_beside_recognise(browsing: Browsing) -> None:
    """At 360x740, once a digit is drawn, Recognise and the answer are both on the
    screen with no scrolling, the header is one row, and nothing overflows sideways."""
    page = browsing.open(viewport=PHONE)
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    header = page.locator(".topbar").bounding_box()
    assert header is not None and header["height"] < 60

    drawn(page, SEVEN_STROKE)

    assert page.evaluate("window.scrollY") == 0
    assert _on_screen(page, "[data-testid=predict-button]")
    assert _on_screen(page, "#result-digit-box")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_on_a_phone_nothing_overflows_and_every_target_is_big_enough(browsing: Browsing, mnist_seven: Path) -> None:
    """With a result, the history, an error and the console all shown at 360 px."""
    page = browsing.open(viewport=PHONE)
    drawn(page, SEVEN_STROKE)
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    page.get_by_test_id("feedback-pick").first.click()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    assert page.evaluate(SMALL_TARGETS, TARGET_PX) == []
    for tab in page.get_by_role("tab").all():
        box = tab.bounding_box()
        assert box is not None and box["height"] >= TAB_PX

    page.get_by_role("tab", name="Image").click()
    pdf: FilePayload = {"name": "not-an-image.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not really"}
    page.get_by_test_id("file-input").set_input_files(pdf)
    expect(page.get_by_test_id("error-message")).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)

    page.goto("/console.html")
    page.get_by_test_id("execution-item").first.get_by_role("link").click()
    expect(page.get_by_test_id("execution-state").first).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    assert page.evaluate(SMALL_TARGETS, TARGET_PX) == []


def test_a_disabled_button_looks_disabled_in_the_dark_theme(browsing: Browsing) -> None:
    page = browsing.open(color_scheme="dark")
    recognise = page.get_by_test_id("predict-button")
    expect(recognise).to_be_disabled()
    colours = "button => [getComputedStyle(button).backgroundColor, getComputedStyle(button).color]"
    disabled = recognise.evaluate(colours)
    draw(page, SEVEN_STROKE)
    expect(recognise).to_be_enabled()
    enabled = recognise.evaluate(colours)
    assert disabled[0] != enabled[0] and disabled[1] != enabled[1]
    accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()")
    assert accent == "#8aa6ff" and disabled[0] != "rgb(138, 166, 255)"


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


@pytest.mark.parametrize(
    ("locale", "heading"), [("vi-VN", "Nhận dạng chữ số viết tay"), ("en-GB", "Recognise a handwritten digit")]
)
def test_the_first_language_follows_the_browser(browsing: Browsing, locale: str, heading: str) -> None:
    page = browsing.open(locale=locale)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_results_and_errors_are_described_in_vietnamese(page: Page, tmp_path: Path) -> None:
    drawn(page, SEVEN_STROKE)
    page.get_by_test_id("language-switch").click()
    expect(page.get_by_test_id("history-item").first).to_contain_text("Đọc là")
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")

    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    page.get_by_test_id("file-input").set_input_files(notes)
    expect(page.get_by_test_id("error-message")).to_have_text(
        "Tệp này không phải là ảnh được hỗ trợ. Hãy dùng PNG, JPEG, WebP, GIF hoặc BMP."
    )


def test_the_executions_console_is_linked_on_the_local_stack(page: Page, mnist_seven: Path) -> None:
    link = page.get_by_role("link", name="Executions")
    expect(link).to_be_visible()
    chosen(page, mnist_seven)
    expect(page.locator("#result-run")).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/console\.html$"))
