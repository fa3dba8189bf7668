"""Counting a request's round trips to PostgreSQL, as psycopg makes them.

Every statement is one (savepoints included); psycopg sends ``BEGIN`` before the first statement
of a transaction (never on an autocommit connection) and ``COMMIT`` or ``ROLLBACK`` only when a
transaction is open: each of those is one more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class RoundTrips:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def _open(self, dbapi_connection: Any) -> bool:
        status = dbapi_connection.info.transaction_status
        return bool(status != TransactionStatus.IDLE)

    def before_execute(self, connection: Any, statement: str) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.autocommit and not self._open(dbapi_connection):
            self.count += 1
            self.statements.append("BEGIN")
        self.count += 1
        self.statements.append(" ".join(statement.split())[:80])

    def end(self, dbapi_connection: Any, verb: str) -> None:
        if self._open(dbapi_connection):
            self.count += 1
            self.statements.append(verb)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[RoundTrips]:
    """Count the round trips ``engine`` makes inside the block."""
    trips = RoundTrips()
    sync = engine.sync_engine

    def before_cursor_execute(conn: Any, _c: Any, statement: str, *_: Any) -> None:
        trips.before_execute(conn, statement)

    def commit(conn: Any) -> None:
        trips.end(conn.connection.dbapi_connection, "COMMIT")

    def rollback(conn: Any) -> None:
        trips.end(conn.connection.dbapi_connection, "ROLLBACK")

    def reset(dbapi_connection: Any, _record: Any, _state: Any) -> None:
        trips.end(dbapi_connection, "ROLLBACK")

    listeners = [
        (sync, "before_cursor_execute", before_cursor_execute),
        (sync, "commit", commit),
        (sync, "rollback", rollback),
        (sync.pool, "reset", reset),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield trips
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
