"""A company's live pools for its entitlements, in one statement built once.

    SELECT companies.id, pool.* FROM companies
      LEFT JOIN (<live subscriptions' pools> UNION ALL <paid orders' pools>) AS pool ON true
     WHERE companies.id = :company_id

No row: no such company; one row with no product: a company with nothing live. The statement
is built and compiled once, with a bind parameter (the read runs on every entitlement check:
building a Core statement per request costs several times the CPU of running a prebuilt one),
and psycopg runs it itself on PostgreSQL (``seatledger.adapters.db.prepared``). A price's
definition is read only for a ``members`` pool, the one whose limit it holds (decoding every
pool's JSON was a fifteenth of a check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, case, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.prepared import PreparedRead

_company_id = bindparam("company_id", type_=t.companies.c.id.type)


def _live_pools(owner: Table, live: Any) -> Any:
    return (
        select(
            t.seat_pools.c.seats,
            t.seat_pools.c.assigned_seats,
            t.prices.c.product_id,
            t.prices.c.seat_sync,
            case((t.prices.c.seat_sync == "members", t.prices.c.definition)).label("definition"),
        )
        .join(t.seat_pools, t.seat_pools.c.id == owner.c.id)
        .join(t.prices, t.prices.c.id == owner.c.price_id)
        .where(owner.c.company_id == _company_id, live)
    )


_pools = union_all(
    _live_pools(t.subscriptions, t.subscriptions.c.status != "canceled"),
    _live_pools(t.orders, t.orders.c.status == "paid"),
).subquery("pool")
_READ = PreparedRead(
    select(t.companies.c.id, *_pools.c)
    .select_from(t.companies.outerjoin(_pools, true()))
    .where(t.companies.c.id == _company_id)
)


@dataclass(frozen=True, slots=True)
class LivePool:
    """One live pool's counts and its price's product, mode and definition."""

    product_id: str
    seats: int
    assigned_seats: int
    seat_sync: str
    definition: dict[str, Any] | None  # a members pool's price only


class LivePools:
    """A company's live pools, read on the unit of work's connection (``uow.live_pools``)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def of(self, company_id: str) -> list[LivePool] | None:
        """The company's live pools (SPEC §5's rules: subscriptions not canceled, paid
        orders); None when there is no such company."""
        rows = await _READ.rows(self._connection, company_id=company_id)
        if not rows:
            return None
        return [
            LivePool(product_id, seats, assigned, seat_sync, definition)
            for _, seats, assigned, product_id, seat_sync, definition in rows
            if product_id is not None
        ]


__all__ = ["LivePool", "LivePools"]
