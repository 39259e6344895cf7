"""The history API's parameters: a page's ``limit`` and a feedback body, read
into values or refused with the contract's ``BadRequest``."""

from __future__ import annotations

import json
import re

from functions.core.errors import BadRequest
from functions.core.history.port import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT
from functions.core.predictions import check_client_id


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    # ASCII digits only (an empty value is none), no more than MAX_LIMIT has:
    # str.isdigit() also takes characters such as '²' that int() cannot read.
    if not re.fullmatch(f"[0-9]{{1,{len(str(MAX_LIMIT))}}}", text) or not MIN_LIMIT <= int(text) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from {MIN_LIMIT} to {MAX_LIMIT}.")
    return int(text)


def parse_feedback(body: str | None) -> tuple[str, int]:
    """``(clientId, label)`` from a feedback body ``{"clientId": .., "label": 0-9}``."""
    try:
        payload = json.loads(body or "")
    except (ValueError, RecursionError):
        raise BadRequest("The request body must be JSON.") from None
    if not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object with 'clientId' and 'label'.")
    label = payload.get("label")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
        raise BadRequest("'label' must be a whole number from 0 to 9.")
    return check_client_id(payload.get("clientId")), label
