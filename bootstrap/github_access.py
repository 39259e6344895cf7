"""GitHub Actions' way into AWS: GitHub's OpenID Connect identity provider and
one role per kind of workflow run, each assumable only by that kind of run of
one repository, each allowed only what that run needs.

- ``preview`` (pull requests of the repository): nothing in AWS beyond the
  state bucket, when the state lives in one; ``pulumi preview`` only asks STS
  who it is, which needs no permission.
- ``deploy-dev`` (pushes to ``main``) and ``deploy-prod`` (jobs in the ``prod``
  environment): the services the main program manages, on its own stack's
  resources (``digits-<stack>-*``) wherever AWS puts a name in the ARN; the
  rest (API Gateway, CloudFront and KMS keys, named by ids; Step Functions'
  log delivery) with short explicit action lists.

Sources: GitHub Docs, "Configuring OpenID Connect in Amazon Web Services"
(provider URL, ``sts.amazonaws.com`` audience, ``sub`` claims
``repo:<owner>/<repo>:ref:refs/heads/<branch>``,
``repo:<owner>/<repo>:environment:<name>`` and ``repo:<owner>/<repo>:pull_request``);
IAM User Guide, "Create a role for OpenID Connect federation" (condition keys
``token.actions.githubusercontent.com:aud`` / ``:sub``); the Service
Authorization Reference (ARN formats and resource-level support of each action).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
# IAM names the token's claims after the provider's host.
GITHUB_OIDC_HOST = GITHUB_OIDC_URL.removeprefix("https://")
# The audience aws-actions/configure-aws-credentials asks GitHub to put in the token.
STS_AUDIENCE = "sts.amazonaws.com"
MAIN_BRANCH = "main"
PROD_ENVIRONMENT = "prod"
# Which workflow runs may deploy each stack: the token's ``sub`` after ``repo:<owner>/<repo>:``.
DEPLOY_SUBJECTS: Mapping[str, str] = {
    "dev": f"ref:refs/heads/{MAIN_BRANCH}",
    "prod": f"environment:{PROD_ENVIRONMENT}",
}
PREVIEW_SUBJECT = "pull_request"
# Creating a CloudFront distribution and a SageMaker endpoint can outlast the default hour.
SESSION_SECONDS = 2 * 3600

# Roles the main program hands to these services (iam:PassRole).
ROLE_TAKERS = (
    "apigateway.amazonaws.com",
    "lambda.amazonaws.com",
    "sagemaker.amazonaws.com",
    "states.amazonaws.com",
)
ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
)
API_GATEWAY_ACTIONS = ("apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT")
CLOUDFRONT_ACTIONS = tuple(
    f"cloudfront:{verb}{noun}"
    for noun, verbs in (
        ("Distribution", ("Create", "Get", "Update", "Delete")),
        ("DistributionWithTags", ("Create",)),
        ("DistributionConfig", ("Get",)),
        ("OriginAccessControl", ("Create", "Get", "Update", "Delete")),
        ("OriginAccessControlConfig", ("Get",)),
        ("ResponseHeadersPolicy", ("Create", "Get", "Update", "Delete")),
        ("ResponseHeadersPolicyConfig", ("Get",)),
    )
    for verb in verbs
) + ("cloudfront:TagResource", "cloudfront:UntagResource", "cloudfront:ListTagsForResource")
# The alarm topic's key (KMS names keys by ids) and its alias (named after the stack).
KEY_ACTIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
)
ALIAS_ACTIONS = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")
# What `make preflight` asks AWS (sts:GetCallerIdentity needs no permission).
PREFLIGHT_ACTIONS = (
    "sagemaker:ListEndpoints",
    "servicequotas:ListAWSDefaultServiceQuotas",
    "servicequotas:ListServiceQuotas",
)
# CloudFront-scope web ACLs live in us-east-1 ("Working with web ACLs", WAF developer guide).
EDGE_REGION = "us-east-1"
# Actions that read what people sent (history items, workflow logs with execution
# data in dev): a deployment never needs them, so no deploy role can use them.
PEOPLES_DATA_READS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:GetItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:Query",
    "dynamodb:Scan",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:StartQuery",
)
# Pulumi's self-managed backends keep everything under this prefix, locks under its locks/.
STATE_PREFIX = ".pulumi/"
PREVIEW_ROLE_NAME = "github-digits-preview"
OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
REPOSITORY = re.compile(r"[A-Za-z0-9._-]{1,100}")
EXISTING_PROVIDER = re.compile(rf"arn:aws:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}")


class Statement(TypedDict, total=False):
    Sid: str
    Effect: str
    Action: list[str]
    Resource: str | list[str]
    Condition: dict[str, dict[str, Any]]


def stack_prefix(stack: str) -> str:
    """Prefix of the main program's physical names in ``stack`` (its settings' ``name_prefix``)."""
    return f"digits-{stack}"


def deploy_role_name(stack: str) -> str:
    """Outside ``stack_prefix(stack)-*``: a deploy role cannot rewrite its own permissions."""
    return f"github-{stack_prefix(stack)}-deploy"


@dataclass(frozen=True)
class Repository:
    """The GitHub repository whose workflow runs may assume the roles."""

    owner: str
    name: str

    def __post_init__(self) -> None:
        # GitHub's own rules for the two names; anything else is a typo (or a wildcard).
        if not OWNER.fullmatch(self.owner):
            raise ValueError(f"githubOwner must be a GitHub user or organisation name, got {self.owner!r}")
        if not REPOSITORY.fullmatch(self.name) or self.name in (".", ".."):
            raise ValueError(f"githubRepo must be a GitHub repository name, got {self.name!r}")

    def subject(self, context: str) -> str:
        """The ``sub`` claim of this repository's runs in ``context``."""
        return f"repo:{self.owner}/{self.name}:{context}"


