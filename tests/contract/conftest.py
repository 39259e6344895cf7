"""The HTTP contract suite: the same tests for the local stack and a deployed
one (``make smoke``), against ``--base-url`` (default: a local stack started
for the run).

Settings, from the environment:
- ``SMOKE_RATE``: requests per second towards a stack not on this machine
  (default 2; dev's API allows 5 with bursts of 10);
- ``SMOKE_WARM_REQUESTS``: warm predictions timed after the cold one (default 20, at most 100);
- ``SMOKE_THROTTLE=1``: also burst past the stack's throttling to see its 429.

The run's client ids are ``smoke-<run>-<n>``; every one is cleared at the end
and checked empty. A failed check is reported with the last call it made
(method, path, status, start of the body), and the terminal summary gives the
first prediction's time (cold), warm p50/p95 and the count of checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator

import httpx
import pytest

from tests.contract.expect import describe, listed_once_settled
from tests.contract.run_record import NO_STACK, Broken, ClientIds, Latency, RunRecord
from tests.contract.stack_client import StackLink, site_root

RATE_VARIABLE = "SMOKE_RATE"
WARM_REQUESTS_VARIABLE = "SMOKE_WARM_REQUESTS"
DEFAULT_WARM_REQUESTS = 20
MAX_WARM_REQUESTS = 100
LATENCY_MODULE = "test_latency.py"
# Lines of a failed check's exception shown in the summary.
WHY_LINES = 5

RUN_RECORD = pytest.StashKey[RunRecord]()
FIRST_CALL = pytest.StashKey[int]()


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def link(request: pytest.FixtureRequest) -> StackLink:
    base_url = request.config.getoption("base_url") or request.getfixturevalue("stack_url")
    rate = os.environ.get(RATE_VARIABLE)
    stack = StackLink.to(base_url, rate_per_second=float(rate) if rate else None)
    request.config.stash[RUN_RECORD].link = stack
    with stack.client() as probe:
        try:
            probe.get("/api/health")
        except httpx.TransportError as error:
            # Every check would fail the same way: say it once and stop.
            pytest.exit(f"nothing answers GET {stack.base_url}/api/health: {error}", returncode=NO_STACK)
    return stack


@pytest.fixture(scope="session")
def api(link: StackLink) -> Iterator[httpx.Client]:
    with link.client() as client:
        yield client


@pytest.fixture(scope="session")
def client_ids(api: httpx.Client) -> Iterator[ClientIds]:
    made = ClientIds()
    yield made
    _clear_all(api, made.made)


@pytest.fixture
def new_client_id(client_ids: ClientIds) -> Callable[[], str]:
    return client_ids.new


@pytest.fixture
def client_id(client_ids: ClientIds) -> str:
    return client_ids.new()


@pytest.fixture(scope="session")
def latency(request: pytest.FixtureRequest) -> Latency:
    warm = int(os.environ.get(WARM_REQUESTS_VARIABLE) or DEFAULT_WARM_REQUESTS)
    record = Latency(warm_requests=max(1, min(warm, MAX_WARM_REQUESTS)))
    request.config.stash[RUN_RECORD].latency = record
    return record


def _clear_all(api: httpx.Client, client_ids: list[str]) -> None:
    """Deletes every item the run made, and checks that none is left."""
    failures = []
    for client_id in client_ids:
        response = api.delete("/api/predictions", params={"clientId": client_id})
        if response.status_code != 204:
            failures.append(describe(response))
    for client_id in client_ids:
        try:
            listed_once_settled(api, client_id, _cleared_again_unless_empty(api, client_id))
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "cleaning up after the run failed:\n" + "\n".join(failures)


def _cleared_again_unless_empty(api: httpx.Client, client_id: str) -> Callable[[list[dict[str, object]]], bool]:
    """An item the index showed late survives the first clear: clear again."""

    def empty(items: list[dict[str, object]]) -> bool:
        if items:
            api.delete("/api/predictions", params={"clientId": client_id})
        return not items

    return empty


# --- ordering and reporting -----------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    base_url = config.getoption("base_url")
    if base_url:
        try:
            site_root(base_url)
        except ValueError as error:
            raise pytest.UsageError(f"--base-url: {error}") from None
    config.stash[RUN_RECORD] = RunRecord()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The latency check first, so that its first prediction is the run's first."""
    items.sort(key=lambda item: item.path.name != LATENCY_MODULE)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    link = item.config.stash[RUN_RECORD].link
    item.stash[FIRST_CALL] = len(link.calls) if link is not None else 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    record = item.config.stash[RUN_RECORD]
    if report.failed and not hasattr(report, "wasxfail"):
        calls = record.link.calls[item.stash.get(FIRST_CALL, 0) :] if record.link is not None else []
        last = calls[-1] if calls else None
        why = (
            "\n        ".join(call.excinfo.exconly().splitlines()[:WHY_LINES]) if call.excinfo is not None else "failed"
        )
        record.broken.append(Broken(f"{report.nodeid} ({report.when})", last, why))
        report.sections.append(("contract", f"last call: {last if last else 'none'}\n{why}"))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    record = config.stash[RUN_RECORD]
    if record.link is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"contract: {record.link.base_url}")
    for broken in record.broken:
        write(f"BROKEN {broken.test}")
        write(f"  call: {broken.call if broken.call else 'no call made'}")
        write(f"  why:  {broken.why}")
    if record.latency is not None:
        write(record.latency.summary())
    stats = terminalreporter.stats
    counts = {
        "passed": len([report for report in stats.get("passed", []) if report.when == "call"]),
        "failed": len(stats.get("failed", [])),
        "errors": len(stats.get("error", [])),
        "skipped": len(stats.get("skipped", [])),
        "xfailed": len(stats.get("xfailed", [])),
    }
    shown = ", ".join(f"{count} {outcome}" for outcome, count in counts.items() if count)
    write(f"checks: {shown}; requests made: {len(record.link.calls)}")
