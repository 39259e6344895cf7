"""The workflow: the four task Lambdas (one least-privilege role each, built
by ``build_lambda`` from the shared ``FunctionPackage``) and the Express state
machine built by ``workflows.definition``, with its own log group, X-Ray
tracing and the stack's X-Ray sampling rule."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import Statement, account_id, allow, role_with_policy
from components.lambda_function import (
    FunctionPackage,
    LambdaCommon,
    LambdaSpec,
    build_lambda,
    history_store_environment,
)
from functions.core.limits import DEFAULT_MAX_PIXELS, MAX_IMAGE_BYTES
from functions.core.tasks import INVOKE_MODEL, PERSIST, PREPROCESS, VALIDATE, WORKFLOW_TASKS
from workflows.definition import build_definition

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


@dataclass(frozen=True)
class WorkflowArgs:
    """What the workflow takes from the stack settings."""

    common: LambdaCommon
    # Each task's memory, by task key.
    memory_mb: Mapping[str, int]
    low_confidence_threshold: float
    history_ttl_days: int
    step_functions_log_level: str
    step_functions_include_execution_data: bool


def workflow_log_group_name(name_prefix: str) -> str:
    """Where the Express workflow's executions are logged (Express keeps no history)."""
    # The vended-logs prefix keeps CloudWatch's resource policy small.
    return f"/aws/vendedlogs/states/{name_prefix}-workflow"


class Workflow(pulumi.ComponentResource):
    # The task Lambdas, by task key.
    functions: dict[str, aws.lambda_.Function]
    state_machine: aws.sfn.StateMachine
    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self,
        name: str,
        args: WorkflowArgs,
        package: FunctionPackage,
        table: aws.dynamodb.Table,
        endpoint: aws.sagemaker.Endpoint,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:workflow:Workflow", name, None, opts)
        self.functions = {
            spec.function.key: build_lambda(spec, args.common, package, parent=self)
            for spec in _task_specs(args, table, endpoint)
        }
        self.log_group = self._build_log_group(args.common)
        self.state_machine = self._build_state_machine(args)
        self._build_sampling_rule(args.common.name_prefix)
        self.register_outputs(
            {
                "stateMachineArn": self.state_machine.arn,
                "functionNames": {name: fn.name for name, fn in self.functions.items()},
            }
        )

    def _build_log_group(self, common: LambdaCommon) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            "workflow-logs",
            aws.cloudwatch.LogGroupArgs(
                name=workflow_log_group_name(common.name_prefix),
                retention_in_days=common.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_state_machine(self, args: WorkflowArgs) -> aws.sfn.StateMachine:
        task_arns = [self.functions[task.key].arn for task in WORKFLOW_TASKS]
        role = role_with_policy(
            "state-machine-role",
            "states.amazonaws.com",
            _state_machine_permissions(task_arns),
            parent=self,
            source_account=account_id(),
        )
        return aws.sfn.StateMachine(
            "workflow",
            aws.sfn.StateMachineArgs(
                name=f"{args.common.name_prefix}-workflow",
                type="EXPRESS",
                role_arn=role.arn,
                definition=pulumi.Output.all(*task_arns).apply(_definition_json),
                logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                    level=args.step_functions_log_level,
                    include_execution_data=args.step_functions_include_execution_data,
                    log_destination=pulumi.Output.concat(self.log_group.arn, ":*"),
                ),
                tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_sampling_rule(self, name_prefix: str) -> aws.xray.SamplingRule:
        return aws.xray.SamplingRule(
            "sampling",
            aws.xray.SamplingRuleArgs(
                rule_name=f"{name_prefix}-traces",
                priority=SAMPLING_PRIORITY,
                reservoir_size=SAMPLING_RESERVOIR_PER_SECOND,
                fixed_rate=SAMPLING_FIXED_RATE,
                # The API stage ("<prefix>-api/api") and the state machine: both named after the prefix.
                service_name=f"{name_prefix}-*",
                service_type="*",
                host="*",
                http_method="*",
                url_path="*",
                resource_arn="*",
                version=1,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _task_specs(args: WorkflowArgs, table: aws.dynamodb.Table, endpoint: aws.sagemaker.Endpoint) -> list[LambdaSpec]:
    """Each task's own environment and permissions, in the order the workflow runs them."""
    own: dict[str, tuple[dict[str, pulumi.Input[str]], list[Statement]]] = {
        VALIDATE.key: ({"MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES)}, []),
        PREPROCESS.key: ({"MAX_IMAGE_PIXELS": str(DEFAULT_MAX_PIXELS)}, []),
        INVOKE_MODEL.key: (
            {
                "SAGEMAKER_ENDPOINT_NAME": endpoint.name,
                "LOW_CONFIDENCE_THRESHOLD": str(args.low_confidence_threshold),
            },
            [allow("InvokeModel", ["sagemaker:InvokeEndpoint"], endpoint.arn)],
        ),
        PERSIST.key: (
            {**history_store_environment(table), "HISTORY_TTL_DAYS": str(args.history_ttl_days)},
            # A retried Persist learns of the earlier write from PutItem's
            # ReturnValuesOnConditionCheckFailure=ALL_OLD, so it needs no read.
            [allow("WriteHistory", ["dynamodb:PutItem"], table.arn)],
        ),
    }
    return [LambdaSpec(task, args.memory_mb[task.key], *own[task.key]) for task in WORKFLOW_TASKS]


def _state_machine_permissions(task_arns: Sequence[pulumi.Input[str]]) -> list[Statement]:
    return [
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
    ]


def _definition_json(arns: Sequence[str]) -> str:
    return json.dumps(
        build_definition({task.key: arn for task, arn in zip(WORKFLOW_TASKS, arns, strict=True)}), indent=2
    )
