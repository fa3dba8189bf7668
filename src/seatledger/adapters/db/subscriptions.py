"""Subscriptions in the database: read with their pool's counts, locked in the order every use
case takes them in, changed column by column, and the renewal run's scans and batch writes.

A subscription's row is read (``subscription_from_row``) as the domain's ``Subscription``; its
pending change is stored as JSON (``pending_change_json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, select, update

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.purchases import Purchases, pending_change_json, subscription_from_row
from seatledger.adapters.db.seat_pools import (
    SUBSCRIPTION_COLUMNS,
    due_subscriptions,
    lock_subscription,
)
from seatledger.domain.purchase import PendingChange, Subscription
from seatledger.domain.renewal import Dunning

_subs = t.subscriptions

_write_dunning = (
    update(_subs)
    .where(_subs.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        payment_attempts=bindparam("b_attempts"),
        past_due_since=bindparam("b_since"),
        next_payment_attempt_at=bindparam("b_next"),
    )
)
_advance = (
    update(_subs)
    .where(_subs.c.id == bindparam("b_id"))
    .values(
        price_id=bindparam("b_price_id"),
        billing_anchor=bindparam("b_anchor"),
        current_period_start=bindparam("b_start"),
        current_period_end=bindparam("b_end"),
        pending_change=None,
        next_payment_attempt_at=bindparam("b_next"),
    )
)


def _stored(values: Mapping[str, object]) -> dict[str, object]:
    """Column values as written: a pending change as its JSON."""
    stored = dict(values)
    change = stored.get("pending_change")
    if isinstance(change, PendingChange):
        stored["pending_change"] = pending_change_json(change)
    return stored


class Subscriptions(Purchases[Subscription]):
    """The subscriptions of one unit of work's connection."""

    _table = t.subscriptions
    _from_row = staticmethod(subscription_from_row)

    async def current(self, subscription_id: str) -> Subscription:
        """The subscription as this transaction sees it now, with its pool's counts: what an
        event emitted now says of it."""
        row = (
            await self._connection.execute(
                select(*SUBSCRIPTION_COLUMNS).where(_subs.c.id == subscription_id)
            )
        ).one()
        return subscription_from_row(row)

    async def add(self, subscription: Subscription) -> None:
        """Write a new subscription (its pool is written first, ``SeatPools.create``)."""
        await self._connection.execute(
            insert(_subs).values(
                id=subscription.id,
                company_id=subscription.company_id,
                owner_email=subscription.owner_email,
                price_id=subscription.price_id,
                status=subscription.status,
                billing_anchor=subscription.billing_anchor,
                current_period_start=subscription.current_period_start,
                current_period_end=subscription.current_period_end,
                cancel_at_period_end=subscription.cancel_at_period_end,
                payment_method=subscription.payment_method,
                payment_customer=subscription.payment_customer,
                created_at=subscription.created_at,
                trial_end=subscription.trial_end,
            )
        )

    async def find(
        self, subscription_id: str, *, scope_company_id: str | None = None, lock: bool = False
    ) -> Subscription | None:
        """The subscription (None when absent or outside the company's scope); ``lock`` locks
        its pool's row and its own for this transaction (``lock_subscription``)."""
        if not lock:
            return await self.get(subscription_id, scope_company_id=scope_company_id)
        condition: ColumnElement[bool] = _subs.c.id == subscription_id
        if scope_company_id is not None:
            condition = and_(condition, _subs.c.company_id == scope_company_id)
        row = await lock_subscription(self._connection, condition)
        return None if row is None else subscription_from_row(row)

    async def lock_all(self, subscription_ids: set[str]) -> dict[str, Subscription]:
        """The subscriptions by id, their rows locked in id order (the order every run takes
        them in)."""
        rows = await self._connection.execute(
            select(*SUBSCRIPTION_COLUMNS)
            .where(_subs.c.id.in_(sorted(subscription_ids)))
            .order_by(_subs.c.id)
            .with_for_update()
        )
        return {row.id: subscription_from_row(row) for row in rows}

    async def update(self, subscription_id: str, **values: object) -> Subscription:
        """Write ``values`` (columns of ``subscriptions``; a pending change as the domain's)
        and answer the subscription as it is then; without values, as it is."""
        if not values:
            return await self.current(subscription_id)
        row = (
            await self._connection.execute(
                update(_subs)
                .where(_subs.c.id == subscription_id)
                .values(**_stored(values))
                .returning(*SUBSCRIPTION_COLUMNS)
            )
        ).one()
        return subscription_from_row(row)

    async def seat_sync_of(self, subscription_id: str) -> tuple[str | None, str, str]:
        """The subscription's company, its price's ``seat_sync`` and its product."""
        row = (
            await self._connection.execute(
                select(_subs.c.company_id, t.prices.c.seat_sync, t.prices.c.product_id)
                .join(t.prices, t.prices.c.id == _subs.c.price_id)
                .where(_subs.c.id == subscription_id)
            )
        ).one()
        return row.company_id, row.seat_sync, row.product_id

    async def earliest_due(self) -> tuple[datetime | None, datetime | None]:
        """The earliest end of a live subscription's period, and the earliest payment attempt
        due (None where there is none)."""
        row = (
            await self._connection.execute(
                select(
                    select(func.min(_subs.c.current_period_end))
                    .where(_subs.c.status != "canceled")
                    .scalar_subquery()
                    .label("period_end"),
                    select(func.min(_subs.c.next_payment_attempt_at))
                    .scalar_subquery()
                    .label("attempt"),
                )
            )
        ).one()
        return row.period_end, row.attempt

    async def set_next_attempt(self, subscription_ids: Sequence[str], at: datetime | None) -> None:
        """``next_payment_attempt_at`` of these subscriptions (a lease taken, or ended)."""
        if subscription_ids:
            await self._connection.execute(
                update(_subs)
                .where(_subs.c.id.in_(list(subscription_ids)))
                .values(next_payment_attempt_at=at)
            )

    async def due(self, now: datetime, limit: int, excluded: set[str]) -> list[Subscription]:
        """The subscriptions due at ``now``, locked, skipping rows another run holds: up to
        ``limit`` whose period ended and up to ``limit`` whose payment attempt came due (two
        index-ordered scans; the caller merges them)."""
        found: dict[str, Subscription] = {}
        for condition, order in (
            (
                and_(_subs.c.status != "canceled", _subs.c.current_period_end <= now),
                _subs.c.current_period_end,
            ),
            (_subs.c.next_payment_attempt_at <= now, _subs.c.next_payment_attempt_at),
        ):
            query = due_subscriptions().where(condition).order_by(order, _subs.c.id).limit(limit)
            if excluded:
                query = query.where(_subs.c.id.not_in(sorted(excluded)))
            for row in await self._connection.execute(query):
                found[row.id] = subscription_from_row(row)
        return list(found.values())

    async def write_dunning(self, states: Sequence[Dunning]) -> None:
        """One ``UPDATE … WHERE id IN`` per distinct outcome (a run of renewals that were all
        paid is one statement), the rest in one batch of single-row updates."""
        groups: dict[tuple[Any, ...], list[str]] = {}
        for state in states:
            key = (
                state.status,
                state.payment_attempts,
                state.past_due_since,
                state.next_payment_attempt_at,
            )
            groups.setdefault(key, []).append(state.subscription_id)
        singles = []
        for (status, attempts, since, next_at), ids in groups.items():
            if len(ids) == 1:
                singles.append(
                    {
                        "b_id": ids[0],
                        "b_status": status,
                        "b_attempts": attempts,
                        "b_since": since,
                        "b_next": next_at,
                    }
                )
                continue
            await self._connection.execute(
                update(_subs)
                .where(_subs.c.id.in_(ids))
                .values(
                    status=status,
                    payment_attempts=attempts,
                    past_due_since=since,
                    next_payment_attempt_at=next_at,
                )
            )
        if singles:
            await self._connection.execute(_write_dunning, singles)

    async def trials_ending(
        self, now: datetime, before: datetime, limit: int
    ) -> list[Subscription]:
        """Up to ``limit`` trials not announced yet that end after ``now`` and by ``before``,
        locked, skipping rows another run holds; those cancelling at the trial's end are left
        out (no charge follows them)."""
        query = (
            due_subscriptions()
            .where(
                _subs.c.status == "trialing",
                _subs.c.cancel_at_period_end.is_(False),
                _subs.c.trial_notified_at.is_(None),
                _subs.c.trial_end > now,
                _subs.c.trial_end <= before,
            )
            .order_by(_subs.c.trial_end, _subs.c.id)
            .limit(limit)
        )
        return [subscription_from_row(row) for row in await self._connection.execute(query)]

    async def mark_trials_notified(self, subscription_ids: Sequence[str], now: datetime) -> None:
        if subscription_ids:
            await self._connection.execute(
                update(_subs)
                .where(_subs.c.id.in_(sorted(subscription_ids)))
                .values(trial_notified_at=now)
            )

    async def end_trials(self, subscription_ids: Sequence[str]) -> None:
        """Those of ``subscription_ids`` still in their trial are ``active``: their first
        charged period has begun."""
        if subscription_ids:
            await self._connection.execute(
                update(_subs)
                .where(_subs.c.id.in_(sorted(subscription_ids)), _subs.c.status == "trialing")
                .values(status="active")
            )

    async def advance(self, renewed: Sequence[Subscription]) -> None:
        """Move renewed subscriptions (``renewed``: as they are after their renewal) to their
        new periods and prices, with their next payment attempts, in one batch."""
        await self._connection.execute(
            _advance,
            [
                {
                    "b_id": s.id,
                    "b_price_id": s.price_id,
                    "b_anchor": s.billing_anchor,
                    "b_start": s.current_period_start,
                    "b_end": s.current_period_end,
                    "b_next": s.next_payment_attempt_at,
                }
                for s in renewed
            ],
        )


__all__ = ["Subscriptions"]
