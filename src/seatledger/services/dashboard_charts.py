"""The dashboard's charts (SPEC §11): seats bought and assigned over time, MRR over time, and
seat utilisation per product, at the end of each of the last ``POINTS`` calendar months (the
current one ends now), by the runtime's clock, so the sandbox clock moves them.

The history comes from what the database keeps, in three statements however many months are
drawn (``adapters.db.metrics``): each subscription's recorded states (the outbox's
``subscription.*`` events carry its seats, price and status as they became), the seats' rows
(assigned and revoked times), and the pools as they stand now.

* Seats assigned at a moment: the seats held then (assigned at or before it, not yet revoked).
* Seats bought at a moment: over the subscriptions running then (started, not canceled), the
  seat count of their last recorded state at or before it; plus the seats of every paid order
  bought by then. A subscription without a recorded state (written before events were kept)
  counts from its start with its seats as they are now.
* MRR (monthly recurring revenue) at a moment: over the subscriptions running then, what the
  price of their last state charges for its seats per period (``SeatPrice.period_amount``),
  a yearly amount divided by 12. Each currency is its own series (never added together); the
  sum is kept exact (``Fraction``) and rounded once, half to even, to the minor unit: twelve
  1001-cent yearly subscriptions make 1001 a month, not 12 × 83. Orders are not recurring, and
  a subscription in its free trial brings nothing yet (its seats count as bought).
* Utilisation per product: seats assigned / seats bought, over the pools running now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from seatledger.adapters.db.metrics import PoolFacts, SeatSpan, SubscriptionChange
from seatledger.pricing import SeatPrice
from seatledger.services.runtime import Runtime

POINTS = 12
# A month's value is the one in force at its last instant (times are kept to the microsecond).
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Utilisation:
    product: str
    seats: int
    assigned: int

    @property
    def percent(self) -> int:
        return 0 if self.seats == 0 else round(100 * self.assigned / self.seats)


@dataclass(frozen=True, slots=True)
class Charts:
    moments: tuple[datetime, ...]  # the end of each month, oldest first, the last one now
    labels: tuple[str, ...]  # "Jan 2031" for each month
    bought: tuple[int, ...]
    assigned: tuple[int, ...]
    mrr: dict[str, tuple[int, ...]]  # currency → its MRR at each moment, in minor units
    utilisation: tuple[Utilisation, ...]


def month_ends(now: datetime, points: int = POINTS) -> tuple[datetime, ...]:
    """The last instant of each of the ``points - 1`` months before ``now``'s, then ``now``."""
    year, month = now.year, now.month
    starts: list[datetime] = []
    for _ in range(points - 1):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        starts.append(
            now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
        )
    # The first instant of the month after each one, less an instant.
    ends = [_next_month(start) - _INSTANT for start in reversed(starts)]
    return (*ends, now)


def _next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def monthly_amount(price: SeatPrice, seats: int) -> Fraction:
    """What ``seats`` of ``price`` bring in a month, exactly (0 for a one-time price)."""
    if price.interval is None:
        return Fraction(0)
    return Fraction(price.period_amount(seats), 12 if price.interval == "year" else 1)


def _running(pool: PoolFacts, at: datetime) -> bool:
    return pool.started_at <= at and (pool.ended_at is None or pool.ended_at > at)


def _held(span: SeatSpan, at: datetime) -> bool:
    return span.held_from <= at and (span.held_until is None or span.held_until > at)


def _states(
    changes: Sequence[SubscriptionChange], moments: Sequence[datetime]
) -> list[dict[str, SubscriptionChange]]:
    """Each subscription's last recorded state at each moment: one pass over the changes."""
    ordered = sorted(changes, key=lambda change: change.at)  # stable: written order kept
    current: dict[str, SubscriptionChange] = {}
    found: list[dict[str, SubscriptionChange]] = []
    index = 0
    for at in moments:
        while index < len(ordered) and ordered[index].at <= at:
            current[ordered[index].subscription_id] = ordered[index]
            index += 1
        found.append(dict(current))
    return found


def _terms_at(
    pool: PoolFacts, at: datetime, states: dict[str, SubscriptionChange]
) -> tuple[int, SeatPrice] | None:
    """A pool's seats and price at ``at``, None when it did not run then."""
    if not _running(pool, at):
        return None
    if not pool.recurring:
        return pool.seats, pool.price
    state = states.get(pool.pool_id)
    if state is None:
        return pool.seats, pool.price
    if not state.live:
        return None
    return state.seats, state.price or pool.price


def _utilisation(pools: list[PoolFacts], now: datetime) -> tuple[Utilisation, ...]:
    seats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pool in pools:
        if _running(pool, now):
            seats[pool.product_name][0] += pool.seats
            seats[pool.product_name][1] += pool.assigned_seats
    return tuple(Utilisation(name, s, a) for name, (s, a) in sorted(seats.items()))


def chart_data(
    pools: list[PoolFacts],
    spans: list[SeatSpan],
    changes: Sequence[SubscriptionChange],
    now: datetime,
    points: int = POINTS,
) -> Charts:
    moments = month_ends(now, points)
    currencies = sorted({p.price.currency for p in pools if p.recurring})
    bought: list[int] = []
    mrr: dict[str, list[int]] = {currency: [] for currency in currencies}
    for at, states in zip(moments, _states(changes, moments), strict=True):
        seats = 0
        revenue: dict[str, Fraction] = defaultdict(Fraction)
        for pool in pools:
            terms = _terms_at(pool, at, states)
            if terms is None:
                continue
            seats += terms[0]
            state = states.get(pool.pool_id)
            if pool.recurring and not (state is not None and state.trialing):
                revenue[terms[1].currency] += monthly_amount(terms[1], terms[0])
        bought.append(seats)
        for currency in currencies:
            mrr[currency].append(round(revenue[currency]))  # once, half to even
    return Charts(
        moments=moments,
        labels=tuple(f"{moment:%b %Y}" for moment in moments),
        bought=tuple(bought),
        assigned=tuple(sum(1 for s in spans if _held(s, at)) for at in moments),
        mrr={currency: tuple(values) for currency, values in mrr.items()},
        utilisation=_utilisation(pools, now),
    )


async def charts(rt: Runtime, *, points: int = POINTS) -> Charts:
    async with rt.reading() as uow:
        pools = await uow.metrics.pools()
        changes = await uow.metrics.subscription_changes()
        spans = await uow.metrics.seat_spans()
    return chart_data(pools, spans, changes, rt.clock.now(), points)


__all__ = [
    "POINTS",
    "Charts",
    "Utilisation",
    "chart_data",
    "charts",
    "month_ends",
    "monthly_amount",
]
