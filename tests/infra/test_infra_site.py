"""The static site behind CloudFront: private bucket, OAC, /api/* to the API, HTTPS, security headers,
only the pages that work on AWS, API errors never cached."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest

from components import api_templates
from components.site import CACHING_DISABLED, LOCAL_ONLY_FILES, content_type, site_files
from functions.core.errors import ERROR_TABLE
from tests.infra.records import StackRecord
from tests.infra.secret_values import revealed

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
# What a page or script loads: stylesheets, scripts, images, and ES module imports.
ASSET_REFERENCE = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"#:]+)"|\bfrom\s+"(\.[^"]+)"')
# Every status a custom error response can name (CloudFront developer guide, custom error pages).
CLOUDFRONT_CONFIGURABLE = {400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
# What CloudFront caches always, and what only with the origin's Cache-Control max-age ("HTTP 4xx
# and 5xx status codes that CloudFront caches"); the API never sends max-age.
CLOUDFRONT_ALWAYS_CACHES = {404, 405, 414, 500, 501, 502, 503, 504}
CLOUDFRONT_CACHES_WITH_MAX_AGE = {400, 403, 412, 415}


# Files that may load others: pages, stylesheets, scripts.
TEXT_SUFFIXES = {".html", ".css", ".js", ".mjs"}


def _uploads(stack: StackRecord) -> dict[str, dict[str, object]]:
    return {
        o["inputs"]["key"]: o["inputs"]
        for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if o["name"].startswith("site-")
    }


def _needs(page: str) -> set[str]:
    """The page and every file it loads, through stylesheets, scripts and their imports."""
    needed, pending = set(), [page]
    while pending:
        key = pending.pop()
        if key in needed:
            continue
        needed.add(key)
        if Path(key).suffix not in TEXT_SUFFIXES:
            continue  # an image loads nothing further
        for link, module in ASSET_REFERENCE.findall((SITE / key).read_text()):
            pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(key), link or module)))
    return needed


def _every_file() -> set[str]:
    return {path.relative_to(SITE).as_posix() for path in SITE.rglob("*") if path.is_file()}


def test_given_each_stack_then_the_pages_that_work_on_aws_are_uploaded_with_their_content_types(
    stack: StackRecord,
) -> None:
    uploaded = _uploads(stack)
    assert set(uploaded) == _every_file() - LOCAL_ONLY_FILES
    assert "console.html" not in uploaded
    assert uploaded["index.html"]["contentType"] == "text/html; charset=utf-8"
    for key, upload in uploaded.items():
        assert upload["contentType"] == content_type(Path(key))
    assert _needs("index.html") <= set(uploaded)


def test_given_the_executions_console_then_only_it_and_what_only_it_loads_stay_local() -> None:
    """The console reads /api/executions, which only the local stack serves."""
    pages = [path.name for path in SITE.glob("*.html")]
    on_aws = set().union(*(_needs(page) for page in pages if page != "console.html"))
    assert _needs("console.html") - on_aws == LOCAL_ONLY_FILES
    assert set(site_files(SITE)) == _every_file() - LOCAL_ONLY_FILES


@pytest.mark.parametrize(
    "name, expected",
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("data.bin", "application/octet-stream"),
    ],
)
def test_given_a_file_name_then_its_content_type_is_what_browsers_need(name: str, expected: str) -> None:
    assert content_type(Path(name)) == expected


def test_given_each_stack_then_buckets_are_private_and_encrypted(stack: StackRecord) -> None:
    blocks = stack.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert len(blocks) == 2
    for block in blocks:
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        assert all(block["inputs"][flag] is True for flag in flags)
    for encryption in stack.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
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
    api = next(b for b in distribution["orderedCacheBehaviors"] if b["pathPattern"] == "/api/*")
    assert api["pathPattern"] == "/api/*" and api["viewerProtocolPolicy"] == "redirect-to-https"
    assert api["cachePolicyId"] == CACHING_DISABLED
    assert {"GET", "POST", "OPTIONS", "DELETE"} <= set(api["allowedMethods"])
    origins = {o["originId"]: o for o in revealed(distribution["origins"])}
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
    policy_ids = {
        distribution["defaultCacheBehavior"]["responseHeadersPolicyId"],
        distribution["orderedCacheBehaviors"][0]["responseHeadersPolicyId"],
    }
    assert len(policy_ids) == 1 and None not in policy_ids


def test_given_each_stack_then_cloudfront_never_caches_an_api_error(stack: StackRecord) -> None:
    """CloudFront caches error answers for 10 s by default, even with CachingDisabled: every status the
    API can answer that CloudFront caches gets ErrorCachingMinTTL 0, and no page replaces the API's JSON."""
    distribution = stack.inputs("aws:cloudfront/distribution:Distribution")
    responses = {r["errorCode"]: r for r in distribution["customErrorResponses"]}
    gateway_statuses = {int(api_templates.gateway_status(code)) for code, _ in api_templates.GATEWAY_RESPONSES.values()}
    api_statuses = {cls.status for cls in ERROR_TABLE.values()} | gateway_statuses
    # DEFAULT_4XX/DEFAULT_5XX keep API Gateway's own status: any other 4xx/5xx too.
    assert "statusCode" not in stack.inputs("aws:apigateway/response:Response", "gateway-default-4xx")
    assert "statusCode" not in stack.inputs("aws:apigateway/response:Response", "gateway-default-5xx")
    assert set(responses) == CLOUDFRONT_CONFIGURABLE
    assert api_statuses & CLOUDFRONT_ALWAYS_CACHES <= set(responses)
    assert api_statuses & CLOUDFRONT_CACHES_WITH_MAX_AGE & CLOUDFRONT_CONFIGURABLE <= set(responses)
    for response in responses.values():
        assert response == {"errorCode": response["errorCode"], "errorCachingMinTtl": 0}
