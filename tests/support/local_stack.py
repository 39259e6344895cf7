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
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every answer within API Gateway's 29 s integration timeout, or the test fails.
REQUEST_TIMEOUT_SECONDS = 29.0
# The default backend, stated so that a variable set elsewhere cannot change it.
SQLITE_HISTORY = {"HISTORY_BACKEND": "sqlite"}
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


def server_pid(base_url: str) -> int:
    """The pid of our child process listening on the stack's port (Linux /proc)."""
    port = urlsplit(base_url).port
    listening_inodes = _listening_socket_inodes(port)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or _parent_pid(entry) != os.getpid():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in listening_inodes):
            return int(entry.name)
    raise LookupError(f"no child process listens on port {port}")


def peak_memory_bytes(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise LookupError("VmHWM not reported")


def _listening_socket_inodes(port: int | None) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def _parent_pid(proc_entry: Path) -> int | None:
    try:
        stat = (proc_entry / "stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces: fields follow the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[1])
