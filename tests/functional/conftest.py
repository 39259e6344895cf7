"""The real local stack (``python -m local``) as a subprocess, and what the
tests send it: real MNIST digits as PNG uploads."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest

from model.mnist_data import as_png, load_split
from tests.support.local_stack import running_stack

# The first test digits of MNIST are clear ones any decent model reads right.
CLEAR_DIGIT_INDICES = (0, 1, 2, 3, 4)
REQUEST_TIMEOUT_SECONDS = 30.0
# The default backend, stated so that a variable set elsewhere cannot change it.
SQLITE_HISTORY = {"HISTORY_BACKEND": "sqlite"}


@pytest.fixture(scope="session")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server shared by the modules that need no restart."""
    with running_stack(tmp_path_factory.mktemp("stack-data"), env=SQLITE_HISTORY) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def api(stack_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        yield client


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    return load_split("test")


@pytest.fixture(scope="session")
def clear_digits(mnist_test: tuple[np.ndarray, np.ndarray]) -> list[tuple[bytes, int]]:
    """``(png, label)`` for a few clear MNIST test digits."""
    images, labels = mnist_test
    return [(as_png(images[index]), int(labels[index])) for index in CLEAR_DIGIT_INDICES]


def new_client_id() -> str:
    return f"client-{uuid.uuid4().hex[:12]}"


def prediction_body(png: bytes, client_id: str) -> dict[str, str]:
    return {"image": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "clientId": client_id}


def predict(client: httpx.Client, png: bytes, client_id: str) -> dict[str, Any]:
    response = client.post("/api/predictions", json=prediction_body(png, client_id))
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()
    return item


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """The contract's error JSON with the error table's status, nothing else."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"].strip()
    assert "Traceback" not in response.text


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
