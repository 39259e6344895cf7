"""WAF at the edge and the API locked to CloudFront, where ``wafEnabled`` (prod):
a CLOUDFRONT-scope web ACL in us-east-1 limits each client address's API calls
with the contract's 429, and CloudFront adds a generated secret header without
which the stage's regional web ACL answers the contract's 404. Where WAF is off
(dev), none of it exists and the API is reachable directly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.api import ORIGIN_VERIFY_HEADER
from components.api_templates import NO_SUCH_ROUTE
from functions.core.errors import ERROR_TABLE, error_body
from tests.infra.records import StackRecord, settings_of
from tests.infra.secret_values import is_secret, revealed

ROOT = Path(__file__).resolve().parents[2]
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
EDGE_PIECES = (
    WEB_ACL,
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "random:index/randomPassword:RandomPassword",
    "pulumi:providers:aws",
)


def _acl(stack: StackRecord, scope: str) -> dict[str, Any]:
    (acl,) = [r for r in stack.of_type(WEB_ACL) if r["inputs"]["scope"] == scope]
    return acl


def _api_origin(stack: StackRecord) -> dict[str, Any]:
    origins = revealed(stack.inputs("aws:cloudfront/distribution:Distribution")["origins"])
    origin: dict[str, Any] = next(o for o in origins if o["originId"] == "api")
    return origin


def _body(acl: dict[str, Any], key: str) -> Any:
    (body,) = [b for b in acl["inputs"]["customResponseBodies"] if b["key"] == key]
    assert body["contentType"] == "APPLICATION_JSON"
    return json.loads(body["content"])


@pytest.fixture
def prod(stacks: dict[str, StackRecord]) -> StackRecord:
    return stacks["prod"]


def test_given_prod_then_the_edge_web_acl_lives_in_us_east_1_and_guards_the_distribution(prod: StackRecord) -> None:
    """CloudFront-scope web ACLs exist only in us-east-1: the ACL is created through a provider for
    that region, a child of the site, and the distribution names it by ARN (WAFv2)."""
    acl = _acl(prod, "CLOUDFRONT")
    (provider,) = prod.of_type("pulumi:providers:aws")
    assert provider["inputs"]["region"] == "us-east-1"
    assert provider["urn"].split("::")[2] == "digits:site:Site$pulumi:providers:aws"
    assert acl["arn"].startswith("arn:aws:wafv2:us-east-1:123456789012:global/webacl/")
    assert acl["urn"].split("::")[2] == "digits:site:Site$aws:wafv2/webAcl:WebAcl"
    assert prod.inputs("aws:cloudfront/distribution:Distribution")["webAclId"] == acl["arn"]


def test_given_prod_then_each_client_address_s_api_calls_are_limited_with_the_contract_s_429(
    prod: StackRecord,
) -> None:
    """Keyed on the address CloudFront received the connection from (aggregate key IP), which no
    header a client writes can change; X-Forwarded-For (FORWARDED_IP) is not used anywhere."""
    acl = _acl(prod, "CLOUDFRONT")
    assert acl["inputs"]["defaultAction"] == {"allow": {}}
    (rule,) = acl["inputs"]["rules"]
    rate = rule["statement"]["rateBasedStatement"]
    assert (rate["aggregateKeyType"], rate["limit"], rate["evaluationWindowSec"]) == (
        "IP",
        settings_of("prod").waf_rate_limit,
        300,
    )
    assert rate["scopeDownStatement"]["byteMatchStatement"] == {
        "fieldToMatch": {"uriPath": {}},
        "positionalConstraint": "STARTS_WITH",
        "searchString": "/api/",
        "textTransformations": [{"priority": 0, "type": "NONE"}],
    }
    block = rule["action"]["block"]["customResponse"]
    throttled = ERROR_TABLE["Throttled"]
    assert block["responseCode"] == throttled.status
    assert _body(acl, block["customResponseBodyKey"]) == throttled().to_body()
    every_acl = json.dumps([revealed(r["inputs"]) for r in prod.of_type(WEB_ACL)])
    assert "FORWARDED_IP" not in every_acl and "forwardedIpConfig" not in every_acl


def test_given_prod_then_the_stage_answers_only_calls_carrying_cloudfront_s_secret_header(prod: StackRecord) -> None:
    """The regional web ACL on the stage lets through only the exact header value CloudFront adds (it
    replaces any a viewer sends); anything else gets the same 404 NotFound as a path that is no route."""
    acl = _acl(prod, "REGIONAL")
    inputs = revealed(acl["inputs"])
    block = inputs["defaultAction"]["block"]["customResponse"]
    assert block["responseCode"] == ERROR_TABLE["NotFound"].status
    assert _body({"inputs": inputs}, block["customResponseBodyKey"]) == error_body("NotFound", NO_SUCH_ROUTE)
    (rule,) = inputs["rules"]
    assert rule["action"] == {"allow": {}}
    match = rule["statement"]["byteMatchStatement"]
    assert match["fieldToMatch"] == {"singleHeader": {"name": ORIGIN_VERIFY_HEADER}}
    assert (match["positionalConstraint"], match["textTransformations"]) == (
        "EXACTLY",
        [{"priority": 0, "type": "NONE"}],
    )
    header = _api_origin(prod)["customHeaders"]
    assert header == [{"name": ORIGIN_VERIFY_HEADER, "value": match["searchString"]}]
    association = prod.inputs("aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association["webAclArn"] == acl["arn"]
    assert association["resourceArn"] == prod.one("aws:apigateway/stage:Stage")["arn"]


def test_given_prod_then_the_origin_secret_is_generated_and_kept_secret(prod: StackRecord) -> None:
    """Generated at deployment (random), a secret in the state wherever it is used, in no committed file."""
    password = prod.one("random:index/randomPassword:RandomPassword")
    distribution = prod.one("aws:cloudfront/distribution:Distribution")
    acl = _acl(prod, "REGIONAL")
    assert is_secret(distribution["inputs"]["origins"]) and is_secret(acl["inputs"]["rules"])
    assert password["urn"] in prod.waits_for(distribution) and password["urn"] in prod.waits_for(acl)
    value = _api_origin(prod)["customHeaders"][0]["value"]
    assert len(value) == password["inputs"]["length"] >= 32
    committed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, committed.decode().split("\0")):
        path = ROOT / name
        if path.is_file():
            assert value.encode() not in path.read_bytes(), name


def test_given_dev_then_there_is_no_waf_and_no_origin_lock(stacks: dict[str, StackRecord]) -> None:
    """Without WAF the API is reachable directly at its execute-api address."""
    dev = stacks["dev"]
    assert not [r for r in dev.resources if r["type"] in EDGE_PIECES]
    assert "customHeaders" not in _api_origin(dev)
    assert "webAclId" not in dev.inputs("aws:cloudfront/distribution:Distribution")
