"""The static site: a private bucket read only by CloudFront (origin access
control), ``/api/*`` routed to the API stage uncached (errors included), HTTPS
only, security headers on every response. The contract's OpenAPI document is
uploaded with the site and served at ``/api/openapi.json``, the path the local
stack serves it at, by a cache behaviour that comes before ``/api/*``. Where
WAF is enabled, a web ACL at the edge limits each client address's API calls,
and CloudFront adds the secret header without which the API answers nothing."""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.api import OriginHeader
from components.buckets import private_bucket
from components.web_policy import CONTENT_SECURITY_POLICY
from functions.core.api_contract import DOCUMENT_PATH
from functions.core.errors import ERROR_TABLE
from functions.core.openapi import document_json

# AWS managed CloudFront policies (stable, documented ids).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
SITE_ORIGIN = "site"
API_ORIGIN = "api"
API_PATH_PATTERN = "/api/*"
# The document's key in the site bucket: CloudFront asks S3 for the request's path.
OPENAPI_KEY = DOCUMENT_PATH.removeprefix("/")
# The executions console and what only it uses: it reads /api/executions, which
# only the local stack serves. On AWS, Express executions are in CloudWatch Logs
# (the stack's consoleLinks.executionLogs).
LOCAL_ONLY_FILES = frozenset({"console.html", "css/console.css", "js/console.js"})
# CloudFront caches 4xx/5xx answers for 10 s by default, even under CachingDisabled.
# A custom error response with ErrorCachingMinTTL 0 and no page stops that for one
# status; these are all the statuses a custom error response can name. The API can
# answer each of them: the error table's 400/404/500/503, and any other 4xx/5xx of
# API Gateway's own, which DEFAULT_4XX/DEFAULT_5XX pass through. The table's 413,
# 415, 422 and 429 cannot be named: CloudFront does not cache those (415 only with
# a Cache-Control max-age, which the API never sends).
CLOUDFRONT_ERROR_STATUSES = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)
# CloudFront-scope web ACLs live in us-east-1, whatever the stack's region.
EDGE_REGION = "us-east-1"
RATE_WINDOW_SECONDS = 300


def content_type(path: Path) -> str:
    """The Content-Type a browser needs for ``path`` (scripts must not be served as text/plain)."""
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def site_files(site_dir: Path) -> dict[str, Path]:
    """Object key -> file, for every file of the site that works on AWS."""
    files = {
        key: path
        for path in sorted(site_dir.rglob("*"))
        if path.is_file() and (key := path.relative_to(site_dir).as_posix()) not in LOCAL_ONLY_FILES
    }
    if "index.html" not in files:
        raise FileNotFoundError(f"{site_dir / 'index.html'} is missing: the site has no entry page")
    return files


@dataclass(frozen=True)
class SiteArgs:
    """What the site takes from the stack settings, and where its files are."""

    stack: str
    region: str
    name_prefix: str
    site_dir: Path
    # Where WAF is enabled, each client address may make ``waf_rate_limit`` API calls per 5 minutes.
    waf_enabled: bool
    waf_rate_limit: int


@dataclass(frozen=True)
class ApiOrigin:
    """The API stage CloudFront forwards ``/api/*`` to, and the header it must add (where WAF is enabled)."""

    stage: aws.apigateway.Stage
    api_id: pulumi.Input[str]
    header: OriginHeader | None


