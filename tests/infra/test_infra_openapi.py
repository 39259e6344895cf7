"""The OpenAPI document on AWS: it describes exactly the API that deploys (its
routes, methods and the request schemas API Gateway validates with), and it is
published with the site, where CloudFront serves it at /api/openapi.json, the
path the local stack serves it at."""

from __future__ import annotations

import json
from typing import Any

from components.site import API_PATH_PATTERN, CACHING_DISABLED
from functions.core.api_contract import DOCUMENT_PATH
from functions.core.openapi import document_json, openapi_document
from tests.infra.records import StackRecord
from tests.infra.secret_values import revealed

JSON = "application/json"


def _deployed_routes(stack: StackRecord) -> set[tuple[str, str]]:
    """(path, method) of every method of the REST API, its path rebuilt from its resources."""
    resources = {r["id"]: r["inputs"] for r in stack.of_type("aws:apigateway/resource:Resource")}

    def path(resource_id: str) -> str:
        if resource_id not in resources:  # the API's root resource
            return ""
        resource = resources[resource_id]
        return f"{path(resource['parentId'])}/{resource['pathPart']}"

    return {
        (path(method["inputs"]["resourceId"]), method["inputs"]["httpMethod"])
        for method in stack.of_type("aws:apigateway/method:Method")
    }


def _documented_routes() -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in openapi_document()["paths"].items() for method in item}


def _request_schema(operation: dict[str, Any]) -> str:
    reference: str = operation["requestBody"]["content"][JSON]["schema"]["$ref"]
    return reference.rsplit("/", 1)[-1]


def test_given_each_stack_then_the_document_has_every_route_and_method_api_gateway_deploys(stack: StackRecord) -> None:
    """Any other method of a path is no method there: API Gateway answers it as an unknown route."""
    assert _deployed_routes(stack) == _documented_routes() - {(DOCUMENT_PATH, "GET")}


def test_given_each_stack_then_the_document_s_request_schemas_are_the_ones_api_gateway_validates_with(
    stack: StackRecord,
) -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    methods = {
        (m["inputs"]["httpMethod"], m["inputs"]["resourceId"]): m["inputs"]
        for m in stack.of_type("aws:apigateway/method:Method")
    }
    models = {
        m["inputs"]["name"]: json.loads(m["inputs"]["schema"]) for m in stack.of_type("aws:apigateway/model:Model")
    }
    with_bodies = {
        _request_schema(operation)
        for item in document["paths"].values()
        for operation in item.values()
        if "requestBody" in operation
    }
    # Every request model of a deployed method is a documented body schema, and the other way round.
    assert {
        model for method in methods.values() for model in (method.get("requestModels") or {}).values()
    } == with_bodies
    for name in with_bodies:
        deployed = models[name]
        assert deployed.pop("$schema") == "http://json-schema.org/draft-04/schema#"
        assert schemas[name] == deployed


def test_given_each_stack_then_the_document_is_uploaded_with_the_site_as_the_local_stack_serves_it(
    stack: StackRecord,
) -> None:
    document = stack.inputs("aws:s3/bucketObjectv2:BucketObjectv2", "openapi-document")
    site = stack.one("aws:s3/bucket:Bucket", "site")
    assert document["bucket"] == site["id"]
    # CloudFront asks the bucket for the request's path: the key is that path without its first slash.
    assert "/" + document["key"] == DOCUMENT_PATH
    assert document["contentType"] == JSON
    assert document["content"] == document_json()
    assert document["cacheControl"] == "no-cache"


def test_given_each_stack_then_cloudfront_serves_the_document_from_the_site_before_routing_api_to_api_gateway(
    stack: StackRecord,
) -> None:
    """Behaviours are matched in order, the first that matches wins (CloudFront developer
    guide, "Path pattern"): /api/openapi.json must come before /api/*, to the site's origin."""
    distribution = stack.inputs("aws:cloudfront/distribution:Distribution")
    behaviours = [behaviour["pathPattern"] for behaviour in distribution["orderedCacheBehaviors"]]
    assert behaviours.index(DOCUMENT_PATH) < behaviours.index(API_PATH_PATTERN)
    document = next(b for b in distribution["orderedCacheBehaviors"] if b["pathPattern"] == DOCUMENT_PATH)
    api = next(b for b in distribution["orderedCacheBehaviors"] if b["pathPattern"] == API_PATH_PATTERN)
    origins = {origin["originId"]: origin for origin in revealed(distribution["origins"])}
    assert origins[document["targetOriginId"]]["originAccessControlId"]  # the private site bucket
    assert document["targetOriginId"] == distribution["defaultCacheBehavior"]["targetOriginId"]
    assert set(document["allowedMethods"]) == {"GET", "HEAD"}
    assert document["viewerProtocolPolicy"] == "redirect-to-https"
    assert document["responseHeadersPolicyId"] == api["responseHeadersPolicyId"]
    assert api["cachePolicyId"] == CACHING_DISABLED
