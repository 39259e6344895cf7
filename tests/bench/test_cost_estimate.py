"""The cost estimate's arithmetic on a small fixture whose figures are worked
out by hand, its JSON shape, and the provenance of every price it uses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bench.cost_estimate import (
    PRICES,
    Measured,
    PageLoad,
    Usage,
    estimate,
    fixed_monthly,
    main,
    variable_costs,
)
from components.settings import StackSettings
from tools.stacks import stack_settings

GB = 1024**3
MILLION = 1_000_000
# One request, one visit per two predictions loading 4 files of nothing and a
# 2-item history page, no corrections, no Lambda platform or access log lines.
PAGE = PageLoad(requests=4, bytes=0)
USAGE = Usage(
    predictions_per_visit=2,
    history_page_items=2,
    corrections_per_prediction=0,
    history_call_ms=100,
    platform_log_bytes_per_invocation=0,
    access_log_bytes_per_request=0,
    model_serving_overhead_ms=0,
)
MEASURED = Measured(
    durations_ms={"validate": 100, "preprocess": 100, "invoke_model": 100, "persist": 100},
    model_ms=10,
    model_payload_bytes=GB // 1000,
    item_bytes=1024,
    stored_item_bytes=1000,
    request_bytes=2048,
    log_bytes={"INFO": 4096},
)


@pytest.fixture
def settings() -> StackSettings:
    prod = stack_settings("prod")
    return dataclasses.replace(
        prod,
        lambda_memory_mb={name: 1024 for name in prod.lambda_memory_mb},
        log_level="INFO",
        log_retention_days=0,
        history_ttl_days=365,
        waf_enabled=True,
        point_in_time_recovery=True,
        step_functions_log_level="ERROR",
        alarms_enabled=True,
        sagemaker=dataclasses.replace(
            prod.sagemaker, mode="serverless", serverless_memory_mb=2048, provisioned_concurrency=0
        ),
    )


def test_given_the_fixture_then_each_service_costs_what_the_prices_make_of_it(settings: StackSettings) -> None:
    costs = variable_costs(settings, MEASURED, USAGE, PAGE)

    api_requests = 1 + 0.5  # the prediction, half a history page
    edge_requests = api_requests + 0.5 * 4
    assert costs["API Gateway"] == pytest.approx(api_requests * 4.25)
    assert costs["WAF"] == pytest.approx((edge_requests + api_requests) * 0.60)
    bytes_out = 1024 + 0.5 * 2 * 1024  # the answer, half a page of two items
    assert costs["CloudFront"] == pytest.approx(
        edge_requests * 1.2 + bytes_out / GB * 0.120 * MILLION + 2048 / GB * 0.060 * MILLION
    )
    assert costs["X-Ray"] == pytest.approx(api_requests * 0.05 * 5.00)
    # One write unit each for the 1,000-byte item and its index entry; half a unit for the half page.
    assert costs["DynamoDB requests"] == pytest.approx(2 * 0.71 + 0.5 * 0.5 * 0.1425)
    # A year's retention is 12 months; DynamoDB adds 100 bytes per item and per index entry.
    assert costs["DynamoDB storage"] == pytest.approx((1100 + 985 + 100) / GB * 12 * 0.285 * MILLION)
    assert costs["DynamoDB backups"] == pytest.approx(1100 / GB * 12 * 0.228 * MILLION)
    lambda_gb_seconds = 4 * 0.1 + 0.5 * 0.1  # four tasks, half a history call, all at 1 GB
    assert costs["Lambda"] == pytest.approx(4.5 * 0.20 + lambda_gb_seconds * 0.0000133334 * MILLION)
    # 425 ms of workflow is billed as 500 ms of 64 MB.
    assert costs["Step Functions"] == pytest.approx(1.00 + 0.5 * 64 / 1024 * 0.00001667 * MILLION)
    # The handlers' 4 KB per prediction plus an eighth for half a history call (one task's worth).
    assert costs["CloudWatch Logs"] == pytest.approx((4096 + 0.5 * 1024) / GB * 0.70 * MILLION)
    # 10 ms of a 2 GB serverless endpoint, and 1/1000 GB through it.
    assert costs["SageMaker"] == pytest.approx(0.010 * 2 * 0.0000240 * MILLION + 0.016 / 1000 * MILLION)


def test_given_features_turned_off_then_their_costs_are_zero(settings: StackSettings) -> None:
    quiet = dataclasses.replace(settings, waf_enabled=False, point_in_time_recovery=False)

    costs = variable_costs(quiet, MEASURED, USAGE, PAGE)

    assert costs["WAF"] == 0 and costs["DynamoDB backups"] == 0
    assert "WAF web ACLs + rules" not in fixed_monthly(quiet)


def test_given_the_fixture_then_fixed_costs_are_the_month_s_list_prices(settings: StackSettings) -> None:
    assert fixed_monthly(settings) == pytest.approx(
        {
            "CloudWatch dashboard + custom metrics": 3.00 + 18 * 0.30,
            "WAF web ACLs + rules": 2 * (5.00 + 1.00),
            "CloudWatch alarms + their KMS key": 11 * 0.10 + 1.00,
        }
    )


def test_given_an_estimate_then_the_all_in_cost_spreads_the_fixed_month_over_the_volume(
    settings: StackSettings,
) -> None:
    result = estimate(settings, MEASURED, [MILLION, 100 * MILLION], USAGE, PAGE)

    assert result["variableTotal"] == pytest.approx(sum(result["variable"].values()), abs=1e-3)
    assert result["fixedMonthly"] == pytest.approx(8.40 + 12.00 + 2.10)
    assert result["perMillionAllIn"][str(MILLION)] == pytest.approx(result["variableTotal"] + 22.50, abs=1e-3)
    assert result["perMillionAllIn"][str(100 * MILLION)] == pytest.approx(result["variableTotal"] + 0.225, abs=1e-3)


def test_given_every_price_then_it_names_its_source_and_date_and_says_when_it_is_not_confirmed() -> None:
    for name, price in PRICES.items():
        assert price.usd > 0 and price.per and price.source and price.seen, name
        assert price.confirmed or "not confirmed" in price.source, name


def test_given_measured_figures_then_json_prints_both_stacks_with_every_cost_and_price(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = tmp_path / "figures.json"
    figures.write_text(
        json.dumps(
            {
                **MEASURED.durations_ms,
                "model": MEASURED.model_ms,
                "modelPayloadBytes": MEASURED.model_payload_bytes,
                "itemBytes": MEASURED.item_bytes,
                "storedItemBytes": MEASURED.stored_item_bytes,
                "requestBytes": MEASURED.request_bytes,
                "logBytes": MEASURED.log_bytes,
            }
        )
    )

    main(["--json", "--durations", str(figures)])

    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"dev", "prod"}
    for stack in printed.values():
        assert {"DynamoDB storage", "DynamoDB backups", "X-Ray"} <= set(stack["variable"])
        assert stack["variableTotal"] == pytest.approx(sum(stack["variable"].values()), abs=1e-3)
        assert isinstance(stack["fixedMonthly"], float)
        assert stack["prices"]["xray_traces"]["source"] and stack["prices"]["xray_traces"]["seen"]
        assert stack["prices"]["api_gateway_rest_requests"]["confirmed"] is False
