"""The time a workflow task has left.

Step Functions times a task out after its ``TimeoutSeconds``, counted from the
moment it invokes the Lambda, cold start included. A timed-out task is neither
retried nor described (the person gets a 500), and Lambda resets an
environment that ran out of time, so the next try is cold again. Calls to AWS
therefore give up in time to fail with the error the workflow retries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

# What follows the handler's return before Step Functions has the result: the
# response's way back, and the handler's own work after its last call.
RETURN_MARGIN_SECONDS = 0.3
# Without a Lambda context (tests, benchmarks), a budget no task reaches.
UNBOUNDED_SECONDS = 300.0


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Deadline:
    """A moment on the monotonic clock by which the task's result must be on its way back."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def of_invocation(cls, context: Any) -> Deadline:
        """From the Lambda context's remaining time, less the return margin."""
        if context is None or not hasattr(context, "get_remaining_time_in_millis"):
            return cls.after(UNBOUNDED_SECONDS)
        remaining = context.get_remaining_time_in_millis() / 1000
        return cls.after(remaining - RETURN_MARGIN_SECONDS)

    def seconds_left(self) -> float:
        return max(0.0, self.at - time.monotonic())
