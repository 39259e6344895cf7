"""The REST API: POST /api/predictions starts the state machine synchronously,
its templates (generated from the error table) map executions to the HTTP
contract, the history routes reach the history Lambda."""

from __future__ import annotations

import json
import re
from typing import Any

import airspeed
import pytest

from components import api_templates
from functions.core.errors import ERROR_TABLE
from tests.infra.records import StackRecord, policy_statements


class AwsUtil:
    """``$util`` as API Gateway has it: escapeJavaScript escapes ' too (as Java's StringEscapeUtils)."""

    def escapeJavaScript(self, text: Any) -> str:  # noqa: N802 - the VTL name
        return json.dumps(str(text), ensure_ascii=False)[1:-1].replace("'", "\\'").replace("/", "\\/")


class AwsInput:
    """``$input`` over a JSON body."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def path(self, _: str) -> Any:
        return self._body

    def json(self, _: str) -> str:
        return json.dumps(self._body)


def render(template: str, body: Any) -> tuple[str, dict[str, Any]]:
    context: dict[str, Any] = {"requestId": "req-123", "responseOverride": {}}
    out = airspeed.Template(template).merge({"input": AwsInput(body), "util": AwsUtil(), "context": context})
    return out.strip(), context


def _integration(stack: StackRecord) -> dict[str, Any]:
    return stack.inputs("aws:apigateway/integration:Integration", "integration-start-prediction")


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
    assert [s for name, s in policy_statements(stack) if name == role_name] == [{
        "Sid": "StartWorkflow", "Effect": "Allow", "Action": ["states:StartSyncExecution"], "Resource": machine_arn,
    }]


def test_given_a_body_with_quotes_then_the_execution_input_carries_it_with_the_request_id() -> None:
    body = {"image": "data:image/png;base64,AAA/+", "clientId": "it's \"me\"", "extra": [1, None]}
    request, _ = render(api_templates.start_execution_request("arn:sm"), body)
    start = json.loads(request)
    assert json.loads(start["input"]) == {"requestId": "req-123", "request": body}


def test_given_a_succeeded_execution_then_its_output_is_the_body() -> None:
    item = {"id": "p1", "digit": 7, "confidence": 0.99}
    out, context = render(api_templates.execution_response(), {"status": "SUCCEEDED", "output": json.dumps(item)})
    assert json.loads(out) == item and "status" not in context["responseOverride"]


@pytest.mark.parametrize("code", sorted(ERROR_TABLE))
def test_given_an_execution_failed_with_a_table_code_then_status_and_body_follow_the_table(code: str) -> None:
    cause = "Your image's \"size\" is odd / wrong"
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
    assert json.loads(out) == {"error": {"code": "InternalError", "message": ERROR_TABLE["InternalError"].default_message}}


def test_given_each_stack_then_the_deployed_response_template_is_the_generated_one(stack: StackRecord) -> None:
    response = stack.inputs("aws:apigateway/integrationResponse:IntegrationResponse", "start-prediction-execution")
    assert response["responseTemplates"]["application/json"] == api_templates.execution_response()
    statuses = {int(r["inputs"]["statusCode"]) for r in stack.of_type("aws:apigateway/methodResponse:MethodResponse")
                if r["name"].startswith("start-prediction-")}
    assert statuses == {200, *(cls.status for cls in ERROR_TABLE.values())}


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
    for name in ("list-predictions", "get-prediction", "post-feedback"):
        integration = stack.inputs("aws:apigateway/integration:Integration", f"integration-{name}")
        assert (integration["type"], integration["uri"]) == ("AWS_PROXY", invoke_arn)
    permission = stack.inputs("aws:lambda/permission:Permission")
    assert permission["principal"] == "apigateway.amazonaws.com" and permission["function"] == history["inputs"]["name"]
    assert re.fullmatch(r"arn:aws:execute-api:.*/api/\*/api/predictions\*", permission["sourceArn"])


def test_given_each_stack_then_requests_are_validated_before_reaching_aws(stack: StackRecord) -> None:
    validator = stack.inputs("aws:apigateway/requestValidator:RequestValidator")
    assert validator["validateRequestBody"] and validator["validateRequestParameters"]
    methods = {m["name"]: m["inputs"] for m in stack.of_type("aws:apigateway/method:Method")}
    assert methods["method-start-prediction"]["requestModels"] == {"application/json": "PredictionRequest"}
    assert methods["method-post-feedback"]["requestModels"] == {"application/json": "Feedback"}
    assert methods["method-list-predictions"]["requestParameters"] == {"method.request.querystring.clientId": True}
    assert all("requestValidatorId" in methods[name] for name in
               ("method-start-prediction", "method-post-feedback", "method-list-predictions", "method-get-prediction"))


def test_given_each_stack_then_the_stage_is_traced_and_access_logged(stack: StackRecord) -> None:
    stage = stack.inputs("aws:apigateway/stage:Stage")
    assert stage["stageName"] == "api" and stage["xrayTracingEnabled"] is True
    log_format = json.loads(stage["accessLogSettings"]["format"])
    assert log_format["requestId"] == "$context.requestId" and "status" in log_format
    settings = stack.inputs("aws:apigateway/methodSettings:MethodSettings")["settings"]
    assert settings["dataTraceEnabled"] is False
