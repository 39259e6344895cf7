"""What a person does on the recognizer page, as reusable steps.

The page recognises by itself (when a stroke ends, when a file comes), so the
steps wait for the answer their own action caused, never press Recognise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import FilePayload, Page, Request, Response, expect

Point = tuple[float, float]

# Strokes in fractions of the drawing pad's side.
VERTICAL_STROKE: list[Point] = [(0.5, 0.18), (0.5, 0.82)]
SEVEN_STROKE: list[Point] = [(0.3, 0.22), (0.7, 0.22), (0.45, 0.82)]
# A zig-zag across the pad: no digit at all.
SCRIBBLE_STROKE: list[Point] = [(0.15, 0.3), (0.3, 0.7), (0.45, 0.3), (0.6, 0.7), (0.75, 0.3), (0.9, 0.7)]
PERCENT = re.compile(r"^[<>]?\d{1,3}\s?%$")


def is_prediction(response: Response) -> bool:
    return response.url.endswith("/api/predictions") and response.request.method == "POST"


def is_feedback(request: Request) -> bool:
    return request.url.endswith("/feedback") and request.method == "POST"


def draw(page: Page, stroke: Sequence[Point], steps_per_segment: int = 15) -> None:
    """Drags the mouse through the points, like a person drawing one stroke."""
    pad = page.get_by_test_id("draw-canvas")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None, "the drawing pad is not visible"

    def at(point: Point) -> tuple[float, float]:
        return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]

    page.mouse.move(*at(stroke[0]))
    page.mouse.down()
    for point in stroke[1:]:
        page.mouse.move(*at(point), steps=steps_per_segment)
    page.mouse.up()


def answer_to(page: Page, action: Callable[[], object]) -> dict[str, Any]:
    """Does ``action`` and returns the prediction item the API answered it with, once the page shows it."""
    with page.expect_response(is_prediction) as answer:
        action()
    item: dict[str, Any] = answer.value.json()
    expect(page.get_by_test_id("result-digit")).to_have_text(str(item["digit"]))
    return item


def drawn(page: Page, stroke: Sequence[Point]) -> dict[str, Any]:
    """Draws one stroke and returns the item the page got for it, without any click."""
    return answer_to(page, lambda: draw(page, stroke))


def chosen(page: Page, file: Path | FilePayload) -> dict[str, Any]:
    """Chooses a file and returns the item the page got for it, without any click."""
    return answer_to(page, lambda: page.get_by_test_id("file-input").set_input_files(file))


def shown_digit(page: Page) -> str:
    digit = page.get_by_test_id("result-digit")
    expect(digit).to_have_text(re.compile(r"^[0-9]$"))
    return digit.inner_text()


def canvas_has_ink(page: Page, selector: str) -> bool:
    """Whether the canvas has any non-black pixel (thumbnails are light ink on black)."""
    return bool(
        page.eval_on_selector(
            selector,
            """canvas => canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height)
                 .data.some((value, index) => index % 4 !== 3 && value > 0)""",
        )
    )


def client_id(page: Page) -> str:
    value = page.evaluate("localStorage.getItem('digits.clientId')")
    assert isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value)
    return value
