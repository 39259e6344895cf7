"""What the preprocessing is measured against: the MNIST convention, and an
independent normalisation of a known ink coverage.

The convention is MNIST's (LeCun, Cortes, Burges): each digit's bounding box
scaled so its longer side is 20 px, placed in a 28x28 field with its centre of
mass, shifted by whole pixels, at the centre. Measured on MNIST's own test
digits (tests/property/test_reference_properties.py checks it): every longer
side is 20 px; the centre of mass, as row and column indices weighted by ink,
averages (13.99, 14.00) with a spread of 0.29 px, exactly that of a whole-pixel
shift rounding within half a pixel of (14, 14); the strongest ink of every
digit is 254 or 255 of 255.

Nothing here imports the preprocessing: the point is to compare it with
something it does not share.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

MNIST_SIDE = 28
MNIST_BOX = 20
MNIST_CENTRE = (14.0, 14.0)
# A whole-pixel shift rounds the centre of mass to within half a pixel (plus
# float32 arithmetic).
CENTRING_TOLERANCE = 0.5 + 1e-3
# The box of a tensor's ink, measured where the ink is visible at all.
VISIBLE_INK = 1.0 / 255.0


def ink_box(tensor: np.ndarray, level: float = VISIBLE_INK) -> tuple[int, int, int, int] | None:
    """Top, left, bottom, right (exclusive) of the pixels at or above ``level``."""
    rows = np.flatnonzero((tensor >= level).any(axis=1))
    cols = np.flatnonzero((tensor >= level).any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def longer_side(tensor: np.ndarray) -> int:
    box = ink_box(tensor)
    assert box is not None, "no ink at all"
    top, left, bottom, right = box
    return max(bottom - top, right - left)


def touches_the_border(tensor: np.ndarray) -> bool:
    box = ink_box(tensor)
    assert box is not None, "no ink at all"
    top, left, bottom, right = box
    return top == 0 or left == 0 or bottom == MNIST_SIDE or right == MNIST_SIDE


def centre_of_mass(tensor: np.ndarray) -> tuple[float, float]:
    """Row and column of the ink's centre of mass, in pixel indices."""
    weights = tensor.astype(np.float64)
    rows, cols = np.indices(weights.shape)
    mass = float(weights.sum())
    return float((rows * weights).sum()) / mass, float((cols * weights).sum()) / mass


def mnist_normalised(coverage: np.ndarray, ink_from: float = 0.25) -> np.ndarray:
    """The MNIST normalisation of a known ink coverage (float in [0, 1], any size), done
    independently of the service: the box of the coverage at or above ``ink_from``,
    Lanczos-resampled so its longer side is 20 px, shifted by whole pixels so its
    centre of mass sits at (14, 14)."""
    rows = np.flatnonzero((coverage >= ink_from).any(axis=1))
    cols = np.flatnonzero((coverage >= ink_from).any(axis=0))
    crop = coverage[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)
    scale = MNIST_BOX / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    scaled = np.clip(np.asarray(Image.fromarray(crop, "F").resize(size, Image.Resampling.LANCZOS)), 0.0, 1.0)
    centre_row, centre_col = centre_of_mass(scaled)
    top = min(max(round(MNIST_CENTRE[0] - centre_row), 0), MNIST_SIDE - scaled.shape[0])
    left = min(max(round(MNIST_CENTRE[1] - centre_col), 0), MNIST_SIDE - scaled.shape[1])
    field = np.zeros((MNIST_SIDE, MNIST_SIDE), dtype=np.float32)
    field[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return field


# The preprocessing refuses a mark both stubby and small in its image as too small
# to be a digit (functions/core/imaging.py: under DOT_MAX_STROKES = 2.5 stroke widths
# long and under DOT_MAX_SHARE = 0.2 of the image's shorter side). The strategies
# leave out marks near that rule, with a margin, when they mean to draw a digit:
# measured here on the coverage, before any encoding, by a different method.
STUBBY_STROKES = 3.0
SMALL_SHARE = 0.25


def too_small_to_be_a_digit(coverage: np.ndarray) -> bool:
    """Whether the ink (coverage >= 0.5) is under ``STUBBY_STROKES`` times the side
    of its largest solid square long and under ``SMALL_SHARE`` of the image."""
    mask = coverage >= 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return False
    extent = int(max(rows[-1] - rows[0], cols[-1] - cols[0])) + 1
    inked = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return extent < SMALL_SHARE * min(mask.shape) and extent < STUBBY_STROKES * _largest_solid_square(inked)


def _largest_solid_square(mask: np.ndarray) -> int:
    """The side of the largest all-ink square, from a summed-area table."""
    table = np.pad(mask.astype(np.int64), ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)
    side = 0
    while side < min(mask.shape):
        k = side + 1
        sums = table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]
        if not (sums == k * k).any():
            break
        side = k
    return side
