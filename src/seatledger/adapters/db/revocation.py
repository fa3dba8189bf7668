"""A seat's revocation: the seat revoked, its pool's seat free again, its live grants revoked.

On PostgreSQL the pool's row is locked first (``_lock_pool_of``: the one lock order), then the
first two are one statement (a data-modifying CTE):

    WITH seat AS (UPDATE seats SET status = 'revoked' … WHERE <live, in scope> RETURNING …),
         pool AS (UPDATE seat_pools SET assigned_seats = assigned_seats - 1
                   WHERE id IN (SELECT pool_id FROM seat))
    SELECT * FROM seat

A seat revoked already (or a racing revocation that got there first: the UPDATE waits for the
seat's row and finds it revoked) answers no row and changes nothing. The grants are revoked by
the next statement, not in the CTE: a claim racing the revocation holds the seat's row while it
inserts the grants, and a statement that waited for that row reads every other table from its
snapshot taken before the wait, so it would miss them (the pool's row is no such case: an
``UPDATE`` re-reads the newest version of the row it changes). SQLite runs the three
statements one by one. The rules are ``Seat.revoke`` and ``SeatPool.release``; the events are
the use case's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t

_grants = t.benefit_grants
_seats = t.seats

_benefit_type = (
    select(t.benefits.c.type)
    .where(t.benefits.c.id == _grants.c.benefit_id)
    .scalar_subquery()
    .label("benefit_type")
)


@dataclass(frozen=True, slots=True)
class Revoked:
    """The revoked seat's row (with ``pool_kind`` and ``seat_sync``) and its grants' rows
    revoked with it (each with ``benefit_type``)."""

    seat: Any
    grants: list[Any] = field(default_factory=list)


def _revoke_grants(seat_id: str, now: datetime) -> Any:
    return (
        update(_grants)
        .where(_grants.c.seat_id == seat_id, _grants.c.status == "granted")
        .values(status="revoked", revoked_at=now)
    )


def _release(pool_ids: Any) -> Any:
    return (
        update(t.seat_pools)
        .where(t.seat_pools.c.id.in_(pool_ids))
        .values(assigned_seats=t.seat_pools.c.assigned_seats - 1)
    )


async def _lock_pool_of(connection: AsyncConnection, seat_id: str) -> None:
    """Lock the seat's pool row before the seat's: the one lock order of every use case that
    touches a pool's seats (pool, then subscription, then seats: ``lock_subscription``). A
    cancellation holds the pool and revokes its seats one by one; a revocation that took the
    seat first and then waited for the pool deadlocked with it."""
    pool_id = select(_seats.c.pool_id).where(_seats.c.id == seat_id).scalar_subquery()
    await connection.execute(
        # FOR NO KEY UPDATE, the lock the pool's own UPDATE takes: it does not wait for a
        # claim's foreign-key check on the pool (FOR KEY SHARE), which holds the seat already.
        select(t.seat_pools.c.id)
        .where(t.seat_pools.c.id == pool_id)
        .with_for_update(key_share=True)
    )


async def revoke(
    connection: AsyncConnection,
    seat_revocation: Any,
    seat_id: str,
    now: datetime,
    *,
    release: bool = True,
) -> Revoked | None:
    """Run ``seat_revocation`` (the seat's ``UPDATE … RETURNING``), the pool's release (unless
    ``release`` is False: the seat passes to a new holder in the same transaction) and the
    grants' revocation (module docstring); None when no live seat was found."""
    if connection.dialect.name == "postgresql":
        await _lock_pool_of(connection, seat_id)
        seat = seat_revocation.cte("seat")
        statement = select(seat)
        if release:
            statement = statement.add_cte(_release(select(seat.c.pool_id)).cte("pool"))
        row = (await connection.execute(statement)).first()
    else:
        row = (await connection.execute(seat_revocation)).first()
        if row is not None and release:
            await connection.execute(_release([row.pool_id]))
    if row is None:
        return None
    statement = _revoke_grants(seat_id, now).returning(*_grants.c, _benefit_type)
    return Revoked(seat=row, grants=list((await connection.execute(statement)).all()))


async def revoke_many(
    connection: AsyncConnection, seat_revocation: Any, now: datetime
) -> tuple[list[Any], list[Any]]:
    """``revoke`` for several seats of one pool whose row the caller holds locked (a
    declarative sync): ``seat_revocation`` revokes them all, the pool releases as many seats
    as were live, then their grants are revoked. Answers the revoked seats' rows and the
    grants' rows (three statements whatever the number of seats; SQLite runs them the same)."""
    rows = list((await connection.execute(seat_revocation)).all())
    if not rows:
        return [], []
    await connection.execute(
        update(t.seat_pools)
        .where(t.seat_pools.c.id == rows[0].pool_id)
        .values(assigned_seats=t.seat_pools.c.assigned_seats - len(rows))
    )
    seat_ids = [row.id for row in rows]
    statement = (
        update(_grants)
        .where(_grants.c.seat_id.in_(seat_ids), _grants.c.status == "granted")
        .values(status="revoked", revoked_at=now)
        .returning(*_grants.c, _benefit_type)
    )
    return rows, list((await connection.execute(statement)).all())


__all__ = ["Revoked", "revoke", "revoke_many"]
