"""Each stack's deploy role held against what the main program really declares
(its dev and prod programs under mocks): the role may create every resource of
its stack, under the physical name AWS will see, and pass every role to the
service that takes it; it grants exactly the AWS services the program uses; it
reaches into the other stack only where AWS names resources by id; it can
neither rewrite its own permissions nor read people's data.

A resource type that the table below does not know fails the tests: adding one
to the program means saying which action creates it and on which ARN, then
granting that in bootstrap/github_access.py. ARN formats and actions are the
Service Authorization Reference's ("Resource types defined by ...")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import yaml
from botocore.model import OperationModel

from bootstrap.github_access import deploy_role_name
from tests.infra.mock_program import ACCOUNT
from tests.infra.records import StackRecord
from tests.pipeline.iam import allows, as_list
from tests.support.bootstrap_runs import BootstrapRecord
from tools.preflight import AwsClients, CommandResult, preflight

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod")
# A REST API, its stage's WAF ACL: AWS names them by generated ids.
API_ID, WEB_ACL_ID = "a1b2c3d4e5", "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
# Pulumi names a resource without an explicit name `<logical name>-<7 random hex>`
# unless the project or stack sets `pulumi:autonaming` (Pulumi docs, "Resource names").
AUTONAMING = "pulumi:autonaming"
DEFAULT_AUTONAMING = "${name}-${hex(7)}"
# Where a type keeps its physical name, when not in `name`.
NAME_INPUTS = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:lambda/layerVersion:LayerVersion": "layerName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:xray/samplingRule:SamplingRule": "ruleName",
}


@cache
def _yaml(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return document


def autonaming_pattern(stack: str) -> str:
    """The pattern Pulumi names ``stack``'s unnamed resources with: the stack file's, else the project's."""
    project_config = _yaml("Pulumi.yaml").get("config") or {}
    stack_config = _yaml(f"Pulumi.{stack}.yaml").get("config") or {}
    # In Pulumi.yaml a non-project key's value sits under `value:`.
    setting = stack_config.get(AUTONAMING) or (project_config.get(AUTONAMING) or {}).get("value")
    if setting is None:
        return DEFAULT_AUTONAMING
    assert set(setting) <= {"pattern", "enforce"}, f"only a global autonaming pattern is understood here: {setting}"
    pattern: str = setting["pattern"]
    return pattern


def autoname(pattern: str, stack: str, logical_name: str) -> str:
    """The name ``pattern`` gives (its random parts as zeros)."""
    project = _yaml("Pulumi.yaml")["name"]
    named = pattern.replace("${name}", logical_name).replace("${stack}", stack).replace("${project}", project)
    named = re.sub(r"\$\{(?:hex|alphanum|string|num)\((\d+)\)\}", lambda m: "0" * int(m.group(1)), named)
    named = named.replace("${uuid}", "00000000-0000-0000-0000-000000000000")
    assert "${" not in named, f"unknown placeholder in the autonaming pattern {pattern!r}"
    return named


@dataclass(frozen=True)
class Deployment:
    """One stack's resources as AWS will see them: physical names and ARNs."""

    record: StackRecord
    region: str
    account: str

    def name(self, resource: dict[str, Any]) -> str:
        explicit = resource["inputs"].get(NAME_INPUTS.get(resource["type"], "name"))
        if explicit:
            return str(explicit)
        return autoname(autonaming_pattern(self.record.stack), self.record.stack, resource["name"])

    @cached_property
    def _by_urn(self) -> dict[str, dict[str, Any]]:
        return {r["urn"]: r for r in self.record.resources}

    def parent(self, resource: dict[str, Any], resource_type: str) -> dict[str, Any]:
        """The resource of ``resource_type`` that ``resource`` belongs to (it waits for it)."""
        [parent] = [
            self._by_urn[urn]
            for urn in resource["dependsOn"]
            if urn in self._by_urn and self._by_urn[urn]["type"] == resource_type
        ]
        return parent

    def arn(self, template: str, name: str = "") -> str:
        return template.format(region=self.region, account=self.account, name=name, api=API_ID)

    @property
    def stage_arn(self) -> str:
        stage = str(self.record.one("aws:apigateway/stage:Stage")["inputs"]["stageName"])
        return self.arn("arn:aws:apigateway:{region}::/restapis/{api}/stages/") + stage


