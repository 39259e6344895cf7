"""Turns the bytes of an uploaded image into the 28x28 tensor the model reads.

MNIST style: the ink is found whatever its colour, polarity or lighting, cropped
to its bounding box, scaled so its longer side is 20 px, and placed in a 28x28
field with its centre of mass at the centre; values in [0, 1], ink high.

Nothing here knows of Lambda or HTTP: failures are the error table's exceptions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageOps

from functions.core.errors import BadRequest, ImageTooLarge, InvalidImage, NoDigitFound, UnsupportedImageType
from functions.core.limits import DEFAULT_MAX_PIXELS as DEFAULT_MAX_PIXELS
from functions.core.limits import MAX_IMAGE_BYTES as MAX_IMAGE_BYTES
from functions.core.limits import SIDE as SIDE

BOX = 20
# Longer side of the image the ink is looked for in: enough detail for a small
# digit in a photo, small enough to stay fast.
WORKING_SIDE = 256
# Images smaller than this are upscaled first so strokes stay several pixels wide.
MIN_WORKING_SIDE = 112

# Contrast (on a 0-255 scale) below which an image is considered blank.
MIN_INK_CONTRAST = 24.0
# How many standard deviations of the paper's grain the ink must stand above it:
# to exist at all, to be surely ink (its bounding box), to count as ink at all.
# A clean rendering has no grain, so only the contrast rules apply to it.
INK_OVER_NOISE = 8.0
THRESHOLD_OVER_NOISE = 4.0
FLOOR_OVER_NOISE = 3.0
# The paper's level is estimated on a grid of this many blocks a side.
BACKGROUND_GRID = 8
# Ink narrower than this at working resolution is looked at again in more detail.
SMALL_INK_SIDE = 64
# A mark is a dot or a short dash, not a digit, when it spans fewer than this many
# of its own stroke widths (the side of the largest square of ink in it) and is
# small in the upload. Measured on the project's sets (model/calibrate.py): taps
# and dashes span 1.4-1.9 stroke widths; among 20,000 MNIST training digits sent
# as PNGs the boldest span 1.85, but each fills over 0.6 of its image.
DOT_MAX_STROKES = 2.5
# ...and it is small when its longer side is under this share of the upload's
# shorter side (a tap on the pad is 0.07 of it, the smallest drawn digit 0.3).
DOT_MAX_SHARE = 0.2
TOO_SMALL_MESSAGE = "The mark is too small to be a digit. Please draw the digit bigger."
# Formats whose pixels are exact (and WebP's lossless kind), so that a block's most
# ink-like pixel is ink, not compression noise: they are reduced to working size
# keeping their thinnest strokes.
LOSSLESS_FORMATS = ("png", "gif", "bmp")

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"WEBP", 8, "WEBP"),
)
Box = tuple[float, float, float, float]
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.+-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class ImageInfo:
    """What the service records about an upload."""

    format: str
    width: int
    height: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Preprocessed:
    tensor: np.ndarray  # (28, 28) float32 in [0, 1]
    info: ImageInfo


def decode_upload(image_field: object, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The raw bytes of the ``image`` field: plain base64 or a ``data:`` URL."""
    if not isinstance(image_field, str) or not image_field:
        raise BadRequest("The image must be sent as a string of base64 or as a data: URL.")
    text = image_field.strip()
    if text[:5].lower() == "data:":
        match = _DATA_URL.match(text)
        if match is None:
            raise BadRequest("The image is a data: URL but not a base64 one.")
        text = text[match.end() :]
    # Line breaks are allowed (base64 tools wrap at 76 characters) and take no room.
    text = "".join(text.split())
    # Size check before decoding: base64 is 4 characters per 3 bytes.
    if len(text) > (max_bytes + 2) // 3 * 4:
        raise ImageTooLarge(f"The image is larger than {max_bytes // 1024} KB. Please send a smaller one.")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The image is not valid base64.") from None
    if not raw:
        raise BadRequest("The image is empty: it has no bytes at all.")
    if len(raw) > max_bytes:
        raise ImageTooLarge(f"The image is larger than {max_bytes // 1024} KB. Please send a smaller one.")
    return raw


