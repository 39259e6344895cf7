"""The executions console shows the workflow run behind a prediction, state by state."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.recognizer import predict

WORKFLOW_STATES = ["Validate", "Preprocess", "InvokeModel", "Persist"]


def test_the_executions_page_shows_the_run_just_made(page: Page, mnist_seven: Path) -> None:
    page.get_by_test_id("file-input").set_input_files(mnist_seven)
    item = predict(page)

    page.get_by_role("link", name="Executions").click()
    newest = page.get_by_test_id("execution-item").first
    expect(newest).to_contain_text("Succeeded")
    newest.get_by_role("link").click()

    states = page.get_by_test_id("execution-state")
    expect(states).to_have_count(len(WORKFLOW_STATES))
    for index, name in enumerate(WORKFLOW_STATES):
        expect(states.nth(index)).to_contain_text(name)
    detail = page.locator("#detail-body")
    expect(detail.locator("#detail-status")).to_have_text("Succeeded")
    detail.locator("#detail-io summary", has_text="Output").click()
    expect(detail.locator("#detail-io")).to_contain_text(item["id"])


def test_a_failed_run_shows_its_error_on_the_failing_state(page: Page, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    page.get_by_test_id("file-input").set_input_files(notes)
    page.get_by_test_id("predict-button").click()
    expect(page.get_by_test_id("error-message")).to_be_visible()

    page.goto("/console.html")
    newest = page.get_by_test_id("execution-item").first
    expect(newest).to_contain_text("Failed")
    newest.get_by_role("link").click()
    expect(page.locator("#detail-facts")).to_contain_text("UnsupportedImageType")
    failing = page.locator("[data-testid=execution-state] details.is-failed")
    expect(failing.first).to_contain_text("UnsupportedImageType")
