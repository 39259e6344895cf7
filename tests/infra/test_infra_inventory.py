"""The inventory of each stack and its outputs."""

from __future__ import annotations

from collections import Counter

import pytest

from functions.core.tasks import HISTORY, WORKFLOW_TASKS
from tests.infra.records import StackRecord

COMPONENTS = {
    "digits:storage:Storage",
    "digits:model:ModelEndpoint",
    "digits:lambda:FunctionPackage",
    "digits:workflow:Workflow",
    "digits:history:HistoryFunction",
    "digits:api:Api",
    "digits:site:Site",
    "digits:monitoring:Monitoring",
}
# Resources every stack has, and how many.
COMMON = {
    "aws:dynamodb/table:Table": 1,
    "aws:s3/bucket:Bucket": 2,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
    "aws:sagemaker/model:Model": 1,
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": 1,
    "aws:sagemaker/endpoint:Endpoint": 1,
    "aws:lambda/layerVersion:LayerVersion": 1,
    "aws:lambda/function:Function": 5,
    "aws:sfn/stateMachine:StateMachine": 1,
    "aws:apigateway/restApi:RestApi": 1,
    "aws:apigateway/stage:Stage": 1,
    "aws:apigateway/requestValidator:RequestValidator": 1,
    "aws:cloudfront/distribution:Distribution": 1,
    "aws:cloudfront/originAccessControl:OriginAccessControl": 1,
    "aws:cloudwatch/dashboard:Dashboard": 1,
    # Server-side failures in the workflow log, 429s in the API's access log.
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": 2,
}
PROD_ONLY = {
    # One at CloudFront (rate limit, via a us-east-1 provider), one locking the stage to CloudFront.
    "aws:wafv2/webAcl:WebAcl": 2,
    "aws:wafv2/webAclAssociation:WebAclAssociation": 1,
    "pulumi:providers:aws": 1,
    "random:index/randomPassword:RandomPassword": 1,
    "aws:kms/key:Key": 1,
    "aws:kms/alias:Alias": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sns/topicSubscription:TopicSubscription": 1,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 4,
}


def test_given_each_stack_then_it_declares_the_whole_platform(stack: StackRecord) -> None:
    counts = Counter(r["type"] for r in stack.resources)
    expected = {**COMMON, **(PROD_ONLY if stack.stack == "prod" else {})}
    assert {kind: counts[kind] for kind in expected} == expected
    if stack.stack == "dev":
        assert not set(PROD_ONLY) & set(counts)


def test_given_each_stack_then_every_resource_belongs_to_a_component(stack: StackRecord) -> None:
    assert {r["type"] for r in stack.resources if not r["custom"]} == COMPONENTS
    type_chains = [urn.split("::")[2] for urn in stack.urns]
    top_level = [chain.removeprefix("pulumi:pulumi:Stack$") for chain in type_chains if chain.startswith("pulumi:")]
    assert sorted(top_level) == sorted(COMPONENTS)
    children = [chain for chain in type_chains if not chain.startswith("pulumi:")]
    assert len(children) == len(stack.resources) - len(COMPONENTS)
    assert all(chain.split("$")[0] in COMPONENTS for chain in children)


def test_given_each_stack_then_the_workflow_holds_its_tasks_and_the_history_function_its_own_component(
    stack: StackRecord,
) -> None:
    """The API's function is no part of the workflow: its own component, built from the same package."""
    component_of = {
        function["name"]: function["urn"].split("::")[2].split("$")[-2]
        for function in stack.of_type("aws:lambda/function:Function")
    }
    assert component_of == {
        **{task.name: "digits:workflow:Workflow" for task in WORKFLOW_TASKS},
        HISTORY.name: "digits:history:HistoryFunction",
    }


@pytest.mark.parametrize(
    "output", ["siteUrl", "apiUrl", "stateMachineArn", "endpointName", "tableName", "consoleLinks"]
)
def test_given_each_stack_then_it_exports(stack: StackRecord, output: str) -> None:
    assert stack.outputs[output]


def test_given_each_stack_then_outputs_name_its_own_resources(stack: StackRecord) -> None:
    outputs = stack.outputs
    assert (
        outputs["tableName"]
        == stack.inputs("aws:dynamodb/table:Table")["name"]
        == f"digits-{stack.stack}-PredictionHistory"
    )
    assert outputs["endpointName"] == stack.inputs("aws:sagemaker/endpoint:Endpoint")["name"]
    assert outputs["stateMachineArn"].endswith(f":stateMachine:digits-{stack.stack}-workflow")
    assert outputs["siteUrl"].startswith("https://")
    assert outputs["apiUrl"].startswith("https://") and outputs["apiUrl"].endswith("/api")
    links = outputs["consoleLinks"]
    assert outputs["stateMachineArn"] in links["stateMachine"]
    assert f"digits-{stack.stack}-workflow" in links["executionLogs"]
    assert links["dashboard"].endswith(stack.inputs("aws:cloudwatch/dashboard:Dashboard")["dashboardName"])
    assert all(link.startswith("https://ap-southeast-1.console.aws.amazon.com/") for link in links.values())
