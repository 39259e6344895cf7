"""The real local stack as a subprocess, for tests that talk HTTP to it.

Started exactly as a person starts it (``python -m local``), on a free port
with its own data folder, and stopped with SIGTERM like Ctrl-C would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.2
# Enough of the server's own words to see why it failed.
LOG_TAIL_CHARS = 6000


class LocalStackError(RuntimeError):
    """The local server did not start, or died while in use."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/api/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(log_path: Path) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    return text[-LOG_TAIL_CHARS:] or "(no output)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_stack(data_dir: str | os.PathLike[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """Runs ``python -m local`` on a free loopback port; yields its base URL.

    The server's output goes to a file (a pipe nobody reads could fill up and
    block it) and is included in the error when the server fails to start.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "local", "--port", str(port), "--data-dir", str(data_dir)]
    with tempfile.TemporaryDirectory(prefix="local-stack-log-") as log_dir:
        log_path = Path(log_dir) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _is_healthy(base_url):
                if process.poll() is not None:
                    raise LocalStackError(
                        f"`{' '.join(command)}` exited with code {process.returncode} before it was ready:\n"
                        f"{_log_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise LocalStackError(
                        f"`{' '.join(command)}` did not answer GET /api/health within {READY_TIMEOUT_S:.0f} s:\n"
                        f"{_log_tail(log_path)}"
                    )
                time.sleep(POLL_INTERVAL_S)
            yield base_url
        finally:
            _stop(process)
