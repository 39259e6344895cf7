"""What each Lambda handler loads on a cold start: its module imported and
called once, in a fresh interpreter, with the environment it has on AWS
(bench/cold_start.py; the AWS services it calls answered by a local stub).

A package a handler loads without using costs every cold start its import
time: at 256 MB, about 0.4 s for numpy and 0.5 s for Powertools' event handler
(../shared/AWS_FACTS.md). Times are the benchmark's to print; the sets are
asserted here."""

from __future__ import annotations

import pytest

from bench.cold_start import HANDLERS, ColdStart, current_runtime, measure

POWERTOOLS = "aws_lambda_powertools"
EXPECTED_HEAVY_PACKAGES = {
    # The upload's header is read with Pillow; imaging imports numpy too.
    "validate": {"numpy", "PIL", POWERTOOLS},
    "preprocess": {"numpy", "PIL", POWERTOOLS},
    # The tensor is decoded with numpy and sent with boto3.
    "invoke_model": {"numpy", "boto3", POWERTOOLS},
    # Neither touches an image.
    "persist": {"boto3", POWERTOOLS},
    "history": {"boto3", POWERTOOLS},
}


@pytest.fixture(scope="module")
def cold_starts() -> dict[str, ColdStart]:
    return {result.handler: result for result in measure(current_runtime(), runs=1)}


@pytest.mark.parametrize("handler", HANDLERS)
def test_given_a_cold_start_then_the_handler_loads_only_the_heavy_packages_it_uses(
    cold_starts: dict[str, ColdStart], handler: str
) -> None:
    assert set(cold_starts[handler].heavy) == EXPECTED_HEAVY_PACKAGES[handler]
