"""The workflow: a layer with numpy, Pillow and Powertools, the five arm64 Lambdas (one
least-privilege role each) and the Express state machine built by
``workflows.definition``, with its own log group, X-Ray tracing and the
stack's X-Ray sampling rule."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.iam import Statement, account_id, allow, role_with_policy
from components.layer_builder import LAYER_ZIP, LayerSpec, build_function_code, build_layer, pinned_requirements
from components.settings import StackSettings
from components.storage import CLIENT_INDEX
from functions.core.limits import DEFAULT_MAX_PIXELS, MAX_IMAGE_BYTES
from functions.core.tasks import FUNCTIONS, HISTORY, INVOKE_MODEL, PERSIST, PREPROCESS, VALIDATE, WORKFLOW_TASKS
from workflows.definition import TASK_TIMEOUT_SECONDS, build_definition

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
# What the handlers import beyond the Lambda runtime (which has boto3); pinned in pyproject.toml.
LAYER_PACKAGES = ("numpy", "pillow", "aws-lambda-powertools")
# Seconds: a workflow task's Lambda stops when its state gives up on it.
TIMEOUTS: Mapping[str, int] = {**TASK_TIMEOUT_SECONDS, HISTORY.key: 10}
LAMBDA_LOG_LEVELS: Mapping[str, str] = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR"}
# Every function's environment, whatever it does. OpenBLAS starts a thread per
# core when numpy is imported; at Lambda's fraction of a vCPU they only cost
# (numpy's import: 400 -> 306 ms at 256 MB, measured with the CPU capped).
RUNTIME_ENVIRONMENT: Mapping[str, str] = {"OPENBLAS_NUM_THREADS": "1"}

# X-Ray: the first service that sees a request decides whether it is traced and
# the others follow ("Configuring sampling rules", X-Ray developer guide); here
# that is API Gateway (service name "<api name>/<stage>", API Gateway guide
# "Configure X-Ray sampling rules") or the state machine when started directly.
# The default rule traces the first request each second plus 5%: at under one
# request a second that is nearly every one. No reservoir: a fixed 5%.
SAMPLING_FIXED_RATE = 0.05
SAMPLING_RESERVOIR_PER_SECOND = 0
# Before AWS's default rule (priority 10000).
SAMPLING_PRIORITY = 1000

# X-Ray's write actions have no resource-level permissions.
XRAY_WRITE = allow("XRayTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*")


@dataclass(frozen=True)
class Sources:
    """Where the deployable code lives in the checkout."""

    functions_dir: Path
    pyproject: Path
    layer_cache_dir: Path


def workflow_log_group_name(settings: StackSettings) -> str:
    """Where the Express workflow's executions are logged (Express keeps no history)."""
    # The vended-logs prefix keeps CloudWatch's resource policy small.
    return f"/aws/vendedlogs/states/{settings.name_prefix}-workflow"


def functions_archive(functions_dir: Path, cache_dir: Path) -> pulumi.AssetArchive:
    """The ``functions`` package as the Lambda code archive: its sources and
    their bytecode for the runtime (``build_function_code``)."""
    built = build_function_code(functions_dir, cache_dir)
    return pulumi.AssetArchive(
        {
            str(path.relative_to(built)): pulumi.FileAsset(str(path))
            for path in sorted(built.rglob("*"))
            if path.is_file()
        }
    )


