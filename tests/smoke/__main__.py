"""``make smoke``: the HTTP contract suite (tests/contract) against a running stack.

    python -m tests.smoke --base-url https://d111111abcdef8.cloudfront.net
    python -m tests.smoke --stack dev     # the URL of `pulumi stack output siteUrl --stack dev`
    python -m tests.smoke                 # a local stack, started for the run

Further arguments go to pytest (``-k history``, ``-x``). The exit status is
pytest's: 0 when the stack keeps the contract, 1 when a check broke (each
named in the summary with its call), 4 when nothing answers at the URL; 2
when there is no URL to test.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.stack_client import site_root

CONTRACT_DIR = Path(__file__).resolve().parents[1] / "contract"
SITE_URL_OUTPUT = "siteUrl"
PULUMI_TIMEOUT_SECONDS = 60
# Per check: each makes a bounded number of requests of at most 29 s.
CHECK_TIMEOUT_SECONDS = 180
# Exit statuses: pytest's when a check failed; also when no run could start.
TESTS_FAILED = 1
SETUP_FAILED = 2


class SmokeSetupError(Exception):
    """The run cannot start: no stack to test, or a URL that is not one."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.smoke", description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--base-url", help="the stack's site URL, e.g. http://127.0.0.1:8000")
    target.add_argument("--stack", help="a Pulumi stack (dev, prod): its siteUrl output")
    args, pytest_args = parser.parse_known_args(argv)
    try:
        base_url = site_url(args.stack) if args.stack else checked_url(args.base_url) if args.base_url else None
    except SmokeSetupError as error:
        print(f"smoke: {error}", file=sys.stderr)
        return SETUP_FAILED
    where = base_url or "a local stack started for the run"
    print(f"smoke: the HTTP contract against {where}", flush=True)
    status = pytest.main(
        [
            str(CONTRACT_DIR),
            *(["--base-url", base_url] if base_url else []),
            "-p",
            "no:cacheprovider",
            "-o",
            f"timeout={CHECK_TIMEOUT_SECONDS}",
            # The summary names each broken check with its call; --tb=short shows more.
            "-q",
            "--tb=no",
            *pytest_args,
        ]
    )
    if status == 0:
        print(f"smoke: {where} keeps the contract.")
    elif status == TESTS_FAILED:
        print(f"smoke: {where} breaks the contract: the BROKEN checks above name each call.", file=sys.stderr)
    return int(status)


def checked_url(url: str) -> str:
    try:
        return site_root(url)
    except ValueError as error:
        raise SmokeSetupError(str(error)) from None


def site_url(stack: str) -> str:
    """The ``siteUrl`` output of a Pulumi stack."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise SmokeSetupError("the Pulumi CLI is not on PATH: install it, or give BASE_URL=<the site URL>")
    arguments = ["stack", "output", SITE_URL_OUTPUT, "--stack", stack]
    shown = " ".join(["pulumi", *arguments])
    try:
        done = subprocess.run(
            [pulumi, *arguments], capture_output=True, text=True, timeout=PULUMI_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise SmokeSetupError(f"`{shown}` did not answer within {PULUMI_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise SmokeSetupError(f"`{shown}` failed: {said}")
    return checked_url(done.stdout.strip())


if __name__ == "__main__":
    sys.exit(main())
