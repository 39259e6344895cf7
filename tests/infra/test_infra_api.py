"""The REST API: POST /api/predictions starts the state machine synchronously,
its templates (generated from the error table) map executions and the
service's own refusals to the HTTP contract, the history routes reach the
history Lambda, and the deployment snapshots the whole API."""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from typing import Any

import airspeed
import jsonschema
import pytest

from components import api_templates
from functions.core.errors import ERROR_TABLE, ImageTooLarge
from functions.core.imaging import decode_upload
from tests.infra.records import StackRecord, policy_statements

# Every kind of resource an API Gateway deployment snapshots.
API_PARTS = {
    f"aws:apigateway/{kind}"
    for kind in (
        "resource:Resource",
        "method:Method",
        "methodResponse:MethodResponse",
        "integration:Integration",
        "integrationResponse:IntegrationResponse",
        "response:Response",
        "model:Model",
        "requestValidator:RequestValidator",
    )
}
INTEGRATION = "aws:apigateway/integration:Integration"
INTEGRATION_RESPONSE = "aws:apigateway/integrationResponse:IntegrationResponse"
METHOD_RESPONSE = "aws:apigateway/methodResponse:MethodResponse"
HISTORY_ROUTES = {
    # route: (method, resource path, required request parameters)
    "list-predictions": ("GET", "/api/predictions", {"method.request.querystring.clientId": True}),
    "clear-predictions": ("DELETE", "/api/predictions", {"method.request.querystring.clientId": True}),
    "get-prediction": (
        "GET",
        "/api/predictions/{id}",
        {"method.request.path.id": True, "method.request.querystring.clientId": True},
    ),
    "delete-prediction": (
        "DELETE",
        "/api/predictions/{id}",
        {"method.request.path.id": True, "method.request.querystring.clientId": True},
    ),
    "post-feedback": ("POST", "/api/predictions/{id}/feedback", {"method.request.path.id": True}),
}


class AwsUtil:
    """``$util`` as API Gateway has it: escapeJavaScript escapes ' and / too (as Java's StringEscapeUtils)."""

    def escapeJavaScript(self, text: Any) -> str:  # noqa: N802 - the VTL name
        return json.dumps(str(text), ensure_ascii=False)[1:-1].replace("'", "\\'").replace("/", "\\/")


class AwsInput:
    """``$input`` over a JSON body: ``$`` or one top-level field."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def path(self, expression: str) -> Any:
        if expression == "$":
            return self._body
        return self._body.get(expression.removeprefix("$."))

    def json(self, _: str) -> str:
        return json.dumps(self._body)


def render(template: str, body: Any, request_id: str = "req-123") -> tuple[str, dict[str, Any]]:
    context: dict[str, Any] = {"requestId": request_id, "responseOverride": {}}
    out = airspeed.Template(template).merge({"input": AwsInput(body), "util": AwsUtil(), "context": context})
    return out.strip(), context


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _integration(stack: StackRecord) -> dict[str, Any]:
    return stack.inputs(INTEGRATION, "integration-start-prediction")


def _request_schema(stack: StackRecord) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(stack.inputs("aws:apigateway/model:Model", "model-PredictionRequest")["schema"])
    return schema


def test_given_each_stack_then_predictions_start_the_state_machine_synchronously(stack: StackRecord) -> None:
    integration = _integration(stack)
    machine_arn = stack.one("aws:sfn/stateMachine:StateMachine")["arn"]
    assert (integration["type"], integration["integrationHttpMethod"]) == ("AWS", "POST")
    assert integration["uri"] == "arn:aws:apigateway:ap-southeast-1:states:action/StartSyncExecution"
    assert integration["passthroughBehavior"] == "NEVER"
    request, _ = render(integration["requestTemplates"]["application/json"], {"image": "x", "clientId": "c"})
    assert json.loads(request)["stateMachineArn"] == machine_arn
    role_arn = integration["credentials"]
    role_name = next(r["name"] for r in stack.of_type("aws:iam/role:Role") if r["arn"] == role_arn)
    assert [s for name, s in policy_statements(stack) if name == role_name] == [
        {
            "Sid": "StartWorkflow",
            "Effect": "Allow",
            "Action": ["states:StartSyncExecution"],
            "Resource": machine_arn,
        }
    ]


def test_given_a_body_with_quotes_then_the_execution_input_carries_it_with_the_request_id() -> None:
    body = {"image": "data:image/png;base64,AAA/+", "clientId": 'it\'s "me"', "extra": [1, None]}
    request, _ = render(api_templates.start_execution_request("arn:sm"), body)
    start = json.loads(request)
    assert json.loads(start["input"]) == {"requestId": "req-123", "request": body}


def test_given_the_longest_image_that_fits_then_the_execution_input_is_exactly_within_step_functions_limit(
    stack: StackRecord,
) -> None:
    """StartSyncExecution takes at most 262,144 bytes of input (API reference, ``input``), measured on the
    decoded string: the template's ``\\/`` escapes travel on the wire only. '/' is the base64 character
    the template escapes; the request id is a UUID, the clientId the longest the validator accepts.
    One character more and Step Functions refuses the call, which the refusal template answers 413."""
    client_id = "_" * api_templates.CLIENT_ID_MAX_LENGTH
    template = _integration(stack)["requestTemplates"]["application/json"]
    limit = api_templates.IMAGE_MAX_LENGTH
    sizes = []
    for length in (limit, limit + 1):
        body = {"image": "/" * length, "clientId": client_id}
        request, _ = render(template, body, str(uuid.uuid4()))
        assert request.count("\\/") == length
        execution_input = json.loads(request)["input"]
        assert json.loads(execution_input)["request"] == body
        sizes.append(len(execution_input.encode()))
    assert sizes == [api_templates.MAX_EXECUTION_INPUT_BYTES, api_templates.MAX_EXECUTION_INPUT_BYTES + 1]


def test_given_an_oversized_image_then_the_validator_lets_step_functions_refuse_it_as_too_large(
    stack: StackRecord,
) -> None:
    """A maxLength would make API Gateway's validator answer 400 BadRequest; the contract (and the
    local stack) answer an oversized body 413 ImageTooLarge, which the refusal mapping gives."""
    schema = _request_schema(stack)
    assert "maxLength" not in schema["properties"]["image"]
    assert jsonschema.Draft4Validator(schema).is_valid({"image": "A" * 10_000_000, "clientId": "someone"})
    assert api_templates.STEP_FUNCTIONS_REFUSALS["ValidationException"] == "ImageTooLarge"


def test_given_an_image_the_schema_refuses_as_too_long_then_the_validate_task_refuses_it_too() -> None:
    """The schema's limit only refuses what the workflow would answer ImageTooLarge anyway."""
    with pytest.raises(ImageTooLarge):
        decode_upload("A" * (api_templates.IMAGE_MAX_LENGTH + 1))


