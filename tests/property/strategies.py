"""Hypothesis strategies that draw digits and render them as the files people send."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from tests import imagegen
from tests.property import reference

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
    strokes = draw(st.lists(st.lists(point, min_size=2, max_size=6), min_size=1, max_size=3).filter(_spans_a_quarter))
    width = draw(st.floats(2.5, 6.0))
    coverage = imagegen.stroke_digit(strokes, 56, width)
    return Digit(f"strokes({len(strokes)}, width={width:.1f})", coverage)


def _spans_a_quarter(strokes: list[list[tuple[float, float]]]) -> bool:
    """A digit, not a dot: the strokes reach across at least a quarter of the field."""
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    return max(max(xs) - min(xs), max(ys) - min(ys)) >= 0.25


def _spans(points: list[tuple[float, float]]) -> float:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return max(max(xs) - min(xs), max(ys) - min(ys))


def digits() -> st.SearchStrategy[Digit]:
    return st.one_of(mnist_digits(), stroke_digits())


@st.composite
def ink_and_paper(draw: st.DrawFn) -> tuple[imagegen.Colour, imagegen.Colour]:
    """Dark ink on light paper or light ink on dark paper, in any tint."""
    dark, light = draw(DARK), draw(LIGHT)
    return (dark, light) if draw(st.booleans()) else (light, dark)


class Upload:
    """An encoded image, with the ink coverage of the whole sheet it was drawn from."""

    def __init__(self, digit: Digit, data: bytes, mode: str, description: str, coverage: np.ndarray) -> None:
        self.digit, self.data, self.mode, self.description = digit, data, mode, description
        self.coverage = coverage  # float32 (height, width) in [0, 1], before colours and encoding

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
    assume(not reference.too_small_to_be_a_digit(coverage))
    return Upload(digit, imagegen.encode(image, fmt, **options), mode, description, coverage)


# Wider strategies: each draws what one class of bug breaks. Every upload keeps the
# ink coverage it was drawn from, the reference the tests compare the tensor with.

Formats = tuple[tuple[str, dict[str, object]], ...]
LOSSLESS: Formats = (("PNG", {}), ("BMP", {}), ("WEBP", {"lossless": True}))
# Ink and paper that differ in one channel only.
ONE_CHANNEL_PAIRS: dict[str, tuple[imagegen.Colour, imagegen.Colour]] = {
    "yellow on white": ((255, 255, 0), (255, 255, 255)),
    "blue on black": ((0, 0, 255), (0, 0, 0)),
    "red on magenta": ((255, 0, 0), (255, 0, 255)),
}


def _sheet_upload(
    draw: st.DrawFn,
    digit: Digit,
    coverage: np.ndarray,
    ink: imagegen.Colour,
    paper: imagegen.Colour,
    formats: Formats,
    modes: tuple[str, ...] = ("RGB",),
    what: str = "",
) -> Upload:
    fmt, options = draw(st.sampled_from(formats))
    mode = draw(st.sampled_from([mode for mode in modes if mode in imagegen.MODES_BY_FORMAT[fmt]]))
    assume(not reference.too_small_to_be_a_digit(coverage))
    height, width = coverage.shape
    description = f"{what}: {digit.name} as {fmt} {mode} {width}x{height}, ink {ink} on {paper}, {options}"
    return Upload(
        digit,
        imagegen.encode(imagegen.in_mode(coverage, mode, ink, paper), fmt, **options),
        mode,
        description,
        coverage,
    )


@st.composite
def _digit_on_a_sheet(draw: st.DrawFn, sides: st.SearchStrategy[int]) -> tuple[Digit, np.ndarray, str]:
    digit = draw(digits())
    side = draw(sides)
    sheet = (side + draw(st.integers(0, side // 2)), side + draw(st.integers(0, side // 2)))
    at = (draw(st.integers(0, sheet[0] - side)), draw(st.integers(0, sheet[1] - side)))
    return digit, imagegen.place(digit.at(side), sheet, at), f"{side} px at {at}"


@st.composite
def one_channel_colours(draw: st.DrawFn) -> tuple[imagegen.Colour, imagegen.Colour]:
    """Ink and paper that differ in one channel only: yellow on white, blue on black,
    red on magenta, or any pair with a clear difference in one channel.

    Exists to catch ink looked for in the brightness, or in some of the channels
    only (a channel ignored): such ink has little or no contrast there, and the
    digit becomes NoDigitFound or loses strokes."""
    if draw(st.booleans()):
        return draw(st.sampled_from(sorted(ONE_CHANNEL_PAIRS.values())))
    paper = draw(st.tuples(*[st.integers(0, 255)] * 3))
    channel = draw(st.integers(0, 2))
    level = paper[channel]
    difference = min(draw(st.integers(100, 255)), max(level, 255 - level))
    darker = level - difference >= 0 and (level + difference > 255 or draw(st.booleans()))
    ink = list(paper)
    ink[channel] = level - difference if darker else level + difference
    return (ink[0], ink[1], ink[2]), paper


@st.composite
def one_channel_uploads(draw: st.DrawFn) -> Upload:
    """A digit in colours that differ in one channel only, in every colour mode (see
    ``one_channel_colours`` for the bug class)."""
    digit, coverage, where = draw(_digit_on_a_sheet(st.integers(40, 200)))
    ink, paper = draw(one_channel_colours())
    formats: Formats = (*LOSSLESS, ("GIF", {}), ("JPEG", {"quality": 90}))
    return _sheet_upload(
        draw, digit, coverage, ink, paper, formats, ("RGB", "P", "P+transparency"), f"one channel, {where}"
    )


def faint_colours(contrast: st.SearchStrategy[int]) -> st.SearchStrategy[tuple[imagegen.Colour, imagegen.Colour]]:
    """Ink that differs from the paper by ``contrast`` (0-255) in one channel, or in all three."""

    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[imagegen.Colour, imagegen.Colour]:
        difference = draw(contrast)
        paper = draw(st.tuples(*[st.integers(0, 255)] * 3))
        channels = [draw(st.integers(0, 2))] if draw(st.booleans()) else [0, 1, 2]
        ink = list(paper)
        for channel in channels:
            ink[channel] = paper[channel] - difference if paper[channel] >= difference else paper[channel] + difference
        return (ink[0], ink[1], ink[2]), paper

    return pairs()


@st.composite
def faint_uploads(draw: st.DrawFn, contrast: st.SearchStrategy[int]) -> Upload:
    """A digit in ink only ``contrast`` away from the paper, losslessly, at a size that
    needs no downscaling to the working resolution (which would lower the contrast).

    Exists to catch the contrast rule off by one, measured on the wrong scale or
    in the wrong channels, or dropped (faint marks read as digits)."""
    digit, coverage, where = draw(_digit_on_a_sheet(st.integers(28, 160)))
    # Resampling can leave the strongest ink a little short of full: the contrast
    # drawn must be the contrast there is.
    coverage = coverage / float(coverage.max())
    ink, paper = draw(faint_colours(contrast))
    return _sheet_upload(draw, digit, coverage, ink, paper, LOSSLESS, ("RGB",), f"faint, {where}")


@st.composite
def stroke_width_uploads(draw: st.DrawFn) -> Upload:
    """Pen strokes from 1 px thin to a quarter of the field thick.

    Exists to catch thin strokes lost (a speck filter or threshold that eats lines
    one pixel wide) and thick ones hollowed out (a paper estimate taken from blocks
    that the stroke fills)."""
    side = draw(st.integers(40, 400))
    point = st.tuples(st.floats(0.15, 0.85), st.floats(0.15, 0.85))
    # Strokes, not dots: a speck a pixel or two across is rightly taken for dirt.
    stroke = st.lists(point, min_size=2, max_size=5).filter(lambda points: _spans(points) >= 0.1)
    strokes = draw(st.lists(stroke, min_size=1, max_size=3).filter(_spans_a_quarter))
    width = draw(st.one_of(st.floats(1.0, 2.0), st.floats(side * 0.1, side * 0.25)))
    shape = imagegen.stroke_digit(strokes, side, width)
    drawn = [[(round(x, 3), round(y, 3)) for x, y in stroke] for stroke in strokes]
    digit = Digit(f"strokes({drawn}, width={width:.2f} on {side})", shape)
    margin = draw(st.integers(4, side // 2))
    coverage = imagegen.place(shape, (side + 2 * margin, side + 2 * margin), (margin, margin))
    ink, paper = draw(ink_and_paper())
    return _sheet_upload(draw, digit, coverage, ink, paper, LOSSLESS, ("RGB", "L"), "stroke width")


@st.composite
def border_uploads(draw: st.DrawFn) -> Upload:
    """A digit touching the edge of the image, or cut by it.

    Exists to catch a crop box off by one at the image's edge, a paper colour taken
    from a border that is ink, and a region of interest clipped wrongly."""
    digit = draw(digits())
    side = draw(st.integers(40, 240))
    sheet = (side + draw(st.integers(0, side)), side + draw(st.integers(0, side)))
    # Flush with an edge, or up to a tenth of the digit outside it.
    overhang = draw(st.integers(0, side // 10))
    x = draw(st.sampled_from([-overhang, sheet[0] - side + overhang, (sheet[0] - side) // 2]))
    y = draw(st.sampled_from([-overhang, sheet[1] - side + overhang]))
    level = digit.at(side)
    coverage = np.zeros((sheet[1], sheet[0]), dtype=np.float32)
    top, left, bottom, right = max(y, 0), max(x, 0), min(y + side, sheet[1]), min(x + side, sheet[0])
    coverage[top:bottom, left:right] = level[top - y : bottom - y, left - x : right - x]
    ink, paper = draw(ink_and_paper())
    return _sheet_upload(
        draw, digit, coverage, ink, paper, LOSSLESS, ("RGB", "L"), f"at the border, {side} px at {(x, y)}"
    )


@st.composite
def huge_canvas_uploads(draw: st.DrawFn) -> Upload:
    """A small digit (30-90 px) somewhere on a canvas 8 to 40 times larger.

    Exists to catch the closer look at a small digit going wrong: its region
    placed or sized wrongly, the image reduced by the wrong factor, the detail
    decoded at the wrong size."""
    digit = draw(digits())
    side = draw(st.integers(30, 90))
    sheet = (draw(st.integers(side * 8, min(side * 40, 3000))), draw(st.integers(side * 8, min(side * 40, 3000))))
    at = (draw(st.integers(0, sheet[0] - side)), draw(st.integers(0, sheet[1] - side)))
    coverage = imagegen.place(digit.at(side), sheet, at)
    ink, paper = draw(ink_and_paper())
    formats: Formats = (("PNG", {}), ("GIF", {}), ("JPEG", {"quality": 92}))
    return _sheet_upload(draw, digit, coverage, ink, paper, formats, ("RGB", "L"), f"huge canvas, {side} px at {at}")


@st.composite
def photo_uploads(draw: st.DrawFn) -> Upload:
    """A photo: coloured ink on tinted paper, light falling off across the sheet,
    paper grain and sensor noise, saved as a JPEG or a PNG.

    Exists to catch the paper's shading or grain read as ink (the background or
    the noise estimate wrong), and faint parts of strokes lost to them."""
    digit, coverage, where = draw(_digit_on_a_sheet(st.integers(60, 300)))
    ink, paper = draw(ink_and_paper())
    photo = imagegen.photo(
        coverage,
        ink,
        paper,
        lighting=draw(st.floats(0.0, 0.5)),
        texture=draw(st.floats(0.0, 12.0)),
        seed=draw(st.integers(0, 1000)),
    )
    fmt, options = draw(st.sampled_from((("PNG", {}), ("JPEG", {"quality": draw(st.integers(60, 95))}))))
    size = f"{coverage.shape[1]}x{coverage.shape[0]}"
    description = f"photo, {where}: {digit.name} as {fmt} {size}, ink {ink} on {paper}, {options}"
    assume(not reference.too_small_to_be_a_digit(coverage))
    return Upload(digit, imagegen.encode(photo, fmt, **options), "RGB", description, coverage)


def wide_uploads() -> st.SearchStrategy[Upload]:
    """Every kind of upload the wider strategies draw."""
    return st.one_of(
        one_channel_uploads(),
        faint_uploads(st.integers(40, 80)),
        stroke_width_uploads(),
        border_uploads(),
        huge_canvas_uploads(),
        photo_uploads(),
    )
