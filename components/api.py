"""The REST API: ``POST /api/predictions`` starts the Express workflow
synchronously (no Lambda in between), the history routes are a Lambda proxy
integration, ``GET /api/health`` answers from API Gateway itself. Requests are
validated, the stage is throttled and access-logged, and, where WAF is
enabled, the stage only answers calls that come through CloudFront.

A ``Deployment`` snapshots the API when it is created: it waits for every part
of the API and is replaced whenever any part's resolved properties change
(its ``triggers`` hold them), so the stage never serves a half-built or stale
snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import api_templates as templates
from components.iam import account_id, allow, role_with_policy
from functions.core.api_contract import FEEDBACK_SCHEMA, PREDICTION_REQUEST_SCHEMA
from functions.core.errors import ERROR_TABLE, error_body

STAGE_NAME = "api"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "path": "$context.resourcePath",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "integrationLatencyMs": "$context.integrationLatency",
        "integrationStatus": "$context.integration.status",
        "error": "$context.error.message",
        "wafStatus": "$context.waf.status",
        "xrayTraceId": "$context.xrayTraceId",
    }
)
# The header CloudFront adds to every call it passes to the API; its value is
# generated at deployment and kept as a secret.
ORIGIN_VERIFY_HEADER = "x-origin-verify"
ORIGIN_SECRET_LENGTH = 48
CLIENT_ID_QUERY = "method.request.querystring.clientId"
ITEM_ID_PATH = "method.request.path.id"

Part = TypeVar("Part", bound=pulumi.CustomResource)


@dataclass(frozen=True)
class OriginHeader:
    """The header (and its secret value) the API requires from CloudFront."""

    name: str
    value: pulumi.Output[str]


@dataclass(frozen=True)
class ApiArgs:
    """What the API takes from the stack settings."""

    stack: str
    region: str
    name_prefix: str
    log_retention_days: int
    throttle_rate_limit: float
    throttle_burst_limit: int
    # Where WAF is enabled, the stage answers only calls that come through CloudFront.
    waf_enabled: bool


class Api(pulumi.ComponentResource):
    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    url: pulumi.Output[str]
    # Where WAF is enabled: the stage's web ACL and the header it requires.
    origin_lock: aws.wafv2.WebAcl | None
    origin_header: OriginHeader | None

    def __init__(
        self,
        name: str,
        args: ApiArgs,
        state_machine: aws.sfn.StateMachine,
        history_function: aws.lambda_.Function,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:api:Api", name, None, opts)
        # Every part of the API the deployment snapshots, by name, with the
        # resolved properties it was created with.
        self._parts: list[pulumi.CustomResource] = []
        self._snapshot: dict[str, pulumi.Output[str]] = {}
        self.rest_api = self._build_rest_api(args.name_prefix)
        self._build_routes(args, state_machine, history_function)
        self._build_gateway_responses()
        # After every part: it snapshots them all.
        deployment = self._build_deployment()
        self.stage = self._build_stage(args, deployment)
        self._build_throttling(args)
        self.origin_header = self._build_origin_header() if args.waf_enabled else None
        self.origin_lock = self._build_origin_lock(args.name_prefix, self.origin_header) if self.origin_header else None
        self.url = self.stage.invoke_url
        self.register_outputs({"url": self.url, "restApiId": self.rest_api.id})

    def _build_rest_api(self, name_prefix: str) -> aws.apigateway.RestApi:
        """The REST API and the request validator its methods share."""
        rest_api = aws.apigateway.RestApi(
            "rest-api",
            aws.apigateway.RestApiArgs(
                name=f"{name_prefix}-api",
                description="Digit recognition API",
                endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._validator = self._part(
            aws.apigateway.RequestValidator,
            "validate-body-and-parameters",
            rest_api=rest_api.id,
            name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        return rest_api

    def _build_routes(
        self, args: ApiArgs, state_machine: aws.sfn.StateMachine, history_function: aws.lambda_.Function
    ) -> None:
        """``/api/predictions`` and below to the workflow and the history function, ``/api/health`` answered here."""
        models = {
            str(schema["title"]): self._part(
                aws.apigateway.Model,
                f"model-{schema['title']}",
                rest_api=self.rest_api.id,
                name=str(schema["title"]),
                content_type=templates.JSON,
                schema=json.dumps(schema),
            )
            for schema in (PREDICTION_REQUEST_SCHEMA, FEEDBACK_SCHEMA)
        }
        api = self._resource("api", self.rest_api.root_resource_id, "api")
        predictions = self._resource("predictions", api.id, "predictions")
        prediction = self._resource("prediction", predictions.id, "{id}")
        feedback = self._resource("feedback", prediction.id, "feedback")
        health = self._resource("health", api.id, "health")

        self._start_execution_route(args.region, predictions, models["PredictionRequest"], state_machine)
        for route, resource, http_method, parameters, model in (
            ("list-predictions", predictions, "GET", [CLIENT_ID_QUERY], None),
            ("clear-predictions", predictions, "DELETE", [CLIENT_ID_QUERY], None),
            ("get-prediction", prediction, "GET", [ITEM_ID_PATH, CLIENT_ID_QUERY], None),
            ("delete-prediction", prediction, "DELETE", [ITEM_ID_PATH, CLIENT_ID_QUERY], None),
            ("post-feedback", feedback, "POST", [ITEM_ID_PATH], models["Feedback"]),
        ):
            self._proxy_route(route, resource, http_method, history_function, parameters, model)
        self._health_route(args.stack, health)
        aws.lambda_.Permission(
            "history-invoke",
            aws.lambda_.PermissionArgs(
                action="lambda:InvokeFunction",
                function=history_function.name,
                principal="apigateway.amazonaws.com",
                # Any method of /api/predictions and everything below it, on this stage.
                source_arn=pulumi.Output.concat(self.rest_api.execution_arn, f"/{STAGE_NAME}/*/api/predictions*"),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_gateway_responses(self) -> None:
        """API Gateway's own errors, in the contract's JSON."""
        for response_type, (code, message) in templates.GATEWAY_RESPONSES.items():
            self._part(
                aws.apigateway.Response,
                f"gateway-{response_type.lower().replace('_', '-')}",
                rest_api_id=self.rest_api.id,
                response_type=response_type,
                # DEFAULT_4XX/5XX keep API Gateway's own status for the types not listed.
                status_code=templates.gateway_status(code) if not response_type.startswith("DEFAULT_") else None,
                response_templates={templates.JSON: templates.gateway_response_template(code, message)},
            )

    def _build_deployment(self) -> aws.apigateway.Deployment:
        """The snapshot of every part built before it."""
        return aws.apigateway.Deployment(
            "deployment",
            aws.apigateway.DeploymentArgs(
                rest_api=self.rest_api.id,
                # Replaced, and the stage moved to the new snapshot, whenever any part changes.
                triggers=self._snapshot,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._parts),
        )

    def _build_stage(self, args: ApiArgs, deployment: aws.apigateway.Deployment) -> aws.apigateway.Stage:
        """The stage serving ``deployment``, traced and access-logged."""
        access_logs = aws.cloudwatch.LogGroup(
            "access-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/apigateway/{args.name_prefix}-api-access",
                retention_in_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = self._account_logging_role(args.region)
        return aws.apigateway.Stage(
            "stage",
            aws.apigateway.StageArgs(
                rest_api=self.rest_api.id,
                deployment=deployment.id,
                stage_name=STAGE_NAME,
                xray_tracing_enabled=True,
                access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                    destination_arn=access_logs.arn,
                    format=ACCESS_LOG_FORMAT,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )

    def _build_throttling(self, args: ApiArgs) -> aws.apigateway.MethodSettings:
        return aws.apigateway.MethodSettings(
            "throttling",
            aws.apigateway.MethodSettingsArgs(
                rest_api=self.rest_api.id,
                stage_name=self.stage.stage_name,
                method_path="*/*",
                settings=aws.apigateway.MethodSettingsSettingsArgs(
                    throttling_rate_limit=args.throttle_rate_limit,
                    throttling_burst_limit=args.throttle_burst_limit,
                    # Count, latency and errors per stage come without this; detailed
                    # metrics add per-method ones, billed as custom metrics (API Gateway
                    # guide, "View API Gateway metrics in the CloudWatch console").
                    metrics_enabled=False,
                    # Request bodies are people's images: never logged.
                    data_trace_enabled=False,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _part(
        self,
        kind: Callable[..., Part],
        resource_name: str,
        /,
        depends_on: Sequence[pulumi.Resource] = (),
        **properties: Any,
    ) -> Part:
        """A part of the API: created with ``properties``, which (resolved, with
        the part's id) become its entry in the deployment's triggers."""
        part = kind(resource_name, opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)), **properties)
        self._parts.append(part)
        self._snapshot[resource_name] = pulumi.Output.json_dumps({"id": part.id, **properties}, sort_keys=True)
        return part

    def _account_logging_role(self, region: str) -> aws.apigateway.Account:
        """API Gateway's account-wide role for writing logs, required by access logging.

        It is one setting per account and region, shared by every stack there:
        retained on destroy so removing one stack never breaks another's logs."""
        role = role_with_policy(
            "api-gateway-cloudwatch",
            "apigateway.amazonaws.com",
            [
                allow(
                    "PushLogs",
                    [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                        "logs:FilterLogEvents",
                        "logs:GetLogEvents",
                        "logs:PutLogEvents",
                    ],
                    pulumi.Output.concat("arn:aws:logs:", region, ":", account_id(), ":log-group:*"),
                )
            ],
            parent=self,
            retain=True,
        )
        return aws.apigateway.Account(
            "account-logging",
            aws.apigateway.AccountArgs(cloudwatch_role_arn=role.arn),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )

    def _resource(self, name: str, parent_id: pulumi.Input[str], path_part: str) -> aws.apigateway.Resource:
        return self._part(
            aws.apigateway.Resource,
            f"resource-{name}",
            rest_api=self.rest_api.id,
            parent_id=parent_id,
            path_part=path_part,
        )

    def _method(
        self,
        route: str,
        resource: aws.apigateway.Resource,
        http_method: str,
        parameters: Sequence[str] = (),
        model: aws.apigateway.Model | None = None,
    ) -> aws.apigateway.Method:
        """A method whose required ``parameters`` and body ``model`` the validator checks."""
        return self._part(
            aws.apigateway.Method,
            f"method-{route}",
            rest_api=self.rest_api.id,
            resource_id=resource.id,
            http_method=http_method,
            authorization="NONE",
            request_validator_id=self._validator.id if parameters or model else None,
            request_parameters={parameter: True for parameter in parameters} or None,
            request_models={templates.JSON: model.name} if model is not None else None,
        )

    def _method_response(self, route: str, method: aws.apigateway.Method, status: int) -> aws.apigateway.MethodResponse:
        return self._part(
            aws.apigateway.MethodResponse,
            f"method-response-{route}-{status}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            status_code=str(status),
        )

    def _integration_response(
        self,
        name: str,
        integration: aws.apigateway.Integration,
        method_response: aws.apigateway.MethodResponse,
        template: str,
        selection_pattern: str | None = None,
    ) -> aws.apigateway.IntegrationResponse:
        """An integration response; its status is its method response's, so it is created after it."""
        return self._part(
            aws.apigateway.IntegrationResponse,
            f"integration-response-{name}",
            depends_on=[integration],
            rest_api=self.rest_api.id,
            resource_id=integration.resource_id,
            http_method=integration.http_method,
            status_code=method_response.status_code,
            selection_pattern=selection_pattern,
            response_templates={templates.JSON: template},
        )

    def _start_execution_route(
        self,
        region: str,
        resource: aws.apigateway.Resource,
        model: aws.apigateway.Model,
        state_machine: aws.sfn.StateMachine,
    ) -> None:
        role = role_with_policy(
            "api-start-execution",
            "apigateway.amazonaws.com",
            [allow("StartWorkflow", ["states:StartSyncExecution"], state_machine.arn)],
            parent=self,
        )
        route = "start-prediction"
        method = self._method(route, resource, "POST", model=model)
        integration = self._part(
            aws.apigateway.Integration,
            f"integration-{route}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="AWS",
            integration_http_method="POST",
            uri=f"arn:aws:apigateway:{region}:states:action/StartSyncExecution",
            credentials=role.arn,
            passthrough_behavior="NEVER",
            request_templates={templates.JSON: state_machine.arn.apply(templates.start_execution_request)},
            timeout_milliseconds=29000,
        )
        responses = {status: self._method_response(route, method, status) for status in templates.method_statuses()}
        self._integration_response(
            f"{route}-execution",
            integration,
            responses[200],
            templates.execution_response(),
        )
        # Step Functions itself refusing the call: matched on the service's HTTP status.
        self._integration_response(
            f"{route}-service-refusal",
            integration,
            responses[ERROR_TABLE["InternalError"].status],
            templates.service_refusal_response(),
            selection_pattern=r"[45]\d{2}",
        )

    def _proxy_route(
        self,
        route: str,
        resource: aws.apigateway.Resource,
        http_method: str,
        function: aws.lambda_.Function,
        parameters: Sequence[str],
        model: aws.apigateway.Model | None = None,
    ) -> None:
        method = self._method(route, resource, http_method, parameters, model)
        self._part(
            aws.apigateway.Integration,
            f"integration-{route}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",
            uri=function.invoke_arn,
        )

    def _health_route(self, stack: str, resource: aws.apigateway.Resource) -> None:
        route = "health"
        method = self._method(route, resource, "GET")
        integration = self._part(
            aws.apigateway.Integration,
            f"integration-{route}",
            rest_api=self.rest_api.id,
            resource_id=method.resource_id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={templates.JSON: '{"statusCode": 200}'},
        )
        self._integration_response(
            route,
            integration,
            self._method_response(route, method, 200),
            json.dumps({"status": "ok", "stack": stack}),
        )

    def _build_origin_header(self) -> OriginHeader:
        """A header value only CloudFront knows: generated once, kept in the state as a secret."""
        secret = random.RandomPassword(
            "origin-verify",
            random.RandomPasswordArgs(length=ORIGIN_SECRET_LENGTH, special=False),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return OriginHeader(ORIGIN_VERIFY_HEADER, pulumi.Output.secret(secret.result))

    def _build_origin_lock(self, name_prefix: str, header: OriginHeader) -> aws.wafv2.WebAcl:
        """The stage's web ACL: only calls carrying CloudFront's secret header pass.

        Anything else (a call to the execute-api address itself) gets the same
        404 ``NotFound`` as a path that is no route: the contract's error JSON,
        and nothing that tells a stranger an API is there."""
        not_found = "not-found"
        rule_name = "from-cloudfront"
        web_acl = aws.wafv2.WebAcl(
            "api-origin-lock",
            scope="REGIONAL",
            default_action={
                "block": {
                    "custom_response": {
                        "response_code": ERROR_TABLE["NotFound"].status,
                        "custom_response_body_key": not_found,
                    }
                }
            },
            custom_response_bodies=[
                {
                    "key": not_found,
                    "content_type": "APPLICATION_JSON",
                    "content": json.dumps(error_body("NotFound", templates.NO_SUCH_ROUTE)),
                }
            ],
            rules=[
                {
                    "name": rule_name,
                    "priority": 0,
                    "action": {"allow": {}},
                    "statement": {
                        "byte_match_statement": {
                            "field_to_match": {"single_header": {"name": header.name}},
                            "positional_constraint": "EXACTLY",
                            "search_string": header.value,
                            "text_transformations": [{"priority": 0, "type": "NONE"}],
                        }
                    },
                    "visibility_config": {
                        "cloudwatch_metrics_enabled": True,
                        "metric_name": rule_name,
                        # Sampled requests would show the secret header.
                        "sampled_requests_enabled": False,
                    },
                }
            ],
            visibility_config={
                "cloudwatch_metrics_enabled": True,
                "metric_name": f"{name_prefix}-api-origin-lock",
                "sampled_requests_enabled": False,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.wafv2.WebAclAssociation(
            "api-origin-lock",
            aws.wafv2.WebAclAssociationArgs(resource_arn=self.stage.arn, web_acl_arn=web_acl.arn),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return web_acl
