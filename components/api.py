"""The REST API: ``POST /api/predictions`` starts the Express workflow
synchronously (no Lambda in between), the history routes are a Lambda proxy
integration, ``GET /api/health`` answers from API Gateway itself. Requests are
validated, the stage is throttled and access-logged, and a WAF rate limit
guards it when enabled."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import api_templates as templates
from components.iam import account_id, allow, role_with_policy
from components.settings import StackSettings
from functions.core.errors import ERROR_TABLE
from functions.core.predictions import CLIENT_ID

STAGE_NAME = "api"
# The request validator checks clientId exactly as the Validate task does.
CLIENT_ID_PATTERN = f"^{CLIENT_ID.pattern}$"
PREDICTION_REQUEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "PredictionRequest",
    "type": "object",
    "required": ["image", "clientId"],
    "properties": {
        "image": {"type": "string", "minLength": 1},
        "clientId": {"type": "string", "pattern": CLIENT_ID_PATTERN},
    },
}
FEEDBACK_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Feedback",
    "type": "object",
    "required": ["clientId", "label"],
    "properties": {
        "clientId": {"type": "string", "pattern": CLIENT_ID_PATTERN},
        "label": {"type": "integer", "minimum": 0, "maximum": 9},
    },
}
ACCESS_LOG_FORMAT = json.dumps({
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
})


@dataclass(frozen=True)
class _Route:
    """A method and its integration; the deployment waits for the integration."""

    name: str
    integration: aws.apigateway.Integration


class Api(pulumi.ComponentResource):
    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    url: pulumi.Output[str]
    web_acl: aws.wafv2.WebAcl | None

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        state_machine: aws.sfn.StateMachine,
        history_function: aws.lambda_.Function,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:api:Api", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._child = child
        self.rest_api = aws.apigateway.RestApi(
            "rest-api",
            aws.apigateway.RestApiArgs(
                name=f"{settings.name_prefix}-api",
                description="Digit recognition API",
                endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            ),
            opts=child,
        )
        api_id = self.rest_api.id
        validator = aws.apigateway.RequestValidator(
            "validate-body-and-parameters",
            aws.apigateway.RequestValidatorArgs(
                rest_api=api_id, name="body-and-parameters",
                validate_request_body=True, validate_request_parameters=True,
            ),
            opts=child,
        )
        self._validator_id = validator.id
        models = {
            schema["title"]: aws.apigateway.Model(
                f"model-{schema['title']}",
                aws.apigateway.ModelArgs(
                    rest_api=api_id, name=str(schema["title"]), content_type=templates.JSON,
                    schema=json.dumps(schema),
                ),
                opts=child,
            )
            for schema in (PREDICTION_REQUEST_SCHEMA, FEEDBACK_SCHEMA)
        }

        api = self._resource("api", self.rest_api.root_resource_id, "api")
        predictions = self._resource("predictions", api.id, "predictions")
        prediction = self._resource("prediction", predictions.id, "{id}")
        feedback = self._resource("feedback", prediction.id, "feedback")
        health = self._resource("health", api.id, "health")

        start_execution = self._start_execution_route(settings, predictions, models["PredictionRequest"], state_machine)
        history_routes = [
            self._proxy_route("list-predictions", predictions, "GET", history_function,
                              {"method.request.querystring.clientId": True}),
            self._proxy_route("get-prediction", prediction, "GET", history_function,
                              {"method.request.path.id": True, "method.request.querystring.clientId": True}),
            self._proxy_route("post-feedback", feedback, "POST", history_function,
                              {"method.request.path.id": True}, models["Feedback"]),
        ]
        health_route = self._health_route(settings, health)
        aws.lambda_.Permission(
            "history-invoke",
            aws.lambda_.PermissionArgs(
                action="lambda:InvokeFunction",
                function=history_function.name,
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(self.rest_api.execution_arn, f"/{STAGE_NAME}/*/api/predictions*"),
            ),
            opts=child,
        )
        gateway_responses = [
            aws.apigateway.Response(
                f"gateway-{response_type.lower().replace('_', '-')}",
                aws.apigateway.ResponseArgs(
                    rest_api_id=api_id,
                    response_type=response_type,
                    status_code=templates.gateway_status(code) if not response_type.startswith("DEFAULT_") else None,
                    response_templates={templates.JSON: templates.gateway_response_template(code, message)},
                ),
                opts=child,
            )
            for response_type, (code, message) in templates.GATEWAY_RESPONSES.items()
        ]

        routes = [start_execution, *history_routes, health_route]
        deployment = aws.apigateway.Deployment(
            "deployment",
            aws.apigateway.DeploymentArgs(
                rest_api=api_id,
                # A new deployment whenever the API's shape or templates change.
                triggers={"shape": _fingerprint(sorted(r.name for r in routes))},
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*(r.integration for r in routes), *gateway_responses],
            ),
        )
        access_logs = aws.cloudwatch.LogGroup(
            "access-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/apigateway/{settings.name_prefix}-api-access",
                retention_in_days=settings.log_retention_days,
            ),
            opts=child,
        )
        account = self._account_logging_role(settings)
        self.stage = aws.apigateway.Stage(
            "stage",
            aws.apigateway.StageArgs(
                rest_api=api_id,
                deployment=deployment.id,
                stage_name=STAGE_NAME,
                xray_tracing_enabled=True,
                access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                    destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        aws.apigateway.MethodSettings(
            "throttling",
            aws.apigateway.MethodSettingsArgs(
                rest_api=api_id,
                stage_name=self.stage.stage_name,
                method_path="*/*",
                settings=aws.apigateway.MethodSettingsSettingsArgs(
                    throttling_rate_limit=settings.api_throttle_rate_limit,
                    throttling_burst_limit=settings.api_throttle_burst_limit,
                    metrics_enabled=True,
                    # Request bodies are people's images: never logged.
                    data_trace_enabled=False,
                ),
            ),
            opts=child,
        )
        self.web_acl = self._rate_limit(settings) if settings.waf_enabled else None
        self.url = self.stage.invoke_url
        self.register_outputs({"url": self.url, "restApiId": api_id})

    def _account_logging_role(self, settings: StackSettings) -> aws.apigateway.Account:
        """API Gateway's account-wide role for writing logs, required by access logging.

        It is one setting per account and region, shared by every stack there:
        retained on destroy so removing one stack never breaks another's logs."""
        role = role_with_policy(
            "api-gateway-cloudwatch",
            "apigateway.amazonaws.com",
            [allow("PushLogs", [
                "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
                "logs:FilterLogEvents", "logs:GetLogEvents", "logs:PutLogEvents",
            ], pulumi.Output.concat("arn:aws:logs:", settings.region, ":", account_id(), ":log-group:*"))],
            parent=self,
            retain=True,
        )
        return aws.apigateway.Account(
            "account-logging",
            aws.apigateway.AccountArgs(cloudwatch_role_arn=role.arn),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )

    def _resource(self, name: str, parent_id: pulumi.Input[str], path_part: str) -> aws.apigateway.Resource:
        return aws.apigateway.Resource(
            f"resource-{name}",
            aws.apigateway.ResourceArgs(rest_api=self.rest_api.id, parent_id=parent_id, path_part=path_part),
            opts=self._child,
        )

    def _method(
        self,
        name: str,
        resource: aws.apigateway.Resource,
        http_method: str,
        parameters: dict[str, bool] | None = None,
        model: aws.apigateway.Model | None = None,
    ) -> aws.apigateway.Method:
        return aws.apigateway.Method(
            f"method-{name}",
            aws.apigateway.MethodArgs(
                rest_api=self.rest_api.id,
                resource_id=resource.id,
                http_method=http_method,
                authorization="NONE",
                request_validator_id=self._validator_id if parameters or model else None,
                request_parameters=parameters,
                request_models={templates.JSON: model.name} if model is not None else None,
            ),
            opts=self._child,
        )

    def _start_execution_route(
        self,
        settings: StackSettings,
        resource: aws.apigateway.Resource,
        model: aws.apigateway.Model,
        state_machine: aws.sfn.StateMachine,
    ) -> _Route:
        role = role_with_policy(
            "api-start-execution",
            "apigateway.amazonaws.com",
            [allow("StartWorkflow", ["states:StartSyncExecution"], state_machine.arn)],
            parent=self,
        )
        name = "start-prediction"
        method = self._method(name, resource, "POST", model=model)
        integration = aws.apigateway.Integration(
            "integration-start-prediction",
            aws.apigateway.IntegrationArgs(
                rest_api=self.rest_api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                type="AWS",
                integration_http_method="POST",
                uri=f"arn:aws:apigateway:{settings.region}:states:action/StartSyncExecution",
                credentials=role.arn,
                passthrough_behavior="NEVER",
                request_templates={templates.JSON: state_machine.arn.apply(templates.start_execution_request)},
                timeout_milliseconds=29000,
            ),
            opts=self._child,
        )
        for status in templates.method_statuses():
            aws.apigateway.MethodResponse(
                f"start-prediction-{status}",
                aws.apigateway.MethodResponseArgs(
                    rest_api=self.rest_api.id, resource_id=resource.id,
                    http_method=method.http_method, status_code=str(status),
                ),
                opts=self._child,
            )
        internal = ERROR_TABLE["InternalError"]
        aws.apigateway.IntegrationResponse(
            "start-prediction-execution",
            aws.apigateway.IntegrationResponseArgs(
                rest_api=self.rest_api.id, resource_id=resource.id, http_method=method.http_method,
                status_code="200",
                response_templates={templates.JSON: templates.execution_response()},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        # Step Functions itself refusing the call (throttling, service errors).
        aws.apigateway.IntegrationResponse(
            "start-prediction-service-error",
            aws.apigateway.IntegrationResponseArgs(
                rest_api=self.rest_api.id, resource_id=resource.id, http_method=method.http_method,
                status_code=str(internal.status),
                selection_pattern=r"[45]\d{2}",
                response_templates={templates.JSON: templates.gateway_response_template(
                    "InternalError", internal.default_message)},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        return _Route(name, integration)

    def _proxy_route(
        self,
        name: str,
        resource: aws.apigateway.Resource,
        http_method: str,
        function: aws.lambda_.Function,
        parameters: dict[str, bool],
        model: aws.apigateway.Model | None = None,
    ) -> _Route:
        method = self._method(name, resource, http_method, parameters, model)
        integration = aws.apigateway.Integration(
            f"integration-{name}",
            aws.apigateway.IntegrationArgs(
                rest_api=self.rest_api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=function.invoke_arn,
            ),
            opts=self._child,
        )
        return _Route(name, integration)

    def _health_route(self, settings: StackSettings, resource: aws.apigateway.Resource) -> _Route:
        name = "health"
        method = self._method(name, resource, "GET")
        integration = aws.apigateway.Integration(
            "integration-health",
            aws.apigateway.IntegrationArgs(
                rest_api=self.rest_api.id, resource_id=resource.id, http_method=method.http_method,
                type="MOCK", request_templates={templates.JSON: '{"statusCode": 200}'},
            ),
            opts=self._child,
        )
        response = aws.apigateway.MethodResponse(
            "health-200",
            aws.apigateway.MethodResponseArgs(
                rest_api=self.rest_api.id, resource_id=resource.id, http_method=method.http_method, status_code="200",
            ),
            opts=self._child,
        )
        aws.apigateway.IntegrationResponse(
            "health-200",
            aws.apigateway.IntegrationResponseArgs(
                rest_api=self.rest_api.id, resource_id=resource.id, http_method=method.http_method,
                status_code=response.status_code,
                response_templates={templates.JSON: json.dumps({"status": "ok", "stack": settings.stack})},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[integration]),
        )
        return _Route(name, integration)

    def _rate_limit(self, settings: StackSettings) -> aws.wafv2.WebAcl:
        throttled = ERROR_TABLE["Throttled"]
        rule_name = "rate-limit-per-client"
        web_acl = aws.wafv2.WebAcl(
            "api-rate-limit",
            aws.wafv2.WebAclArgs(
                scope="REGIONAL",
                default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
                custom_response_bodies=[aws.wafv2.WebAclCustomResponseBodyArgs(
                    key="throttled", content_type="APPLICATION_JSON",
                    content=json.dumps(throttled().to_body()),
                )],
                rules=[aws.wafv2.WebAclRuleArgs(
                    name=rule_name,
                    priority=0,
                    action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs(
                        custom_response=aws.wafv2.WebAclRuleActionBlockCustomResponseArgs(
                            response_code=throttled.status, custom_response_body_key="throttled",
                        ),
                    )),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                            limit=settings.waf_rate_limit,
                            evaluation_window_sec=300,
                            # Behind CloudFront the client is the first X-Forwarded-For address.
                            aggregate_key_type="FORWARDED_IP",
                            forwarded_ip_config=aws.wafv2.WebAclRuleStatementRateBasedStatementForwardedIpConfigArgs(
                                header_name="X-Forwarded-For", fallback_behavior="MATCH",
                            ),
                        ),
                    ),
                    visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                        cloudwatch_metrics_enabled=True, metric_name=rule_name, sampled_requests_enabled=True,
                    ),
                )],
                visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True, metric_name=f"{settings.name_prefix}-api",
                    sampled_requests_enabled=True,
                ),
            ),
            opts=self._child,
        )
        aws.wafv2.WebAclAssociation(
            "api-rate-limit",
            aws.wafv2.WebAclAssociationArgs(resource_arn=self.stage.arn, web_acl_arn=web_acl.arn),
            opts=self._child,
        )
        return web_acl


def _fingerprint(route_names: list[str]) -> str:
    """Hash of everything static that shapes the API, to redeploy on change."""
    shape = [
        route_names,
        PREDICTION_REQUEST_SCHEMA, FEEDBACK_SCHEMA, templates.execution_response(),
        templates.start_execution_request("arn"), sorted(templates.GATEWAY_RESPONSES.items()),
        ACCESS_LOG_FORMAT,
    ]
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()
