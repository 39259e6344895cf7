"""Giving the page a digit in every way a person can, and reading the answer.

Nothing here presses Recognise to get an answer: the page recognises a file as
soon as it is given and a drawing as soon as a stroke ends.
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from playwright.sync_api import FilePayload, Page, Request, Route, expect

from functions.core.errors import ERROR_TABLE
from functions.core.imaging import MAX_IMAGE_BYTES
from tests.browser.recognizer import (
    PERCENT,
    SCRIBBLE_STROKE,
    SEVEN_STROKE,
    VERTICAL_STROKE,
    answer_to,
    canvas_has_ink,
    chosen,
    draw,
    drawn,
    is_prediction,
    shown_digit,
)


def _requests_to_predict(page: Page) -> list[Request]:
    sent: list[Request] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request) if request.url.endswith("/api/predictions") and request.method == "POST" else None
        ),
    )
    return sent


def test_a_chosen_file_is_recognised_without_a_click(page: Page, mnist_seven: Path) -> None:
    """Given an MNIST 7 as a PNG file, when it is chosen, then the page shows 7, its
    confidence, ten probabilities and what the model saw, with one request and no click."""
    sent = _requests_to_predict(page)
    item = chosen(page, mnist_seven)

    assert shown_digit(page) == "7" == str(item["digit"])
    assert item["lowConfidence"] is False
    expect(page.locator("#image-preview")).to_be_visible()
    expect(page.get_by_test_id("result-confidence")).to_have_text(PERCENT)
    expect(page.get_by_test_id("low-confidence")).to_be_hidden()
    expect(page.locator("#bar-chart > li")).to_have_count(10)
    confidence = page.get_by_test_id("result-confidence").inner_text()
    expect(page.locator("#bar-chart > li.is-top")).to_contain_text(f"7: {confidence}")
    assert canvas_has_ink(page, "#model-view")
    expect(page.locator("#announcer")).to_contain_text("Result: 7")
    assert len(sent) == 1


def test_a_drawing_is_recognised_when_the_stroke_ends(page: Page) -> None:
    """Given a 7 drawn with mouse moves, when the stroke ends, then its digit is shown
    without a click, and what was sent is a PNG of dark ink on a transparent background."""
    with page.expect_request("**/api/predictions") as sent:
        item = drawn(page, SEVEN_STROKE)
    assert shown_digit(page) == str(item["digit"])

    body = sent.value.post_data_json
    assert isinstance(body, dict)
    data_url = body["image"]
    assert data_url.startswith("data:image/png;base64,")
    drawing = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
    assert drawing.mode == "RGBA"
    alpha = np.asarray(drawing)[:, :, 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255


def test_a_clean_vertical_stroke_is_read_as_one_and_is_sure(page: Page) -> None:
    item = drawn(page, VERTICAL_STROKE)
    assert shown_digit(page) == "1"
    assert item["lowConfidence"] is False
    expect(page.get_by_test_id("low-confidence")).to_be_hidden()


def test_a_scribble_is_shown_as_unsure(page: Page) -> None:
    """Given a zig-zag that is no digit, then the item is lowConfidence and the page says
    it is not sure this is a digit at all, on a digit box marked unsure."""
    item = drawn(page, SCRIBBLE_STROKE)

    assert item["lowConfidence"] is True
    unsure = page.get_by_test_id("low-confidence")
    expect(unsure).to_be_visible()
    expect(unsure).to_contain_text("Not sure")
    expect(page.locator("#result-digit-box")).to_have_class("result-digit-box is-unsure")
    expect(page.locator("#announcer")).to_contain_text("Not sure")


def test_the_result_goes_when_the_pad_is_cleared_and_each_tab_shows_its_own(page: Page, mnist_seven: Path) -> None:
    drawn(page, VERTICAL_STROKE)
    page.get_by_role("tab", name="Image").click()
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#result-empty")).to_be_visible()

    chosen(page, mnist_seven)
    assert shown_digit(page) == "7"
    page.get_by_role("tab", name="Draw").click()
    assert shown_digit(page) == "1"

    page.get_by_role("button", name="Clear", exact=True).click()
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#result-empty")).to_contain_text("Draw a digit")


def test_an_answer_is_marked_stale_while_the_changed_drawing_is_recognised(page: Page) -> None:
    """The newest input wins: while the second stroke's answer is pending, the first
    stroke's answer stays, visibly not current."""
    drawn(page, VERTICAL_STROKE)
    held: list[Route] = []
    # Never answered: the request stays pending for the rest of the test.
    page.route(
        "**/api/predictions", lambda route: held.append(route) if route.request.method == "POST" else route.continue_()
    )
    draw(page, [(0.3, 0.5), (0.7, 0.5)])

    expect(page.locator("#result")).to_have_class("result is-stale")
    expect(page.get_by_test_id("result-note")).to_have_text("Recognising the change…")
    assert len(held) == 1


def test_undo_and_clear_empty_the_pad_and_disable_recognise(page: Page) -> None:
    predict_button = page.get_by_test_id("predict-button")
    expect(predict_button).to_be_disabled()
    drawn(page, VERTICAL_STROKE)
    drawn(page, [(0.3, 0.5), (0.7, 0.5)])
    expect(predict_button).to_be_enabled()
    answer_to(page, lambda: page.get_by_role("button", name="Undo", exact=True).click())
    expect(predict_button).to_be_enabled()
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(predict_button).to_be_disabled()
    expect(page.get_by_role("button", name="Undo", exact=True)).to_be_disabled()


