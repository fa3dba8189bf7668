"""Prices with their product's proration defaults, as subscription changes and renewals need
them (``seatledger.domain.billing.Terms``). Price definitions never change once written, so a
``TermsBook`` may keep what it read for as long as its caller likes (archiving aside, which
only matters when a subscription moves to a price)."""

from __future__ import annotations

from collections.abc import Iterable

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import Terms


class TermsBook:
    """Terms by price id, read once per book."""

    def __init__(self) -> None:
        self._terms: dict[str, Terms] = {}

    async def load(self, uow: UnitOfWork, price_ids: Iterable[str]) -> dict[str, Terms]:
        missing = sorted({p for p in price_ids if p not in self._terms})
        if missing:
            self._terms.update(await uow.catalog.terms(missing))
        return self._terms

    async def get(self, uow: UnitOfWork, price_id: str) -> Terms | None:
        return (await self.load(uow, [price_id])).get(price_id)


__all__ = ["TermsBook"]