@dataclass(frozen=True)
class Scope:
    """Where one stack's deploy role may act."""

    stack: str
    region: str
    account: str

    @property
    def prefix(self) -> str:
        return stack_prefix(self.stack)


def _statement(
    effect: str,
    sid: str,
    actions: Sequence[str],
    resources: str | Sequence[str],
    condition: dict[str, dict[str, Any]] | None = None,
) -> Statement:
    statement = Statement(
        Sid=sid,
        Effect=effect,
        Action=sorted(actions),
        Resource=resources if isinstance(resources, str) else list(resources),
    )
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _allow(
    sid: str, actions: Sequence[str], resources: str | Sequence[str], condition: dict[str, dict[str, Any]] | None = None
) -> Statement:
    return _statement("Allow", sid, actions, resources, condition)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust_policy(provider_arn: str, subject: str) -> str:
    """Only a token GitHub issued for STS, for exactly ``subject``, may assume the role."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": subject}
                },
            }
        ]
    )


def state_statements(bucket: str, locks_only: bool) -> list[Statement]:
    """A self-managed state backend's bucket: read all state, and write it (or only take locks)."""
    objects = f"arn:aws:s3:::{bucket}/{STATE_PREFIX}"
    return [
        _allow("ListState", ["s3:ListBucket"], f"arn:aws:s3:::{bucket}"),
        _allow("ReadState", ["s3:GetObject"], f"{objects}*"),
        _allow("WriteState", ["s3:DeleteObject", "s3:PutObject"], f"{objects}locks/*" if locks_only else f"{objects}*"),
    ]


