"""Fanning the outbox out as the delivery loop does, for the channels' tests.

``fan_out_undelivered`` stands in for one round of the delivery loop's fan-out
(``seatledger.services.delivery``) until that loop's own function replaces it: in one
transaction it takes the undelivered outbox rows, hands each event to every channel's
``fan_out``, marks them delivered and commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from seatledger.adapters.db import tables as t
from seatledger.domain.events import OutboxEvent
from seatledger.services import emails
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime


async def fan_out_undelivered(rt: Runtime, channels: Sequence[Channel] = (emails.CHANNEL,)) -> int:
    """Fan out every undelivered outbox event; answers how many."""
    o = t.outbox
    async with rt.transaction() as uow:
        query = (
            select(o)
            .where(o.c.delivered_at.is_(None))
            .order_by(o.c.id)
            .with_for_update(skip_locked=True)
        )
        rows = (await uow.connection.execute(query)).all()
        for row in rows:
            event = OutboxEvent(row.event_id, row.type, row.created_at, dict(row.payload))
            for channel in channels:
                await channel.fan_out(uow, rt, event)
        if rows:
            await uow.connection.execute(
                update(o)
                .where(o.c.id.in_([row.id for row in rows]))
                .values(delivered_at=rt.clock.now())
            )
        await uow.commit()
    return len(rows)
