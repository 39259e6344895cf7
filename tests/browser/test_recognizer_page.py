"""Giving the page a digit in every way a person can, and reading the answer."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from functions.core.errors import ERROR_TABLE
from functions.core.imaging import MAX_IMAGE_BYTES
from tests.browser.recognizer import (
    PERCENT,
    SEVEN_STROKE,
    VERTICAL_STROKE,
    canvas_has_ink,
    draw,
    predict,
    shown_digit,
)


def test_uploading_a_png_of_a_digit_shows_that_digit(page: Page, mnist_seven: Path) -> None:
    """Given an MNIST 7 as a PNG file, when it is chosen and recognised,
    then the page shows 7, its confidence, ten probabilities and what the model saw."""
    page.get_by_test_id("file-input").set_input_files(mnist_seven)
    expect(page.locator("#image-preview")).to_be_visible()
    item = predict(page)

    assert shown_digit(page) == "7" == str(item["digit"])
    expect(page.get_by_test_id("result-confidence")).to_have_text(PERCENT)
    expect(page.locator("#bar-chart > li")).to_have_count(10)
    confidence = page.get_by_test_id("result-confidence").inner_text()
    expect(page.locator("#bar-chart > li.is-top")).to_contain_text(f"7: {confidence}")
    assert canvas_has_ink(page, "#model-view")
    expect(page.locator("#announcer")).to_contain_text("Result: 7")


def test_a_digit_drawn_with_the_mouse_gets_a_prediction(page: Page) -> None:
    """Given a 7 drawn with mouse moves, when recognised, then a digit 0-9 is shown,
    and what was sent is a PNG of dark ink on a transparent background."""
    draw(page, SEVEN_STROKE)
    with page.expect_request("**/api/predictions") as sent:
        item = predict(page)
    assert shown_digit(page) == str(item["digit"])

    body = sent.value.post_data_json
    assert isinstance(body, dict)
    data_url = body["image"]
    assert data_url.startswith("data:image/png;base64,")
    drawing = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
    assert drawing.mode == "RGBA"
    alpha = np.asarray(drawing)[:, :, 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255


def test_a_clean_vertical_stroke_is_read_as_one(page: Page) -> None:
    draw(page, VERTICAL_STROKE)
    predict(page)
    assert shown_digit(page) == "1"


def test_undo_and_clear_empty_the_pad_and_disable_recognise(page: Page) -> None:
    predict_button = page.get_by_test_id("predict-button")
    expect(predict_button).to_be_disabled()
    draw(page, VERTICAL_STROKE)
    draw(page, [(0.3, 0.5), (0.7, 0.5)])
    expect(predict_button).to_be_enabled()
    page.get_by_role("button", name="Undo").click()
    expect(predict_button).to_be_enabled()
    page.get_by_role("button", name="Clear").click()
    expect(predict_button).to_be_disabled()
    expect(page.get_by_role("button", name="Undo")).to_be_disabled()


def test_a_non_image_file_shows_the_unsupported_type_message(page: Page, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list: milk, eggs\n")
    page.get_by_test_id("file-input").set_input_files(notes)
    page.get_by_test_id("predict-button").click()

    message = page.get_by_test_id("error-message")
    expect(message).to_have_text("This file is not a supported image. Use PNG, JPEG, WebP, GIF or BMP.")
    expect(page.locator("#error-code")).to_contain_text("UnsupportedImageType")
    expect(page.get_by_test_id("result-digit")).to_be_hidden()


def test_a_large_photo_is_downsized_in_the_browser_and_recognised(page: Page, tmp_path: Path) -> None:
    """Given a 12-megapixel phone-like photo far over the API's limit, when recognised,
    then the browser sends a smaller image and a digit comes back, never a size error."""
    # Grainy paper (noise compresses badly, like a real photo), a 7 in dark ink.
    grain = np.random.default_rng(7).integers(170, 235, size=(750, 1000, 3), dtype=np.uint8)
    photo = Image.fromarray(grain).resize((4000, 3000), Image.Resampling.NEAREST)
    ImageDraw.Draw(photo).line([(1700, 700), (2300, 700), (1900, 2300)], fill=(25, 25, 70), width=110)
    path = tmp_path / "photo.jpg"
    photo.save(path, quality=90)
    assert path.stat().st_size > 10 * MAX_IMAGE_BYTES

    page.get_by_test_id("file-input").set_input_files(path)
    item = predict(page)

    assert item["input"]["bytes"] <= MAX_IMAGE_BYTES
    assert max(item["input"]["width"], item["input"]["height"]) <= 1024
    assert shown_digit(page) == str(item["digit"])
    expect(page.locator("#file-name")).to_contain_text("reduced from")


def _dispatch_file(page: Page, event: str, data: bytes) -> None:
    """Drops or pastes a PNG file, the way the browser delivers one from the desktop or clipboard."""
    page.evaluate(
        """([event, bytes]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "digit.png", { type: "image/png" }));
            const target = event === "drop" ? document.getElementById("draw-canvas") : document.body;
            const init = { bubbles: true, cancelable: true };
            target.dispatchEvent(event === "drop"
                ? new DragEvent("drop", { ...init, dataTransfer: transfer })
                : new ClipboardEvent("paste", { ...init, clipboardData: transfer }));
        }""",
        [event, list(data)],
    )


def test_an_image_dropped_on_the_input_or_pasted_is_used(page: Page, mnist_seven: Path) -> None:
    for event in ("drop", "paste"):
        page.reload()
        _dispatch_file(page, event, mnist_seven.read_bytes())
        expect(page.get_by_role("tab", name="Image")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#image-preview")).to_be_visible()
        predict(page)
        assert shown_digit(page) == "7", event


def test_every_error_code_has_its_own_message_in_both_languages(page: Page) -> None:
    """The page knows every code of the server's error table (plus network failure and
    timeout) and says something different for each, in English and Vietnamese."""
    codes = [*ERROR_TABLE, "NetworkError", "Timeout"]
    known_to_page = page.evaluate("async () => (await import('/js/api.js')).ERROR_CODES")
    assert sorted(known_to_page) == sorted(ERROR_TABLE)
    for language in ("en", "vi"):
        messages = page.evaluate(
            """async ([codes, language]) => {
                const i18n = await import('/js/i18n.js');
                i18n.setLanguage(language);
                return codes.map((code) => i18n.t(`errors.${code}`));
            }""",
            [codes, language],
        )
        assert all(message and not message.startswith("errors.") for message in messages), messages
        assert len(set(messages)) == len(codes), messages


def test_an_unreachable_server_shows_a_message_instead_of_spinning(page: Page) -> None:
    """The network edge fails (connection refused): the page says so and is usable again."""
    page.route("**/api/predictions", lambda route: route.abort("connectionrefused"))
    draw(page, VERTICAL_STROKE)
    page.get_by_test_id("predict-button").click()
    expect(page.get_by_test_id("error-message")).to_have_text(
        "Cannot reach the server. Check your connection and try again."
    )
    expect(page.locator("#result-busy")).to_be_hidden()
    expect(page.get_by_test_id("predict-button")).to_have_attribute("aria-disabled", "false")


def test_the_model_view_is_the_thumbnail_scaled_up_crisply(page: Page, mnist_seven: Path) -> None:
    page.get_by_test_id("file-input").set_input_files(mnist_seven)
    predict(page)
    view = page.locator("#model-view")
    assert view.evaluate("canvas => [canvas.width, canvas.height]") == [28, 28]
    assert view.evaluate("canvas => getComputedStyle(canvas).imageRendering") == "pixelated"
    box = view.bounding_box()
    assert box is not None and box["width"] >= 56