def deploy_statements(scope: Scope, state_bucket: str | None) -> list[Statement]:
    """Everything a ``pulumi up`` of the main program needs in ``scope``'s stack."""
    prefix, region, account = scope.prefix, scope.region, scope.account
    logs = f"arn:aws:logs:{region}:{account}:log-group:"
    rest_apis = f"arn:aws:apigateway:{region}::/restapis"
    statements = [
        # The stack's own resources, named in their ARNs: their whole lifecycle.
        _allow(
            "StackFunctions",
            ["lambda:*"],
            [
                f"arn:aws:lambda:{region}:{account}:function:{prefix}-*",
                f"arn:aws:lambda:{region}:{account}:layer:{prefix}-*",
            ],
        ),
        _allow("StackWorkflow", ["states:*"], f"arn:aws:states:{region}:{account}:stateMachine:{prefix}-*"),
        _allow("StackHistoryTable", ["dynamodb:*"], f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-*"),
        _allow(
            "StackModelEndpoint",
            ["sagemaker:*"],
            [
                f"arn:aws:sagemaker:{region}:{account}:{kind}/{prefix}-*"
                for kind in ("model", "endpoint-config", "endpoint")
            ],
        ),
        _allow("StackBuckets", ["s3:*"], f"arn:aws:s3:::{prefix}-*"),
        # /aws/lambda/<prefix>-..., /aws/vendedlogs/states/<prefix>-..., /aws/apigateway/<prefix>-...
        _allow("StackLogGroups", ["logs:*"], f"{logs}*/{prefix}-*"),
        _allow(
            "StackDashboardAndAlarms",
            ["cloudwatch:*"],
            [
                f"arn:aws:cloudwatch::{account}:dashboard/{prefix}-*",
                f"arn:aws:cloudwatch:{region}:{account}:alarm:{prefix}-*",
            ],
        ),
        _allow("StackAlarmTopic", ["sns:*"], f"arn:aws:sns:{region}:{account}:{prefix}-*"),
        _allow("StackSamplingRule", ["xray:*"], f"arn:aws:xray:{region}:{account}:sampling-rule/{prefix}-*"),
        # The provider reads a rule back with GetSamplingRules, which has no resource-level permissions.
        _allow("ReadSamplingRules", ["xray:GetSamplingRules"], "*"),
        _allow(
            "StackWebAcls",
            ["wafv2:*"],
            [
                f"arn:aws:wafv2:{region}:{account}:regional/webacl/{prefix}-*",
                f"arn:aws:wafv2:{EDGE_REGION}:{account}:global/webacl/{prefix}-*",
            ],
        ),
        _allow("StackKeyAliases", ALIAS_ACTIONS, f"arn:aws:kms:{region}:{account}:alias/{prefix}-*"),
        _allow("StackRoles", ROLE_ACTIONS, f"arn:aws:iam::{account}:role/{prefix}-*"),
        _allow(
            "PassStackRoles",
            ["iam:PassRole"],
            f"arn:aws:iam::{account}:role/{prefix}-*",
            {"StringEquals": {"iam:PassedToService": list(ROLE_TAKERS)}},
        ),
        # Named by ids, not names (any REST API and key of the region, any
        # distribution of the account): explicit actions only.
        _allow(
            "RestApis",
            API_GATEWAY_ACTIONS,
            [
                rest_apis,
                f"{rest_apis}/*",
                f"arn:aws:apigateway:{region}::/account",
                f"arn:aws:apigateway:{region}::/tags/*",
            ],
        ),
        # WAF's AssociateWebACL also needs apigateway:SetWebACL on the stage it protects.
        _allow(
            "WebAclOnStage",
            ["apigateway:SetWebACL", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"],
            f"{rest_apis}/*/stages/*",
        ),
        _allow(
            "Distributions",
            CLOUDFRONT_ACTIONS,
            [
                f"arn:aws:cloudfront::{account}:{kind}/*"
                for kind in ("distribution", "origin-access-control", "response-headers-policy")
            ],
        ),
        # An alias's calls are authorised on the alias and on its key.
        _allow("Keys", [*KEY_ACTIONS, *ALIAS_ACTIONS], f"arn:aws:kms:{region}:{account}:key/*"),
        # CreateKey and ListAliases have no resource-level permissions.
        _allow("CreateKeys", ["kms:CreateKey", "kms:ListAliases"], "*"),
        # tools/preflight.py before every deployment: list calls without resource-level permissions.
        _allow("Preflight", PREFLIGHT_ACTIONS, "*"),
        # The state machine's log delivery ("Logs sent to CloudWatch Logs", CloudWatch
        # Logs User Guide): the delivery actions have no resource-level permissions,
        # the resource policy ones take the account's log-group:* ARN.
        _allow(
            "WorkflowLogDelivery",
            [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:UpdateLogDelivery",
            ],
            "*",
        ),
        _allow(
            "LogResourcePolicy",
            ["logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:PutResourcePolicy"],
            f"{logs}*",
        ),
        _statement("Deny", "NeverReadPeoplesData", PEOPLES_DATA_READS, "*"),
    ]
    if state_bucket:
        statements.extend(state_statements(state_bucket, locks_only=False))
    return statements


def deploy_policy(stack: str, region: str, state_bucket: str | None, account: str) -> str:
    return policy_document(deploy_statements(Scope(stack, region, account), state_bucket))


def preview_statements(state_bucket: str | None) -> list[Statement]:
    """``pulumi preview`` changes nothing: it reads the state and takes its lock."""
    return state_statements(state_bucket, locks_only=True) if state_bucket else []


@dataclass(frozen=True)
class AccessSettings:
    repository: Repository
    # aws:region of each stack of the main program.
    stack_regions: Mapping[str, str]
    state_bucket: str | None
    # An account has one provider per URL: reuse it when another project created it.
    existing_provider_arn: str | None

    def __post_init__(self) -> None:
        if self.existing_provider_arn and not EXISTING_PROVIDER.fullmatch(self.existing_provider_arn):
            raise ValueError(
                f"oidcProviderArn must be the ARN of the account's {GITHUB_OIDC_HOST} provider, "
                f"got {self.existing_provider_arn!r}"
            )


class GitHubAccess(pulumi.ComponentResource):
    provider_arn: pulumi.Output[str]
    preview_role: aws.iam.Role
    deploy_roles: dict[str, aws.iam.Role]

    def __init__(self, name: str, settings: AccessSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("digits:bootstrap:GitHubAccess", name, None, opts)
        if settings.existing_provider_arn:
            self.provider_arn = pulumi.Output.from_input(settings.existing_provider_arn)
        else:
            # GitHub's certificate chains to a CA that IAM trusts itself: no thumbprint needed.
            provider = aws.iam.OpenIdConnectProvider(
                "github-actions",
                aws.iam.OpenIdConnectProviderArgs(url=GITHUB_OIDC_URL, client_id_lists=[STS_AUDIENCE]),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.provider_arn = provider.arn
        repository = settings.repository

        self.preview_role = self._role("preview", PREVIEW_ROLE_NAME, repository.subject(PREVIEW_SUBJECT))
        preview = preview_statements(settings.state_bucket)
        if preview:
            self._policy("preview", self.preview_role, pulumi.Output.from_input(policy_document(preview)))

        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.deploy_roles = {}
        for stack, subject in DEPLOY_SUBJECTS.items():
            role = self._role(f"deploy-{stack}", deploy_role_name(stack), repository.subject(subject))
            self._policy(
                f"deploy-{stack}",
                role,
                account.apply(partial(deploy_policy, stack, settings.stack_regions[stack], settings.state_bucket)),
            )
            self.deploy_roles[stack] = role
        self.register_outputs(
            {
                "previewRoleArn": self.preview_role.arn,
                **{f"{stack}DeployRoleArn": role.arn for stack, role in self.deploy_roles.items()},
            }
        )

    def _role(self, name: str, physical_name: str, subject: str) -> aws.iam.Role:
        return aws.iam.Role(
            name,
            aws.iam.RoleArgs(
                name=physical_name,
                description=f"GitHub Actions runs of {subject}, for the digit recognition stacks",
                assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, subject)),
                max_session_duration=SESSION_SECONDS,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _policy(self, name: str, role: aws.iam.Role, document: pulumi.Output[str]) -> aws.iam.RolePolicy:
        return aws.iam.RolePolicy(
            name,
            aws.iam.RolePolicyArgs(role=role.id, policy=document),
            opts=pulumi.ResourceOptions(parent=self),
        )
