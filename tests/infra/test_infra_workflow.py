"""The workflow on AWS: the Express state machine from workflows/, its
logging per stack, and the five arm64 functions wired as INTERFACES.md says."""

from __future__ import annotations

import json
from pathlib import Path

from components.lambda_function import RUNTIME_ENVIRONMENT
from functions.core.history.table import LISTED_ATTRIBUTES, TTL_ATTRIBUTE
from functions.core.limits import DEFAULT_MAX_PIXELS, MAX_IMAGE_BYTES
from functions.core.predictions import build_item
from tests.infra.records import StackRecord, settings_of
from workflows.definition import build_definition

ROOT = Path(__file__).resolve().parents[2]

TASKS = ("validate", "preprocess", "invoke_model", "persist")


def _function_arns(stack: StackRecord) -> dict[str, str]:
    return {task: stack.one("aws:lambda/function:Function", task.replace("_", "-"))["arn"] for task in TASKS}


def test_given_each_stack_then_the_state_machine_is_express_with_the_shared_definition(stack: StackRecord) -> None:
    machine = stack.inputs("aws:sfn/stateMachine:StateMachine")
    assert machine["type"] == "EXPRESS"
    assert json.loads(machine["definition"]) == build_definition(_function_arns(stack))
    assert machine["tracingConfiguration"] == {"enabled": True}


def test_given_each_stack_then_executions_log_to_their_own_group_per_settings(stack: StackRecord) -> None:
    settings = settings_of(stack.stack)
    logging = stack.inputs("aws:sfn/stateMachine:StateMachine")["loggingConfiguration"]
    group = stack.inputs("aws:cloudwatch/logGroup:LogGroup", "workflow-logs")
    assert logging["level"] == settings.step_functions_log_level
    assert logging["includeExecutionData"] is settings.step_functions_include_execution_data
    assert logging["logDestination"] == f"arn:aws:logs:ap-southeast-1:123456789012:log-group:{group['name']}:*"


def test_given_dev_then_execution_data_is_logged_and_given_prod_then_not(stacks: dict[str, StackRecord]) -> None:
    assert stacks["dev"].inputs("aws:sfn/stateMachine:StateMachine")["loggingConfiguration"] == {
        "level": "ALL",
        "includeExecutionData": True,
        "logDestination": (
            "arn:aws:logs:ap-southeast-1:123456789012:log-group:/aws/vendedlogs/states/digits-dev-workflow:*"
        ),
    }
    assert (
        stacks["prod"].inputs("aws:sfn/stateMachine:StateMachine")["loggingConfiguration"]["includeExecutionData"]
        is False
    )


def test_given_each_stack_then_functions_are_arm64_python312_traced_with_the_layer(stack: StackRecord) -> None:
    layer = stack.inputs("aws:lambda/layerVersion:LayerVersion")
    layer_arn = stack.one("aws:lambda/layerVersion:LayerVersion")["arn"]
    assert layer["compatibleArchitectures"] == ["arm64"] and layer["compatibleRuntimes"] == ["python3.12"]
    functions = stack.of_type("aws:lambda/function:Function")
    assert sorted(f["name"] for f in functions) == ["history", "invoke-model", "persist", "preprocess", "validate"]
    for function in functions:
        inputs = function["inputs"]
        module = function["name"].replace("-", "_")
        assert inputs["handler"] == f"functions.handlers.{module}.handler"
        assert (inputs["runtime"], inputs["architectures"]) == ("python3.12", ["arm64"])
        assert inputs["tracingConfig"] == {"mode": "Active"}
        assert inputs["layers"] == [layer_arn]
        assert "functions/core/errors.py" in inputs["code"]["assets"]


def test_given_each_stack_then_the_code_archive_holds_312_bytecode_for_every_module(stack: StackRecord) -> None:
    """The function's directory is read-only on Lambda: a module without
    bytecode in the archive is compiled again on every cold start."""
    sources = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "functions").rglob("*.py") if "__pycache__" not in path.parts
    )
    for function in stack.of_type("aws:lambda/function:Function"):
        assets = function["inputs"]["code"]["assets"]
        assert sorted(name for name in assets if name.endswith(".py")) == sources
        compiled = {name for name in assets if name.endswith(".pyc")}
        assert compiled == {
            str(Path(source).parent / "__pycache__" / f"{Path(source).stem}.cpython-312.pyc") for source in sources
        }


