"""Seat alerts: configure a company's thresholds per product, list them, and show them beside
the usage they watch.

The rule and its evaluation are ``seatledger.domain.seat_alerts`` and
``seatledger.services.usage_alerts``. A company has no thresholds until some are configured.
``set_seat_alerts`` is the one way to configure them: the API (a key, or the billing manager's
session), the portal and the dashboard all call it, after checking who may.
"""

from __future__ import annotations

from dataclasses import dataclass

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import NotFound
from seatledger.domain.seat_alerts import check_thresholds, is_reached
from seatledger.services.runtime import Runtime
from seatledger.services.usage_alerts import SeatCounts, usage_of


@dataclass(frozen=True, slots=True)
class ProductAlerts:
    product_id: str
    thresholds: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ProductUsage:
    """A product of the company as the pages show it: its thresholds beside its counts."""

    product_id: str
    product_name: str
    thresholds: tuple[int, ...]
    used: int
    limit: int | None  # null: unlimited

    @property
    def reached(self) -> tuple[int, ...]:
        """The thresholds the counts shown reach, by the rule that tells the crossings."""
        return tuple(t for t in self.thresholds if is_reached(t, self.used, self.limit))

    @property
    def percent(self) -> int | None:
        """``used / limit`` in whole percent, rounded down: a threshold shows as reached
        exactly when the percent shown is at or above it. None without a positive limit."""
        if self.limit is None or self.limit <= 0:
            return None
        return self.used * 100 // self.limit


async def set_seat_alerts(
    rt: Runtime, company_id: str, product_id: str, thresholds: list[int]
) -> list[ProductAlerts]:
    """The product's thresholds become ``thresholds`` ([] removes them), armed from the usage
    of now, silently; answers every product's thresholds of the company."""
    ordered = check_thresholds(thresholds)
    async with rt.transaction() as uow:
        if await uow.companies.get(company_id, lock=True) is None:
            raise NotFound("company")
        if not await uow.catalog.products([product_id]):
            raise NotFound("product", field="product_id")
        counts = (await usage_of(uow, company_id)).get(product_id, SeatCounts(0, 0))
        now = rt.clock.now()
        await uow.seat_alerts.replace(
            company_id,
            product_id,
            [
                (threshold, now if is_reached(threshold, counts.used, counts.limit) else None)
                for threshold in ordered
            ],
        )
        alerts = await _alerts(uow, company_id)
        await uow.commit()
    return alerts


async def list_seat_alerts(rt: Runtime, company_id: str) -> list[ProductAlerts]:
    async with rt.reading() as uow:
        if await uow.companies.get(company_id) is None:
            raise NotFound("company")
        return await _alerts(uow, company_id)


async def seat_alert_overview(rt: Runtime, company_id: str) -> list[ProductUsage]:
    """Every product the company has live seats of or thresholds on, by name: its thresholds,
    used and limit (as the entitlements count them) and the thresholds those counts reach."""
    async with rt.reading() as uow:
        if await uow.companies.get(company_id) is None:
            raise NotFound("company")
        configured = {a.product_id: a.thresholds for a in await _alerts(uow, company_id)}
        usage = await usage_of(uow, company_id)
        products = await uow.catalog.products(sorted({*configured, *usage}))
    overview = [
        ProductUsage(
            product.id,
            product.name,
            configured.get(product.id, ()),
            usage.get(product.id, SeatCounts(0, 0)).used,
            usage.get(product.id, SeatCounts(0, 0)).limit,
        )
        for product in products
    ]
    return sorted(overview, key=lambda p: (p.product_name.casefold(), p.product_id))


async def _alerts(uow: UnitOfWork, company_id: str) -> list[ProductAlerts]:
    per_product: dict[str, list[int]] = {}
    for alert in await uow.seat_alerts.of_company(company_id):
        per_product.setdefault(alert.product_id, []).append(alert.threshold)
    return [ProductAlerts(product, tuple(values)) for product, values in per_product.items()]


__all__ = [
    "ProductAlerts",
    "ProductUsage",
    "list_seat_alerts",
    "seat_alert_overview",
    "set_seat_alerts",
]
