"""Schemathesis against the real local stack, with the document the stack
serves at /api/openapi.json: generated and mutated requests for every
operation, then stateful runs along the document's links (create -> get ->
feedback -> list -> delete -> clear). Checked on every answer: no server
error, the documented status codes, content types, headers and response
schemas, schema-violating requests refused with a 4xx, deleted items gone and
created ones reachable (``tests/fuzz/schemathesis.toml`` says which checks and why).

The seed and the example image are fixed (the config and ``example-digit.dict``),
so a run repeats; each failure is printed with a curl command that reproduces it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from functions.core.api_contract import DOCUMENT_PATH
from functions.core.openapi import openapi_document

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
# A run takes about a minute here; far more means something hangs.
RUN_TIMEOUT_SECONDS = 280
OUTPUT_TAIL_CHARS = 12_000


def test_given_the_served_document_then_schemathesis_finds_no_failure_in_any_operation_or_link(
    stack_url: str, tmp_path: Path
) -> None:
    report, har = tmp_path / "report.json", tmp_path / "requests.har"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{stack_url}{DOCUMENT_PATH}",
        "--url",
        stack_url,
        "--report",
        "json,har",
        "--report-json-path",
        str(report),
        "--report-har-path",
        str(har),
    ]
    # In a folder of its own: Schemathesis writes its working files where it runs.
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    output = (run.stdout + run.stderr)[-OUTPUT_TAIL_CHARS:]

    assert run.returncode == 0, f"Schemathesis found failures (exit {run.returncode}):\n{output}"
    summary = json.loads(report.read_text())
    tested = set(summary["valid_rates"])
    # Schemathesis leaves out the operation that serves the document it was given.
    documented = {f"{method.upper()} {path}" for path, item in openapi_document()["paths"].items() for method in item}
    assert tested == documented - {f"GET {DOCUMENT_PATH}"}, output
    answered = _answers(har)
    # The links were followed: only an item the run created can be read, corrected and deleted.
    assert answered["POST /api/predictions", 200] > 0, answered
    assert answered["GET /api/predictions/{id}", 200] > 0, answered
    assert answered["POST /api/predictions/{id}/feedback", 200] > 0, answered
    assert answered["DELETE /api/predictions/{id}", 204] > 0, answered


def _answers(har: Path) -> Counter[tuple[str, int]]:
    """(method and route, status) of every request the run made."""
    counted: Counter[tuple[str, int]] = Counter()
    for entry in json.loads(har.read_text())["log"]["entries"]:
        path = urlsplit(entry["request"]["url"]).path
        parts = path.split("/")
        route = (
            "/".join(["", "api", "predictions", "{id}", *parts[4:]]) if path.startswith("/api/predictions/") else path
        )
        counted[entry["request"]["method"] + " " + route, entry["response"]["status"]] += 1
    return counted