def test_a_non_image_or_empty_file_is_refused_before_any_request(page: Page, tmp_path: Path) -> None:
    sent = _requests_to_predict(page)
    notes = tmp_path / "notes.png"  # the name does not make it an image
    notes.write_text("shopping list: milk, eggs\n")
    page.get_by_test_id("file-input").set_input_files(notes)
    message = page.get_by_test_id("error-message")
    expect(message).to_have_text("This file is not a supported image. Use PNG, JPEG, WebP, GIF or BMP.")
    expect(page.locator("#error-code")).to_contain_text("UnsupportedImageType")
    expect(page.get_by_test_id("predict-button")).to_be_disabled()

    empty: FilePayload = {"name": "empty.png", "mimeType": "image/png", "buffer": b""}
    page.get_by_test_id("file-input").set_input_files(empty)
    expect(message).to_have_text("This file is empty: it has no bytes at all.")
    expect(page.get_by_test_id("result-digit")).to_be_hidden()
    assert sent == []


def test_a_blank_image_gets_the_servers_draw_bigger_message(page: Page) -> None:
    blank = io.BytesIO()
    Image.new("L", (64, 64), 255).save(blank, "PNG")
    payload: FilePayload = {"name": "blank.png", "mimeType": "image/png", "buffer": blank.getvalue()}
    with page.expect_response(is_prediction) as answer:
        page.get_by_test_id("file-input").set_input_files(payload)
    assert answer.value.status == 422
    expect(page.get_by_test_id("error-message")).to_contain_text("Draw the digit bigger")


def test_a_large_photo_is_downsized_in_the_browser_and_recognised(page: Page, tmp_path: Path) -> None:
    """Given a 12-megapixel phone-like photo far over the API's limit, when chosen,
    then the browser sends a smaller image and a digit comes back, never a size error."""
    # Grainy paper (noise compresses badly, like a real photo), a 7 in dark ink.
    grain = np.random.default_rng(7).integers(170, 235, size=(750, 1000, 3), dtype=np.uint8)
    photo = Image.fromarray(grain).resize((4000, 3000), Image.Resampling.NEAREST)
    ImageDraw.Draw(photo).line([(1700, 700), (2300, 700), (1900, 2300)], fill=(25, 25, 70), width=110)
    path = tmp_path / "photo.jpg"
    photo.save(path, quality=90)
    assert path.stat().st_size > 10 * MAX_IMAGE_BYTES

    item = chosen(page, path)

    assert item["input"]["bytes"] <= MAX_IMAGE_BYTES
    assert max(item["input"]["width"], item["input"]["height"]) <= 1024
    assert shown_digit(page) == str(item["digit"])
    expect(page.locator("#file-name")).to_contain_text("reduced from")


def test_a_portrait_photo_is_shown_whole(page: Page, mnist_seven: Path, tmp_path: Path) -> None:
    """A 3:4 photo fits the square preview entirely (letterboxed), none of it cut off."""
    portrait = tmp_path / "portrait.png"
    digit = Image.open(mnist_seven).convert("L").resize((300, 300))
    sheet = Image.new("L", (300, 400), 255)
    sheet.paste(digit, (0, 50))
    sheet.save(portrait)
    chosen(page, portrait)

    preview, frame = page.locator("#image-preview"), page.locator("#dropzone")
    box, frame_box = preview.bounding_box(), frame.bounding_box()
    assert box is not None and frame_box is not None
    assert box["y"] >= frame_box["y"] and box["y"] + box["height"] <= frame_box["y"] + frame_box["height"] + 0.5
    assert preview.evaluate("image => getComputedStyle(image).objectFit") == "contain"


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


def test_an_image_dropped_on_the_input_or_pasted_is_recognised_at_once(page: Page, mnist_seven: Path) -> None:
    for event in ("drop", "paste"):
        page.reload()
        answer_to(page, functools.partial(_dispatch_file, page, event, mnist_seven.read_bytes()))
        expect(page.get_by_role("tab", name="Image")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#image-preview")).to_be_visible()
        assert shown_digit(page) == "7", event


def test_the_examples_run_through_the_same_path(page: Page) -> None:
    item = answer_to(page, lambda: page.get_by_role("button", name="A clean 7").click())
    assert item["digit"] == 7 and item["lowConfidence"] is False
    expect(page.locator("#image-preview")).to_be_visible()

    item = answer_to(page, lambda: page.get_by_role("button", name="Not a digit").click())
    assert item["lowConfidence"] is True
    expect(page.get_by_test_id("low-confidence")).to_contain_text("Not sure this is a digit")


def test_every_error_code_has_its_own_message_in_both_languages(page: Page) -> None:
    """The page knows every code of the server's error table (plus network failure,
    timeout and an empty file) and says something different for each, in English and Vietnamese."""
    codes = [*ERROR_TABLE, "NetworkError", "Timeout", "EmptyFile"]
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


def test_an_unreachable_server_shows_a_message_and_recognise_tries_again(page: Page) -> None:
    """The network edge fails (connection refused): the page says so, and Recognise,
    the fallback, asks again once the server is back."""
    page.route("**/api/predictions", lambda route: route.abort("connectionrefused"))
    draw(page, VERTICAL_STROKE)
    expect(page.get_by_test_id("error-message")).to_have_text(
        "Cannot reach the server. Check your connection and try again."
    )
    expect(page.locator("#result-busy")).to_be_hidden()
    page.unroute("**/api/predictions")

    answer_to(page, lambda: page.get_by_test_id("predict-button").click())
    assert shown_digit(page) == "1"


def test_the_model_view_is_the_thumbnail_scaled_up_crisply(page: Page, mnist_seven: Path) -> None:
    chosen(page, mnist_seven)
    view = page.locator("#model-view")
    assert view.evaluate("canvas => [canvas.width, canvas.height]") == [28, 28]
    assert view.evaluate("canvas => getComputedStyle(canvas).imageRendering") == "pixelated"
    box = view.bounding_box()
    assert box is not None and box["width"] >= 56
