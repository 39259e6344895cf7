"""Workflow task Preprocess: the upload becomes the 28x28 tensor the model reads.

In: the state after Validate. Out: the same facts plus ``tensor`` (float32,
base64) and ``thumbnail`` (the uint8 image the model sees, base64); the raw
image is not passed on. Fails with ``InvalidImage``, ``ImageTooLarge`` or
``NoDigitFound``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.config import PreprocessSettings
from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.deadline import Deadline


def build(settings: PreprocessSettings) -> Handler:
    from functions.core import imaging
    from functions.core.predictions import encode_tensor, raw_image
    from functions.core.tasks import PREPROCESS
    from functions.handlers._tasks import observability, task_handler

    def preprocess(event: dict[str, Any], _deadline: Deadline) -> dict[str, Any]:
        result = imaging.preprocess(raw_image(event), settings.max_image_pixels)
        passed_on = {key: value for key, value in event.items() if key != "image"}
        return {
            **passed_on,
            "tensor": encode_tensor(result.tensor),
            "thumbnail": imaging.thumbnail_base64(result.tensor),
        }

    return task_handler(PREPROCESS.stage, observability(settings), preprocess)


handler = cold_start(build, PreprocessSettings)
