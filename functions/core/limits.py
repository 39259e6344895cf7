"""Limits and sizes that several parts of the service share.

Deliberately free of numpy and Pillow: the configuration, the history store and
the handlers that never touch an image (persist, history) read these without
paying for the imaging libraries on their cold start.
"""

from __future__ import annotations

# Largest decoded upload: keeps the workflow's state data under 256 KB once
# base64-encoded (180 KiB * 4/3 = 240 KiB plus the envelope).
MAX_IMAGE_BYTES = 180 * 1024
# Pixel budget checked from the header, before any decoding.
DEFAULT_MAX_PIXELS = 40_000_000
# Side of the square image the model reads (MNIST's 28x28), and of the thumbnail.
SIDE = 28
