"""Cost per million predictions of each stack, from its settings and measured sizes and durations.

    .venv/bin/python -m bench.cost_estimate [--json] [--durations FILE] [--runs 30]
                                            [--monthly-predictions 1000000,100000000]

Inputs:
- ``Pulumi.dev.yaml`` / ``Pulumi.prod.yaml``: memory sizes, SageMaker mode and
  memory, WAF, log levels and retention, alarms, history retention, backups
  (validated by ``components/settings.py``);
- what one prediction measures: ``--durations FILE`` (JSON ``{"validate": ms,
  "preprocess": ms, "invoke_model": ms, "persist": ms, "model": ms,
  "modelPayloadBytes": n, "itemBytes": n, "storedItemBytes": n, "requestBytes": n,
  "logBytes": {"INFO": n, "DEBUG": n}}``),
  else measured here by running the four handlers in process on a drawn digit
  (the real model behind the local SageMaker endpoint, SQLite standing in for
  DynamoDB, the DynamoDB item sized by the store's own stored form, the
  handlers' log lines and metrics counted at each log level, the model's
  ``transform_fn`` timed on the task's request). The host is not
  a Graviton Lambda: read durations as an order of magnitude;
- ``USAGE``: how people use the page besides predicting (visits, corrections),
  stated assumptions;
- ``PRICES``: ap-southeast-1 list prices, each with its source and the date it
  was seen; ``confirmed: false`` marks the ones not confirmed for Singapore.

Variable costs are USD per million predictions, including what a prediction
brings along: its share of page visits (the static files, one history page),
corrections, its DynamoDB storage and backups for the whole retention, its
logs, traces and the model's time. Free tiers are ignored. ``--json`` prints
``{"dev": {...}, "prod": {...}}``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from components.lambda_function import RUNTIME_ENVIRONMENT
from components.settings import StackSettings
from components.workflow import SAMPLING_FIXED_RATE, SAMPLING_RESERVOIR_PER_SECOND
from tools.stacks import stack_settings
from workflows.definition import TASKS

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "prod")
MILLION = 1_000_000
GB = 1024**3
KB = 1024
HOURS_PER_MONTH = 730
DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str
    seen: str
    confirmed: bool


_FACTS = "AWS list price for ap-southeast-1 (../shared/AWS_FACTS.md, Prices)"
_SEEN_2026 = "2026"
_EARLIER = "2025-11, the first version of this script"
PRICES: dict[str, Price] = {
    "cloudfront_https_requests": Price(0.012 / 10_000, "request", _FACTS, _SEEN_2026, True),
    "cloudfront_out_gb": Price(0.120, "GB to the internet, first 10 TB", _FACTS, _SEEN_2026, True),
    "cloudfront_to_origin_gb": Price(0.060, "GB to the origin", _FACTS, _SEEN_2026, True),
    "waf_requests": Price(0.60 / MILLION, "request inspected by a web ACL", _FACTS, _SEEN_2026, True),
    "waf_web_acl_month": Price(5.00, "web ACL-month", _FACTS, _SEEN_2026, True),
    "waf_rule_month": Price(1.00, "rule-month", _FACTS, _SEEN_2026, True),
    "api_gateway_rest_requests": Price(
        4.25 / MILLION,
        "REST API request, first 333M",
        "Singapore figure kept from this script's first version; not confirmed (us-east-1: $3.50 per 1M)",
        _EARLIER,
        False,
    ),
    "sfn_express_requests": Price(
        1.00 / MILLION, "Express execution", "us-east-1 list price; not confirmed for ap-southeast-1", _EARLIER, False
    ),
    "sfn_express_gb_second": Price(
        0.00001667,
        "GB-second (64 MB at least, 100 ms steps)",
        "us-east-1 list price; not confirmed for ap-southeast-1",
        _EARLIER,
        False,
    ),
    "lambda_requests": Price(0.20 / MILLION, "invocation", _FACTS, _SEEN_2026, True),
    "lambda_arm_gb_second": Price(0.0000133334, "GB-second, arm64", _FACTS, _SEEN_2026, True),
    "dynamodb_write_units": Price(0.71 / MILLION, "write request unit, on demand", _FACTS, _SEEN_2026, True),
    "dynamodb_read_units": Price(0.1425 / MILLION, "read request unit, on demand", _FACTS, _SEEN_2026, True),
    "dynamodb_storage_gb_month": Price(
        0.285,
        "GB-month, Standard table class",
        "us-east-1's $0.25 scaled by Singapore's write-unit price ratio (0.71 / 0.625); not confirmed",
        _SEEN_2026,
        False,
    ),
    "dynamodb_pitr_gb_month": Price(
        0.228,
        "GB-month of table, continuous backups",
        "us-east-1's $0.20 scaled by Singapore's write-unit price ratio (0.71 / 0.625); not confirmed",
        _SEEN_2026,
        False,
    ),
    "logs_ingest_gb": Price(0.70, "GB ingested", _FACTS, _SEEN_2026, True),
    "logs_storage_gb_month": Price(0.03, "GB-month stored", _FACTS, _SEEN_2026, True),
    "cloudwatch_metric_month": Price(0.30, "custom metric-month", _FACTS, _SEEN_2026, True),
    "cloudwatch_dashboard_month": Price(3.00, "dashboard-month", _FACTS, _SEEN_2026, True),
    "cloudwatch_alarm_metric_month": Price(0.10, "alarm metric-month", _FACTS, _SEEN_2026, True),
    "kms_key_month": Price(
        1.00,
        "customer-managed key-month",
        "AWS KMS pricing, the same in every commercial region; not confirmed for ap-southeast-1",
        _EARLIER,
        False,
    ),
    "xray_traces": Price(5.00 / MILLION, "trace recorded", _FACTS, _SEEN_2026, True),
    "sagemaker_serverless_gb_second": Price(
        0.0000240, "GB-second of inference", "not confirmed for ap-southeast-1", _EARLIER, False
    ),
    "sagemaker_provisioned_gb_second": Price(
        0.0000048,
        "GB-second kept warm (provisioned concurrency)",
        "us-east-1 list price; not confirmed for ap-southeast-1",
        _EARLIER,
        False,
    ),
    "sagemaker_data_gb": Price(0.016, "GB processed in and out", "not confirmed for ap-southeast-1", _EARLIER, False),
    "sagemaker_ml_c6i_large_hour": Price(0.122, "instance-hour", "not confirmed for ap-southeast-1", _EARLIER, False),
}
SAGEMAKER_INSTANCE_PRICES = {"ml.c6i.large": "sagemaker_ml_c6i_large_hour"}


@dataclass(frozen=True)
class Usage:
    """What a prediction brings along, beyond its own request. Assumptions, not measurements."""

    # A visit loads the page (its files, one history page) and makes this many predictions.
    predictions_per_visit: float = 5.0
    # The page asks for this many items per history page (site/js/app.js HISTORY_PAGE_SIZE).
    history_page_items: int = 10
    # People who correct a prediction (POST .../feedback).
    corrections_per_prediction: float = 0.05
    feedback_request_bytes: int = 60
    # The history function per call: one DynamoDB query (estimate).
    history_call_ms: float = 30.0
    # Lambda's own log lines per invocation with JSON logs: platform.start and
    # platform.report (estimate of their size).
    platform_log_bytes_per_invocation: int = 550
    # One access log line per API call (components/api.py ACCESS_LOG_FORMAT, typical values).
    access_log_bytes_per_request: int = 350
    # Step Functions events of a successful execution at level ALL: started, 5 per task, succeeded.
    workflow_log_events: int = 2 + 5 * len(TASKS)
    workflow_log_event_bytes: int = 300
    # What the serving container adds to transform_fn's time per request: nginx,
    # gunicorn and the toolkit's Flask app (estimate).
    model_serving_overhead_ms: float = 5.0
    # A history kept forever is costed as kept for this long.
    retention_days_if_forever: int = 365


USAGE = Usage()
# DynamoDB adds this much to every item it stores, in the table and in each index ("DynamoDB item sizes").
DYNAMODB_ITEM_OVERHEAD_BYTES = 100
# The index entry is the item without its TTL attribute (expiresAt and a 10-digit number).
TTL_ATTRIBUTE_BYTES = len("expiresAt") + 6
# Express workflows are billed for 64 MB of memory at least, in 100 ms steps.
SFN_MEMORY_GB = 64 / 1024
SFN_TRANSITION_OVERHEAD_MS = 25
# Custom metrics: the handlers' StageLatency x 4 stages, PredictedDigit x 10 digits,
# Confidence, LowConfidence; the two log metric filters (server-side failures, API 429s).
CUSTOM_METRIC_SERIES = 4 + 10 + 1 + 1 + 2
# Alarms are billed per metric they read: 5xx rate 2, failed executions 1, p99 latency 1,
# throttles 7 (API 429s, StartSyncExecution throttling, five Lambdas).
ALARM_METRICS = 2 + 1 + 1 + 7
# With WAF on: the edge's rate limit (every CloudFront request) and the API's origin lock, one rule each.
WEB_ACLS = 2
RULES_PER_WEB_ACL = 1


@dataclass(frozen=True)
class Measured:
    durations_ms: Mapping[str, float]
    model_ms: float  # model/inference.py transform_fn on one request
    model_payload_bytes: int  # the model's request and answer
    item_bytes: int  # the prediction item as JSON: what the API answers
    stored_item_bytes: int  # the item as DynamoDB stores it (its size rules)
    request_bytes: int  # the POST body
    log_bytes: Mapping[str, int] = field(default_factory=dict)  # the handlers' stdout per prediction, by log level


def measure(runs: int) -> Measured:
    """Median duration of each handler, in process, on a drawn digit; sizes and log bytes of one prediction."""
    # As the functions run (numpy is not imported yet): one OpenBLAS thread.
    os.environ.update(RUNTIME_ENVIRONMENT)
    from bench.cold_start import first_events
    from bench.in_process import workflow_handlers
    from bench.timing import median_ms
    from functions.core.history.dynamodb_store import item_size, stored_attributes
    from functions.core.model_wire import model_request_body
    from functions.core.predictions import decode_tensor
    from model.inference import JSON_CONTENT_TYPE, load_model, transform_fn

    events = first_events()
    body = events["validate"]["request"]
    model_request = model_request_body(decode_tensor(events["invoke_model"]["tensor"]))
    model = load_model()
    model_ms = median_ms(runs, lambda: transform_fn(model, model_request, JSON_CONTENT_TYPE, JSON_CONTENT_TYPE))
    model_answer = transform_fn(model, model_request, JSON_CONTENT_TYPE, JSON_CONTENT_TYPE).body
    samples: dict[str, list[float]] = {task: [] for task in TASKS}
    with workflow_handlers() as handlers:
        item: Any = None
        for run in range(runs + 1):  # run 0 warms up
            item = _predict(handlers, body, f"cost-{run}", samples if run else None)
    log_bytes = {}
    for level in ("INFO", "DEBUG"):
        printed = io.StringIO()
        with redirect_stdout(printed), workflow_handlers(log_level=level, metrics=True) as handlers:
            _predict(handlers, body, "cost-warm", None)
            printed.seek(0)
            printed.truncate()
            _predict(handlers, body, "cost-logged", None)
        log_bytes[level] = len(printed.getvalue().encode())
    return Measured(
        {task: statistics.median(values) for task, values in samples.items()},
        model_ms,
        len(model_request) + len(model_answer),
        len(json.dumps(item).encode()),
        item_size(stored_attributes(item, ttl_days=1)),
        len(json.dumps(body).encode()),
        log_bytes,
    )


def _predict(handlers: Mapping[str, Any], body: Any, request_id: str, samples: dict[str, list[float]] | None) -> Any:
    state: Any = {"requestId": request_id, "request": body}
    for task in TASKS:
        started = time.perf_counter()
        state = handlers[task](state, None)
        if samples is not None:
            samples[task].append((time.perf_counter() - started) * 1000)
        state = json.loads(json.dumps(state))
    return state


def from_file(path: Path) -> Measured:
    data = json.loads(path.read_text())
    return Measured(
        {task: float(data[task]) for task in TASKS},
        float(data["model"]),
        int(data["modelPayloadBytes"]),
        int(data["itemBytes"]),
        int(data["storedItemBytes"]),
        int(data["requestBytes"]),
        {level: int(size) for level, size in data.get("logBytes", {}).items()},
    )


@dataclass(frozen=True)
class PageLoad:
    """What loading the page costs CloudFront: its files, and their bytes as sent."""

    requests: int
    bytes: int


def page_load(site_dir: Path = ROOT / "site") -> PageLoad:
    """index.html and what it loads (the stylesheet, the favicon, the ES modules but
    the console's), gzip-compressed as CloudFront sends them (the site's behaviour compresses)."""
    files = [
        site_dir / "index.html",
        site_dir / "favicon.svg",
        site_dir / "css" / "app.css",
        *(path for path in sorted(site_dir.glob("js/*.js")) if path.name != "console.js"),
    ]
    return PageLoad(len(files), sum(len(gzip.compress(path.read_bytes())) for path in files))


def variable_costs(
    settings: StackSettings,
    measured: Measured,
    usage: Usage = USAGE,
    page: PageLoad | None = None,
    prices: Mapping[str, Price] = PRICES,
) -> dict[str, float]:
    """USD per million predictions, by service."""
    p = {name: price.usd for name, price in prices.items()}
    page = page or page_load()
    visits = 1 / usage.predictions_per_visit
    corrections = usage.corrections_per_prediction
    history_calls = visits + corrections
    api_requests = 1 + history_calls
    edge_requests = api_requests + visits * page.requests
    history_page_bytes = usage.history_page_items * measured.item_bytes
    bytes_out = measured.item_bytes * (1 + corrections) + visits * (page.bytes + history_page_bytes)
    bytes_to_origin = measured.request_bytes + corrections * usage.feedback_request_bytes
    retention_days = settings.history_ttl_days or usage.retention_days_if_forever
    retention_months = retention_days / DAYS_PER_MONTH

    lambda_gb_s = (
        sum(math.ceil(measured.durations_ms[task]) / 1000 * settings.lambda_memory_mb[task] / 1024 for task in TASKS)
        + history_calls * usage.history_call_ms / 1000 * settings.lambda_memory_mb["history"] / 1024
    )
    workflow_ms = sum(measured.durations_ms.values()) + SFN_TRANSITION_OVERHEAD_MS
    sfn_billed_s = math.ceil(workflow_ms / 100) / 10

    index_entry_bytes = measured.stored_item_bytes - TTL_ATTRIBUTE_BYTES
    # A prediction and a correction each write the item and its index entry, a unit
    # per started KB of each; a history page is one eventually consistent query of
    # the index, half a unit per started 4 KB.
    write_units = (1 + corrections) * (math.ceil(measured.stored_item_bytes / KB) + math.ceil(index_entry_bytes / KB))
    read_units = visits * 0.5 * math.ceil(usage.history_page_items * index_entry_bytes / (4 * KB))
    table_bytes = measured.stored_item_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES
    index_bytes = index_entry_bytes + DYNAMODB_ITEM_OVERHEAD_BYTES

    traced = (
        SAMPLING_FIXED_RATE if SAMPLING_RESERVOIR_PER_SECOND == 0 else 1.0
    )  # a reservoir traces nearly all at this traffic
    costs = {
        "CloudFront": edge_requests * p["cloudfront_https_requests"]
        + bytes_out / GB * p["cloudfront_out_gb"]
        + bytes_to_origin / GB * p["cloudfront_to_origin_gb"],
        "WAF": (edge_requests + api_requests) * p["waf_requests"] if settings.waf_enabled else 0.0,
        "API Gateway": api_requests * p["api_gateway_rest_requests"],
        "Step Functions": p["sfn_express_requests"] + sfn_billed_s * SFN_MEMORY_GB * p["sfn_express_gb_second"],
        "Lambda": (len(TASKS) + history_calls) * p["lambda_requests"] + lambda_gb_s * p["lambda_arm_gb_second"],
        "DynamoDB requests": write_units * p["dynamodb_write_units"] + read_units * p["dynamodb_read_units"],
        "DynamoDB storage": (table_bytes + index_bytes) / GB * retention_months * p["dynamodb_storage_gb_month"],
        "DynamoDB backups": table_bytes / GB * retention_months * p["dynamodb_pitr_gb_month"]
        if settings.point_in_time_recovery
        else 0.0,
        "CloudWatch Logs": _log_bytes(settings, measured, usage, api_requests, history_calls)
        / GB
        * (p["logs_ingest_gb"] + settings.log_retention_days / DAYS_PER_MONTH * p["logs_storage_gb_month"]),
        "X-Ray": api_requests * traced * p["xray_traces"],
        "SageMaker": _sagemaker(settings, measured, usage, p),
    }
    return {service: cost * MILLION for service, cost in costs.items()}


def _log_bytes(
    settings: StackSettings, measured: Measured, usage: Usage, api_requests: float, history_calls: float
) -> float:
    """CloudWatch Logs bytes per prediction: handlers' lines and metrics, Lambda's
    own lines, API access logs, workflow events."""
    handlers = measured.log_bytes.get(settings.log_level, max(measured.log_bytes.values(), default=0))
    # A history call logs about what one workflow task does.
    handlers_per_call = handlers / len(TASKS)
    invocations = len(TASKS) + history_calls
    workflow = 0.0
    if settings.step_functions_log_level == "ALL":
        workflow = usage.workflow_log_events * usage.workflow_log_event_bytes
        if settings.step_functions_include_execution_data:
            # The raw upload appears in Validate's events, the item in Persist's and the
            # result, the tensor (~4 KB) in the states between.
            workflow += 3 * measured.request_bytes + 3 * measured.item_bytes + 10 * 4 * KB
    return (
        handlers
        + history_calls * handlers_per_call
        + invocations * usage.platform_log_bytes_per_invocation
        + api_requests * usage.access_log_bytes_per_request
        + workflow
    )


def _sagemaker(settings: StackSettings, measured: Measured, usage: Usage, p: Mapping[str, float]) -> float:
    cost = measured.model_payload_bytes / GB * p["sagemaker_data_gb"]
    if settings.sagemaker.mode == "serverless":
        # Billed per millisecond of the container's work on the request.
        billed_s = math.ceil(measured.model_ms + usage.model_serving_overhead_ms) / 1000
        cost += billed_s * settings.sagemaker.serverless_memory_mb / 1024 * p["sagemaker_serverless_gb_second"]
    return cost


def fixed_monthly(settings: StackSettings, prices: Mapping[str, Price] = PRICES) -> dict[str, float]:
    p = {name: price.usd for name, price in prices.items()}
    costs = {
        "CloudWatch dashboard + custom metrics": p["cloudwatch_dashboard_month"]
        + CUSTOM_METRIC_SERIES * p["cloudwatch_metric_month"],
    }
    if settings.waf_enabled:
        costs["WAF web ACLs + rules"] = WEB_ACLS * (p["waf_web_acl_month"] + RULES_PER_WEB_ACL * p["waf_rule_month"])
    if settings.alarms_enabled:
        costs["CloudWatch alarms + their KMS key"] = (
            ALARM_METRICS * p["cloudwatch_alarm_metric_month"] + p["kms_key_month"]
        )
    provisioned = settings.sagemaker.provisioned_concurrency
    if settings.sagemaker.mode == "serverless" and provisioned:
        memory_gb = settings.sagemaker.serverless_memory_mb / 1024
        costs["SageMaker provisioned concurrency"] = (
            provisioned * memory_gb * HOURS_PER_MONTH * 3600 * p["sagemaker_provisioned_gb_second"]
        )
    if settings.sagemaker.mode == "instance":
        price = SAGEMAKER_INSTANCE_PRICES.get(settings.sagemaker.instance_type or "")
        if price is None:
            raise SystemExit(
                f"no price known for {settings.sagemaker.instance_type}: add it to SAGEMAKER_INSTANCE_PRICES"
            )
        costs["SageMaker instances"] = p[price] * HOURS_PER_MONTH * settings.sagemaker.instance_count
    return costs


def estimate(
    settings: StackSettings,
    measured: Measured,
    volumes: Sequence[int],
    usage: Usage = USAGE,
    page: PageLoad | None = None,
) -> dict[str, Any]:
    """One stack's estimate, as ``--json`` prints it."""
    page = page or page_load()
    variable = variable_costs(settings, measured, usage, page)
    fixed = fixed_monthly(settings)
    variable_total = sum(variable.values())
    fixed_total = sum(fixed.values())
    return {
        "variable": {service: round(cost, 4) for service, cost in variable.items()},
        "variableTotal": round(variable_total, 4),
        "fixedMonthly": round(fixed_total, 2),
        "fixedMonthlyItems": {name: round(cost, 2) for name, cost in fixed.items()},
        "perMillionAllIn": {
            str(volume): round(variable_total + fixed_total * MILLION / volume, 4) for volume in volumes
        },
        "prices": {name: asdict(price) for name, price in PRICES.items()},
        "usage": {**asdict(usage), "pageLoad": asdict(page)},
        "measured": asdict(measured),
    }


