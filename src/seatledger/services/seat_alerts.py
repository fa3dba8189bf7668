"""Seat alerts: configure a company's thresholds per product, and list them.

The rule and its evaluation are ``seatledger.domain.seat_alerts`` and
``seatledger.services.usage_alerts``. A company has no thresholds until some are configured.
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


async def _alerts(uow: UnitOfWork, company_id: str) -> list[ProductAlerts]:
    per_product: dict[str, list[int]] = {}
    for alert in await uow.seat_alerts.of_company(company_id):
        per_product.setdefault(alert.product_id, []).append(alert.threshold)
    return [ProductAlerts(product, tuple(values)) for product, values in per_product.items()]


__all__ = ["ProductAlerts", "list_seat_alerts", "set_seat_alerts"]