Need = tuple[str, str]  # (action, ARN it is authorised on)
NeedsOf = Callable[[Deployment, dict[str, Any]], list[Need]]


def _named(action: str, template: str, lower: bool = False) -> NeedsOf:
    """``action`` on the ARN made of the resource's own physical name."""

    def needs(d: Deployment, resource: dict[str, Any]) -> list[Need]:
        name = d.name(resource)
        return [(action, d.arn(template, name.lower() if lower else name))]

    return needs


def _fixed(action: str, template: str) -> NeedsOf:
    """``action`` on an ARN that does not carry the resource's name."""
    return lambda d, resource: [(action, d.arn(template))]


def _of_parent(action: str, parent_type: str, template: str, object_key: str = "") -> NeedsOf:
    """``action`` on the ARN of the resource it belongs to (a bucket's, a role's, a
    topic's), or of its object there named by the input ``object_key``."""

    def needs(d: Deployment, resource: dict[str, Any]) -> list[Need]:
        arn = d.arn(template, d.name(d.parent(resource, parent_type)))
        return [(action, f"{arn}/{resource['inputs'][object_key]}" if object_key else arn)]

    return needs


def _from_input(action: str, template: str, key: str) -> NeedsOf:
    """``action`` on the ARN of a resource the input ``key`` names."""
    return lambda d, resource: [(action, d.arn(template, resource["inputs"][key]))]


API = "arn:aws:apigateway:{region}::/restapis"
BUCKET = "arn:aws:s3:::{name}"
ROLE = "arn:aws:iam::{account}:role/{name}"
FUNCTION = "arn:aws:lambda:{region}:{account}:function:{name}"
LOG_GROUP = "arn:aws:logs:{region}:{account}:log-group:{name}"
TOPIC = "arn:aws:sns:{region}:{account}:{name}"
KEY = "arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# CloudFront-scope web ACLs live in us-east-1 (WAF developer guide, "Working with web ACLs").
EDGE_REGION = "us-east-1"


def _web_acl_arn(d: Deployment, web_acl: dict[str, Any]) -> str:
    edge = web_acl["inputs"]["scope"] == "CLOUDFRONT"
    region, scope = (EDGE_REGION, "global") if edge else (d.region, "regional")
    return f"arn:aws:wafv2:{region}:{d.account}:{scope}/webacl/{d.name(web_acl)}/{WEB_ACL_ID}"


