"""The error table: every failure the service reports, its HTTP status and a
message a person understands.

It is the one source of truth: the local server, the workflow's Catch
clauses and the API Gateway response templates are all derived from
``ERROR_TABLE``. Each code is also an exception class of the same name, because
a Lambda reports its exception's class name as ``errorType`` and Step Functions
matches Catch and Retry clauses on that name.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DigitError(Exception):
    """A failure the caller can be told about, with its code and status."""

    status: ClassVar[int] = 500
    # Whether a new attempt may cure it: the workflow retries only these.
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "Something went wrong on our side. Please try again."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return type(self).__name__

    def to_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)


class BadRequest(DigitError):
    status = 400
    default_message = "The request is malformed."


class InvalidImage(DigitError):
    status = 400
    default_message = "The image is corrupt or truncated and cannot be read."


class ImageTooLarge(DigitError):
    status = 413
    default_message = "The image is too large."


class UnsupportedImageType(DigitError):
    status = 415
    default_message = "This file is not a supported image. Use PNG, JPEG, WebP, GIF or BMP."


class NoDigitFound(DigitError):
    status = 422
    default_message = "No digit was found in the image: it looks blank."


class NotFound(DigitError):
    status = 404
    default_message = "No such item."


class Throttled(DigitError):
    status = 429
    retryable = True
    default_message = "Too many requests. Please slow down and try again."


class ModelUnavailable(DigitError):
    status = 503
    retryable = True
    default_message = "The recognition model is unavailable right now. Please try again shortly."


class InternalError(DigitError):
    status = 500


ERROR_TABLE: dict[str, type[DigitError]] = {
    cls.__name__: cls
    for cls in (
        BadRequest,
        InvalidImage,
        ImageTooLarge,
        UnsupportedImageType,
        NoDigitFound,
        NotFound,
        Throttled,
        ModelUnavailable,
        InternalError,
    )
}

# Failures caused by the request itself: never retried by the workflow.
CLIENT_ERROR_CODES: tuple[str, ...] = tuple(
    code for code, cls in ERROR_TABLE.items() if 400 <= cls.status < 500 and not cls.retryable
)


def error_body(code: str, message: str) -> dict[str, Any]:
    """The contract's error JSON."""
    return {"error": {"code": code, "message": message}}