class Site(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    distribution: aws.cloudfront.Distribution
    url: pulumi.Output[str]
    # Where WAF is enabled: the edge's web ACL, in us-east-1.
    rate_limit: aws.wafv2.WebAcl | None

    def __init__(
        self,
        name: str,
        args: SiteArgs,
        api: ApiOrigin,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("digits:site:Site", name, None, opts)
        self.bucket = self._build_bucket(args.site_dir)
        self.rate_limit = self._build_rate_limit(args) if args.waf_enabled else None
        self.distribution = self._build_distribution(args, api)
        self._build_bucket_policy()
        self.url = pulumi.Output.concat("https://", self.distribution.domain_name)
        self.register_outputs({"url": self.url, "bucket": self.bucket.bucket})

    def _build_bucket(self, site_dir: Path) -> aws.s3.Bucket:
        """The private bucket with the site's files and the OpenAPI document."""
        child = pulumi.ResourceOptions(parent=self)
        bucket = private_bucket("site", self, force_destroy=True)
        for key, path in site_files(site_dir).items():
            aws.s3.BucketObjectv2(
                f"site-{key}",
                aws.s3.BucketObjectv2Args(
                    bucket=bucket.id,
                    key=key,
                    source=pulumi.FileAsset(str(path)),
                    content_type=content_type(path),
                    # Pages revalidate so a deployment shows at once; assets may be cached briefly.
                    cache_control="no-cache" if path.suffix == ".html" else "public, max-age=300",
                ),
                opts=child,
            )
        aws.s3.BucketObjectv2(
            "openapi-document",
            aws.s3.BucketObjectv2Args(
                bucket=bucket.id,
                key=OPENAPI_KEY,
                content=document_json(),
                content_type=CONTENT_TYPES[".json"],
                # Revalidated, as the pages are: a deployment changes it at once.
                cache_control="no-cache",
            ),
            opts=child,
        )
        return bucket

    def _build_origin_access(self, name_prefix: str) -> aws.cloudfront.OriginAccessControl:
        return aws.cloudfront.OriginAccessControl(
            "site-oac",
            aws.cloudfront.OriginAccessControlArgs(
                name=f"{name_prefix}-site",
                origin_access_control_origin_type="s3",
                signing_behavior="always",
                signing_protocol="sigv4",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_security_headers(self, name_prefix: str) -> aws.cloudfront.ResponseHeadersPolicy:
        return aws.cloudfront.ResponseHeadersPolicy(
            "security-headers",
            aws.cloudfront.ResponseHeadersPolicyArgs(
                name=f"{name_prefix}-security-headers",
                security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                    content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                        content_security_policy=CONTENT_SECURITY_POLICY,
                        override=True,
                    ),
                    strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                        access_control_max_age_sec=63072000,
                        include_subdomains=True,
                        preload=True,
                        override=True,
                    ),
                    content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                        override=True,
                    ),
                    frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                        frame_option="DENY",
                        override=True,
                    ),
                    referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                        referrer_policy="strict-origin-when-cross-origin",
                        override=True,
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_distribution(self, args: SiteArgs, api: ApiOrigin) -> aws.cloudfront.Distribution:
        """The site from the bucket, ``/api/*`` from the API stage."""
        access_control = self._build_origin_access(args.name_prefix)
        headers = self._build_security_headers(args.name_prefix)
        return aws.cloudfront.Distribution(
            "cdn",
            aws.cloudfront.DistributionArgs(
                enabled=True,
                comment=f"digit recognition ({args.stack})",
                default_root_object="index.html",
                http_version="http2and3",
                is_ipv6_enabled=True,
                price_class="PriceClass_200",
                origins=[self._site_origin(access_control), _api_origin(args.region, api)],
                default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                    target_origin_id=SITE_ORIGIN,
                    viewer_protocol_policy="redirect-to-https",
                    allowed_methods=["GET", "HEAD"],
                    cached_methods=["GET", "HEAD"],
                    cache_policy_id=CACHING_OPTIMIZED,
                    response_headers_policy_id=headers.id,
                    compress=True,
                ),
                ordered_cache_behaviors=_ordered_cache_behaviors(headers.id),
                custom_error_responses=[
                    aws.cloudfront.DistributionCustomErrorResponseArgs(error_code=status, error_caching_min_ttl=0)
                    for status in CLOUDFRONT_ERROR_STATUSES
                ],
                web_acl_id=self.rate_limit.arn if self.rate_limit else None,
                restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none"),
                ),
                viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                    cloudfront_default_certificate=True
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _site_origin(self, access_control: aws.cloudfront.OriginAccessControl) -> aws.cloudfront.DistributionOriginArgs:
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=SITE_ORIGIN,
            domain_name=self.bucket.bucket_regional_domain_name,
            origin_access_control_id=access_control.id,
        )

    def _build_bucket_policy(self) -> aws.s3.BucketPolicy:
        """Only this distribution reads the bucket."""
        return aws.s3.BucketPolicy(
            "site-read-by-cloudfront",
            aws.s3.BucketPolicyArgs(
                bucket=self.bucket.id,
                policy=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CloudFrontReadsSite",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": pulumi.Output.concat(self.bucket.arn, "/*"),
                                "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution.arn}},
                            }
                        ],
                    }
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _build_rate_limit(self, args: SiteArgs) -> aws.wafv2.WebAcl:
        """The edge's web ACL: at most ``wafRateLimit`` API calls per client
        address in any 5 minutes, then 429 ``Throttled`` in the contract's JSON.

        At the edge the address is the viewer's own, as CloudFront received the
        connection: no header a client writes can change it."""
        throttled = ERROR_TABLE["Throttled"]
        body_key = "throttled"
        rule_name = "api-calls-per-address"
        edge = aws.Provider("edge", aws.ProviderArgs(region=EDGE_REGION), opts=pulumi.ResourceOptions(parent=self))
        return aws.wafv2.WebAcl(
            "edge-rate-limit",
            scope="CLOUDFRONT",
            default_action={"allow": {}},
            custom_response_bodies=[
                {
                    "key": body_key,
                    "content_type": "APPLICATION_JSON",
                    "content": json.dumps(throttled().to_body()),
                }
            ],
            rules=[
                {
                    "name": rule_name,
                    "priority": 0,
                    "action": {
                        "block": {
                            "custom_response": {
                                "response_code": throttled.status,
                                "custom_response_body_key": body_key,
                            }
                        }
                    },
                    "statement": {
                        "rate_based_statement": {
                            "aggregate_key_type": "IP",
                            "limit": args.waf_rate_limit,
                            "evaluation_window_sec": RATE_WINDOW_SECONDS,
                            # Only API calls count: a page load fetches a dozen static files.
                            "scope_down_statement": {
                                "byte_match_statement": {
                                    "field_to_match": {"uri_path": {}},
                                    "positional_constraint": "STARTS_WITH",
                                    "search_string": API_PATH_PATTERN.rstrip("*"),
                                    "text_transformations": [{"priority": 0, "type": "NONE"}],
                                }
                            },
                        }
                    },
                    "visibility_config": {
                        "cloudwatch_metrics_enabled": True,
                        "metric_name": rule_name,
                        "sampled_requests_enabled": True,
                    },
                }
            ],
            visibility_config={
                "cloudwatch_metrics_enabled": True,
                "metric_name": f"{args.name_prefix}-edge",
                "sampled_requests_enabled": True,
            },
            opts=pulumi.ResourceOptions(parent=self, provider=edge),
        )


