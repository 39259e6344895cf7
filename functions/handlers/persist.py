"""Workflow task Persist: writes the prediction item to the history store.

In: the state after InvokeModel. Out: the stored item (the execution's
output). Idempotent: the item's id comes from the request id and its
``createdAt`` from Validate, so a retried Persist stores the identical item,
once (``put_new`` is conditional on the id). Fails with ``Throttled`` (the
workflow retries it) or ``InternalError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers._runtime import Handler, cold_start

if TYPE_CHECKING:
    from functions.core.config import Settings
    from functions.core.deadline import Deadline
    from functions.core.history.port import HistoryStore


def build(settings: Settings, store: HistoryStore | None = None) -> Handler:
    """``store``: where items go (default: the one the settings describe)."""
    from functions.core.errors import BadRequest, InternalError
    from functions.core.predictions import PERSIST, build_item
    from functions.core.store_factory import PERSIST_ATTEMPTS, history_store, store_errors
    from functions.handlers._tasks import observability, task_handler

    history = store or history_store(settings, PERSIST_ATTEMPTS)

    def persist(event: dict[str, Any], _deadline: Deadline) -> dict[str, Any]:
        item = build_item(event)
        try:
            with store_errors():
                return history.put_new(item)
        except BadRequest as error:
            # Our own item refused by the store (e.g. the same id holding
            # another item): a bug, not something the caller sent.
            raise InternalError() from error

    return task_handler(PERSIST, observability(settings), persist, adds_timing=False)


handler = cold_start(build, ("history",))
