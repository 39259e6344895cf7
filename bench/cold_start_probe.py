"""One cold start of one handler, in the fresh interpreter that runs this file
(``bench/cold_start.py`` starts it): import the handler's module, call it once
with the event from a file, write what that took (wall and CPU time) and
which heavy packages got loaded to another file.

    python bench/cold_start_probe.py HANDLER EVENT_FILE RESULT_FILE

Only the standard library is imported before the handler's module, so
everything else in ``sys.modules`` afterwards is the handler's doing.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

# What makes a cold start slow (import times at Lambda's CPU share: ../shared/AWS_FACTS.md).
HEAVY_PACKAGES = ("numpy", "PIL", "boto3", "aws_lambda_powertools")
# The calling task's time budget as the Lambda context reports it.
REMAINING_MILLIS = 10_000


class Context:
    """The part of the Lambda context the handlers read."""

    function_name = "cold-start-bench"
    aws_request_id = "cold-start"

    def get_remaining_time_in_millis(self) -> int:
        return REMAINING_MILLIS


def probe(handler_name: str, event: Any) -> dict[str, Any]:
    """Wall time and CPU time (all threads) of the import and of the first call."""
    started, started_cpu = time.perf_counter(), time.process_time()
    module = importlib.import_module(f"functions.handlers.{handler_name}")
    imported = time.perf_counter()
    module.handler(event, Context())
    called, called_cpu = time.perf_counter(), time.process_time()
    return {
        "importMs": (imported - started) * 1000,
        "firstCallMs": (called - imported) * 1000,
        "cpuMs": (called_cpu - started_cpu) * 1000,
        "heavy": [package for package in HEAVY_PACKAGES if package in sys.modules],
    }


if __name__ == "__main__":
    name, event_file, result_file = sys.argv[1:4]
    result = probe(name, json.loads(Path(event_file).read_text()))
    Path(result_file).write_text(json.dumps(result))
