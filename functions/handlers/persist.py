"""Workflow task Persist: writes the prediction item to the history store.

In: the state after InvokeModel. Out: the stored item (the execution's
output). Idempotent: the item's id comes from the request id and its
``createdAt`` from Validate, so a retried Persist stores the identical item,
once (``put_new`` is conditional on the id). Fails with ``Throttled`` (the
workflow retries it) or ``InternalError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.config import PersistSettings
from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.deadline import Deadline
    from functions.core.history.port import HistoryStore


def build(settings: PersistSettings, store: HistoryStore | None = None) -> Handler:
    """``store``: where items go (default: the one ``settings.history`` names)."""
    from functions.core.errors import BadRequest, InternalError
    from functions.core.history.dynamodb_client import PERSIST_ATTEMPTS
    from functions.core.history.open_store import open_history_store
    from functions.core.predictions import build_item
    from functions.core.tasks import PERSIST
    from functions.handlers._tasks import observability, task_handler

    history = store or open_history_store(settings.history, PERSIST_ATTEMPTS)

    def persist(event: dict[str, Any], _deadline: Deadline) -> dict[str, Any]:
        item = build_item(event)
        try:
            return history.put_new(item)
        except BadRequest as error:
            # Our own item refused by the store (e.g. the same id holding
            # another item): a bug, not something the caller sent.
            raise InternalError() from error

    return task_handler(PERSIST.stage, observability(settings), persist, adds_timing=False)


handler = cold_start(build, PersistSettings)
