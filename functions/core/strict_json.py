"""JSON exactly as RFC 8259 has it, and no deeper than a bound.

Python's ``json`` module is lenient where the rest of the service is not:
it reads ``NaN`` and ``Infinity``, which are not JSON (and which no store or
AWS service takes back); it turns a lone surrogate escape (``"\\ud800"``) into
a ``str`` that cannot be encoded as UTF-8, so SQLite, boto3 and every HTTP
answer fail on it later; and it recurses once per nesting level. Text read
here is refused up front instead: ``loads`` raises ``NotStrictJson`` (a
``ValueError``) whose message tells a person what is wrong.

    loads('{"a": [1, 2]}', max_depth=32)  # {'a': [1, 2]}
"""

from __future__ import annotations

import array
import itertools
import json
import re
from typing import Any

# A JSON string, escapes included, so that brackets inside strings are not counted.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
# Each bracket as one signed byte: +1 opens a level, -1 (0xff) closes one.
_DEPTH_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})

NOT_JSON_MESSAGE = "The request body must be JSON."


class NotStrictJson(ValueError):
    """The text is not JSON, holds a non-JSON constant or text that is not
    Unicode, or nests deeper than allowed."""


def loads(text: str | bytes, max_depth: int) -> Any:
    """The JSON value of ``text`` (bytes must be UTF-8), at most ``max_depth``
    arrays or objects deep; ``NotStrictJson`` for anything else."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NotStrictJson(NOT_JSON_MESSAGE) from None
    # Measured before parsing, so that the parser never recurses past the bound.
    if nesting_depth(text) > max_depth:
        raise NotStrictJson(f"The JSON is nested too deeply: at most {max_depth} levels.")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except NotStrictJson:
        raise
    except (ValueError, RecursionError):
        raise NotStrictJson(NOT_JSON_MESSAGE) from None
    if not is_unicode(value):
        raise NotStrictJson("The JSON holds text that is not Unicode (a lone surrogate escape).")
    return value


def nesting_depth(text: str) -> int:
    """How many arrays and objects deep ``text`` goes (brackets inside strings
    do not count). Meaningful for JSON only; any text gets an answer."""
    steps = _NOT_BRACKETS.sub("", _STRING.sub("", text)).translate(_DEPTH_STEPS).encode("latin-1")
    # Summed in C: a 256 KB body of brackets takes tens of milliseconds, not seconds.
    return max(itertools.accumulate(array.array("b", steps)), default=0)


def is_unicode(value: Any) -> bool:
    """Whether every string in a parsed JSON value (keys too) can be encoded as UTF-8."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if not _encodable(current):
                return False
        elif isinstance(current, dict):
            pending.extend(current)
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return True


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> Any:
    raise NotStrictJson(f"{name} is not a JSON value.")
