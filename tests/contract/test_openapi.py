"""The contract's OpenAPI document, as every stack publishes it at
/api/openapi.json (the local server; CloudFront from the site bucket on AWS):
an OpenAPI 3 document, this checkout's, and true of the stack: each
documented operation is a route there, and a method the document does not
list for an API path is 404 ``NotFound``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from functions.core.api_contract import DOCUMENT_PATH, NO_SUCH_ROUTE
from functions.core.openapi import openapi_document
from tests.contract.expect import assert_error, assert_status, describe

# Methods no API path has; the document's own path is a file of the site on AWS, not an API route.
NO_API_METHODS = ("PUT", "PATCH")
API_PATHS = [path for path in openapi_document()["paths"] if path != DOCUMENT_PATH]
# Placeholders for the path parameters: no call below reaches an item.
ITEM_ID = "00000000-0000-4000-8000-000000000000"


def test_the_openapi_document_is_served_as_json_and_is_the_contract_of_this_checkout(api: httpx.Client) -> None:
    response = api.get(DOCUMENT_PATH)

    assert_status(response, 200)
    assert response.headers.get("content-type", "").startswith("application/json"), describe(response)
    served: dict[str, Any] = response.json()
    validate(served)  # OpenAPI 3.0, by openapi-spec-validator
    assert served == openapi_document(), "the stack serves another document than this checkout builds"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        if path != DOCUMENT_PATH
        for method in item
    ],
)
def test_every_documented_operation_is_a_route_of_the_stack(api: httpx.Client, method: str, path: str) -> None:
    """Called without its parameters or body, so it changes nothing: refused, but as a route."""
    response = api.request(method, path.replace("{id}", ITEM_ID), json={} if method == "POST" else None)

    assert response.status_code != 404 or response.json()["error"]["message"] != NO_SUCH_ROUTE, describe(response)
    assert response.status_code < 500, describe(response)


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", NO_API_METHODS)
def test_a_method_the_document_does_not_list_is_not_found(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path.replace("{id}", ITEM_ID))

    assert_error(response, 404, "NotFound")
