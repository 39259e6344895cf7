"""The OpenAPI document the local stack serves agrees with what the service is
made of and with what it answers: the error table (every code under its own
status, on the operations that can meet it), the prediction item as the
workflow builds it, and real answers of the running stack validated against
the document's schemas. (Its routes against API Gateway's and the request
schemas API Gateway validates with: tests/infra/test_infra_openapi.py.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator, validate
from openapi_spec_validator import validate as validate_document

from functions.core.api_contract import DOCUMENT_PATH
from functions.core.errors import ERROR_TABLE
from functions.core.imaging import ImageInfo
from functions.core.openapi import ITEM_STAGES
from functions.core.predictions import build_item
from tests.contract.digits import clear_digits
from tests.contract.expect import predict
from tests.support.client_ids import new_client_id

# Every failure a prediction can end in, the workflow's and the edge's: all but NotFound.
PREDICTION_FAILURES = set(ERROR_TABLE) - {"NotFound"}


@pytest.fixture(scope="module")
def document(api: httpx.Client) -> dict[str, Any]:
    served: dict[str, Any] = api.get(DOCUMENT_PATH).json()
    return served


def _conforms(document: dict[str, Any], schema: str, instance: Any) -> None:
    """``instance`` is valid against the document's component schema ``schema`` (OpenAPI 3.0 rules)."""
    validate(
        instance, {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}, cls=OAS30Validator
    )


def _error_schema(document: dict[str, Any], reference: dict[str, str]) -> dict[str, Any]:
    response = document["components"]["responses"][reference["$ref"].rsplit("/", 1)[-1]]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def _codes(document: dict[str, Any], reference: dict[str, str]) -> set[str]:
    return set(_error_schema(document, reference)["properties"]["error"]["properties"]["code"]["enum"])


def test_the_served_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate_document(document)
    assert document["openapi"].startswith("3.")


def test_every_error_code_is_documented_under_its_own_status_and_nowhere_else(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    codes = _codes(document, response)
                    assert codes and all(ERROR_TABLE[code].status == int(status) for code in codes), (
                        method,
                        path,
                        status,
                    )
    documented = {
        code
        for response in document["components"]["responses"].values()
        for code in response["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"][
            "enum"
        ]
    }
    assert documented == set(ERROR_TABLE)


def test_every_operation_documents_throttling_and_internal_errors_and_a_prediction_every_failure(
    document: dict[str, Any],
) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"429", "500"} <= set(operation["responses"]), (method, path)
    create = document["paths"]["/api/predictions"]["post"]["responses"]
    documented = set().union(*(_codes(document, response) for status, response in create.items() if int(status) >= 400))
    assert documented == PREDICTION_FAILURES


def test_the_item_schema_has_exactly_the_fields_the_workflow_builds(document: dict[str, Any]) -> None:
    state = {
        "requestId": "request-1",
        "clientId": "someone",
        "createdAt": "2024-05-01T12:34:56.789Z",
        "input": {field.name: None for field in dataclasses.fields(ImageInfo)},
        "thumbnail": "",
        "timingsMs": {},
        "prediction": {"digit": 1, "confidence": 0.9, "lowConfidence": False, "probabilities": [], "modelVersion": "v"},
    }
    schema = document["components"]["schemas"]["Prediction"]

    assert set(schema["properties"]) == set(build_item(state)) | {"feedbackLabel"}
    assert set(schema["required"]) == set(build_item(state))
    assert set(schema["properties"]["input"]["properties"]) == {field.name for field in dataclasses.fields(ImageInfo)}
    assert set(schema["properties"]["timingsMs"]["required"]) == set(ITEM_STAGES)


def test_the_stack_s_answers_conform_to_the_document(api: httpx.Client, document: dict[str, Any]) -> None:
    client_id = new_client_id()
    item = predict(api, clear_digits()[0], client_id)
    corrected = api.post(f"/api/predictions/{item['id']}/feedback", json={"clientId": client_id, "label": 1}).json()
    page = api.get("/api/predictions", params={"clientId": client_id, "limit": 1}).json()
    health = api.get("/api/health").json()
    refused = api.get("/api/predictions", params={"clientId": "not valid!"}).json()

    _conforms(document, "Prediction", item)
    _conforms(document, "Prediction", corrected)
    _conforms(document, "PredictionPage", page)
    _conforms(document, "Health", health)
    listing = document["paths"]["/api/predictions"]["get"]["responses"]
    validate(refused, _error_schema(document, listing["400"]), cls=OAS30Validator)
