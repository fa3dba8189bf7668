"""What the dashboard's charts read, in three statements whatever the number of points: every
seat pool with its price and product as it stands now, every recorded change of a subscription
(its seats, its price and whether it runs, from the outbox's ``subscription.*`` events, with
the price's definition joined), and when each seat was held
(``seatledger.services.dashboard_charts`` turns them into series)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.events import EventType
from seatledger.pricing import SeatPrice

# The events whose payload is the subscription as it became (``SubscriptionOut``).
HISTORY_EVENTS = (
    EventType.SUBSCRIPTION_CREATED,
    EventType.SUBSCRIPTION_UPDATED,
    EventType.SUBSCRIPTION_RENEWED,
    EventType.SUBSCRIPTION_PAST_DUE,
    EventType.SUBSCRIPTION_CANCELED,
)


@dataclass(frozen=True, slots=True)
class PoolFacts:
    pool_id: str
    product_id: str
    product_name: str
    price: SeatPrice
    seats: int
    assigned_seats: int
    started_at: datetime
    ended_at: datetime | None  # a canceled subscription's end; None while it runs
    recurring: bool


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """A subscription as one of its events recorded it, from ``at`` until its next event."""

    subscription_id: str
    at: datetime
    seats: int
    price: SeatPrice | None  # None when the event named no price the table still has
    live: bool  # not canceled
    trialing: bool = False  # in its free trial: nothing billed yet


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
        selects = []
        for owner, recurring in ((subs, True), (orders, False)):
            query = (
                select(
                    owner.c.id.label("pool_id"),
                    products.c.id.label("product_id"),
                    products.c.name,
                    prices.c.definition,
                    t.seat_pools.c.seats,
                    t.seat_pools.c.assigned_seats,
                    owner.c.created_at,
                    (
                        subs.c.canceled_at
                        if recurring
                        else literal(None, t.orders.c.created_at.type)
                    ).label("ended_at"),
                    (true() if recurring else false()).label("recurring"),
                )
                .join(prices, prices.c.id == owner.c.price_id)
                .join(products, products.c.id == prices.c.product_id)
                .join(t.seat_pools, t.seat_pools.c.id == owner.c.id)
            )
            selects.append(query if recurring else query.where(orders.c.status == "paid"))
        rows = await self._connection.execute(union_all(*selects))
        return [
            PoolFacts(
                pool_id=row.pool_id,
                product_id=row.product_id,
                product_name=row.name,
                price=SeatPrice.from_mapping(row.definition),
                seats=row.seats,
                assigned_seats=row.assigned_seats,
                started_at=row.created_at,
                ended_at=row.ended_at,
                recurring=bool(row.recurring),
            )
            for row in rows
        ]

    async def subscription_changes(self) -> list[SubscriptionChange]:
        """Every recorded state of every subscription, in the order it was written."""
        payload = t.outbox.c.payload
        price_id = payload["price_id"].as_string()
        query = (
            select(
                t.outbox.c.created_at,
                payload["id"].as_string().label("subscription_id"),
                payload["seats"].as_integer().label("seats"),
                payload["status"].as_string().label("status"),
                t.prices.c.definition,
            )
            .select_from(t.outbox.outerjoin(t.prices, t.prices.c.id == price_id))
            .where(t.outbox.c.type.in_([str(event) for event in HISTORY_EVENTS]))
            .order_by(t.outbox.c.id)
        )
        return [
            SubscriptionChange(
                subscription_id=row.subscription_id,
                at=row.created_at,
                seats=row.seats,
                price=None if row.definition is None else SeatPrice.from_mapping(row.definition),
                live=row.status != "canceled",
                trialing=row.status == "trialing",
            )
            for row in await self._connection.execute(query)
            if row.subscription_id is not None and row.seats is not None
        ]

    async def seat_spans(self) -> list[SeatSpan]:
        rows = await self._connection.execute(select(t.seats.c.created_at, t.seats.c.revoked_at))
        return [SeatSpan(row.created_at, row.revoked_at) for row in rows]


__all__ = ["HISTORY_EVENTS", "Metrics", "PoolFacts", "SeatSpan", "SubscriptionChange"]
