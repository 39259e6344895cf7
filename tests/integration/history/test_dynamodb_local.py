"""The DynamoDB Local launcher the contract tests and the local stack rely on."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from local.dynamodb_local import (
    DynamoDbLocalUnavailable,
    find_jar,
    find_java,
    running_dynamodb_local,
    start,
)

pytestmark = pytest.mark.java


def test_given_the_npm_install_then_the_jar_and_its_native_libraries_are_on_disk() -> None:
    jar = find_jar()

    assert jar.is_file()
    assert (jar.parent / "DynamoDBLocal_lib" / "libsqlite4java-linux-amd64.so").is_file()


def test_given_no_npm_package_when_the_jar_is_looked_for_then_the_error_says_how_to_install_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(DynamoDbLocalUnavailable, match="npm ci"):
        find_jar(tmp_path)


def test_given_no_java_when_looked_for_then_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(DynamoDbLocalUnavailable, match="Java 17 or newer"):
        find_java()


@pytest.mark.parametrize("reported", ['openjdk version "11.0.2" 2019-01-15', 'java version "1.8.0_392"'])
def test_given_an_old_java_when_looked_for_then_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, reported: str
) -> None:
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text(f"#!/bin/sh\necho '{reported}' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))

    with pytest.raises(DynamoDbLocalUnavailable, match="Java 17 or newer") as raised:
        find_java()
    assert reported in str(raised.value)


def test_given_a_broken_jar_when_started_then_the_error_shows_what_java_said(tmp_path: Path) -> None:
    jar = tmp_path / "DynamoDBLocal.jar"
    jar.write_bytes(b"not a jar")

    with pytest.raises(DynamoDbLocalUnavailable, match="exited with status") as raised:
        start(jar)
    assert "jar" in str(raised.value).lower()


def test_given_a_running_instance_when_its_context_ends_then_the_process_group_and_port_are_gone() -> None:
    with running_dynamodb_local() as dynamodb:
        assert dynamodb.client().list_tables()["TableNames"] == []
        address = urlsplit(dynamodb.endpoint_url)
        assert address.hostname == "127.0.0.1"
        group = dynamodb.process.pid

    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
    with pytest.raises(ConnectionRefusedError), socket.create_connection((address.hostname, address.port), 1):
        pass