class Workflow(pulumi.ComponentResource):
    functions: dict[str, aws.lambda_.Function]
    state_machine: aws.sfn.StateMachine
    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        sources: Sources,
        table: aws.dynamodb.Table,
        endpoint: aws.sagemaker.Endpoint,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:workflow:Workflow", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        layer_dir = build_layer(
            LayerSpec(pinned_requirements(sources.pyproject, LAYER_PACKAGES)), sources.layer_cache_dir
        )
        layer = aws.lambda_.LayerVersion(
            "numpy-pillow",
            aws.lambda_.LayerVersionArgs(
                layer_name=f"{settings.name_prefix}-numpy-pillow",
                code=pulumi.FileArchive(str(layer_dir / LAYER_ZIP)),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
            ),
            opts=child,
        )
        # Built beside the layers, in the program's cache.
        code = functions_archive(sources.functions_dir, sources.layer_cache_dir.parent / "code")

        common_env: dict[str, pulumi.Input[str]] = {
            **RUNTIME_ENVIRONMENT,
            "LOG_LEVEL": settings.log_level,
            "POWERTOOLS_METRICS_NAMESPACE": settings.metrics_namespace,
        }
        history_env: dict[str, pulumi.Input[str]] = {"HISTORY_BACKEND": "dynamodb", "HISTORY_TABLE": table.name}
        environments: dict[str, dict[str, pulumi.Input[str]]] = {
            VALIDATE.key: {"MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES)},
            PREPROCESS.key: {"MAX_IMAGE_PIXELS": str(DEFAULT_MAX_PIXELS)},
            INVOKE_MODEL.key: {
                "SAGEMAKER_ENDPOINT_NAME": endpoint.name,
                "LOW_CONFIDENCE_THRESHOLD": str(settings.low_confidence_threshold),
            },
            PERSIST.key: {**history_env, "HISTORY_TTL_DAYS": str(settings.history_ttl_days)},
            HISTORY.key: history_env,
        }
        table_index = pulumi.Output.concat(table.arn, "/index/", CLIENT_INDEX)
        permissions: dict[str, list[Statement]] = {
            VALIDATE.key: [],
            PREPROCESS.key: [],
            INVOKE_MODEL.key: [allow("InvokeModel", ["sagemaker:InvokeEndpoint"], endpoint.arn)],
            # A retried Persist learns of the earlier write from PutItem's
            # ReturnValuesOnConditionCheckFailure=ALL_OLD, so it needs no read.
            PERSIST.key: [allow("WriteHistory", ["dynamodb:PutItem"], table.arn)],
            HISTORY.key: [
                allow("ReadHistory", ["dynamodb:GetItem", "dynamodb:Query"], [table.arn, table_index]),
                allow("RecordFeedback", ["dynamodb:UpdateItem"], table.arn),
                # A person deletes one item or clears their history; only this function may.
                allow("DeleteHistory", ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem"], table.arn),
            ],
        }

        self.functions = {}
        for function in FUNCTIONS:
            log_group = aws.cloudwatch.LogGroup(
                f"{function.key}-logs",
                aws.cloudwatch.LogGroupArgs(
                    name=f"/aws/lambda/{settings.name_prefix}-{function.name}",
                    retention_in_days=settings.log_retention_days,
                ),
                opts=child,
            )
            role = role_with_policy(
                f"{function.key}-role",
                "lambda.amazonaws.com",
                [
                    allow(
                        "WriteOwnLogs",
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        pulumi.Output.concat(log_group.arn, ":*"),
                    ),
                    XRAY_WRITE,
                    *permissions[function.key],
                ],
                parent=self,
            )
            self.functions[function.key] = aws.lambda_.Function(
                function.name,
                aws.lambda_.FunctionArgs(
                    name=f"{settings.name_prefix}-{function.name}",
                    role=role.arn,
                    runtime=RUNTIME,
                    architectures=[ARCHITECTURE],
                    handler=function.handler,
                    code=code,
                    layers=[layer.arn],
                    memory_size=settings.lambda_memory_mb[function.key],
                    timeout=TIMEOUTS[function.key],
                    environment=aws.lambda_.FunctionEnvironmentArgs(
                        variables={
                            **common_env,
                            "POWERTOOLS_SERVICE_NAME": function.key,
                            **environments[function.key],
                        }
                    ),
                    tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
                    logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                        log_format="JSON",
                        log_group=log_group.name,
                        application_log_level=LAMBDA_LOG_LEVELS[settings.log_level],
                        # INFO keeps the platform's REPORT lines (init duration, max memory).
                        system_log_level="INFO",
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
            )

        self.log_group = aws.cloudwatch.LogGroup(
            "workflow-logs",
            aws.cloudwatch.LogGroupArgs(
                name=workflow_log_group_name(settings),
                retention_in_days=settings.log_retention_days,
            ),
            opts=child,
        )
        task_arns = [self.functions[task.key].arn for task in WORKFLOW_TASKS]
        state_machine_role = role_with_policy(
            "state-machine-role",
            "states.amazonaws.com",
            [
                allow("InvokeTasks", ["lambda:InvokeFunction"], task_arns),
                # CloudWatch Logs delivery for Step Functions only works with "*" resources.
                allow(
                    "LogDelivery",
                    [
                        "logs:CreateLogDelivery",
                        "logs:DeleteLogDelivery",
                        "logs:DescribeLogGroups",
                        "logs:DescribeResourcePolicies",
                        "logs:GetLogDelivery",
                        "logs:ListLogDeliveries",
                        "logs:PutResourcePolicy",
                        "logs:UpdateLogDelivery",
                    ],
                    "*",
                ),
                allow(
                    "XRayTraces",
                    [
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                        "xray:PutTelemetryRecords",
                        "xray:PutTraceSegments",
                    ],
                    "*",
                ),
            ],
            parent=self,
            source_account=account_id(),
        )
        definition = pulumi.Output.all(*task_arns).apply(_definition_json)
        self.state_machine = aws.sfn.StateMachine(
            "workflow",
            aws.sfn.StateMachineArgs(
                name=f"{settings.name_prefix}-workflow",
                type="EXPRESS",
                role_arn=state_machine_role.arn,
                definition=definition,
                logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                    level=settings.step_functions_log_level,
                    include_execution_data=settings.step_functions_include_execution_data,
                    log_destination=pulumi.Output.concat(self.log_group.arn, ":*"),
                ),
                tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            ),
            opts=child,
        )
        aws.xray.SamplingRule(
            "sampling",
            aws.xray.SamplingRuleArgs(
                rule_name=f"{settings.name_prefix}-traces",
                priority=SAMPLING_PRIORITY,
                reservoir_size=SAMPLING_RESERVOIR_PER_SECOND,
                fixed_rate=SAMPLING_FIXED_RATE,
                # The API stage ("<prefix>-api/api") and the state machine: both named after the prefix.
                service_name=f"{settings.name_prefix}-*",
                service_type="*",
                host="*",
                http_method="*",
                url_path="*",
                resource_arn="*",
                version=1,
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "stateMachineArn": self.state_machine.arn,
                "functionNames": {name: fn.name for name, fn in self.functions.items()},
            }
        )


def _definition_json(arns: Sequence[str]) -> str:
    return json.dumps(
        build_definition({task.key: arn for task, arn in zip(WORKFLOW_TASKS, arns, strict=True)}), indent=2
    )
