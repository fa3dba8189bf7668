"""``billing`` mode's rows: a seat price's prices at the provider (``ProviderPriceBook``),
the subscriptions the provider bills (``ProviderSubscriptions``) and those waiting to be
started there after a checkout (``ProviderQueue.want_start``, ``ProviderStarts``).

Like ``payment_customers``, each method is its own short transaction, asked outside any unit
of work (a provider call never waits on an open transaction), but for ``ProviderQueue``'s,
written in the unit of work of the change that wants the provider told. Rows are written once,
the first writer wins; a subscription's mirrored state moves only forward (``state_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Select, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.domain.provider_billing import ProviderPrices


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ProviderPriceBook:
    def __init__(self, engine: AsyncEngine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    async def find(self, price_id: str) -> ProviderPrices | None:
        table = t.provider_prices
        query = select(table.c.base_price_id, table.c.seats_price_id).where(
            table.c.provider == self.provider, table.c.price_id == price_id
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else ProviderPrices(row.base_price_id, row.seats_price_id)

    async def role_of(self, provider_price: str) -> tuple[str, Literal["base", "seats"]] | None:
        """The seatledger price ``provider_price`` was made for, and as which item."""
        table = t.provider_prices
        query = select(table.c.price_id, table.c.base_price_id).where(
            table.c.provider == self.provider,
            or_(table.c.base_price_id == provider_price, table.c.seats_price_id == provider_price),
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return row.price_id, "base" if row.base_price_id == provider_price else "seats"

    async def remember(self, price_id: str, prices: ProviderPrices) -> ProviderPrices:
        """Keep ``prices`` for ``price_id`` unless some are kept already; answers those kept."""
        values = {
            "provider": self.provider,
            "price_id": price_id,
            "base_price_id": prices.base,
            "seats_price_id": prices.seats,
            "created_at": _now(),
        }
        async with self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(t.provider_prices).values(values).on_conflict_do_nothing()
            await connection.execute(insert)
        kept = await self.find(price_id)
        assert kept is not None
        return kept


@dataclass(frozen=True, slots=True)
class LinkedSubscription:
    subscription_id: str
    provider_subscription_id: str
    status: str
    stripe_seats: int
    state_at: int


class ProviderSubscriptions:
    def __init__(self, engine: AsyncEngine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    async def link(self, subscription_id: str, provider_id: str, status: str, seats: int) -> None:
        values = {
            "subscription_id": subscription_id,
            "provider": self.provider,
            "provider_subscription_id": provider_id,
            "status": status,
            "stripe_seats": seats,
            "state_at": 0,
            "synced_seats": seats,
            "updated_at": _now(),
        }
        async with self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(t.provider_subscriptions).values(values)
            await connection.execute(insert.on_conflict_do_nothing())

    def _select(self) -> Select[Any]:
        table = t.provider_subscriptions
        return select(
            table.c.subscription_id,
            table.c.provider_subscription_id,
            table.c.status,
            table.c.stripe_seats,
            table.c.state_at,
        ).where(table.c.provider == self.provider)

    async def all(self) -> list[LinkedSubscription]:
        query = self._select().order_by(t.provider_subscriptions.c.subscription_id)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [LinkedSubscription(*row) for row in rows]

    async def of(self, subscription_id: str) -> LinkedSubscription | None:
        query = self._select().where(t.provider_subscriptions.c.subscription_id == subscription_id)
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else LinkedSubscription(*row)

    async def by_provider_id(self, provider_id: str) -> LinkedSubscription | None:
        query = self._select().where(
            t.provider_subscriptions.c.provider_subscription_id == provider_id
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else LinkedSubscription(*row)

    async def record(
        self,
        subscription_id: str,
        status: str,
        seats: int,
        state_at: int,
        *,
        synced: int | None = None,
    ) -> bool:
        """The provider's state as of ``state_at`` (and, with ``synced``, the seat count here
        that matches it); False (nothing written) when a newer one is kept already."""
        table = t.provider_subscriptions
        values: dict[str, Any] = {
            "status": status,
            "stripe_seats": seats,
            "state_at": state_at,
            "updated_at": _now(),
        }
        if synced is not None:
            values["synced_seats"] = synced
        statement = (
            update(table)
            .where(table.c.subscription_id == subscription_id, table.c.state_at <= state_at)
            .values(values)
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class WaitingPush:
    subscription_id: str
    provider_subscription_id: str
    seats: int  # the subscription's seats now
    synced_seats: int
    last_pushed_at: datetime | None
    window_start: datetime | None
    window_pushes: int


class ProviderQueue:
    """What the provider is to be told, written in the transaction of the change that wants it
    (``uow.provider_queue``): a push of seats (``SeatPushes`` sends it), a subscription to
    start (``ProviderStarts`` makes it)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def want_push(self, subscription_ids: list[str], now: datetime) -> None:
        """The seats of these subscriptions may have moved: a push is looked at from ``now``
        (or when one already waits, then). Subscriptions the provider does not bill are
        untouched."""
        table = t.provider_subscriptions
        await self._connection.execute(
            update(table)
            .where(
                table.c.subscription_id.in_(subscription_ids),
                table.c.status != "canceled",
                table.c.push_after.is_(None),
            )
            .values(push_after=now)
        )

    async def want_start(self, subscription_id: str, provider: str, now: datetime) -> None:
        """The provider's subscription for ``subscription_id`` is to be made from ``now``
        (written in the transaction that created the subscription)."""
        await self._connection.execute(
            t.provider_starts.insert().values(
                subscription_id=subscription_id,
                provider=provider,
                start_after=now,
                attempts=0,
                created_at=now,
            )
        )