# Pulumi type -> what the deploy role must be allowed to create it.
NEEDS: dict[str, NeedsOf] = {
    "aws:apigateway/restApi:RestApi": _fixed("apigateway:POST", API),
    "aws:apigateway/account:Account": _fixed("apigateway:PATCH", "arn:aws:apigateway:{region}::/account"),
    **{
        f"aws:apigateway/{kind[0].lower()}{kind[1:]}:{kind}": _fixed("apigateway:PUT", f"{API}/{{api}}/{path}")
        for kind, path in (
            ("Deployment", "deployments"),
            ("Integration", "resources/r1/methods/POST/integration"),
            ("IntegrationResponse", "resources/r1/methods/POST/integration/responses/200"),
            ("Method", "resources/r1/methods/POST"),
            ("MethodResponse", "resources/r1/methods/POST/responses/200"),
            ("MethodSettings", "stages/api"),
            ("Model", "models/Feedback"),
            ("RequestValidator", "requestvalidators/v1"),
            ("Resource", "resources"),
            ("Response", "gatewayresponses/DEFAULT_4XX"),
            ("Stage", "stages"),
        )
    },
    "aws:cloudfront/distribution:Distribution": _fixed(
        "cloudfront:CreateDistribution", "arn:aws:cloudfront::{account}:distribution/E2QWRUHEXAMPLE"
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": _fixed(
        "cloudfront:CreateOriginAccessControl", "arn:aws:cloudfront::{account}:origin-access-control/E2QWRUHEXAMPLE"
    ),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _fixed(
        "cloudfront:CreateResponseHeadersPolicy", "arn:aws:cloudfront::{account}:response-headers-policy/0a1b2c3d"
    ),
    "aws:cloudwatch/dashboard:Dashboard": _named(
        "cloudwatch:PutDashboard", "arn:aws:cloudwatch::{account}:dashboard/{name}"
    ),
    "aws:cloudwatch/logGroup:LogGroup": _named("logs:CreateLogGroup", LOG_GROUP),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": _from_input("logs:PutMetricFilter", LOG_GROUP, "logGroupName"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named(
        "cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    ),
    "aws:dynamodb/table:Table": _named("dynamodb:CreateTable", "arn:aws:dynamodb:{region}:{account}:table/{name}"),
    "aws:iam/role:Role": _named("iam:CreateRole", ROLE),
    "aws:iam/rolePolicy:RolePolicy": _of_parent("iam:PutRolePolicy", "aws:iam/role:Role", ROLE),
    "aws:lambda/function:Function": _named("lambda:CreateFunction", FUNCTION),
    "aws:lambda/layerVersion:LayerVersion": _named(
        "lambda:PublishLayerVersion", "arn:aws:lambda:{region}:{account}:layer:{name}"
    ),
    "aws:lambda/permission:Permission": _from_input("lambda:AddPermission", FUNCTION, "function"),
    "aws:s3/bucket:Bucket": _named("s3:CreateBucket", BUCKET),
    "aws:s3/bucketObjectv2:BucketObjectv2": _of_parent(
        "s3:PutObject", "aws:s3/bucket:Bucket", BUCKET, object_key="key"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _of_parent(
        "s3:PutBucketOwnershipControls", "aws:s3/bucket:Bucket", BUCKET
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _of_parent("s3:PutBucketPolicy", "aws:s3/bucket:Bucket", BUCKET),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _of_parent(
        "s3:PutBucketPublicAccessBlock", "aws:s3/bucket:Bucket", BUCKET
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _of_parent(
        "s3:PutEncryptionConfiguration", "aws:s3/bucket:Bucket", BUCKET
    ),
    # SageMaker writes its resources' names lower-case in their ARNs.
    "aws:sagemaker/model:Model": _named(
        "sagemaker:CreateModel", "arn:aws:sagemaker:{region}:{account}:model/{name}", lower=True
    ),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _named(
        "sagemaker:CreateEndpointConfig", "arn:aws:sagemaker:{region}:{account}:endpoint-config/{name}", lower=True
    ),
    "aws:sagemaker/endpoint:Endpoint": _named(
        "sagemaker:CreateEndpoint", "arn:aws:sagemaker:{region}:{account}:endpoint/{name}", lower=True
    ),
    "aws:sfn/stateMachine:StateMachine": _named(
        "states:CreateStateMachine", "arn:aws:states:{region}:{account}:stateMachine:{name}"
    ),
    "aws:sns/topic:Topic": _named("sns:CreateTopic", TOPIC),
    "aws:sns/topicSubscription:TopicSubscription": _of_parent("sns:Subscribe", "aws:sns/topic:Topic", TOPIC),
    "aws:wafv2/webAcl:WebAcl": lambda d, resource: [("wafv2:CreateWebACL", _web_acl_arn(d, resource))],
    "aws:xray/samplingRule:SamplingRule": _named(
        "xray:CreateSamplingRule", "arn:aws:xray:{region}:{account}:sampling-rule/{name}"
    ),
    # AssociateWebACL is authorised on the ACL and on the protected stage, which also needs SetWebACL.
    "aws:wafv2/webAclAssociation:WebAclAssociation": lambda d, resource: [
        ("wafv2:AssociateWebACL", _web_acl_arn(d, d.parent(resource, "aws:wafv2/webAcl:WebAcl"))),
        ("wafv2:AssociateWebACL", d.stage_arn),
        ("apigateway:SetWebACL", d.stage_arn),
    ],
    # CreateKey has no resource; the key's later calls name it by id. An alias
    # is authorised on itself and on its key.
    "aws:kms/key:Key": lambda d, resource: [
        ("kms:CreateKey", "*"),
        ("kms:PutKeyPolicy", d.arn(KEY)),
        ("kms:EnableKeyRotation", d.arn(KEY)),
    ],
    "aws:kms/alias:Alias": lambda d, resource: [
        ("kms:CreateAlias", d.arn("arn:aws:kms:{region}:{account}:{name}", resource["inputs"]["name"])),
        ("kms:CreateAlias", d.arn(KEY)),
    ],
}


def _aws_resources(record: StackRecord) -> Iterator[dict[str, Any]]:
    return (r for r in record.resources if r["type"].startswith("aws:"))


def _deployment(record: StackRecord, account: str) -> Deployment:
    region = _yaml(f"Pulumi.{record.stack}.yaml")["config"]["aws:region"]
    return Deployment(record, region, account)


def _needs(deployment: Deployment, resource: dict[str, Any]) -> list[Need]:
    assert resource["type"] in NEEDS, (
        f"{resource['type']} is new to the main program: say in NEEDS which action creates it on which ARN, "
        "and grant it to the deploy roles in bootstrap/github_access.py"
    )
    return NEEDS[resource["type"]](deployment, resource)


def _deploy_statements(bootstrap: BootstrapRecord, stack: str) -> list[dict[str, Any]]:
    return bootstrap.statements(f"deploy-{stack}")


@cache
def preflight_calls(stack: str) -> frozenset[str]:
    """The AWS actions ``make preflight STACK=<stack>`` asks for: tools/preflight.py
    run with real boto3 clients whose calls are answered at botocore's edge
    (its before-call event), so no request leaves and every call is seen."""
    calls: set[str] = set()
    identity = {"Account": ACCOUNT, "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci", "UserId": "ci"}

    def answer(model: OperationModel, **_: Any) -> tuple[Any, dict[str, Any]]:
        # IAM names a service's actions after its signing name (service-quotas signs as servicequotas).
        calls.add(f"{model.service_model.signing_name}:{model.name}")
        return SimpleNamespace(status_code=200, headers={}), identity if model.name == "GetCallerIdentity" else {}

    def clients_for(region: str) -> AwsClients:
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=region)
        made = [session.client(name, region_name=region) for name in ("sts", "sagemaker", "service-quotas")]
        for client in made:
            client.meta.events.register("before-call", answer)
        return AwsClients(*made)

    preflight(stack, clients_for, lambda args: CommandResult(127, "", f"{args[0]}: not run in this test"))
    return frozenset(calls)


@pytest.mark.parametrize("stack", STACKS)
def test_given_every_resource_of_a_stack_then_its_deploy_role_may_create_it(
    stacks: dict[str, StackRecord],
    bootstrap: BootstrapRecord,
    stack: str,
) -> None:
    deployment = _deployment(stacks[stack], bootstrap.account)
    statements = _deploy_statements(bootstrap, stack)
    refused = [
        f"{resource['type']} {resource['name']}: {action} on {arn}"
        for resource in _aws_resources(stacks[stack])
        for action, arn in _needs(deployment, resource)
        if not allows(statements, action, arn)
    ]
    assert not refused, (
        f"the {stack} deploy role could not create:\n  "
        + "\n  ".join(refused)
        + f"\nNames outside {deployment.record.stack}'s prefix come from Pulumi's default autonaming "
        f"({autonaming_pattern(stack)!r}): give the project an autonaming pattern that starts with the prefix."
    )


@pytest.mark.parametrize("stack", STACKS)
def test_given_every_role_of_a_stack_then_its_deploy_role_may_pass_it_to_its_service_only(
    stacks: dict[str, StackRecord],
    bootstrap: BootstrapRecord,
    stack: str,
) -> None:
    deployment = _deployment(stacks[stack], bootstrap.account)
    statements = _deploy_statements(bootstrap, stack)
    roles = stacks[stack].of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        arn = deployment.arn(ROLE, deployment.name(role))
        [trust] = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        service = trust["Principal"]["Service"]
        assert allows(statements, "iam:PassRole", arn, {"iam:PassedToService": service}), (role["name"], service)
        assert not allows(statements, "iam:PassRole", arn, {"iam:PassedToService": "ec2.amazonaws.com"})


@pytest.mark.parametrize("stack", STACKS)
def test_given_the_preflight_then_the_deploy_role_may_make_every_aws_call_it_makes(
    bootstrap: BootstrapRecord,
    stack: str,
) -> None:
    calls = preflight_calls(stack)
    # It got as far as the region and the quotas.
    assert {"sts:GetCallerIdentity", "sagemaker:ListEndpoints", "servicequotas:ListServiceQuotas"} <= calls
    statements = _deploy_statements(bootstrap, stack)
    # "No permissions are required to perform this operation" (STS API reference, GetCallerIdentity).
    refused = sorted(call for call in calls - {"sts:GetCallerIdentity"} if not allows(statements, call, "*"))
    assert not refused


def test_given_the_main_program_then_the_deploy_roles_grant_exactly_the_services_it_uses(
    stacks: dict[str, StackRecord],
    bootstrap: BootstrapRecord,
) -> None:
    """The same program deploys both stacks (settings switch parts on and off), so
    both roles grant what either stack and its preflight use, and nothing else."""
    used = {
        action.split(":")[0]
        for record in stacks.values()
        for resource in _aws_resources(record)
        for action, _ in _needs(_deployment(record, bootstrap.account), resource)
    }
    used |= {call.split(":")[0] for stack in STACKS for call in preflight_calls(stack) - {"sts:GetCallerIdentity"}}
    for stack in STACKS:
        granted = {
            action.split(":")[0]
            for statement in _deploy_statements(bootstrap, stack)
            if statement["Effect"] == "Allow"
            for action in as_list(statement["Action"])
        }
        assert granted == used, stack


def test_given_the_other_stack_then_a_deploy_role_reaches_only_what_aws_names_by_id(
    stacks: dict[str, StackRecord],
    bootstrap: BootstrapRecord,
) -> None:
    """API Gateway and CloudFront resources and KMS keys have no name in their
    ARNs: that much of prod a dev deployment could touch, and nothing else."""
    for stack, other in (("dev", "prod"), ("prod", "dev")):
        deployment = _deployment(stacks[other], bootstrap.account)
        statements = _deploy_statements(bootstrap, stack)
        reachable = {
            resource["type"]
            for resource in _aws_resources(stacks[other])
            if all(allows(statements, action, arn) for action, arn in _needs(deployment, resource))
        }
        named_by_id = {
            kind
            for kind in reachable
            if kind.split(":")[1].split("/")[0] in ("apigateway", "cloudfront") or kind == "aws:kms/key:Key"
        }
        assert reachable == named_by_id, (stack, reachable - named_by_id)


def test_given_a_deploy_role_then_it_cannot_rewrite_any_pipeline_role_or_the_provider(
    bootstrap: BootstrapRecord,
) -> None:
    pipeline_roles = [
        f"arn:aws:iam::{bootstrap.account}:role/{name}"
        for name in ("github-digits-preview", deploy_role_name("dev"), deploy_role_name("prod"))
    ]
    [provider] = bootstrap.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    for stack in STACKS:
        statements = _deploy_statements(bootstrap, stack)
        for arn in pipeline_roles:
            for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"):
                assert not allows(statements, action, arn), (stack, action, arn)
        assert not any(
            allows(statements, action, provider["arn"])
            for action in (
                "iam:UpdateOpenIDConnectProviderThumbprint",
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:DeleteOpenIDConnectProvider",
            )
        )


@pytest.mark.parametrize("stack", STACKS)
def test_given_a_deploy_role_then_it_can_never_read_peoples_history_or_workflow_logs(
    stacks: dict[str, StackRecord],
    bootstrap: BootstrapRecord,
    stack: str,
) -> None:
    """Items hold people's images; dev's workflow logs carry them as execution data."""
    deployment = _deployment(stacks[stack], bootstrap.account)
    statements = _deploy_statements(bootstrap, stack)
    table = deployment.arn(
        "arn:aws:dynamodb:{region}:{account}:table/{name}",
        deployment.name(stacks[stack].one("aws:dynamodb/table:Table")),
    )
    for action in (
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:BatchGetItem",
        "dynamodb:PartiQLSelect",
        "dynamodb:ExportTableToPointInTime",
    ):
        assert not allows(statements, action, table) and not allows(statements, action, f"{table}/index/ByClient")
    for log_group in stacks[stack].of_type("aws:cloudwatch/logGroup:LogGroup"):
        arn = deployment.arn(LOG_GROUP, deployment.name(log_group))
        assert allows(statements, "logs:PutRetentionPolicy", arn)
        for action in ("logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:StartLiveTail"):
            assert not allows(statements, action, arn) and not allows(statements, action, f"{arn}:*")
