"""What a person does on the recognizer page, as reusable steps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from playwright.sync_api import Page, expect

Point = tuple[float, float]

# Strokes in fractions of the drawing pad's side.
VERTICAL_STROKE: list[Point] = [(0.5, 0.18), (0.5, 0.82)]
SEVEN_STROKE: list[Point] = [(0.3, 0.22), (0.7, 0.22), (0.45, 0.82)]
PERCENT = re.compile(r"^\d{1,3}([.,]\d)?\s?%$")


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


def predict(page: Page) -> dict[str, Any]:
    """Presses Recognise; returns the prediction item the API answered with."""
    with page.expect_response(lambda r: r.url.endswith("/api/predictions") and r.request.method == "POST") as answer:
        page.get_by_test_id("predict-button").click()
    item: dict[str, Any] = answer.value.json()
    return item


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
