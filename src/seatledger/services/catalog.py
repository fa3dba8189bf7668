"""Products, their price versions, benefits and files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.catalog import Price
from seatledger.pricing import SeatPrice


def price_from_row(row: Any) -> Price:
    return Price(
        id=row.id,
        product_id=row.product_id,
        version=row.version,
        seat_price=SeatPrice.from_mapping(row.definition),
        archived_at=row.archived_at,
        created_at=row.created_at,
    )


async def load_price(connection: AsyncConnection, price_id: str) -> Price | None:
    """The price with this id, archived or not; None when there is none."""
    row = (await connection.execute(select(t.prices).where(t.prices.c.id == price_id))).first()
    return None if row is None else price_from_row(row)
