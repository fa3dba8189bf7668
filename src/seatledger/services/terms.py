"""Prices with their product's proration defaults, as subscription changes and renewals need
them (``seatledger.domain.billing.Terms``). Price definitions never change once written, so a
``TermsBook`` may keep what it read for as long as its caller likes (archiving aside, which
only matters when a subscription moves to a price)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.billing import Terms
from seatledger.pricing import SeatPrice


class TermsBook:
    """Terms by price id, read once per book."""

    def __init__(self) -> None:
        self._terms: dict[str, Terms] = {}

    async def load(self, connection: AsyncConnection, price_ids: Iterable[str]) -> dict[str, Terms]:
        missing = sorted({p for p in price_ids if p not in self._terms})
        if missing:
            self._terms.update(await load_terms(connection, missing))
        return self._terms

    async def get(self, connection: AsyncConnection, price_id: str) -> Terms | None:
        return (await self.load(connection, [price_id])).get(price_id)


async def load_terms(connection: AsyncConnection, price_ids: Iterable[str]) -> dict[str, Terms]:
    """The terms of each known price id (unknown ids are left out)."""
    ids = sorted(set(price_ids))
    if not ids:
        return {}
    rows = await connection.execute(
        select(
            t.prices.c.id,
            t.prices.c.product_id,
            t.prices.c.definition,
            t.prices.c.archived_at,
            t.products.c.proration_increase,
            t.products.c.proration_decrease,
        )
        .join(t.products, t.products.c.id == t.prices.c.product_id)
        .where(t.prices.c.id.in_(ids))
    )
    return {
        row.id: Terms(
            price_id=row.id,
            product_id=row.product_id,
            price=SeatPrice.from_mapping(row.definition),
            proration_increase=row.proration_increase,
            proration_decrease=row.proration_decrease,
            archived=row.archived_at is not None,
        )
        for row in rows
    }


__all__ = ["TermsBook", "load_terms"]
