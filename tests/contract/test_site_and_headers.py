"""The page and its files as a browser gets them, and the security headers on
the page and on every kind of API answer (CloudFront's response headers
policy on AWS, the local server's own headers locally)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from components.web_policy import CONTENT_SECURITY_POLICY
from tests.contract.expect import assert_status, describe
from tests.contract.stack_client import StackLink

# A year, the least HSTS preload lists accept.
MIN_HSTS_SECONDS = 365 * 24 * 3600
CLIENT = "{client}"  # a fresh client id of the run, filled in by the test


def test_the_site_is_served_with_the_right_content_types_and_revalidation(api: httpx.Client) -> None:
    page = api.get("/")
    script = api.get("/js/app.js")
    style = api.get("/css/app.css")

    for response, content_type in ((page, "text/html"), (script, "text/javascript"), (style, "text/css")):
        assert_status(response, 200)
        assert response.headers.get("content-type", "").startswith(content_type), describe(response)
    assert "<html" in page.text, describe(page)
    assert page.headers.get("cache-control") == "no-cache", describe(page)
    assert "etag" in page.headers, describe(page)
    revalidated = api.get("/", headers={"if-none-match": page.headers["etag"]})
    assert_status(revalidated, 304)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/js/app.js"),
        ("GET", "/api/health"),
        ("GET", "/api/openapi.json"),
        ("GET", f"/api/predictions?clientId={CLIENT}"),
        ("GET", "/api/nothing-here"),
        ("POST", "/api/predictions"),
        ("DELETE", f"/api/predictions?clientId={CLIENT}"),
    ],
)
def test_every_answer_carries_the_security_headers(
    api: httpx.Client, link: StackLink, new_client_id: Callable[[], str], method: str, path: str
) -> None:
    response = api.request(method, path.replace(CLIENT, new_client_id()), content=b"{" if method == "POST" else None)
    headers = response.headers

    assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, describe(response)
    assert headers.get("x-content-type-options") == "nosniff", describe(response)
    assert headers.get("x-frame-options") == "DENY", describe(response)
    assert headers.get("referrer-policy"), describe(response)
    if link.is_https:
        assert _max_age(headers.get("strict-transport-security", "")) >= MIN_HSTS_SECONDS, describe(response)


def _max_age(hsts: str) -> int:
    for directive in hsts.split(";"):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.isdigit():
            return int(value)
    return 0