def print_table(estimates: Mapping[str, Mapping[str, Any]], region: str, source: str) -> None:
    print(f"USD per 1,000,000 predictions ({region} list prices; {source})")
    print(f"{'':<42}" + "".join(f"{stack:>12}" for stack in estimates))
    first = next(iter(estimates.values()))
    for service in first["variable"]:
        print(f"{service:<42}" + "".join(f"{e['variable'][service]:>12.2f}" for e in estimates.values()))
    print(f"{'variable total':<42}" + "".join(f"{e['variableTotal']:>12.2f}" for e in estimates.values()))
    print(f"{'fixed per month':<42}" + "".join(f"{e['fixedMonthly']:>12.2f}" for e in estimates.values()))
    for volume in first["perMillionAllIn"]:
        label = f"all-in at {int(volume):,} predictions/month"
        print(f"{label:<42}" + "".join(f"{e['perMillionAllIn'][volume]:>12.2f}" for e in estimates.values()))
    for stack, e in estimates.items():
        print(f"  fixed ({stack}): " + ", ".join(f"{name} {cost:.2f}" for name, cost in e["fixedMonthlyItems"].items()))
    unconfirmed = [name for name, price in PRICES.items() if not price.confirmed]
    print(f"  prices not confirmed for the region (see --json for sources): {', '.join(unconfirmed)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=Path, default=ROOT / "bench" / "results" / "handler_durations.json")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--monthly-predictions",
        default=f"{MILLION},{100 * MILLION}",
        help="comma-separated monthly volumes for the all-in cost per million",
    )
    parser.add_argument("--json", action="store_true", help='print {"dev": {...}, "prod": {...}}')
    args = parser.parse_args(argv)

    if args.durations.is_file():
        measured, source = from_file(args.durations), str(args.durations)
    else:
        with redirect_stdout(sys.stderr):  # the local endpoint's start-up lines
            measured = measure(args.runs)
        source = f"measured in process, median of {args.runs} runs"
    volumes = [int(volume) for volume in args.monthly_predictions.split(",")]
    settings = {stack: stack_settings(stack) for stack in STACKS}
    estimates = {stack: estimate(s, measured, volumes) for stack, s in settings.items()}
    if args.json:
        print(json.dumps(estimates, indent=2))
        return
    print(
        f"measured ({source}): "
        + ", ".join(f"{t} {measured.durations_ms[t]:.1f} ms" for t in TASKS)
        + f", model {measured.model_ms:.2f} ms"
        + f"; item {measured.item_bytes} B as JSON, {measured.stored_item_bytes} B stored; request "
        f"{measured.request_bytes} B;"
        + " log bytes per prediction "
        + ", ".join(f"{k} {v}" for k, v in measured.log_bytes.items())
    )
    print_table(
        estimates,
        settings["dev"].region,
        f"{USAGE.predictions_per_visit:g} predictions per visit, {USAGE.corrections_per_prediction:.0%} corrected",
    )


if __name__ == "__main__":
    main()