def test_given_a_succeeded_execution_then_its_output_is_the_body() -> None:
    item = {"id": "p1", "digit": 7, "confidence": 0.99}
    out, context = render(api_templates.execution_response(), {"status": "SUCCEEDED", "output": json.dumps(item)})
    assert json.loads(out) == item and "status" not in context["responseOverride"]


@pytest.mark.parametrize("code", sorted(ERROR_TABLE))
def test_given_an_execution_failed_with_a_table_code_then_status_and_body_follow_the_table(code: str) -> None:
    cause = 'Your image\'s "size" is odd / wrong'
    out, context = render(api_templates.execution_response(), {"status": "FAILED", "error": code, "cause": cause})
    assert context["responseOverride"]["status"] == ERROR_TABLE[code].status
    assert json.loads(out) == {"error": {"code": code, "message": cause}}


def test_given_an_execution_failed_without_a_cause_then_the_code_s_default_message_is_used() -> None:
    out, context = render(api_templates.execution_response(), {"status": "FAILED", "error": "NotFound"})
    assert json.loads(out) == {"error": {"code": "NotFound", "message": ERROR_TABLE["NotFound"].default_message}}
    assert context["responseOverride"]["status"] == 404


@pytest.mark.parametrize("status, error", [("FAILED", "States.TaskFailed"), ("TIMED_OUT", "States.Timeout")])
def test_given_an_unknown_failure_then_an_internal_error_without_details(status: str, error: str) -> None:
    body = {"status": status, "error": error, "cause": "Traceback (most recent call last): secret"}
    out, context = render(api_templates.execution_response(), body)
    assert context["responseOverride"]["status"] == 500
    assert json.loads(out) == {
        "error": {"code": "InternalError", "message": ERROR_TABLE["InternalError"].default_message}
    }


