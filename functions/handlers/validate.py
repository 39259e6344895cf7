"""Workflow task Validate: checks the request and the upload before any decoding.

In: the execution input ``{"requestId", "request"}``. Out: the state with the
upload's bytes (base64), ``clientId``, ``createdAt`` and the ``input`` facts
read from the image header (format, size, bytes, sha256). Fails with
``BadRequest``, ``ImageTooLarge``, ``UnsupportedImageType`` or ``InvalidImage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.config import ValidateSettings
from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.deadline import Deadline


def build(settings: ValidateSettings) -> Handler:
    from functions.core import imaging
    from functions.core.predictions import parse_request, validated_state
    from functions.core.tasks import VALIDATE
    from functions.handlers._tasks import observability, task_handler

    def validate(event: Any, _deadline: Deadline) -> dict[str, Any]:
        request = parse_request(event)
        raw = imaging.decode_upload(request.image_field, settings.max_image_bytes)
        _, info = imaging.inspect(raw, settings.max_image_pixels)
        return validated_state(request, raw, info)

    return task_handler(VALIDATE.stage, observability(settings), validate)


handler = cold_start(build, ValidateSettings)
