"""Seat alerts evaluated where usage changes: in the transaction that changed it.

The unit of work calls ``usage_changed`` at commit with the companies whose events say their
seat usage or limit changed (``seatledger.adapters.db.unit_of_work.USAGE_EVENTS``). One read
finds which of them have thresholds (for a single company, reading its thresholds is that
read); each that has reads its live pools, and per threshold
(``seatledger.domain.seat_alerts``) either marks it reached, emitting
``seat.usage_threshold_reached`` when it was armed, or re-arms it, each by a conditional update.
The thresholds' rows are read locked, then the pools: evaluations of one company queue there,
and each counts the seats the one before it committed.

Counts are SPEC §5's entitlements: ``used`` is pending plus claimed seats; ``limit`` is the
seats of live pools, a ``members`` pool counting as its ``maximum_seats`` (null: unlimited).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from seatledger.adapters.db.entitlements import LivePool
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import EventType
from seatledger.domain.seat_alerts import ThresholdReached
from seatledger.domain.seat_pool import SeatPool


@dataclass(frozen=True, slots=True)
class SeatCounts:
    limit: int | None
    used: int

    @property
    def available(self) -> int | None:
        return None if self.limit is None else self.limit - self.used

    def __add__(self, other: SeatCounts) -> SeatCounts:
        limit = None if self.limit is None or other.limit is None else self.limit + other.limit
        return SeatCounts(limit, self.used + other.used)


def product_counts(pools: Iterable[LivePool]) -> dict[str, SeatCounts]:
    """Per product, the live pools' limit and used seats added up."""
    per_product: dict[str, SeatCounts] = {}
    for pool in pools:
        limit: int | None = pool.seats
        if pool.seat_sync == "members":
            limit = (pool.definition or {}).get("maximum_seats")
        counts = SeatCounts(limit, pool.assigned_seats)
        previous = per_product.get(pool.product_id)
        per_product[pool.product_id] = counts if previous is None else previous + counts
    return per_product


async def usage_of(uow: UnitOfWork, company_id: str) -> dict[str, SeatCounts]:
    """The company's counts per product, as this transaction sees them."""
    return product_counts(await uow.live_pools.of(company_id) or [])


async def assigned_step_by_step(uow: UnitOfWork, pool: SeatPool | None) -> bool:
    """Whether a pool with a free seat belongs to a company with seat alerts: the statement
    that assigns in one go (``seatledger.adapters.db.assignment``) refuses those, so that
    their seats are taken step by step and their thresholds evaluated at commit."""
    if pool is None or pool.company_id is None or pool.available_seats <= 0:
        return False
    return bool(await uow.seat_alerts.of_company(pool.company_id))


async def usage_changed(uow: UnitOfWork, company_ids: frozenset[str]) -> None:
    """Evaluate the thresholds of each company (module docstring)."""
    now = uow.now()
    # Many companies (a renewal batch): one read finds those with thresholds; for one, reading
    # its thresholds below is that read.
    if len(company_ids) > 1:
        company_ids = frozenset(await uow.seat_alerts.companies_among(company_ids))
    for company_id in sorted(company_ids):
        alerts = await uow.seat_alerts.of_company(company_id, lock=True)
        if not alerts:
            continue
        usage = await usage_of(uow, company_id)
        for alert in alerts:
            counts = usage.get(alert.product_id, SeatCounts(0, 0))
            if not alert.reached_by(counts.used, counts.limit):
                if alert.reached_at is not None:
                    await uow.seat_alerts.rearm(alert)
                continue
            if alert.reached_at is None and await uow.seat_alerts.reach(alert, now):
                assert counts.limit is not None  # a reached threshold has a limit
                uow.emit(
                    EventType.SEAT_USAGE_THRESHOLD_REACHED,
                    ThresholdReached(
                        company_id, alert.product_id, alert.threshold, counts.used, counts.limit
                    ),
                )


__all__ = [
    "SeatCounts",
    "assigned_step_by_step",
    "product_counts",
    "usage_changed",
    "usage_of",
]
