"""Every IAM statement of both stacks against the project's rules: no "*"
action anywhere, "*" resources only where AWS offers nothing narrower (the
allowlist below), persist can only put items, only the history function deletes
items (a person's own), nobody deletes tables or objects, and whatever takes a
role is created after the role's permissions."""

from __future__ import annotations

import json
from collections import defaultdict

from tests.infra.records import StackRecord, as_list, policy_statements

# (role policy, statement id): AWS has no resource-level permissions for these actions.
WILDCARD_RESOURCE_ALLOWLIST = {
    # Step Functions' CloudWatch Logs delivery.
    ("state-machine-role", "LogDelivery"),
    # X-Ray trace writes (and sampling reads for the state machine).
    ("state-machine-role", "XRayTraces"),
    *(
        (f"{function}-role", "XRayTraces")
        for function in ("validate", "preprocess", "invoke_model", "persist", "history")
    ),
    # ECR login token for pulling the serving image.
    ("sagemaker-execution", "EcrLogin"),
    # PutMetricData, narrowed by a namespace condition instead.
    ("sagemaker-execution", "EndpointMetrics"),
}
TRUSTED_SERVICES = {
    "lambda.amazonaws.com",
    "states.amazonaws.com",
    "apigateway.amazonaws.com",
    "sagemaker.amazonaws.com",
}


def test_given_each_stack_then_no_statement_grants_a_wildcard_action(stack: StackRecord) -> None:
    for policy, statement in policy_statements(stack):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            service, _, name = action.partition(":")
            assert service and name and "*" not in action, (policy, action)


def test_given_each_stack_then_wildcard_resources_appear_only_where_aws_requires(stack: StackRecord) -> None:
    wildcards = {
        (policy, statement["Sid"])
        for policy, statement in policy_statements(stack)
        if "*" in as_list(statement["Resource"])
    }
    assert wildcards == WILDCARD_RESOURCE_ALLOWLIST


def test_given_each_stack_then_metric_writes_are_limited_to_a_namespace(stack: StackRecord) -> None:
    for _, statement in policy_statements(stack):
        if "cloudwatch:PutMetricData" in statement["Action"]:
            assert "cloudwatch:namespace" in statement["Condition"]["StringEquals"]


def test_given_each_stack_then_persist_can_only_put_items(stack: StackRecord) -> None:
    table_arn = stack.one("aws:dynamodb/table:Table")["arn"]
    table_grants = [
        s
        for p, s in policy_statements(stack)
        if p == "persist-role" and any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
    ]
    assert table_grants == [
        {"Sid": "WriteHistory", "Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": table_arn}
    ]


def test_given_each_stack_then_only_the_history_function_deletes_items_and_nobody_deletes_storage(
    stack: StackRecord,
) -> None:
    actions_by_role: dict[str, set[str]] = defaultdict(set)
    for policy, statement in policy_statements(stack):
        actions_by_role[policy].update(as_list(statement["Action"]))
    deleters = {
        policy
        for policy, actions in actions_by_role.items()
        if actions & {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    }
    assert deleters == {"history-role"}
    for policy, actions in actions_by_role.items():
        assert not any(
            action.startswith(("dynamodb:DeleteTable", "dynamodb:DeleteBackup", "s3:Delete")) for action in actions
        ), policy
    table_users = {p for p, actions in actions_by_role.items() if any(a.startswith("dynamodb:") for a in actions)}
    assert table_users == {"persist-role", "history-role"}
    assert {a for a in actions_by_role["history-role"] if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    }


def test_given_each_stack_then_whatever_takes_a_role_waits_for_the_role_s_permissions(stack: StackRecord) -> None:
    """Lambdas with active tracing, the state machine's log delivery, SageMaker
    pulling its image: created before their policy, they fail or retry."""
    policy_of_role = {
        policy["inputs"]["role"]: policy["urn"] for policy in stack.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    users = [
        *((f, f["inputs"]["role"]) for f in stack.of_type("aws:lambda/function:Function")),
        *((m, m["inputs"]["roleArn"]) for m in stack.of_type("aws:sfn/stateMachine:StateMachine")),
        *((m, m["inputs"]["executionRoleArn"]) for m in stack.of_type("aws:sagemaker/model:Model")),
        *(
            (i, i["inputs"]["credentials"])
            for i in stack.of_type("aws:apigateway/integration:Integration")
            if i["inputs"].get("credentials")
        ),
        *((a, a["inputs"]["cloudwatchRoleArn"]) for a in stack.of_type("aws:apigateway/account:Account")),
    ]
    assert len(users) >= 8
    role_ids = {role["arn"]: role["id"] for role in stack.of_type("aws:iam/role:Role")}
    for user, role_arn in users:
        assert policy_of_role[role_ids[role_arn]] in stack.waits_for(user), f"{user['type']} {user['name']}"


def test_given_each_stack_then_each_function_has_its_own_role(stack: StackRecord) -> None:
    roles = {r["arn"]: r["name"] for r in stack.of_type("aws:iam/role:Role")}
    function_roles = [roles[f["inputs"]["role"]] for f in stack.of_type("aws:lambda/function:Function")]
    assert len(set(function_roles)) == len(function_roles) == 5


def test_given_each_stack_then_only_the_model_invoker_reaches_sagemaker(stack: StackRecord) -> None:
    endpoint_arn = stack.one("aws:sagemaker/endpoint:Endpoint")["arn"]
    grants = [(p, s["Resource"]) for p, s in policy_statements(stack) if "sagemaker:InvokeEndpoint" in s["Action"]]
    assert grants == [("invoke_model-role", endpoint_arn)]


def test_given_each_stack_then_roles_trust_one_aws_service_each(stack: StackRecord) -> None:
    for role in stack.of_type("aws:iam/role:Role"):
        (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Principal"]["Service"] in TRUSTED_SERVICES
