"""Cost per million predictions of each stack, from its settings and measured durations.

    .venv/bin/python -m bench.cost_estimate [--durations FILE] [--runs 30] [--monthly-predictions 1000000]

Inputs:
- ``Pulumi.dev.yaml`` / ``Pulumi.prod.yaml``: memory sizes, SageMaker mode and
  memory, WAF, log levels, alarms (validated by ``components/settings.py``);
- handler durations in ms: ``--durations FILE`` (JSON ``{"validate": ms,
  "preprocess": ms, "invoke_model": ms, "persist": ms, "model": ms,
  "itemBytes": n, "requestBytes": n}``), else measured here by running the
  four handlers in process on an MNIST test digit, the real model behind the
  local SageMaker endpoint and SQLite standing in for DynamoDB. The host is
  not a Graviton Lambda: read the figures as an order of magnitude;
- the AWS list prices below (ap-southeast-1).

Prints a table: variable cost per million predictions by service, the fixed
monthly cost (instances, WAF, alarms, dashboard, custom metrics), and the
all-in cost per million at ``--monthly-predictions``.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.timing import median_ms
from components.settings import StackSettings
from tools.stacks import stack_settings

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "prod")
TASKS = ("validate", "preprocess", "invoke_model", "persist")
MILLION = 1_000_000
GB = 1024**3

# AWS public list prices, ap-southeast-1 (Singapore), USD, as published in
# 2025-11 (on-demand, first pricing tier, free tiers ignored). Re-check them on
# the AWS pricing pages before relying on the result.
PRICES = {
    "api_gateway_rest_per_million": 4.25,
    "cloudfront_https_per_10k": 0.0120,
    "cloudfront_transfer_out_per_gb": 0.140,
    "waf_requests_per_million": 0.60,
    "waf_web_acl_per_month": 5.00,
    "waf_rule_per_month": 1.00,
    "sfn_express_requests_per_million": 1.00,
    "sfn_express_gb_second": 0.00001667,
    "lambda_requests_per_million": 0.20,
    "lambda_arm_gb_second": 0.0000133334,
    "sagemaker_serverless_gb_second": 0.0000240,
    # Provisioned concurrency, per GB of endpoint memory per second it is kept
    # warm: the us-east-1 list price; not confirmed for Singapore.
    "sagemaker_provisioned_concurrency_gb_second": 0.0000048,
    "sagemaker_data_processed_per_gb": 0.016,
    "sagemaker_ml_c6i_large_per_hour": 0.122,
    "dynamodb_write_request_units_per_million": 0.7125,
    "cloudwatch_logs_ingest_per_gb": 0.70,
    "cloudwatch_metric_per_month": 0.30,
    "cloudwatch_alarm_per_month": 0.10,
    "cloudwatch_dashboard_per_month": 3.00,
    "kms_key_per_month": 1.00,
    "xray_traces_per_million": 5.00,
}
SAGEMAKER_INSTANCE_PER_HOUR = {"ml.c6i.large": PRICES["sagemaker_ml_c6i_large_per_hour"]}
HOURS_PER_MONTH = 730
# Express workflows are billed for 64 MB of memory per execution at the least, in 100 ms steps.
SFN_MEMORY_GB = 64 / 1024
SFN_TRANSITION_OVERHEAD_MS = 25
# Custom metrics: the handlers' StageLatency x 4 stages, PredictedDigit x 10 digits,
# Confidence, LowConfidence; the two log metric filters (server-side failures, API 429s).
CUSTOM_METRIC_SERIES = 4 + 10 + 1 + 1 + 2
# Alarms are billed per metric they read: 5xx rate 2, failed executions 1, p99 latency 1,
# throttles 7 (API 429s, StartSyncExecution throttling, five Lambdas).
ALARM_METRICS = 2 + 1 + 1 + 7
XRAY_SAMPLED_FRACTION = 0.05
LOG_EVENT_BYTES = 300
SFN_EVENTS_PER_EXECUTION = 2 + 5 * len(TASKS)
RESPONSE_BYTES = 3_000


@dataclass(frozen=True)
class Measured:
    durations_ms: Mapping[str, float]
    model_ms: float
    item_bytes: int
    request_bytes: int



def measure(runs: int) -> Measured:
    """Median duration of each handler, in process, on a real digit."""
    from bench.in_process import workflow_handlers
    from model.inference import load_model
    from model.mnist_data import as_png, load_split

    digits, _ = load_split("test")
    body = {"image": base64.b64encode(as_png(digits[0])).decode(), "clientId": "cost"}
    model = load_model()
    model_ms = median_ms(runs, lambda: model.predict_proba(digits[:1]))

    with workflow_handlers() as handlers:
        samples: dict[str, list[float]] = {task: [] for task in TASKS}
        item: Any = None
        for run in range(runs + 1):  # run 0 warms up
            state: Any = {"requestId": f"cost-{run}", "request": body}
            for task in TASKS:
                started = time.perf_counter()
                state = handlers[task](state, None)
                if run:
                    samples[task].append((time.perf_counter() - started) * 1000)
                state = json.loads(json.dumps(state))
            item = state
        durations = {task: statistics.median(values) for task, values in samples.items()}
    return Measured(durations, model_ms, len(json.dumps(item)), len(json.dumps(body)))


def from_file(path: Path) -> Measured:
    data = json.loads(path.read_text())
    return Measured({task: float(data[task]) for task in TASKS}, float(data["model"]),
                    int(data["itemBytes"]), int(data["requestBytes"]))


def variable_costs(settings: StackSettings, measured: Measured) -> dict[str, float]:
    """USD per million predictions, by service."""
    p = PRICES
    lambda_gb_s = sum(
        math.ceil(measured.durations_ms[task]) / 1000 * settings.lambda_memory_mb[task] / 1024 for task in TASKS
    )
    workflow_ms = sum(measured.durations_ms.values()) + SFN_TRANSITION_OVERHEAD_MS
    sfn_billed_s = math.ceil(workflow_ms / 100) / 10
    costs = {
        "CloudFront": p["cloudfront_https_per_10k"] * 100
        + RESPONSE_BYTES / GB * MILLION * p["cloudfront_transfer_out_per_gb"],
        "API Gateway": p["api_gateway_rest_per_million"],
        "WAF": p["waf_requests_per_million"] if settings.waf_enabled else 0.0,
        "Step Functions": p["sfn_express_requests_per_million"] + sfn_billed_s * SFN_MEMORY_GB * p["sfn_express_gb_second"] * MILLION,
        "Lambda": len(TASKS) * p["lambda_requests_per_million"] + lambda_gb_s * p["lambda_arm_gb_second"] * MILLION,
        "DynamoDB": math.ceil(measured.item_bytes / 1024) * p["dynamodb_write_request_units_per_million"],
        "CloudWatch Logs": _log_bytes(settings, measured) / GB * MILLION * p["cloudwatch_logs_ingest_per_gb"],
        "X-Ray": XRAY_SAMPLED_FRACTION * p["xray_traces_per_million"],
    }
    payload_gb = (784 * 8 + 1_000) / GB
    sagemaker = payload_gb * MILLION * p["sagemaker_data_processed_per_gb"]
    if settings.sagemaker.mode == "serverless":
        memory_gb = settings.sagemaker.serverless_memory_mb / 1024
        sagemaker += math.ceil(measured.model_ms) / 1000 * memory_gb * p["sagemaker_serverless_gb_second"] * MILLION
    costs["SageMaker"] = sagemaker
    return costs


def _log_bytes(settings: StackSettings, measured: Measured) -> float:
    """CloudWatch Logs bytes per prediction: workflow events, handler logs, EMF metrics."""
    workflow = 0.0
    if settings.step_functions_log_level == "ALL":
        workflow = SFN_EVENTS_PER_EXECUTION * LOG_EVENT_BYTES
        if settings.step_functions_include_execution_data:
            # The raw upload appears in Validate's events, the item in Persist's and the result.
            workflow += 3 * measured.request_bytes + 3 * measured.item_bytes + 10 * 4 * 1024
    handler_lines = {"DEBUG": 8, "INFO": 4, "WARNING": 0, "ERROR": 0}[settings.log_level]
    metrics = 4 * 500
    return workflow + len(TASKS) * handler_lines * LOG_EVENT_BYTES + metrics


def fixed_monthly(settings: StackSettings) -> dict[str, float]:
    p = PRICES
    costs = {
        "CloudWatch dashboard + metrics": p["cloudwatch_dashboard_per_month"] + CUSTOM_METRIC_SERIES * p["cloudwatch_metric_per_month"],
    }
    if settings.waf_enabled:
        costs["WAF web ACL + rule"] = p["waf_web_acl_per_month"] + p["waf_rule_per_month"]
    if settings.alarms_enabled:
        costs["CloudWatch alarms + their KMS key"] = ALARM_METRICS * p["cloudwatch_alarm_per_month"] + p["kms_key_per_month"]
    provisioned = settings.sagemaker.provisioned_concurrency
    if settings.sagemaker.mode == "serverless" and provisioned:
        memory_gb = settings.sagemaker.serverless_memory_mb / 1024
        costs["SageMaker provisioned concurrency"] = (
            provisioned * memory_gb * HOURS_PER_MONTH * 3600 * p["sagemaker_provisioned_concurrency_gb_second"]
        )
    if settings.sagemaker.mode == "instance":
        hourly = SAGEMAKER_INSTANCE_PER_HOUR.get(settings.sagemaker.instance_type or "")
        if hourly is None:
            raise SystemExit(f"no price known for {settings.sagemaker.instance_type}: add it to SAGEMAKER_INSTANCE_PER_HOUR")
        costs["SageMaker instances"] = hourly * HOURS_PER_MONTH * settings.sagemaker.instance_count
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=Path, default=ROOT / "bench" / "results" / "handler_durations.json")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--monthly-predictions", type=int, default=MILLION)
    args = parser.parse_args()

    if args.durations.is_file():
        measured, source = from_file(args.durations), str(args.durations)
    else:
        measured, source = measure(args.runs), f"measured in process, median of {args.runs} runs"
    print(f"durations ({source}): " + ", ".join(f"{t} {measured.durations_ms[t]:.1f} ms" for t in TASKS)
          + f", model {measured.model_ms:.2f} ms; item {measured.item_bytes} B, request {measured.request_bytes} B")

    settings = {stack: stack_settings(stack) for stack in STACKS}
    variable = {stack: variable_costs(s, measured) for stack, s in settings.items()}
    fixed = {stack: fixed_monthly(s) for stack, s in settings.items()}
    print(f"\nUSD per 1,000,000 predictions ({settings['dev'].region} list prices)")
    print(f"{'':<42}" + "".join(f"{stack:>12}" for stack in STACKS))
    for service in variable["dev"]:
        print(f"{service:<42}" + "".join(f"{variable[stack][service]:>12.2f}" for stack in STACKS))
    totals = {stack: sum(variable[stack].values()) for stack in STACKS}
    print(f"{'variable total':<42}" + "".join(f"{totals[stack]:>12.2f}" for stack in STACKS))
    print(f"{'fixed per month':<42}" + "".join(f"{sum(fixed[stack].values()):>12.2f}" for stack in STACKS))
    volume = args.monthly_predictions
    print(f"{f'all-in at {volume:,} predictions/month':<42}" + "".join(
        f"{totals[stack] + sum(fixed[stack].values()) * MILLION / volume:>12.2f}" for stack in STACKS))
    for stack in STACKS:
        print(f"  fixed ({stack}): " + ", ".join(f"{name} {cost:.2f}" for name, cost in fixed[stack].items()))


if __name__ == "__main__":
    main()
