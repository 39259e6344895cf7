"""The Pulumi program: stack settings -> each component's args -> components -> stack outputs."""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.api import Api, ApiArgs
from components.history_api import HistoryFunction, HistoryFunctionArgs
from components.lambda_function import FunctionPackage, FunctionPackageArgs, LambdaCommon
from components.model_endpoint import ModelEndpoint, ModelEndpointArgs
from components.monitoring import AlarmArgs, Monitoring, MonitoringArgs, monitored_names
from components.outputs import console_links
from components.settings import load_stack_settings
from components.site import ApiOrigin, Site, SiteArgs
from components.storage import Storage, StorageArgs
from components.workflow import Workflow, WorkflowArgs
from functions.core.tasks import HISTORY, WORKFLOW_TASKS

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache" / "pulumi"

settings = load_stack_settings()
every_lambda = LambdaCommon(
    name_prefix=settings.name_prefix,
    log_level=settings.log_level,
    log_retention_days=settings.log_retention_days,
    metrics_namespace=settings.metrics_namespace,
)

storage = Storage(
    "storage",
    StorageArgs(
        name_prefix=settings.name_prefix,
        point_in_time_recovery=settings.point_in_time_recovery,
        deletion_protection=settings.deletion_protection,
    ),
)
model = ModelEndpoint(
    "model",
    ModelEndpointArgs(
        region=settings.region,
        name_prefix=settings.name_prefix,
        sagemaker=settings.sagemaker,
        deletion_protection=settings.deletion_protection,
        model_dir=ROOT / "model",
        build_dir=CACHE / "model",
    ),
)
package = FunctionPackage(
    "functions",
    FunctionPackageArgs(
        name_prefix=settings.name_prefix,
        functions_dir=ROOT / "functions",
        pyproject=ROOT / "pyproject.toml",
        cache_dir=CACHE,
    ),
)
workflow = Workflow(
    "workflow",
    WorkflowArgs(
        common=every_lambda,
        memory_mb={task.key: settings.lambda_memory_mb[task.key] for task in WORKFLOW_TASKS},
        low_confidence_threshold=settings.low_confidence_threshold,
        history_ttl_days=settings.history_ttl_days,
        step_functions_log_level=settings.step_functions_log_level,
        step_functions_include_execution_data=settings.step_functions_include_execution_data,
    ),
    package,
    table=storage.table,
    endpoint=model.endpoint,
)
history = HistoryFunction(
    "history",
    HistoryFunctionArgs(common=every_lambda, memory_mb=settings.lambda_memory_mb[HISTORY.key]),
    package,
    table=storage.table,
)
api = Api(
    "api",
    ApiArgs(
        stack=settings.stack,
        region=settings.region,
        name_prefix=settings.name_prefix,
        log_retention_days=settings.log_retention_days,
        throttle_rate_limit=settings.api_throttle_rate_limit,
        throttle_burst_limit=settings.api_throttle_burst_limit,
        waf_enabled=settings.waf_enabled,
    ),
    workflow.state_machine,
    history.function,
)
site = Site(
    "site",
    SiteArgs(
        stack=settings.stack,
        region=settings.region,
        name_prefix=settings.name_prefix,
        site_dir=ROOT / "site",
        waf_enabled=settings.waf_enabled,
        waf_rate_limit=settings.waf_rate_limit,
    ),
    ApiOrigin(stage=api.stage, api_id=api.rest_api.id, header=api.origin_header),
)
monitoring = Monitoring(
    "monitoring",
    MonitoringArgs(
        region=settings.region,
        name_prefix=settings.name_prefix,
        metrics_namespace=settings.metrics_namespace,
        # The settings hold an e-mail address exactly when alarms are enabled.
        alarms=AlarmArgs(
            email=settings.alarm_email,
            p99_latency_ms=settings.alarm_p99_latency_ms,
            error_rate_percent=settings.alarm_error_rate_percent,
        )
        if settings.alarms_enabled and settings.alarm_email
        else None,
    ),
    monitored_names(api, workflow, history, model, storage),
)

pulumi.export("siteUrl", site.url)
pulumi.export("apiUrl", api.url)
pulumi.export("stateMachineArn", workflow.state_machine.arn)
pulumi.export("endpointName", model.endpoint.name)
pulumi.export("tableName", storage.table.name)
pulumi.export(
    "consoleLinks",
    console_links(
        settings.region, workflow.state_machine.arn, workflow.log_group.name, monitoring.dashboard.dashboard_name
    ),
)
