"""A revocation in two statements (PostgreSQL): one reads the seat and its live grants, one
writes the revocation whole.

    1. SELECT the seat (in scope), whether its pool follows members and whether its company
       has seat alerts (either: revoked step by step), its live grants
    2. WITH pool     AS (SELECT id FROM seat_pools WHERE id = :pool FOR NO KEY UPDATE),
            seat     AS (UPDATE seats SET status = 'revoked' … FROM pool
                          WHERE seats.id = :seat AND seats.pool_id = pool.id
                            AND seats.status = :status_read
                            AND <its live grants are the ones read> RETURNING …),
            released AS (UPDATE seat_pools SET assigned_seats = assigned_seats - 1
                          WHERE id IN (SELECT pool_id FROM seat)),
            grants   AS (UPDATE benefit_grants SET status = 'revoked' … WHERE seat_id IN
                          (SELECT id FROM seat) AND status = 'granted'),
            events   AS (INSERT INTO outbox … FROM seat)
       SELECT id FROM seat

Lock order: the seat's row is locked by the ``UPDATE`` only once the join with ``pool`` has
produced it, and ``pool`` yields its row only once it holds its lock: the pool's row first, as
every use case touching a pool's seats locks (``seatledger.adapters.db.revocation``), so a
revocation and a cancellation cannot deadlock.

What the first statement read is checked by the second: the seat's status (a claim that
committed in between, or while the statement waited for the seat's row, changed it: the
re-checked row no longer matches) and its live grants (compared in the statement's snapshot).
When either changed, the statement writes nothing and ``revoke`` answers False; the caller then
revokes step by step, in one transaction. The events were rendered from what was read, which
the statement has just shown to be what it revoked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.claiming import EVENT_COLUMNS
from seatledger.adapters.db.grants import grant_from_row
from seatledger.adapters.db.seats import SEAT_COLUMNS, seat_from_row, seat_sync_of_owner
from seatledger.adapters.db.written_rows import inserted_from, parameters_of
from seatledger.domain.grant import BenefitGrant
from seatledger.domain.seat import Seat

_seats = t.seats
_grants = t.benefit_grants
_pools = t.seat_pools
_SEPARATOR = ","  # between the ids of the live grants compared (ids never hold one)
# Parameters are named apart from every column (``r_…``): an UPDATE executed with a parameter
# named like one of its table's columns would also SET that column from it.


@dataclass(frozen=True, slots=True)
class RevocationPlan:
    """The seat as read, whether its pool follows members (``members`` seat sync), and its
    live grants, oldest id first."""

    seat: Seat
    follows_members: bool
    grants: tuple[BenefitGrant, ...]
    alerted: bool = False  # its company has seat alerts: evaluated step by step, at commit


@lru_cache(maxsize=2)
def _plan_statement(scoped: bool) -> Select[Any]:
    condition = _seats.c.id == bindparam("r_seat")
    if scoped:
        condition = and_(condition, _seats.c.company_id == bindparam("r_scope"))
    alerted = (
        select(t.seat_alerts.c.company_id)
        .where(t.seat_alerts.c.company_id == _seats.c.company_id)
        .exists()
        .label("alerted")
    )
    found = select(*SEAT_COLUMNS, seat_sync_of_owner(), alerted).where(condition).cte("found")
    live = _grants.alias("live")
    return (
        select(
            found,
            *[column.label(f"grant_{column.name}") for column in live.c],
            t.benefits.c.type.label("grant_benefit_type"),
        )
        .select_from(
            found.outerjoin(
                live, and_(live.c.seat_id == found.c.id, live.c.status == "granted")
            ).outerjoin(t.benefits, t.benefits.c.id == live.c.benefit_id)
        )
        .order_by(live.c.id)
    )


def _now() -> Any:
    """The revocation's time, one parameter object per use (a SET clause takes its own)."""
    return bindparam("r_now", type_=_seats.c.revoked_at.type)


