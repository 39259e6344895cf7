"""Hypothesis strategies that draw digits and render them as the files people send."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests import imagegen

# MNIST test digits the strategies pick from (a few thousand is plenty of shapes).
MNIST_CHOICES = 2000

LIGHT = st.tuples(*[st.integers(190, 255)] * 3)
DARK = st.tuples(*[st.integers(0, 70)] * 3)


class Digit:
    """A digit's shape as ink coverage of a square field, and the clean PNG of the same shape."""

    def __init__(self, name: str, coverage: np.ndarray) -> None:
        self.name = name
        self.coverage = coverage  # float32 (side, side) in [0, 1]

    def __repr__(self) -> str:
        return f"Digit({self.name})"

    def at(self, side: int) -> np.ndarray:
        """The coverage scaled to side x side."""
        return imagegen.ink_level(np.clip(np.rint(self.coverage * 255.0), 0, 255).astype(np.uint8), side)

    def clean_png(self) -> bytes:
        """Light ink on black, 8-bit grayscale, 28x28 (or the drawn size): the tidy reference."""
        return imagegen.mnist_png(np.clip(np.rint(self.coverage * 255.0), 0, 255).astype(np.uint8))


@st.composite
def mnist_digits(draw: st.DrawFn) -> Digit:
    index = draw(st.integers(0, MNIST_CHOICES - 1))
    return Digit(f"mnist[{index}]", imagegen.mnist_digit(index).astype(np.float32) / 255.0)


@st.composite
def stroke_digits(draw: st.DrawFn) -> Digit:
    """One to three pen strokes in the middle of a 56 px field, like a drawn digit."""
    point = st.tuples(st.floats(0.2, 0.8), st.floats(0.2, 0.8))
    strokes = draw(
        st.lists(st.lists(point, min_size=2, max_size=6), min_size=1, max_size=3).filter(_spans_a_quarter)
    )
    width = draw(st.floats(2.5, 6.0))
    coverage = imagegen.stroke_digit(strokes, 56, width)
    return Digit(f"strokes({len(strokes)}, width={width:.1f})", coverage)


def _spans_a_quarter(strokes: list[list[tuple[float, float]]]) -> bool:
    """A digit, not a dot: the strokes reach across at least a quarter of the field."""
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    return max(max(xs) - min(xs), max(ys) - min(ys)) >= 0.25


def digits() -> st.SearchStrategy[Digit]:
    return st.one_of(mnist_digits(), stroke_digits())


@st.composite
def ink_and_paper(draw: st.DrawFn) -> tuple[imagegen.Colour, imagegen.Colour]:
    """Dark ink on light paper or light ink on dark paper, in any tint."""
    dark, light = draw(DARK), draw(LIGHT)
    return (dark, light) if draw(st.booleans()) else (light, dark)


class Upload:
    def __init__(self, digit: Digit, data: bytes, mode: str, description: str) -> None:
        self.digit, self.data, self.mode, self.description = digit, data, mode, description

    def __repr__(self) -> str:
        return f"Upload({self.description})"


@st.composite
def uploads(draw: st.DrawFn) -> Upload:
    """A digit in any accepted format and mode, at any size, anywhere on a larger sheet."""
    digit = draw(digits())
    fmt = draw(st.sampled_from(sorted(imagegen.MODES_BY_FORMAT)))
    mode = draw(st.sampled_from(imagegen.MODES_BY_FORMAT[fmt]))
    # Two-level images turn thin strokes into jagged pixel stairs at small sizes;
    # a person sending a 1-bit image sends a larger one.
    side = draw(st.integers(84 if mode == "1" else 28, 320))
    width = side + draw(st.integers(0, side))
    height = side + draw(st.integers(0, side))
    at = (draw(st.integers(0, width - side)), draw(st.integers(0, height - side)))
    ink, paper = draw(ink_and_paper())
    coverage = imagegen.place(digit.at(side), (width, height), at)
    image = imagegen.in_mode(coverage, mode, ink, paper)
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options["quality"] = draw(st.integers(50, 95))
    if fmt == "WEBP":
        options["lossless"] = draw(st.booleans())
    description = f"{digit.name} as {fmt} {mode} {width}x{height}, {side} px at {at}, ink {ink} on {paper}, {options}"
    return Upload(digit, imagegen.encode(image, fmt, **options), mode, description)
