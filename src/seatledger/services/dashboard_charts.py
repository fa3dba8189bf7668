"""The dashboard's charts (SPEC §11): seats bought and assigned over time, MRR over time, and
seat utilisation per product, at the end of each of the last ``POINTS`` months (by the
runtime's clock, so the sandbox clock moves them).

* Seats assigned at a moment: the seats held then (assigned at or before it, not yet revoked).
* Seats bought at a moment: the seats of every pool running then — a subscription from its
  start to its cancellation, a paid order from its purchase on. A pool counts with its seat
  count as it stands now: earlier counts of a changed subscription are not kept apart.
* MRR (monthly recurring revenue) at a moment: the sum, over the subscriptions running then,
  of what their price charges for their seats per period (``SeatPrice.period_amount``),
  normalised to a month (a yearly amount / 12, rounded half to even), one series per
  currency: currencies are never added together. Orders are not recurring revenue.
* Utilisation per product: seats assigned / seats bought, over the pools running now.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from seatledger.adapters.db.metrics import Metrics, PoolFacts, SeatSpan
from seatledger.pricing.money import div_round_half_even
from seatledger.services.runtime import Runtime

POINTS = 12
STEP = timedelta(days=30)


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
    moments: tuple[datetime, ...]  # oldest first, the last one now
    bought: tuple[int, ...]
    assigned: tuple[int, ...]
    mrr: dict[str, tuple[int, ...]]  # currency → its MRR at each moment, in minor units
    utilisation: tuple[Utilisation, ...]


def _running(pool: PoolFacts, at: datetime) -> bool:
    return pool.started_at <= at and (pool.ended_at is None or pool.ended_at > at)


def _held(span: SeatSpan, at: datetime) -> bool:
    return span.held_from <= at and (span.held_until is None or span.held_until > at)


def monthly(pool: PoolFacts) -> int:
    """The pool's recurring amount per month (0 for an order)."""
    if not pool.recurring:
        return 0
    amount = pool.price.period_amount(pool.seats)
    return div_round_half_even(amount, 12) if pool.price.interval == "year" else amount


def _utilisation(pools: list[PoolFacts], now: datetime) -> tuple[Utilisation, ...]:
    seats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pool in pools:
        if _running(pool, now):
            seats[pool.product_name][0] += pool.seats
            seats[pool.product_name][1] += pool.assigned_seats
    return tuple(Utilisation(name, s, a) for name, (s, a) in sorted(seats.items()))


def chart_data(
    pools: list[PoolFacts], spans: list[SeatSpan], now: datetime, points: int = POINTS
) -> Charts:
    moments = tuple(now - STEP * back for back in range(points - 1, -1, -1))
    currencies = sorted({p.price.currency for p in pools if p.recurring})
    mrr = {
        currency: tuple(
            sum(
                monthly(p)
                for p in pools
                if p.recurring and p.price.currency == currency and _running(p, at)
            )
            for at in moments
        )
        for currency in currencies
    }
    return Charts(
        moments=moments,
        bought=tuple(sum(p.seats for p in pools if _running(p, at)) for at in moments),
        assigned=tuple(sum(1 for s in spans if _held(s, at)) for at in moments),
        mrr=mrr,
        utilisation=_utilisation(pools, now),
    )


async def charts(rt: Runtime, *, points: int = POINTS) -> Charts:
    async with rt.reading() as uow:
        metrics = Metrics(uow.connection)
        pools, spans = await metrics.pools(), await metrics.seat_spans()
    return chart_data(pools, spans, rt.clock.now(), points)


__all__ = ["POINTS", "STEP", "Charts", "Utilisation", "chart_data", "charts", "monthly"]