def _live_grant_ids() -> Any:
    """The seat's live grants' ids, in order, as one text (compared with what was read)."""
    separator: Any = literal_column(f"'{_SEPARATOR}'")  # spelled out: no parameter to bind
    ids = func.string_agg(_grants.c.id, aggregate_order_by(separator, _grants.c.id))
    return func.coalesce(
        select(ids)
        .where(_grants.c.seat_id == bindparam("r_seat"), _grants.c.status == "granted")
        .scalar_subquery(),
        "",
    )


@lru_cache(maxsize=32)
def _revoke_statement(events: int) -> Select[Any]:
    """The revocation's write with ``events`` outbox rows (module docstring)."""
    # FOR NO KEY UPDATE, the lock the pool's own UPDATE takes (``revocation._lock_pool_of``).
    pool = (
        select(_pools.c.id)
        .where(_pools.c.id == bindparam("r_pool"))
        .with_for_update(key_share=True)
        .cte("pool")
    )
    seat = (
        update(_seats)
        .where(
            _seats.c.id == bindparam("r_seat"),
            _seats.c.pool_id == pool.c.id,
            _seats.c.status == bindparam("r_status"),
            _live_grant_ids() == bindparam("r_grants"),
        )
        .values(status="revoked", revoked_at=_now(), token_hash=None, token_expires_at=None)
        .returning(_seats.c.id, _seats.c.pool_id)
        .cte("seat")
    )
    released = (
        update(_pools)
        .where(_pools.c.id.in_(select(seat.c.pool_id)))
        .values(assigned_seats=_pools.c.assigned_seats - 1)
    )
    revoked = (
        update(_grants)
        .where(_grants.c.seat_id.in_(select(seat.c.id)), _grants.c.status == "granted")
        .values(status="revoked", revoked_at=_now())
    )
    statement = select(seat.c.id).add_cte(released.cte("released")).add_cte(revoked.cte("grants"))
    if events:
        statement = statement.add_cte(
            inserted_from(t.outbox, EVENT_COLUMNS, "e", events, seat).cte("events")
        )
    return statement


def _grant(row: Any) -> BenefitGrant:
    """The grant of a plan's row (its columns prefixed ``grant_``)."""
    prefix = "grant_"
    columns = {
        name[len(prefix) :]: value
        for name, value in row._mapping.items()
        if name.startswith(prefix)
    }
    return grant_from_row(SimpleNamespace(**columns))


class Revocations:
    """Revocations in two statements, on one unit of work's connection (PostgreSQL)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def plan(self, seat_id: str, *, scope_company_id: str | None) -> RevocationPlan | None:
        """Read-only: the seat (None when absent or out of scope) and its live grants."""
        statement = _plan_statement(scope_company_id is not None)
        parameters = {"r_seat": seat_id, "r_scope": scope_company_id}
        rows = (await self._connection.execute(statement, parameters)).all()
        if not rows:
            return None
        first = rows[0]
        return RevocationPlan(
            seat=seat_from_row(first),
            follows_members=first.seat_sync == "members",
            grants=tuple(_grant(row) for row in rows if row.grant_id is not None),
            alerted=bool(first.alerted),
        )

    async def revoke(
        self, plan: RevocationPlan, now: datetime, events: Sequence[Mapping[str, Any]]
    ) -> bool:
        """Revoke the planned seat and grants, free its pool's seat and write ``events``, in one
        statement; False when the seat or its grants changed since the plan (nothing written)."""
        parameters: dict[str, Any] = {
            "r_seat": plan.seat.id,
            "r_pool": plan.seat.subscription_id or plan.seat.order_id,
            "r_status": plan.seat.status,
            "r_grants": _SEPARATOR.join(grant.id for grant in plan.grants),
            "r_now": now,
        }
        parameters.update(parameters_of("e", events))
        found = await self._connection.execute(_revoke_statement(len(events)), parameters)
        return found.first() is not None


__all__ = ["RevocationPlan", "Revocations"]
