"""What is waiting to be delivered, read when ``/metrics`` is scraped: one statement, cheap.

The outbox's undelivered events are counted through its partial index (``ix_outbox_undelivered``:
only the rows not yet delivered), and the oldest is the first of that index; webhook endpoints
are few. So a scrape costs one round trip whatever the outbox holds in delivered rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t


@dataclass(frozen=True, slots=True)
class Backlog:
    undelivered: int
    oldest_undelivered_at: datetime | None
    failing_endpoints: int  # enabled endpoints whose every delivery has failed lately
    failing_since: datetime | None  # the earliest of them


class DeliveryBacklog:
    """The delivery backlog, read on the unit of work's connection (``uow.backlog``)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def read(self) -> Backlog:
        outbox, endpoints = t.outbox, t.webhook_endpoints
        undelivered = outbox.c.delivered_at.is_(None)
        oldest = (
            select(outbox.c.created_at).where(undelivered).order_by(outbox.c.id).limit(1)
        ).scalar_subquery()
        failing = (endpoints.c.failing_since.is_not(None)) & (endpoints.c.disabled_at.is_(None))
        query = select(
            select(func.count()).select_from(outbox).where(undelivered).scalar_subquery(),
            oldest,
            select(func.count()).select_from(endpoints).where(failing).scalar_subquery(),
            select(func.min(endpoints.c.failing_since)).where(failing).scalar_subquery(),
        )
        row = (await self._connection.execute(query)).one()
        return Backlog(int(row[0] or 0), row[1], int(row[2] or 0), row[3])


__all__ = ["Backlog", "DeliveryBacklog"]