class SeatPushes:
    """The waiting seat pushes (``seatledger.services.provider_seat_sync``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def due(self, now: datetime, limit: int) -> list[WaitingPush]:
        table = t.provider_subscriptions
        query = (
            select(
                table.c.subscription_id,
                table.c.provider_subscription_id,
                t.seat_pools.c.seats,
                table.c.synced_seats,
                table.c.last_pushed_at,
                table.c.window_start,
                table.c.window_pushes,
            )
            .join(t.seat_pools, t.seat_pools.c.id == table.c.subscription_id)
            .where(table.c.push_after <= now)
            .order_by(table.c.push_after)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [WaitingPush(*row) for row in rows]

    async def settle(self, subscription_id: str, values: dict[str, Any]) -> None:
        """The push's outcome: ``push_after`` cleared or moved, counts written."""
        table = t.provider_subscriptions
        async with self.engine.begin() as connection:
            await connection.execute(
                update(table)
                .where(table.c.subscription_id == subscription_id)
                .values(**values, updated_at=_now())
            )


@dataclass(frozen=True, slots=True)
class WaitingStart:
    subscription_id: str
    attempts: int
    anchor: datetime | None


class ProviderStarts:
    """The provider subscriptions waiting to be made (``seatledger.services.provider_starts``);
    each method its own short transaction, asked with no unit of work open."""

    def __init__(self, engine: AsyncEngine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    async def due(self, now: datetime, limit: int) -> list[WaitingStart]:
        table = t.provider_starts
        query = (
            select(table.c.subscription_id, table.c.attempts, table.c.anchor)
            .where(table.c.provider == self.provider, table.c.start_after <= now)
            .order_by(table.c.start_after)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [WaitingStart(*row) for row in rows]

    async def pin_anchor(self, subscription_id: str, anchor: datetime) -> datetime:
        """``anchor`` kept for ``subscription_id`` unless one is kept already; answers the one
        kept."""
        table = t.provider_starts
        async with self.engine.begin() as connection:
            await connection.execute(
                update(table)
                .where(table.c.subscription_id == subscription_id, table.c.anchor.is_(None))
                .values(anchor=anchor)
            )
            kept: datetime | None = await connection.scalar(
                select(table.c.anchor).where(table.c.subscription_id == subscription_id)
            )
        assert kept is not None
        return kept

    async def started(self, subscription_id: str, now: datetime) -> None:
        await self._settle(subscription_id, start_after=None, started_at=now, last_error=None)

    async def retry(self, subscription_id: str, after: datetime, error: str) -> None:
        await self._settle(
            subscription_id,
            start_after=after,
            attempts=t.provider_starts.c.attempts + 1,
            last_error=error[:500],
        )

    async def give_up(self, subscription_id: str, error: str) -> None:
        """Not started and not tried again (the provider refused the request itself)."""
        await self._settle(subscription_id, start_after=None, last_error=error[:500])

    async def _settle(self, subscription_id: str, **values: Any) -> None:
        table = t.provider_starts
        async with self.engine.begin() as connection:
            await connection.execute(
                update(table).where(table.c.subscription_id == subscription_id).values(**values)
            )


__all__ = [
    "LinkedSubscription",
    "ProviderPriceBook",
    "ProviderQueue",
    "ProviderStarts",
    "ProviderSubscriptions",
    "SeatPushes",
    "WaitingPush",
    "WaitingStart",
]