def sniff_format(data: bytes) -> str:
    """The image format from its first bytes, whatever the file is called."""
    for signature, offset, name in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if name == "WEBP" and not data.startswith(b"RIFF"):
                continue
            return name
    raise UnsupportedImageType()


def inspect(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[Image.Image, ImageInfo]:
    """Opens the image lazily and checks its header; nothing is decoded yet."""
    fmt = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=[fmt])
        width, height = image.size
    except Image.DecompressionBombError:
        raise ImageTooLarge(_too_many_pixels(max_pixels)) from None
    except Exception:  # noqa: BLE001 - any failure of the decoder means unreadable data
        raise InvalidImage(f"The {fmt} header is corrupt or truncated, so the image cannot be read.") from None
    if width < 1 or height < 1:
        raise InvalidImage("The image has no pixels at all.")
    if width * height > max_pixels:
        raise ImageTooLarge(_too_many_pixels(max_pixels, width, height))
    info = ImageInfo(fmt.lower(), width, height, len(data), hashlib.sha256(data).hexdigest())
    return image, info


def preprocess(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Preprocessed:
    """The model's input for one uploaded image."""
    image, info = inspect(data, max_pixels)
    with _reading(info):
        source = _decoded(image, WORKING_SIDE)
    lossless = info.format in LOSSLESS_FORMATS or (info.format == "webp" and _webp_image_chunk(data) == b"VP8L")
    working = _working_image(source, lossless)
    # A digit a few working pixels across is no speck when there is more detail to look at.
    ink = _find_ink(working, specks_are_ink=_has_more_detail(working.size, info))
    share = ink.longer_side() / min(working.size)
    region = _closer_look_region(ink, info)
    if region is not None:
        # A small digit in a big photo: look again at its surroundings in full detail.
        detailed = source
        if region.wanted_side > max(source.size):  # only a JPEG is decoded at less than full size
            with _reading(info):
                detailed = _decoded(Image.open(io.BytesIO(data), formats=[info.format.upper()]), region.wanted_side)
        ink = _find_ink(_working_image(detailed, lossless, region.fractions))
    if share < DOT_MAX_SHARE and ink.spans_in_strokes() < DOT_MAX_STROKES:
        raise NoDigitFound(TOO_SMALL_MESSAGE)
    return Preprocessed(_center(ink.levels()), info)


def _webp_image_chunk(data: bytes) -> bytes:
    """The kind of a WebP's image data: ``VP8 `` (lossy) or ``VP8L`` (lossless), found by
    walking its RIFF chunks (empty if there is none at the top level, as in an animation)."""
    offset = 12
    while offset + 8 <= len(data):
        kind, size = data[offset : offset + 4], int.from_bytes(data[offset + 4 : offset + 8], "little")
        if kind in (b"VP8 ", b"VP8L"):
            return kind
        offset += 8 + size + size % 2
    return b""


def tensor_to_uint8(tensor: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(tensor * 255.0), 0, 255).astype(np.uint8)


def thumbnail_base64(tensor: np.ndarray) -> str:
    """Base64 of the 28x28 uint8 the model saw (row-major, ink high)."""
    return base64.b64encode(tensor_to_uint8(tensor).tobytes()).decode("ascii")


def _too_many_pixels(max_pixels: int, width: int | None = None, height: int | None = None) -> str:
    size = f" ({width}x{height})" if width else ""
    return f"The image{size} has more than {max_pixels:,} pixels. Please send a smaller one."


@contextmanager
def _reading(info: ImageInfo) -> Iterator[None]:
    """Any failure of a decoder means the data is unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except Exception:  # noqa: BLE001 - Pillow's decoders raise many unrelated types
        raise InvalidImage(
            f"The {info.format.upper()} data is corrupt or truncated, so the image cannot be read."
        ) from None


def _decoded(image: Image.Image, wanted_side: int) -> Image.Image:
    """The first frame, upright, in L, LA, RGB or RGBA; a JPEG only as detailed as needed."""
    if image.format == "JPEG":
        # DCT scaling: decodes a big photo at 1/2..1/8 size for a fraction of the cost.
        factor = min(1.0, wanted_side / max(image.size))
        request = (max(1, math.ceil(image.width * factor)), max(1, math.ceil(image.height * factor)))
        # Scale only: the mode stays the file's (a draft mode changes nothing but YCbCr and L).
        image.draft(None, request)
    image.seek(0)
    image.load()
    return _to_supported_mode(ImageOps.exif_transpose(image))


def _working_image(image: Image.Image, lossless: bool, fractions: Box | None = None) -> Image.Image:
    """The image (or a region of it, as fractions of its size) at working resolution,
    in L or RGB, with its transparent parts turned into paper."""
    if fractions is not None:
        left, top, right, bottom = fractions
        width, height = image.size
        image = image.crop(
            (
                math.floor(left * width),
                math.floor(top * height),
                max(math.floor(left * width) + 1, math.ceil(right * width)),
                max(math.floor(top * height) + 1, math.ceil(bottom * height)),
            )
        )
    if image.mode in ("LA", "RGBA"):
        image = _on_paper(image)
    longer = max(image.size)
    if longer > WORKING_SIDE:
        factor = -(-longer // WORKING_SIDE)
        # Averaging k x k pixels would leave a one-pixel stroke 1/k of its contrast:
        # split between blocks, under the ink threshold; on a big canvas, under MIN_INK_CONTRAST.
        image = _reduced_keeping_strokes(image, factor) if lossless else image.reduce(factor)
    elif longer < MIN_WORKING_SIDE:
        # An odd factor samples every pixel's own centre too, so the finest stroke
        # keeps its contrast (an even one only samples between pixels).
        scale = -(-MIN_WORKING_SIDE // longer) | 1
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.BILINEAR)
    return image


def _reduced_keeping_strokes(image: Image.Image, factor: int) -> Image.Image:
    """What ``image.reduce(factor)`` gives, except that in a clean drawing each block
    takes, channel by channel, its pixel value farthest from the paper: a line one
    pixel wide keeps its whole contrast, however much the drawing is reduced."""
    pixels = np.asarray(image)
    channels = len(image.getbands())
    border = _border_pixels(pixels, channels)
    paper = np.asarray(_paper_colour(border), dtype=np.int16)
    if max(_middle_value(np.abs(border[:, channel] - paper[channel]).astype(np.uint8)) for channel in range(channels)):
        # Paper with grain (a photo saved losslessly): a block's extreme would be the
        # grain's, and averaging quietens it.
        return image.reduce(factor)
    height, width = -(-image.height // factor), -(-image.width // factor)
    padding = ((0, height * factor - image.height), (0, width * factor - image.width)) + ((0, 0),) * (pixels.ndim - 2)
    rows = np.pad(pixels, padding, mode="edge").reshape(height, factor, width * factor * channels)
    # Extremes of each block, taken along its rows first: far faster than both axes at once.
    lowest = rows.min(axis=1).reshape(height, width, factor, channels).min(axis=2)
    highest = rows.max(axis=1).reshape(height, width, factor, channels).max(axis=2)
    farthest = np.where(np.abs(highest - paper) > np.abs(lowest - paper), highest, lowest).astype(np.uint8)
    return Image.fromarray(farthest if channels > 1 else farthest[:, :, 0], image.mode)


def _to_supported_mode(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("L", "RGB", "LA", "RGBA"):
        return image
    if mode.startswith("I;16") or mode == "I":  # 16-bit PNGs (no accepted format decodes to "F")
        # Pillow's convert("L") clips 16-bit values instead of scaling them.
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(values * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if mode == "P" and "transparency" in image.info or mode == "PA":
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def _on_paper(image: Image.Image) -> Image.Image:
    """Transparent pixels are paper."""
    if image.getchannel(image.mode[-1]).getextrema() == (255, 255):
        return image.convert(image.mode[:-1])
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    # Samples are enough to judge the colours: one of pixels as they are (their
    # alpha exact), one of block averages (every stroke pixel weighs in, even one
    # that the first steps over).
    step = max(1, max(image.size) // 64)
    sample = rgba.resize((-(-image.width // step), -(-image.height // step)), Image.Resampling.NEAREST)
    pixels, averaged = np.asarray(sample, dtype=np.float32), np.asarray(rgba.reduce(step), dtype=np.float32)
    paper = _paper_under_transparency(pixels[:, :, :3], pixels[:, :, 3], _ink_brightness(averaged))
    backdrop = Image.new("RGBA", image.size, paper)
    return Image.alpha_composite(backdrop, rgba).convert(image.mode[:-1])


def _ink_brightness(pixels: np.ndarray) -> float:
    """The mean brightness of RGBA pixels, weighted by their opacity (0 if there are none)."""
    weight = float(pixels[:, :, 3].sum())
    return float((pixels[:, :, :3].mean(axis=2) * pixels[:, :, 3]).sum()) / weight if weight else 0.0


def _paper_under_transparency(
    colour: np.ndarray, alpha: np.ndarray, ink_brightness: float
) -> tuple[int, int, int, int]:
    """The paper colour for the transparent pixels of an image, from its opaque ones.

    A canvas export fades its strokes out through alpha: the paper is white under
    dark ink and black under light ink. An image with on/off transparency (GIF,
    palette PNG) fades its strokes into a matte colour instead: the matte, seen
    where the opaque part meets the transparent one, is the paper.
    """
    opaque = alpha > 0
    on_off = bool(np.all(alpha[opaque] == 255))
    edge = opaque & ~_interior(opaque)
    # Ink and paper both opaque: they differ in some channel (perhaps only one).
    if on_off and edge.any() and float(np.ptp(colour[opaque], axis=0).max(initial=0.0)) > MIN_INK_CONTRAST * 2:
        matte = colour[edge].mean(axis=0)
        red, green, blue = (int(round(float(level))) for level in matte)
        return red, green, blue, 255
    paper = 255 if ink_brightness < 128.0 else 0
    return paper, paper, paper, 255


def _interior(mask: np.ndarray) -> np.ndarray:
    """Pixels of the mask whose four neighbours are all in it too."""
    padded = np.pad(mask, 1, mode="edge")
    interior: np.ndarray = mask & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return interior


def _ink_map(image: Image.Image) -> np.ndarray:
    """How far each pixel is from the paper under it, 0 = paper (float32, H x W)."""
    channels = len(image.getbands())
    paper = _paper_colour(_border_pixels(np.asarray(image), channels))
    difference = ImageChops.difference(image, Image.new(image.mode, image.size, paper if channels > 1 else paper[0]))
    if channels > 1:
        # Coloured ink differs from coloured paper in at least one channel.
        red, green, blue = difference.split()
        difference = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    distance = np.asarray(difference)
    strength: np.ndarray = distance.astype(np.float32) - _background(distance)
    return strength


def _border_pixels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """The pixels along the image's edges, (N, channels) int16."""
    return np.concatenate([strip.reshape(-1, channels) for strip in _border_strips(pixels)]).astype(np.int16)


def _paper_colour(border: np.ndarray) -> tuple[int, ...]:
    """The median colour of the border pixels, channel by channel."""
    return tuple(_middle_value(border[:, channel]) for channel in range(border.shape[1]))


def _middle_value(values: np.ndarray) -> int:
    """The median of uint8 values (the lower one of an even count), by counting."""
    counts = np.bincount(values, minlength=256).cumsum()
    return int(np.searchsorted(counts, (values.size - 1) // 2, side="right"))


def _border_strips(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top, bottom, left and right edges of the image: where the paper is expected."""
    ring = max(1, min(values.shape[0], values.shape[1]) // 32)
    return values[:ring], values[-ring:], values[:, :ring], values[:, -ring:]


def _background(distance: np.ndarray) -> np.ndarray:
    """Slowly varying level of the paper (shadows, tinted light), to subtract.

    A low percentile per block is paper even where a thick stroke crosses the
    block; the coarse grid is then smoothed back to full size.
    """
    height, width = distance.shape
    block_h, block_w = -(-height // BACKGROUND_GRID), -(-width // BACKGROUND_GRID)
    padded = np.pad(
        distance, ((0, block_h * BACKGROUND_GRID - height), (0, block_w * BACKGROUND_GRID - width)), mode="edge"
    )
    blocks = padded.reshape(BACKGROUND_GRID, block_h, BACKGROUND_GRID, block_w).transpose(0, 2, 1, 3)
    levels = _quarter_levels(blocks.reshape(BACKGROUND_GRID * BACKGROUND_GRID, -1))
    paper = _lowest_of_neighbours(levels.reshape(BACKGROUND_GRID, BACKGROUND_GRID))
    rows, cols = _upscaling_weights(height, BACKGROUND_GRID), _upscaling_weights(width, BACKGROUND_GRID)
    background: np.ndarray = rows @ paper @ cols.T
    return background


def _lowest_of_neighbours(levels: np.ndarray) -> np.ndarray:
    """Each block's level or a lower neighbour's: a block a thick stroke fills
    takes the paper level beside it instead of hollowing the stroke out."""
    padded = np.pad(levels, 1, mode="edge")
    size_y, size_x = levels.shape
    shifted = [padded[dy : dy + size_y, dx : dx + size_x] for dy in range(3) for dx in range(3)]
    lowest: np.ndarray = np.min(shifted, axis=0)
    return lowest


def _quarter_levels(blocks: np.ndarray) -> np.ndarray:
    """The value a quarter of the way up each row of uint8 values (a histogram per row:
    several times faster than sorting)."""
    count, size = blocks.shape
    offsets = (np.arange(count, dtype=np.int32) * 256)[:, None]
    histograms = np.bincount((blocks + offsets).ravel(), minlength=count * 256).reshape(count, 256)
    levels: np.ndarray = np.argmax(histograms.cumsum(axis=1) > size // 4, axis=1).astype(np.float32)
    return levels


@lru_cache(maxsize=64)
def _upscaling_weights(size: int, grid: int) -> np.ndarray:
    """(size, grid) matrix doing what Pillow's bilinear resize of ``grid`` values to ``size`` does."""
    weights = np.empty((size, grid), dtype=np.float32)
    for cell in range(grid):
        impulse = np.zeros((1, grid), dtype=np.float32)
        impulse[0, cell] = 1.0
        spread = Image.fromarray(impulse, "F").resize((size, 1), Image.Resampling.BILINEAR)
        weights[:, cell] = np.asarray(spread, dtype=np.float32)[0]
    weights.flags.writeable = False
    return weights


@dataclass(frozen=True)
class _Ink:
    """Where the ink is in the working pixels and how strong it is."""

    strength: np.ndarray  # distance from the paper, 0-255 scale, (H, W)
    peak: float
    threshold: float  # surely ink above this
    floor: float  # surely paper below this
    box: tuple[int, int, int, int]  # left, top, right, bottom of the ink

    def longer_side(self) -> int:
        left, top, right, bottom = self.box
        return max(right - left, bottom - top)

    def spans_in_strokes(self) -> float:
        """The ink's longer side in stroke widths: a dot's is about 1.4, a digit's 3 or more."""
        left, top, right, bottom = self.box
        return self.longer_side() / _largest_square_side(self.strength[top:bottom, left:right] > self.threshold)

    def levels(self) -> np.ndarray:
        """The ink cropped to its box, 0 (paper) to 1 (full ink)."""
        left, top, right, bottom = self.box
        span = max(self.peak * 0.75 - self.floor, 1.0)
        return np.clip((self.strength[top:bottom, left:right] - self.floor) / span, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class _Region:
    fractions: Box  # left, top, right, bottom as fractions of the image
    wanted_side: int  # longer side of the whole image to decode for it


def _find_ink(image: Image.Image, specks_are_ink: bool = False) -> _Ink:
    strength = _ink_map(image)
    paper, noise = _paper_statistics(strength)
    peak = float(strength.max(initial=0.0))
    if peak - paper < max(MIN_INK_CONTRAST, INK_OVER_NOISE * noise):
        raise NoDigitFound()
    threshold = max(MIN_INK_CONTRAST / 2, 0.3 * peak, paper + THRESHOLD_OVER_NOISE * noise)
    floor = max(threshold * 0.5, paper + FLOOR_OVER_NOISE * noise)
    mask = strength > threshold
    # Not a median filter: it would drop strokes a pixel or two wide (a thin pen,
    # a small digit in a big photo) whenever thicker ink is there too.
    box = _bounding_box(_without_specks(mask)) or (_bounding_box(mask) if specks_are_ink else None)
    if box is None:
        raise NoDigitFound()
    return _Ink(strength, peak, threshold, floor, box)


def _paper_statistics(strength: np.ndarray) -> tuple[float, float]:
    """Level and grain (robust standard deviation) of the paper along the border;
    both zero for a clean rendering."""
    border = np.concatenate([strip.ravel() for strip in _border_strips(strength)])
    level = float(np.median(border))
    return level, 1.4826 * float(np.median(np.abs(border - level)))


def _without_specks(mask: np.ndarray) -> np.ndarray:
    """The mask without pixels that have fewer than two neighbours in it: noise goes,
    strokes even one pixel wide stay."""
    return mask & (_neighbour_count(mask) >= 3)


def _neighbour_count(mask: np.ndarray) -> np.ndarray:
    """How many of each pixel's 3x3 neighbourhood (itself included, edges repeated) are set."""
    padded = np.pad(mask.astype(np.uint8), 1, mode="edge")
    height, width = mask.shape
    count = np.zeros(mask.shape, dtype=np.uint8)
    for dy in range(3):
        for dx in range(3):
            count += padded[dy : dy + height, dx : dx + width]
    return count


def _largest_square_side(mask: np.ndarray) -> int:
    """Side of the largest square of set pixels (odd sides): each 3x3 erosion takes
    a pixel off every side, and outside the mask counts as unset."""
    side, remaining = 1, mask
    while True:
        padded = np.pad(remaining, 1)
        height, width = remaining.shape
        remaining = np.logical_and.reduce(
            [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)]
        )
        if not remaining.any():
            return side
        side += 2


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _closer_look_region(ink: _Ink, info: ImageInfo) -> _Region | None:
    """The surroundings of a digit too small at working resolution, if the image has more detail."""
    height, width = ink.strength.shape
    left, top, right, bottom = ink.box
    ink_side = max(right - left, bottom - top)
    full_side = max(info.width, info.height)
    if ink_side >= SMALL_INK_SIDE or not _has_more_detail((width, height), info):
        return None
    margin = ink_side * 0.5 + 2
    fractions = (
        max(0.0, (left - margin) / width),
        max(0.0, (top - margin) / height),
        min(1.0, (right + margin) / width),
        min(1.0, (bottom + margin) / height),
    )
    region_share = max(fractions[2] - fractions[0], fractions[3] - fractions[1])
    # Enough of the whole image for the region to span the working side.
    return _Region(fractions, min(full_side, math.ceil(WORKING_SIDE / region_share)))


def _has_more_detail(working_size: tuple[int, int], info: ImageInfo) -> bool:
    """Whether the upload is half as large again as its working image, or more."""
    return max(info.width, info.height) >= max(working_size) * 1.5


def _center(crop: np.ndarray) -> np.ndarray:
    """Longer side to 20 px, centre of mass at the centre of 28x28."""
    height, width = crop.shape
    scale = BOX / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = np.clip(np.asarray(Image.fromarray(crop, "F").resize((new_w, new_h), resample)), 0.0, 1.0)
    strongest = float(resized.max())
    if strongest <= 0.0:
        raise NoDigitFound()
    if strongest < 1.0:
        # Scaling down spreads a stroke thinner than the new pixels over them, faint;
        # MNIST's strongest ink is always full (254 or 255 of 255), so the tensor's is too.
        resized = resized / strongest
    mass = float(resized.sum())
    rows, cols = np.indices(resized.shape, dtype=np.float32)
    com_y, com_x = float((rows * resized).sum()) / mass, float((cols * resized).sum()) / mass
    top = int(round(SIDE / 2 - com_y))
    left = int(round(SIDE / 2 - com_x))
    top = min(max(top, 0), SIDE - new_h)
    left = min(max(left, 0), SIDE - new_w)
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    out[top : top + new_h, left : left + new_w] = resized
    return out
