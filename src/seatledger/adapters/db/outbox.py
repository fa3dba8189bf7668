"""The outbox read back (``outbox``): the delivery loop takes undelivered events in the order
they were written and marks them delivered; the events API lists the catalogued ones. Events
are written by the unit of work at commit (``seatledger.adapters.db.unit_of_work``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.events import OutboxEvent

_outbox = t.outbox
_COLUMNS = (_outbox.c.event_id, _outbox.c.type, _outbox.c.payload, _outbox.c.created_at)


def _event(row: Any) -> OutboxEvent:
    return OutboxEvent(
        id=row.event_id, type=row.type, created_at=row.created_at, payload=dict(row.payload)
    )


class Outbox:
    """The outbox of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def undelivered(self, after: int, limit: int) -> list[tuple[int, OutboxEvent]]:
        """Up to ``limit`` undelivered events above the outbox id ``after``, oldest first, with
        their outbox ids, locked (skipping those another loop holds, on PostgreSQL)."""
        query = (
            select(_outbox.c.id, *_COLUMNS)
            .where(_outbox.c.delivered_at.is_(None), _outbox.c.id > after)
            .order_by(_outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite's writer is alone
        )
        return [(row.id, _event(row)) for row in (await self._connection.execute(query)).all()]

    async def mark_delivered(self, outbox_ids: Sequence[int], now: datetime) -> None:
        if outbox_ids:
            await self._connection.execute(
                update(_outbox).where(_outbox.c.id.in_(list(outbox_ids))).values(delivered_at=now)
            )

    async def newest(
        self, types: Sequence[str], limit: int, *, before_event: str | None = None
    ) -> list[OutboxEvent]:
        """Up to ``limit`` events of ``types``, newest first in the order they were written;
        below the event ``before_event`` when given."""
        query = select(_outbox.c.id, *_COLUMNS).where(_outbox.c.type.in_(list(types)))
        if before_event is not None:
            written = (
                select(_outbox.c.id).where(_outbox.c.event_id == before_event).scalar_subquery()
            )
            query = query.where(_outbox.c.id < written)
        query = query.order_by(_outbox.c.id.desc()).limit(limit)
        return [_event(row) for row in (await self._connection.execute(query)).all()]

    async def get(self, event_id: str, types: Sequence[str]) -> OutboxEvent | None:
        """The event, if it is of one of ``types``."""
        query = select(*_COLUMNS).where(
            _outbox.c.event_id == event_id, _outbox.c.type.in_(list(types))
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else _event(row)


__all__ = ["Outbox"]
