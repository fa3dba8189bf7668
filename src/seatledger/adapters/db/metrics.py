"""What the dashboard's charts read: every seat pool with its price and product, and when
each seat was held (``seatledger.services.dashboard_charts`` turns them into series)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.pricing import SeatPrice


@dataclass(frozen=True, slots=True)
class PoolFacts:
    product_id: str
    product_name: str
    price: SeatPrice
    seats: int
    assigned_seats: int
    started_at: datetime
    ended_at: datetime | None  # a canceled subscription's end; None while it runs
    recurring: bool


@dataclass(frozen=True, slots=True)
class SeatSpan:
    held_from: datetime
    held_until: datetime | None


class Metrics:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def pools(self) -> list[PoolFacts]:
        """Every subscription, and every paid order, with its price and product."""
        subs, orders, prices, products = t.subscriptions, t.orders, t.prices, t.products
        found: list[PoolFacts] = []
        for owner, recurring in ((subs, True), (orders, False)):
            query = (
                select(
                    products.c.id.label("product_id"),
                    products.c.name,
                    prices.c.definition,
                    t.seat_pools.c.seats,
                    t.seat_pools.c.assigned_seats,
                    owner.c.created_at,
                    (subs.c.canceled_at if recurring else owner.c.created_at).label("ended_at"),
                )
                .join(prices, prices.c.id == owner.c.price_id)
                .join(products, products.c.id == prices.c.product_id)
                .join(t.seat_pools, t.seat_pools.c.id == owner.c.id)
            )
            if not recurring:
                query = query.where(orders.c.status == "paid")
            for row in await self._connection.execute(query):
                found.append(
                    PoolFacts(
                        product_id=row.product_id,
                        product_name=row.name,
                        price=SeatPrice.from_mapping(row.definition),
                        seats=row.seats,
                        assigned_seats=row.assigned_seats,
                        started_at=row.created_at,
                        ended_at=row.ended_at if recurring else None,
                        recurring=recurring,
                    )
                )
        return found

    async def seat_spans(self) -> list[SeatSpan]:
        rows = await self._connection.execute(select(t.seats.c.created_at, t.seats.c.revoked_at))
        return [SeatSpan(row.created_at, row.revoked_at) for row in rows]


__all__ = ["Metrics", "PoolFacts", "SeatSpan"]
