"""Secret values as the Pulumi wire protocol carries them in recorded inputs:
``{SECRET_SIGNATURE: SECRET_VALUE, "value": ...}`` around the whole property."""

from __future__ import annotations

from typing import Any

SECRET_SIGNATURE, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIGNATURE) == SECRET_VALUE


def revealed(value: Any) -> Any:
    """The value with every secret wrapper taken off."""
    if is_secret(value):
        return revealed(value["value"])
    if isinstance(value, dict):
        return {key: revealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revealed(item) for item in value]
    return value
