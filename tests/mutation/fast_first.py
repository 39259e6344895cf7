"""A pytest plugin for `make mutate` only (tools/mutate.py): runs a mutant's tests
fastest first, with a share of each property's examples.

A mutant dies at its first failing test, so the quick examples should come before
the long properties; and a survivor runs every test, so the properties, run once
per mutant, get MUTATION_EXAMPLE_SHARE of their examples (at least 10): the score
is then a lower bound of what the whole fast suite kills.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

# mutmut's record of each test's duration, in the directory it runs the tests from.
STATS = Path("mutmut-stats.json")
SHARE_VARIABLE = "MUTATION_EXAMPLE_SHARE"
FEWEST_EXAMPLES = 10


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    share = float(os.environ.get(SHARE_VARIABLE, "1"))
    for item in items:
        test = getattr(item, "obj", None)
        chosen = getattr(test, "_hypothesis_internal_use_settings", None)  # what @settings attached
        if share < 1 and chosen is not None:
            examples = max(FEWEST_EXAMPLES, round(chosen.max_examples * share))
            narrowed = settings(chosen, max_examples=min(examples, chosen.max_examples))
            setattr(test, "_hypothesis_internal_use_settings", narrowed)  # noqa: B010 - hypothesis's private name
    if STATS.is_file():
        durations = json.loads(STATS.read_text())["duration_by_test"]
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
