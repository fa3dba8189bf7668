"""One use case, one transaction: opened here, committed explicitly, rolled back by default.

Events emitted during the use case are written to the outbox in the same transaction, in one
batched insert at commit: they leave only if the change itself is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from seatledger.adapters.db.tables import outbox
from seatledger.domain.ids import new_id


class UnitOfWork:
    def __init__(self, engine: AsyncEngine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now
        self._connection: AsyncConnection | None = None
        self._events: list[dict[str, Any]] = []
        self.committed = False

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def __aenter__(self) -> UnitOfWork:
        self._connection = await self._engine.connect()
        await self._connection.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()

    def emit(self, event_type: str, payload: dict[str, Any]) -> None:
        """Record an event; it reaches the outbox only if this unit of work commits."""
        self._events.append(
            {
                "event_id": new_id("evt"),
                "type": event_type,
                "payload": payload,
                "created_at": self._now(),
            }
        )

    async def commit(self) -> None:
        if self._events:
            await self.connection.execute(insert(outbox), self._events)
            self._events = []
        await self.connection.commit()
        self.committed = True