def _api_origin(region: str, api: ApiOrigin) -> aws.cloudfront.DistributionOriginArgs:
    return aws.cloudfront.DistributionOriginArgs(
        origin_id=API_ORIGIN,
        domain_name=pulumi.Output.concat(api.api_id, ".execute-api.", region, ".amazonaws.com"),
        # /api/predictions at CloudFront is /{stage}/api/predictions at API Gateway.
        origin_path=pulumi.Output.concat("/", api.stage.stage_name),
        # Replaces any header of that name a viewer sends.
        custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(name=api.header.name, value=api.header.value)]
        if api.header
        else None,
        custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
            http_port=80,
            https_port=443,
            origin_protocol_policy="https-only",
            origin_ssl_protocols=["TLSv1.2"],
            # The workflow may take up to API Gateway's 29 s.
            origin_read_timeout=30,
        ),
    )


def _ordered_cache_behaviors(
    headers_policy_id: pulumi.Input[str],
) -> list[aws.cloudfront.DistributionOrderedCacheBehaviorArgs]:
    """In order, first match wins: the document before the rest of /api/*."""
    return [
        aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=DOCUMENT_PATH,
            target_origin_id=SITE_ORIGIN,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=["GET", "HEAD"],
            cached_methods=["GET", "HEAD"],
            cache_policy_id=CACHING_OPTIMIZED,
            response_headers_policy_id=headers_policy_id,
            compress=True,
        ),
        aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=API_PATH_PATTERN,
            target_origin_id=API_ORIGIN,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
            cached_methods=["GET", "HEAD"],
            cache_policy_id=CACHING_DISABLED,
            origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy_id=headers_policy_id,
            compress=True,
        ),
    ]