def test_given_each_stack_then_the_layer_is_uploaded_as_its_checked_zip(stack: StackRecord) -> None:
    path = Path(stack.inputs("aws:lambda/layerVersion:LayerVersion")["code"]["path"])
    assert path.name == "layer.zip" and path.is_file()


def test_given_each_stack_then_functions_get_the_environment_of_the_interfaces(stack: StackRecord) -> None:
    settings = settings_of(stack.stack)
    table = stack.inputs("aws:dynamodb/table:Table")["name"]
    endpoint = stack.inputs("aws:sagemaker/endpoint:Endpoint")["name"]
    env = {f["name"]: f["inputs"]["environment"]["variables"] for f in stack.of_type("aws:lambda/function:Function")}
    for variables in env.values():
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == settings.metrics_namespace
        assert variables["LOG_LEVEL"] == settings.log_level
    assert env["invoke-model"]["SAGEMAKER_ENDPOINT_NAME"] == endpoint
    assert env["invoke-model"]["LOW_CONFIDENCE_THRESHOLD"] == str(settings.low_confidence_threshold)
    for store_user in ("persist", "history"):
        assert (env[store_user]["HISTORY_BACKEND"], env[store_user]["HISTORY_TABLE"]) == ("dynamodb", table)
    assert "HISTORY_TABLE" not in env["validate"] and "SAGEMAKER_ENDPOINT_NAME" not in env["persist"]
    assert env["validate"]["MAX_IMAGE_BYTES"] == str(MAX_IMAGE_BYTES)
    assert env["preprocess"]["MAX_IMAGE_PIXELS"] == str(DEFAULT_MAX_PIXELS)


def test_given_each_stack_then_every_function_runs_openblas_on_one_thread(stack: StackRecord) -> None:
    """At a fraction of a vCPU, OpenBLAS's thread per core only slows numpy's import."""
    assert RUNTIME_ENVIRONMENT == {"OPENBLAS_NUM_THREADS": "1"}
    for function in stack.of_type("aws:lambda/function:Function"):
        assert function["inputs"]["environment"]["variables"]["OPENBLAS_NUM_THREADS"] == "1", function["name"]


def test_given_each_stack_then_the_history_table_matches_the_interfaces(stack: StackRecord) -> None:
    table = stack.inputs("aws:dynamodb/table:Table")
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["hashKey"] == "id"
    (index,) = table["globalSecondaryIndexes"]
    assert index["name"] == "ByClient" and index["projectionType"] == "INCLUDE"
    assert index["nonKeyAttributes"] == list(LISTED_ATTRIBUTES) and TTL_ATTRIBUTE not in LISTED_ATTRIBUTES
    assert index["keySchemas"] == [
        {"attributeName": "clientId", "keyType": "HASH"},
        {"attributeName": "createdAtId", "keyType": "RANGE"},
    ]
    assert table["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert table["serverSideEncryption"] == {"enabled": True}


def test_given_each_stack_then_a_task_lambda_stops_when_its_state_gives_up(stack: StackRecord) -> None:
    states = json.loads(stack.inputs("aws:sfn/stateMachine:StateMachine")["definition"])["States"]
    timeouts = {
        state.get("Parameters", {}).get("FunctionName"): state.get("TimeoutSeconds")
        for state in states.values()
        if state.get("Type") == "Task"
    }
    for task in TASKS:
        function = stack.one("aws:lambda/function:Function", task.replace("_", "-"))
        assert function["inputs"]["timeout"] == timeouts[function["arn"]]


def test_given_each_stack_then_the_platform_s_report_lines_are_kept(stack: StackRecord) -> None:
    """REPORT lines (init duration, max memory) are INFO system logs: WARN would drop them."""
    for function in stack.of_type("aws:lambda/function:Function"):
        assert function["inputs"]["loggingConfig"]["systemLogLevel"] == "INFO", function["name"]


def test_given_a_prediction_item_then_the_index_holds_every_field_a_history_page_returns() -> None:
    """A page of the history lists whole items from the ``ByClient`` index: a
    field the index does not project would be missing from the page."""
    state = {
        "requestId": "r-1",
        "clientId": "c",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "input": {"format": "png"},
        "thumbnail": "",
        "timingsMs": {},
        "prediction": {
            "digit": 1,
            "confidence": 0.9,
            "lowConfidence": False,
            "probabilities": [0.1] * 10,
            "modelVersion": "v2",
        },
    }
    table_keys = {"id", "clientId"}
    assert set(build_item(state)) | {"feedbackLabel"} == table_keys | set(LISTED_ATTRIBUTES)
