"""The static site behind CloudFront: private bucket, OAC, /api/* to the API, HTTPS, security headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.site import CACHING_DISABLED, content_type, site_files
from tests.infra.records import StackRecord

ROOT = Path(__file__).resolve().parents[2]


def test_given_each_stack_then_every_site_file_is_uploaded_with_its_content_type(stack: StackRecord) -> None:
    uploaded = {o["inputs"]["key"]: o["inputs"] for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                if o["name"].startswith("site-")}
    assert set(uploaded) == set(site_files(ROOT / "site"))
    assert uploaded["index.html"]["contentType"] == "text/html; charset=utf-8"
    for key, upload in uploaded.items():
        assert upload["contentType"] == content_type(Path(key))


@pytest.mark.parametrize("name, expected", [
    ("app.js", "text/javascript; charset=utf-8"), ("style.css", "text/css; charset=utf-8"),
    ("logo.svg", "image/svg+xml"), ("data.bin", "application/octet-stream"),
])
def test_given_a_file_name_then_its_content_type_is_what_browsers_need(name: str, expected: str) -> None:
    assert content_type(Path(name)) == expected


def test_given_each_stack_then_buckets_are_private_and_encrypted(stack: StackRecord) -> None:
    blocks = stack.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert len(blocks) == 2
    for block in blocks:
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        assert all(block["inputs"][flag] is True for flag in flags)
    for encryption in stack.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"):
        (rule,) = encryption["inputs"]["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_given_each_stack_then_only_this_distribution_reads_the_site(stack: StackRecord) -> None:
    policy = json.loads(stack.inputs("aws:s3/bucketPolicy:BucketPolicy")["policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"} and statement["Action"] == "s3:GetObject"
    distribution_arn = stack.one("aws:cloudfront/distribution:Distribution")["arn"]
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution_arn}}
    oac = stack.inputs("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert (oac["originAccessControlOriginType"], oac["signingBehavior"]) == ("s3", "always")


def test_given_each_stack_then_cloudfront_serves_https_only_and_routes_the_api_uncached(stack: StackRecord) -> None:
    distribution = stack.inputs("aws:cloudfront/distribution:Distribution")
    assert distribution["defaultRootObject"] == "index.html"
    assert distribution["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    (api,) = distribution["orderedCacheBehaviors"]
    assert api["pathPattern"] == "/api/*" and api["viewerProtocolPolicy"] == "redirect-to-https"
    assert api["cachePolicyId"] == CACHING_DISABLED
    assert {"GET", "POST", "OPTIONS"} <= set(api["allowedMethods"])
    origins = {o["originId"]: o for o in distribution["origins"]}
    assert origins["api"]["originPath"] == "/api"
    assert origins["api"]["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert origins["site"]["originAccessControlId"]


def test_given_each_stack_then_responses_carry_security_headers(stack: StackRecord) -> None:
    headers = stack.inputs("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")["securityHeadersConfig"]
    csp = headers["contentSecurityPolicy"]["contentSecurityPolicy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31536000
    assert headers["frameOptions"]["frameOption"] == "DENY"
    distribution = stack.inputs("aws:cloudfront/distribution:Distribution")
    policy_ids = {distribution["defaultCacheBehavior"]["responseHeadersPolicyId"],
                  distribution["orderedCacheBehaviors"][0]["responseHeadersPolicyId"]}
    assert len(policy_ids) == 1 and None not in policy_ids
