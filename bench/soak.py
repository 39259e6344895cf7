"""Soak: the local stack under concurrent load for a while, killed (SIGKILL)
and restarted on the same data midway, then every request audited against the
history. Loopback only, bounded in time and count. Figures are printed; the
exit status is 1 if anything was lost, duplicated or unexplained.

Load: ``--clients`` threads post one request after the other (keep-alive),
each request with a client id of its own; ``--invalid-share`` of them are
hostile or broken uploads from the hardening corpus, each expecting its error
from the table. At ``--kill-at`` (fraction of ``--seconds``) the server is
SIGKILLed and started again on the same data folder while the clients go on.

Printed: requests tried, answers by status and code, unexpected answers and
transport errors (those around the kill are explained by it), p50/p99 latency,
the server's resident memory over time and its peak, and the audit: every
request's client history checked after the restart.

    .venv/bin/python -m bench.soak [--seconds 60] [--clients 12] [--invalid-share 0.25] [--kill-at 0.33]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.bench_http import percentile
from tests.hardening.corpus import bad_uploads, body_cases, image_request
from tests.hardening.load import (
    Audit,
    LoadRecord,
    Outcome,
    PlannedRequest,
    PlanRequest,
    audit,
    run_clients,
)
from tests.support.digit_requests import digit_request
from tests.support.local_stack import REQUEST_TIMEOUT_SECONDS, running_stack, server_pid

DIGITS = 10
RSS_SAMPLE_SECONDS = 0.5
# Transport errors this long after the restarted server was ready are still
# the kill's: pooled connections to the dead server fail on first use.
KILL_SETTLE_SECONDS = 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs (default 60)")
    parser.add_argument("--clients", type=int, default=12, help="concurrent clients (default 12)")
    parser.add_argument("--invalid-share", type=float, default=0.25, help="share of bad requests (default 0.25)")
    parser.add_argument("--kill-at", type=float, default=0.33, help="SIGKILL at this fraction of the run; 0: never")
    parser.add_argument("--history", choices=("sqlite", "dynamodb"), default="sqlite", help="history backend")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the request mix")
    args = parser.parse_args(argv)
    if not (
        0 < args.seconds <= 600 and 1 <= args.clients <= 64 and 0 <= args.invalid_share <= 1 and 0 <= args.kill_at < 1
    ):
        parser.error("bounds: 0 < seconds <= 600, 1 <= clients <= 64, 0 <= invalid-share <= 1, 0 <= kill-at < 1")
    return args


def request_planner(invalid_share: float) -> PlanRequest:
    uploads = bad_uploads()
    malformed = body_cases()

    def plan(rng: random.Random, client_id: str) -> PlannedRequest:
        if rng.random() >= invalid_share:
            return PlannedRequest(json.dumps(digit_request(client_id, rng.randrange(DIGITS))).encode(), 200)
        if rng.random() < 0.7:
            upload = rng.choice(uploads)
            return PlannedRequest(image_request(upload.data, upload.mime, client_id), upload.status, upload.code)
        case = rng.choice(malformed)  # no usable client id in these: nothing may be stored at all
        return PlannedRequest(case.content, case.status, case.code)

    return plan


class MemoryWatch:
    """Samples the server's VmRSS and VmHWM (kB) every ``RSS_SAMPLE_SECONDS``."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.samples: list[tuple[float, int, int, int]] = []  # (time, pid, rss, hwm)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            pid = self.pid
            if pid is None:
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # killed
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if "VmRSS" in fields:
                self.samples.append((time.monotonic(), pid, _kb(fields["VmRSS"]), _kb(fields["VmHWM"])))


