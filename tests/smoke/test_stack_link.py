"""How the contract suite reaches a stack: paced only when the stack is not on
this machine, a bounded number of requests, and only a site's root URL."""

from __future__ import annotations

import pytest

from tests.contract.stack_client import DEPLOYED_RATE_PER_SECOND, RequestBudgetExceeded, StackLink, site_root


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_given_a_stack_on_this_machine_then_requests_are_not_paced(base_url: str) -> None:
    assert StackLink.to(base_url).min_interval_seconds == 0


def test_given_a_deployed_stack_then_requests_are_spaced_far_below_its_throttling() -> None:
    link = StackLink.to("https://d111111abcdef8.cloudfront.net")

    assert link.min_interval_seconds == pytest.approx(1 / DEPLOYED_RATE_PER_SECOND)
    assert StackLink.to("https://d111111abcdef8.cloudfront.net", rate_per_second=0.5).min_interval_seconds == 2


def test_given_the_budget_is_spent_then_no_further_request_is_sent() -> None:
    link = StackLink.to("http://127.0.0.1:9", request_budget=0)

    with pytest.raises(RequestBudgetExceeded), link.client() as client:
        client.get("/api/health")  # port 9 would refuse: the budget stops it before any connection

    assert link.calls == []


@pytest.mark.parametrize(
    ("given", "root"),
    [("https://d1.cloudfront.net/", "https://d1.cloudfront.net"), ("http://127.0.0.1:8000", "http://127.0.0.1:8000")],
)
def test_given_a_site_url_then_its_root_is_used(given: str, root: str) -> None:
    assert site_root(given) == root


@pytest.mark.parametrize(
    "given",
    [
        "ftp://d1.cloudfront.net",
        "d1.cloudfront.net",
        "https://abc.execute-api.ap-southeast-1.amazonaws.com/api",
        "https://",
    ],
)
def test_given_anything_but_a_site_url_then_it_is_refused(given: str) -> None:
    with pytest.raises(ValueError):
        site_root(given)
