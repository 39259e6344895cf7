"""What every Lambda of the stack is built from, and the one way it is built.

``FunctionPackage`` builds once what all five functions run: the layer with
numpy, Pillow and Powertools, and the ``functions`` package as the code
archive. ``build_lambda`` makes one function of ``functions/core/tasks.py``'s
``FUNCTIONS``: its own log group, a least-privilege role and the arm64
function, traced, logging JSON. The workflow's tasks and the API's history
function are both made by it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.iam import Statement, allow, role_with_policy
from components.layer_builder import LAYER_ZIP, LayerSpec, build_function_code, build_layer, pinned_requirements
from functions.core.tasks import HISTORY, Function
from workflows.definition import TASK_TIMEOUT_SECONDS

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
# X-Ray's write actions have no resource-level permissions.
XRAY_WRITE = allow("XRayTraces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*")


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


@dataclass(frozen=True)
class FunctionPackageArgs:
    """Where the deployable code lives in the checkout, and where builds are cached."""

    name_prefix: str
    functions_dir: Path
    pyproject: Path
    cache_dir: Path


class FunctionPackage(pulumi.ComponentResource):
    """The layer and the code archive, built once and run by every function."""

    layer: aws.lambda_.LayerVersion
    code: pulumi.AssetArchive

    def __init__(self, name: str, args: FunctionPackageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("digits:lambda:FunctionPackage", name, None, opts)
        self.layer = self._build_layer(args)
        self.code = functions_archive(args.functions_dir, args.cache_dir / "code")
        self.register_outputs({"layerArn": self.layer.arn})

    def _build_layer(self, args: FunctionPackageArgs) -> aws.lambda_.LayerVersion:
        layer_dir = build_layer(
            LayerSpec(pinned_requirements(args.pyproject, LAYER_PACKAGES)), args.cache_dir / "layers"
        )
        return aws.lambda_.LayerVersion(
            "numpy-pillow",
            aws.lambda_.LayerVersionArgs(
                layer_name=f"{args.name_prefix}-numpy-pillow",
                code=pulumi.FileArchive(str(layer_dir / LAYER_ZIP)),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


@dataclass(frozen=True)
class LambdaCommon:
    """What every function takes from the stack settings."""

    name_prefix: str
    log_level: str
    log_retention_days: int
    metrics_namespace: str


@dataclass(frozen=True)
class LambdaSpec:
    """What sets one function apart: which it is, its memory, its own
    environment variables and the permissions beyond its logs and traces."""

    function: Function
    memory_mb: int
    environment: Mapping[str, pulumi.Input[str]]
    permissions: Sequence[Statement]


def build_lambda(
    spec: LambdaSpec, common: LambdaCommon, package: FunctionPackage, parent: pulumi.Resource
) -> aws.lambda_.Function:
    """The function of ``spec``, its log group and its role, all children of ``parent``."""
    function = spec.function
    log_group = aws.cloudwatch.LogGroup(
        f"{function.key}-logs",
        aws.cloudwatch.LogGroupArgs(
            name=f"/aws/lambda/{common.name_prefix}-{function.name}",
            retention_in_days=common.log_retention_days,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    role = role_with_policy(
        f"{function.key}-role",
        "lambda.amazonaws.com",
        [
            allow(
                "WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], pulumi.Output.concat(log_group.arn, ":*")
            ),
            XRAY_WRITE,
            *spec.permissions,
        ],
        parent=parent,
    )
    return aws.lambda_.Function(
        function.name,
        aws.lambda_.FunctionArgs(
            name=f"{common.name_prefix}-{function.name}",
            role=role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=function.handler,
            code=package.code,
            layers=[package.layer.arn],
            memory_size=spec.memory_mb,
            timeout=TIMEOUTS[function.key],
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=_environment(spec, common)),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=log_group.name,
                application_log_level=LAMBDA_LOG_LEVELS[common.log_level],
                # INFO keeps the platform's REPORT lines (init duration, max memory).
                system_log_level="INFO",
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group]),
    )


def _environment(spec: LambdaSpec, common: LambdaCommon) -> dict[str, pulumi.Input[str]]:
    return {
        **RUNTIME_ENVIRONMENT,
        "LOG_LEVEL": common.log_level,
        "POWERTOOLS_METRICS_NAMESPACE": common.metrics_namespace,
        "POWERTOOLS_SERVICE_NAME": spec.function.key,
        **spec.environment,
    }


def history_store_environment(table: aws.dynamodb.Table) -> dict[str, pulumi.Input[str]]:
    """What a function needs to reach the history table (persist's writes, the API's reads)."""
    return {"HISTORY_BACKEND": "dynamodb", "HISTORY_TABLE": table.name}