def _kb(text: str) -> int:
    return int(text.split()[0])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    record, stop, memory = LoadRecord(), threading.Event(), MemoryWatch()
    plan = request_planner(args.invalid_share)
    env = {"HISTORY_BACKEND": args.history}
    kill_window: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory(prefix="soak-") as data_dir, ExitStack() as stacks:
        base_url = stacks.enter_context(running_stack(data_dir, env=env))
        current = {"url": base_url}
        memory.pid = server_pid(base_url)
        memory.start()
        print(
            f"soak: {args.clients} clients for {args.seconds:.0f} s on {base_url}, "
            f"{args.invalid_share:.0%} bad requests, SIGKILL at {args.kill_at:.0%}",
            flush=True,
        )
        started = time.monotonic()
        threads = run_clients(lambda: current["url"], args.clients, plan, stop, record, args.seed)
        if args.kill_at:
            time.sleep(args.seconds * args.kill_at)
            killed_at = time.monotonic()
            os.kill(memory.pid, signal.SIGKILL)
            stacks.close()  # the first server's context: nothing left to stop
            current["url"] = stacks.enter_context(running_stack(data_dir, env=env))
            memory.pid = server_pid(current["url"])
            kill_window = (killed_at, time.monotonic() + KILL_SETTLE_SECONDS)
            print(
                f"killed after {killed_at - started:.1f} s; restarted in "
                f"{kill_window[1] - KILL_SETTLE_SECONDS - killed_at:.1f} s",
                flush=True,
            )
        time.sleep(max(0.0, started + args.seconds - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_SECONDS)
        memory.stop()
        outcomes = record.snapshot()
        with httpx.Client(base_url=current["url"], timeout=REQUEST_TIMEOUT_SECONDS) as api:
            checked = audit(api, outcomes)
        elapsed = time.monotonic() - started
    return report(outcomes, checked, memory, kill_window, elapsed)


def report(
    outcomes: list[Outcome],
    checked: Audit,
    memory: MemoryWatch,
    kill_window: tuple[float, float] | None,
    elapsed: float,
) -> int:
    def by_kill(outcome: Outcome) -> bool:
        return kill_window is not None and kill_window[0] <= outcome.finished_at <= kill_window[1]

    answered = [o for o in outcomes if o.status is not None]
    unexpected = Counter(
        f"{o.status} {o.code} (expected {o.expected_status} {o.expected_code})" for o in answered if not o.as_expected
    )
    transport = Counter(
        (o.code, "around the kill" if by_kill(o) else "UNEXPLAINED") for o in outcomes if o.status is None
    )
    unexplained = sum(count for (_, when), count in transport.items() if when == "UNEXPLAINED") + sum(
        unexpected.values()
    )
    steady = [o for o in answered if not by_kill(o)]
    predictions = [o.latency_ms for o in steady if o.status == 200]
    refusals = [o.latency_ms for o in steady if o.status != 200]

    refused = sum(1 for o in outcomes if not o.sent)
    print(
        f"\nrequests tried: {len(outcomes)} in {elapsed:.1f} s ({len(answered) / elapsed:.0f} answers/s); "
        f"{refused} of them refused while the server was down"
    )
    print("answers by status and code:")
    for (status, answer_code), count in sorted(Counter((o.status, o.code or "-") for o in answered).items()):
        print(f"  {status} {answer_code:<22} {count}")
    print("unexpected answers:" + ("" if unexpected else " none"))
    for kind, count in unexpected.most_common():
        print(f"  {kind}: {count}")
    print("transport errors:" + ("" if transport else " none"))
    for (error_kind, when), count in transport.most_common():
        print(f"  {error_kind} ({when}): {count}")
    if predictions:
        print(
            f"latency, 200s (outside the kill): p50 {percentile(predictions, 0.5):.1f} ms  p99 "
            f"{percentile(predictions, 0.99):.1f} ms  (n={len(predictions)})"
        )
    if refusals:
        print(
            f"latency, errors (outside the kill): p50 {percentile(refusals, 0.5):.1f} ms  p99 "
            f"{percentile(refusals, 0.99):.1f} ms  (n={len(refusals)})"
        )
    print_memory(memory)
    print(
        f"audit after restart: {checked.checked} requests' histories checked; {checked.acknowledged} acknowledged "
        "items "
        f"all present exactly once: {not checked.problems}; in flight at the kill: {checked.in_flight} "
        f"({checked.in_flight_persisted} stored anyway, at most once each)"
    )
    for problem in checked.problems[:20]:
        print(f"  PROBLEM {problem}")
    ok = not checked.problems and unexplained == 0
    print(
        "soak: OK"
        if ok
        else f"soak: FAILED ({len(checked.problems)} history problems, {unexplained} unexplained errors)"
    )
    return 0 if ok else 1


def print_memory(memory: MemoryWatch) -> None:
    for pid in dict.fromkeys(sample[1] for sample in memory.samples):
        samples = [s for s in memory.samples if s[1] == pid]
        rss = [s[2] / 1024 for s in samples]
        print(
            f"server pid {pid} RSS (MB): start {rss[0]:.0f}, middle {rss[len(rss) // 2]:.0f}, end {rss[-1]:.0f}; "
            f"peak (VmHWM) {samples[-1][3] / 1024:.0f} MB over {len(samples)} samples"
        )


if __name__ == "__main__":
    sys.exit(main())
