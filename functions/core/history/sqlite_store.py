"""The history store in one SQLite file: the local stack's embedded default.

Durability: write-ahead log with ``synchronous=NORMAL``: a committed item
survives the process being killed at any point (the tests SIGKILL it); only a
power loss of the whole machine may drop the last commits, which is the right
trade for a local stack (FULL costs an fsync, 4-8 ms, per prediction). Concurrency: one
connection per store guarded by a lock for the threads of a process; between
processes SQLite's own file locks, a generous busy timeout, and writes that
take the write lock up front (``BEGIN IMMEDIATE``) so a read-then-write never
has to be retried halfway.

Errors: besides what the port lists, any failure of SQLite itself (a full disk,
a file still locked after the busy timeout) is ``InternalError``, with
SQLite's error chained as its cause.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from functions.core.errors import BadRequest, InternalError, NotFound
from functions.core.history.port import (
    BAD_CURSOR_MESSAGE,
    DEFAULT_LIMIT,
    DUPLICATE_ID_MESSAGE,
    Item,
    Page,
    check_item,
    check_label,
    check_limit,
    decode_cursor,
    encode_cursor,
)

# How long a writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS items (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        item TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS items_by_client ON items (client_id, created_at, id)",
)


@contextmanager
def _as_store_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise InternalError() from error


class SqliteHistoryStore:
    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,  # transactions are explicit, see _write
            check_same_thread=False,  # shared by threads under self._lock
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        with self._write() as connection:
            for statement in _SCHEMA:
                connection.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @_as_store_errors()
    def put_new(self, item: Item) -> Item:
        check_item(item)
        stored = _from_json(_to_json(item))
        with self._lock, self._write() as connection:
            inserted = connection.execute(
                "INSERT INTO items (id, client_id, created_at, item) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (item["id"], item["clientId"], item["createdAt"], _to_json(item)),
            ).rowcount
            if inserted:
                return stored
            existing = _from_json(
                connection.execute("SELECT item FROM items WHERE id = ?", (item["id"],)).fetchone()[0]
            )
        if existing != stored:
            raise BadRequest(DUPLICATE_ID_MESSAGE)
        return existing

    @_as_store_errors()
    def get(self, client_id: str, item_id: str) -> Item:
        with self._lock:
            return _from_json(self._item_json(self._connection, client_id, item_id))

    @_as_store_errors()
    def list(self, client_id: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
        check_limit(limit)
        after = _position(cursor)
        query = "SELECT item, created_at, id FROM items WHERE client_id = ?"
        parameters: list[Any] = [client_id]
        if after is not None:
            query += " AND (created_at, id) < (?, ?)"
            parameters += after
        query += " ORDER BY created_at DESC, id DESC LIMIT ?"
        parameters.append(limit + 1)  # one more tells whether another page follows
        with self._lock:
            rows = self._connection.execute(query, parameters).fetchall()
        page = rows[:limit]
        next_cursor = encode_cursor([page[-1][1], page[-1][2]]) if len(rows) > limit else None
        return Page(items=[_from_json(row[0]) for row in page], next_cursor=next_cursor)

    @_as_store_errors()
    def set_feedback(self, client_id: str, item_id: str, label: int) -> Item:
        check_label(label)
        with self._lock, self._write() as connection:
            item = _from_json(self._item_json(connection, client_id, item_id))
            item["feedbackLabel"] = label
            connection.execute("UPDATE items SET item = ? WHERE id = ?", (_to_json(item), item_id))
        return item

    @_as_store_errors()
    def delete(self, client_id: str, item_id: str) -> None:
        with self._lock, self._write() as connection:
            deleted = connection.execute(
                "DELETE FROM items WHERE id = ? AND client_id = ?", (item_id, client_id)
            ).rowcount
        if not deleted:
            raise NotFound()

    @_as_store_errors()
    def clear(self, client_id: str) -> int:
        with self._lock, self._write() as connection:
            return int(connection.execute("DELETE FROM items WHERE client_id = ?", (client_id,)).rowcount)

    @staticmethod
    def _item_json(connection: sqlite3.Connection, client_id: str, item_id: str) -> str:
        row = connection.execute(
            "SELECT item FROM items WHERE id = ? AND client_id = ?", (item_id, client_id)
        ).fetchone()
        if row is None:
            raise NotFound()
        return str(row[0])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the database's write lock from its start."""
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _position(cursor: str | None) -> list[str] | None:
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    if not (isinstance(position, list) and len(position) == 2 and all(isinstance(p, str) for p in position)):
        raise BadRequest(BAD_CURSOR_MESSAGE)
    return position


def _to_json(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _from_json(text: str) -> Item:
    result: Item = json.loads(text)
    return result
