"""The outbox in tests: events written as a use case writes them, and what is left to deliver."""

from __future__ import annotations

from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.services.runtime import Runtime


async def emit(rt: Runtime, *types: str) -> list[str]:
    """Events of ``types``, each committed in its own transaction; answers the ids of every
    event in the outbox, oldest first."""
    for event_type in types:
        async with rt.transaction() as uow:
            uow.emit(event_type, {"type": event_type})
            await uow.commit()
    async with rt.reading() as uow:
        rows = (
            await uow.connection.execute(select(t.outbox.c.event_id).order_by(t.outbox.c.id))
        ).all()
    return [row.event_id for row in rows]


async def undelivered(rt: Runtime) -> list[str]:
    async with rt.reading() as uow:
        query = select(t.outbox.c.event_id).where(t.outbox.c.delivered_at.is_(None))
        return [row.event_id for row in (await uow.connection.execute(query)).all()]