@pytest.mark.parametrize(
    "service_type, code",
    [
        # Error names as StartSyncExecution documents them; __type may carry a namespace.
        ("com.amazonaws.swf.base.exceptions#ValidationException", "ImageTooLarge"),
        ("ValidationException", "ImageTooLarge"),
        ("InvalidExecutionInput", "BadRequest"),
        ("com.amazon.coral.availability#ThrottlingException", "Throttled"),
        ("ThrottlingException:http://internal.amazon.com/coral/", "Throttled"),
        ("KmsThrottlingException", "Throttled"),
        # Faults of the deployment, not of the request, and the service's own 5xx.
        ("StateMachineDoesNotExist", "InternalError"),
        ("AccessDeniedException", "InternalError"),
        ("InternalFailure", "InternalError"),
        (None, "InternalError"),
    ],
)
def test_given_step_functions_refuses_the_call_then_the_contract_error_follows_its_type(
    service_type: str | None,
    code: str,
) -> None:
    body = {"message": "Value at 'input' failed to satisfy constraint"}
    if service_type is not None:
        body["__type"] = service_type
    out, context = render(api_templates.service_refusal_response(), body)
    cls = ERROR_TABLE[code]
    assert context["responseOverride"]["status"] == cls.status
    assert json.loads(out) == {"error": {"code": code, "message": cls.default_message}}


def test_given_each_stack_then_the_service_s_refusals_use_the_refusal_template(stack: StackRecord) -> None:
    refusal = stack.inputs(INTEGRATION_RESPONSE, "integration-response-start-prediction-service-refusal")
    assert refusal["responseTemplates"]["application/json"] == api_templates.service_refusal_response()
    # For AWS integrations the pattern is matched against the service's HTTP status.
    pattern = refusal["selectionPattern"]
    assert all(re.fullmatch(pattern, status) for status in ("400", "413", "429", "500", "503"))
    assert not re.fullmatch(pattern, "200")


def test_given_each_stack_then_the_deployed_response_template_is_the_generated_one(stack: StackRecord) -> None:
    response = stack.inputs(INTEGRATION_RESPONSE, "integration-response-start-prediction-execution")
    assert response["responseTemplates"]["application/json"] == api_templates.execution_response()
    assert "selectionPattern" not in response
    statuses = {
        int(r["inputs"]["statusCode"])
        for r in stack.of_type(METHOD_RESPONSE)
        if r["name"].startswith("method-response-start-prediction-")
    }
    assert statuses == {200, *(cls.status for cls in ERROR_TABLE.values())}


def test_given_each_stack_then_integration_responses_are_created_after_their_method_responses(
    stack: StackRecord,
) -> None:
    """An integration response names a status its method must already answer with."""
    method_responses = {
        (r["inputs"]["resourceId"], r["inputs"]["httpMethod"], r["inputs"]["statusCode"]): r["urn"]
        for r in stack.of_type(METHOD_RESPONSE)
    }
    integration_responses = stack.of_type(INTEGRATION_RESPONSE)
    assert len(integration_responses) == 3
    for response in integration_responses:
        inputs = response["inputs"]
        method_response = method_responses[(inputs["resourceId"], inputs["httpMethod"], inputs["statusCode"])]
        assert method_response in stack.waits_for(response), response["name"]


def test_given_each_stack_then_the_deployment_waits_for_every_part_of_the_api(stack: StackRecord) -> None:
    """A deployment taken before an integration response exists answers 500 until the next one."""
    deployment = stack.one("aws:apigateway/deployment:Deployment")
    parts = [r for r in stack.resources if r["type"] in API_PARTS]
    assert {r["type"] for r in parts} == API_PARTS
    assert {r["urn"] for r in parts} <= stack.waits_for(deployment)
    assert deployment["urn"] in stack.waits_for(stack.one("aws:apigateway/stage:Stage"))


def test_given_each_stack_then_the_deployment_triggers_hold_every_part_s_resolved_properties(
    stack: StackRecord,
) -> None:
    """The triggers are the parts' own resolved properties (and ids), so changing any of them, an
    integration's URI or template, a method response, a gateway response, replaces the deployment."""
    triggers = stack.inputs("aws:apigateway/deployment:Deployment")["triggers"]
    parts = {r["name"]: r for r in stack.resources if r["type"] in API_PARTS}
    assert set(triggers) == set(parts)
    for name, part in parts.items():
        snapshot = json.loads(triggers[name])
        assert snapshot.pop("id") == part["id"], name
        assert {camel(key): value for key, value in snapshot.items() if value is not None} == part["inputs"], name
    start = json.loads(triggers["integration-start-prediction"])
    machine_arn = stack.one("aws:sfn/stateMachine:StateMachine")["arn"]
    assert machine_arn in start["request_templates"]["application/json"]
    assert start["credentials"].startswith("arn:aws:iam:")


