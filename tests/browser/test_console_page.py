"""The executions console explains the workflow run behind a prediction: what
each run came to, a status filter, the run of a history item one click away,
pictures instead of base64, and no stack trace for a person's mistake."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.recognizer import canvas_has_ink, chosen, is_prediction

WORKFLOW_STATES = ["Validate", "Preprocess", "InvokeModel", "Persist"]


def _blank_png() -> FilePayload:
    """An image with no ink: the workflow fails with NoDigitFound in Preprocess."""
    blank = io.BytesIO()
    Image.new("L", (64, 64), 255).save(blank, "PNG")
    return {"name": "blank.png", "mimeType": "image/png", "buffer": blank.getvalue()}


def _fail_a_run(page: Page) -> None:
    with page.expect_response(is_prediction) as answer:
        page.get_by_test_id("file-input").set_input_files(_blank_png())
    assert answer.value.status == 422


def test_the_executions_page_shows_the_run_just_made_with_its_digit(page: Page, mnist_seven: Path) -> None:
    item = chosen(page, mnist_seven)

    page.get_by_role("link", name="Executions").click()
    newest = page.get_by_test_id("execution-item").first
    expect(newest).to_contain_text("Succeeded")
    expect(newest).to_contain_text(item["id"])
    expect(newest).to_contain_text("Read as 7")
    newest.get_by_role("link").click()

    states = page.get_by_test_id("execution-state")
    expect(states).to_have_count(len(WORKFLOW_STATES))
    for index, name in enumerate(WORKFLOW_STATES):
        expect(states.nth(index)).to_contain_text(name)
    detail = page.locator("#detail-body")
    expect(detail.locator("#detail-status")).to_have_text("Succeeded")
    detail.locator("#detail-io summary", has_text="Output").click()
    output = detail.locator("#detail-io")
    expect(output).to_contain_text(item["id"])
    # The thumbnail is a picture, not base64; the upload (small enough to be kept) too.
    expect(output.get_by_text("What the model saw (28×28)")).to_be_visible()
    assert canvas_has_ink(page, "#detail-io .picture canvas")
    expect(output).not_to_contain_text(item["thumbnail"][:40])


def test_a_failed_run_shows_its_error_code_and_no_stack_trace(page: Page) -> None:
    _fail_a_run(page)

    page.goto("/console.html")
    newest = page.get_by_test_id("execution-item").first
    expect(newest).to_contain_text("Failed")
    expect(newest).to_contain_text("NoDigitFound")
    newest.get_by_role("link").click()
    facts = page.locator("#detail-facts")
    expect(facts).to_contain_text("NoDigitFound")
    expect(facts).to_contain_text("No digit was found")
    failing = page.locator("[data-testid=execution-state] details.is-failed")
    expect(failing.first).to_contain_text("NoDigitFound")
    expect(page.get_by_text("Stack trace")).to_have_count(0)


def test_the_status_filter_shows_only_runs_of_that_status(page: Page, mnist_seven: Path) -> None:
    chosen(page, mnist_seven)
    _fail_a_run(page)
    page.goto("/console.html")
    rows = page.get_by_test_id("execution-item")
    expect(rows.first).to_be_visible()

    for status, label in (("FAILED", "Failed"), ("SUCCEEDED", "Succeeded")):
        page.get_by_test_id("status-filter").select_option(label=label)
        expect(rows.first).to_have_attribute("data-status", status)
        statuses = {row.get_attribute("data-status") for row in rows.all()}
        assert statuses == {status}

    page.get_by_test_id("status-filter").select_option(label="All")
    statuses = {row.get_attribute("data-status") for row in rows.all()}
    assert {"FAILED", "SUCCEEDED"} <= statuses


def test_a_history_item_links_to_its_run(page: Page, mnist_seven: Path) -> None:
    """The execution is named after the item it created: one id, one click."""
    item = chosen(page, mnist_seven)
    entry = page.get_by_test_id("history-item").first
    entry.get_by_role("link", name="Run details").click()

    expect(page.locator("#detail-heading")).to_have_text(item["id"])
    expect(page.locator("#detail-status")).to_have_text("Succeeded")
    expect(page.locator("[data-testid=execution-item] a[aria-current=true]")).to_contain_text(item["id"])
