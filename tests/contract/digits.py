"""Digits of known value, as people send them: MNIST test digits as plain PNG
uploads, drawings exported from the page's canvas (transparent PNG), and
phone photos (coloured ink on coloured paper, uneven light, JPEG)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache

from model.mnist_data import as_png
from tests import imagegen

# MNIST test digits any decent model reads right: 7, 2, 1, 0, 4.
CLEAR_INDICES = (0, 1, 2, 3, 4)
# A 2 and a 0 drawn on the page's 280 px canvas.
CANVAS_INDICES = (1, 3)
# A 7 and a 9 photographed.
PHOTO_INDICES = (0, 7)
CANVAS_SIDE = 280
PHOTO_SIZE = (640, 480)


@dataclass(frozen=True)
class KnownDigit:
    name: str
    data: bytes
    label: int
    media_type: str
    width: int
    height: int

    def data_url(self) -> str:
        return f"data:{self.media_type};base64," + base64.b64encode(self.data).decode("ascii")

    @property
    def format(self) -> str:
        """The image format as the item's ``input.format`` names it (any case)."""
        return self.media_type.split("/")[1].upper()


@cache
def clear_digits() -> tuple[KnownDigit, ...]:
    digits, labels = imagegen.mnist_test_digits()
    return tuple(
        KnownDigit(f"mnist-{index}", as_png(digits[index]), int(labels[index]), "image/png", 28, 28)
        for index in CLEAR_INDICES
    )


@cache
def canvas_drawings() -> tuple[KnownDigit, ...]:
    digits, labels = imagegen.mnist_test_digits()
    drawings = []
    for index in CANVAS_INDICES:
        coverage = imagegen.place(imagegen.ink_level(digits[index], 220), (CANVAS_SIDE, CANVAS_SIDE), (30, 25))
        data = imagegen.canvas_export(coverage)
        drawings.append(KnownDigit(f"canvas-{index}", data, int(labels[index]), "image/png", CANVAS_SIDE, CANVAS_SIDE))
    return tuple(drawings)


@cache
def phone_photos() -> tuple[KnownDigit, ...]:
    digits, labels = imagegen.mnist_test_digits()
    width, height = PHOTO_SIZE
    photos = []
    for index in PHOTO_INDICES:
        coverage = imagegen.place(imagegen.ink_level(digits[index], 300), PHOTO_SIZE, (170, 90))
        picture = imagegen.photo(coverage, (30, 40, 150), (230, 220, 160), lighting=0.45, texture=10.0, seed=index)
        data = imagegen.encode(picture, "JPEG", quality=80)
        photos.append(KnownDigit(f"photo-{index}", data, int(labels[index]), "image/jpeg", width, height))
    return tuple(photos)