def test_given_each_stack_then_gateway_responses_speak_the_error_contract(stack: StackRecord) -> None:
    responses = {r["inputs"]["responseType"]: r["inputs"] for r in stack.of_type("aws:apigateway/response:Response")}
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY", "THROTTLED", "WAF_FILTERED"} <= set(responses)
    for response_type, response in responses.items():
        template = response["responseTemplates"]["application/json"]
        filled = template.replace("$context.error.messageString", json.dumps("API Gateway's message"))
        error = json.loads(filled)["error"]
        assert error["code"] in ERROR_TABLE and error["message"]
        if "statusCode" in response:
            assert int(response["statusCode"]) == ERROR_TABLE[error["code"]].status, response_type


def test_given_each_stack_then_history_routes_proxy_to_the_history_function(stack: StackRecord) -> None:
    history = stack.one("aws:lambda/function:Function", "history")
    invoke_arn = f"arn:aws:apigateway:ap-southeast-1:lambda:path/2015-03-31/functions/{history['arn']}/invocations"
    methods = {m["name"]: m["inputs"] for m in stack.of_type("aws:apigateway/method:Method")}
    for route, (http_method, _, parameters) in HISTORY_ROUTES.items():
        integration = stack.inputs(INTEGRATION, f"integration-{route}")
        assert (integration["type"], integration["uri"]) == ("AWS_PROXY", invoke_arn)
        assert (methods[f"method-{route}"]["httpMethod"], methods[f"method-{route}"]["requestParameters"]) == (
            http_method,
            parameters,
        )
    permission = stack.inputs("aws:lambda/permission:Permission")
    assert permission["principal"] == "apigateway.amazonaws.com" and permission["function"] == history["inputs"]["name"]


def test_given_each_stack_then_the_lambda_permission_covers_every_history_route(stack: StackRecord) -> None:
    """API Gateway invokes with source ARN ``<execution ARN>/<stage>/<METHOD>/<path as called>``."""
    source_arn = stack.inputs("aws:lambda/permission:Permission")["sourceArn"]
    api_name = stack.inputs("aws:apigateway/restApi:RestApi")["name"]
    assert source_arn.startswith(f"arn:aws:execute-api:ap-southeast-1:123456789012:{api_name}/api/")
    execution_arn = source_arn.split("/")[0]
    for http_method, path, _ in HISTORY_ROUTES.values():
        called = f"{execution_arn}/api/{http_method}{path.replace('{id}', '0b6f2c1e-item')}"
        assert fnmatch.fnmatchcase(called, source_arn), called
    assert not fnmatch.fnmatchcase(f"{execution_arn}/api/GET/api/health", source_arn)
    assert not fnmatch.fnmatchcase(f"{execution_arn}/other-stage/GET/api/predictions", source_arn)


def test_given_each_stack_then_requests_are_validated_before_reaching_aws(stack: StackRecord) -> None:
    validator = stack.one("aws:apigateway/requestValidator:RequestValidator")
    assert validator["inputs"]["validateRequestBody"] and validator["inputs"]["validateRequestParameters"]
    methods = {m["name"]: m["inputs"] for m in stack.of_type("aws:apigateway/method:Method")}
    assert methods["method-start-prediction"]["requestModels"] == {"application/json": "PredictionRequest"}
    assert methods["method-post-feedback"]["requestModels"] == {"application/json": "Feedback"}
    for route in ("start-prediction", *HISTORY_ROUTES):
        assert methods[f"method-{route}"]["requestValidatorId"] == validator["id"], route
    assert "requestValidatorId" not in methods["method-health"]


@pytest.mark.parametrize(
    "body, valid",
    [
        ({"image": "AAAA", "clientId": "abc_-9"}, True),
        ({"image": "AAAA", "clientId": "abc_-9", "newerField": 1}, True),
        ({"image": "", "clientId": "abc"}, False),
        ({"image": "AAAA", "clientId": "a" * 65}, False),
        ({"image": "AAAA", "clientId": "a b"}, False),
        ({"clientId": "abc"}, False),
    ],
)
def test_given_a_prediction_body_then_the_validator_judges_it_as_the_validate_task_does(
    stacks: dict[str, StackRecord],
    body: dict[str, Any],
    valid: bool,
) -> None:
    assert jsonschema.Draft4Validator(_request_schema(stacks["prod"])).is_valid(body) is valid


def test_given_each_stack_then_the_stage_is_traced_and_access_logged(stack: StackRecord) -> None:
    stage = stack.inputs("aws:apigateway/stage:Stage")
    assert stage["stageName"] == "api" and stage["xrayTracingEnabled"] is True
    log_format = json.loads(stage["accessLogSettings"]["format"])
    assert log_format["requestId"] == "$context.requestId" and "status" in log_format
    settings = stack.inputs("aws:apigateway/methodSettings:MethodSettings")["settings"]
    assert settings["dataTraceEnabled"] is False
