"""What tests read of a running stack besides the answer under test: its
health, a client's whole history, its server process's standard error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx


def assert_healthy(api: httpx.Client) -> None:
    response = api.get("/api/health")
    assert response.status_code == 200 and response.json()["status"] == "ok", response.text


def history_of(api: httpx.Client, client_id: str) -> list[dict[str, Any]]:
    """Every item of one client, all pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"clientId": client_id, "limit": "100", **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/predictions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            return items


def server_stderr(pid: int) -> str:
    """What the server process wrote to its standard error so far (wherever it goes)."""
    return Path(f"/proc/{pid}/fd/2").read_text(encoding="utf-8", errors="replace")
