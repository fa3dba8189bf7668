"""The catalog in the database: ``products`` with their ``prices`` (versions) and ordered
``product_benefits``, ``benefits`` and ``files``, read and written as the domain's ``Product``,
``Price``, ``Benefit`` and ``StoredFile`` (``seatledger.domain.catalog``).

A price's ``definition`` is its ``SeatPrice`` as a mapping; its currency, interval and seat
sync are also columns of their own, for the queries that filter on them. A file's content is
read only where it is served (``seatledger.services.grants``), never with its description.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.billing import Terms
from seatledger.domain.catalog import Benefit, Price, Product, StoredFile
from seatledger.pricing import SeatPrice

# How a list is paged: the query and its id column in, the page's query out
# (``seatledger.adapters.db.paging.paginating`` with the caller's cursor and size).
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]


def price_from_row(row: Any) -> Price:
    return Price(
        id=row.id,
        product_id=row.product_id,
        version=row.version,
        seat_price=SeatPrice.from_mapping(row.definition),
        archived_at=row.archived_at,
        created_at=row.created_at,
    )


def benefit_from_row(row: Any) -> Benefit:
    return Benefit(
        id=row.id,
        type=row.type,
        description=row.description,
        properties=dict(row.properties),
        created_at=row.created_at,
    )


def file_from_row(row: Any) -> StoredFile:
    return StoredFile(
        id=row.id,
        name=row.name,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


async def load_price(connection: AsyncConnection, price_id: str) -> Price | None:
    """The price with this id, archived or not; None when there is none."""
    row = (await connection.execute(select(t.prices).where(t.prices.c.id == price_id))).first()
    return None if row is None else price_from_row(row)


def _price_row(price: Price) -> dict[str, Any]:
    definition = price.seat_price.to_mapping()
    return {
        "id": price.id,
        "product_id": price.product_id,
        "version": price.version,
        "currency": definition["currency"],
        "interval": definition["interval"],
        "seat_sync": definition["seat_sync"],
        "trial_days": definition["trial_days"],
        "definition": definition,
        "archived_at": price.archived_at,
        "created_at": price.created_at,
    }


def _product_of(row: Any, prices: Sequence[Price], benefit_ids: Sequence[str]) -> Product:
    return Product(
        id=row.id,
        name=row.name,
        description=row.description,
        prices=tuple(prices),
        benefit_ids=tuple(benefit_ids),
        proration_increase=row.proration_increase,
        proration_decrease=row.proration_decrease,
        created_at=row.created_at,
        true_up_interval=row.true_up_interval,
    )


class Catalog:
    """The catalog of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # -- products ---------------------------------------------------------------------------

    async def product_of_price(self, price_id: str) -> tuple[str, str]:
        """The id and name of the price's product."""
        row = (
            await self._connection.execute(
                select(t.products.c.id, t.products.c.name)
                .join(t.prices, t.prices.c.product_id == t.products.c.id)
                .where(t.prices.c.id == price_id)
            )
        ).one()
        return str(row.id), str(row.name)

    async def add_product(self, product: Product) -> None:
        """Write a new product with its prices and its benefits, in their order."""
        connection = self._connection
        await connection.execute(
            insert(t.products).values(
                id=product.id,
                name=product.name,
                description=product.description,
                proration_increase=product.proration_increase,
                proration_decrease=product.proration_decrease,
                created_at=product.created_at,
                true_up_interval=product.true_up_interval,
            )
        )
        await connection.execute(insert(t.prices), [_price_row(price) for price in product.prices])
        if product.benefit_ids:
            await connection.execute(
                insert(t.product_benefits),
                [
                    {"product_id": product.id, "benefit_id": benefit_id, "position": position}
                    for position, benefit_id in enumerate(product.benefit_ids)
                ],
            )

    async def product_ids(self, page: Paging) -> list[str]:
        """The ids of one page of products (``page`` orders and bounds it)."""
        query = page(select(t.products.c.id), t.products.c.id)
        return list((await self._connection.execute(query)).scalars())

    async def products(self, ids: Sequence[str]) -> list[Product]:
        """The products with these ids, in that order (missing ones left out): three queries."""
        if not ids:
            return []
        connection = self._connection
        rows = (await connection.execute(select(t.products).where(t.products.c.id.in_(ids)))).all()
        price_rows = (
            await connection.execute(
                select(t.prices)
                .where(t.prices.c.product_id.in_(ids))
                .order_by(t.prices.c.product_id, t.prices.c.version)
            )
        ).all()
        benefit_rows = (
            await connection.execute(
                select(t.product_benefits)
                .where(t.product_benefits.c.product_id.in_(ids))
                .order_by(t.product_benefits.c.product_id, t.product_benefits.c.position)
            )
        ).all()
        prices: dict[str, list[Price]] = {}
        for row in price_rows:
            prices.setdefault(row.product_id, []).append(price_from_row(row))
        benefits: dict[str, list[str]] = {}
        for row in benefit_rows:
            benefits.setdefault(row.product_id, []).append(row.benefit_id)
        by_id = {
            row.id: _product_of(row, prices.get(row.id, ()), benefits.get(row.id, ()))
            for row in rows
        }
        return [by_id[product_id] for product_id in ids if product_id in by_id]

    async def lock_product(self, product_id: str) -> bool:
        """Lock the product's row for this transaction; False when there is no such product."""
        query = select(t.products.c.id).where(t.products.c.id == product_id).with_for_update()
        return (await self._connection.execute(query)).first() is not None

    # -- prices -----------------------------------------------------------------------------

    async def price(self, price_id: str) -> Price | None:
        """The price with this id, archived or not; None when there is none."""
        return await load_price(self._connection, price_id)

    async def terms(self, price_ids: Sequence[str]) -> dict[str, Terms]:
        """The terms of each known price id (unknown ids are left out), with their product's
        proration defaults."""
        ids = sorted(set(price_ids))
        if not ids:
            return {}
        rows = await self._connection.execute(
            select(
                t.prices.c.id,
                t.prices.c.product_id,
                t.prices.c.definition,
                t.prices.c.archived_at,
                t.products.c.proration_increase,
                t.products.c.proration_decrease,
                t.products.c.true_up_interval,
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
                true_up_interval=row.true_up_interval,
            )
            for row in rows
        }

    async def latest_version(self, product_id: str) -> int:
        """The product's highest price version (0 before any), in a statement of its own."""
        latest = select(func.max(t.prices.c.version)).where(t.prices.c.product_id == product_id)
        return int((await self._connection.execute(latest)).scalar_one() or 0)

    async def add_price(self, price: Price) -> None:
        await self._connection.execute(insert(t.prices).values(_price_row(price)))

    async def archive_price(self, price_id: str, now: datetime) -> Price | None:
        """Archive the price if it is not yet; None when it is absent or archived already."""
        row = (
            await self._connection.execute(
                update(t.prices)
                .where(t.prices.c.id == price_id, t.prices.c.archived_at.is_(None))
                .values(archived_at=now)
                .returning(*t.prices.c)
            )
        ).first()
        return None if row is None else price_from_row(row)

    # -- benefits ---------------------------------------------------------------------------

    async def benefits_found(self, benefit_ids: Sequence[str]) -> set[str]:
        """Which of these benefits exist."""
        query = select(t.benefits.c.id).where(t.benefits.c.id.in_(benefit_ids))
        return set((await self._connection.execute(query)).scalars())

    async def add_benefit(self, benefit: Benefit) -> None:
        await self._connection.execute(
            insert(t.benefits).values(
                id=benefit.id,
                type=benefit.type,
                description=benefit.description,
                properties=benefit.properties,
                created_at=benefit.created_at,
            )
        )

    async def benefit(self, benefit_id: str) -> Benefit | None:
        query = select(t.benefits).where(t.benefits.c.id == benefit_id)
        row = (await self._connection.execute(query)).first()
        return None if row is None else benefit_from_row(row)

    async def benefits(self, page: Paging) -> list[Benefit]:
        """One page of benefits (``page`` orders and bounds it)."""
        rows = (await self._connection.execute(page(select(t.benefits), t.benefits.c.id))).all()
        return [benefit_from_row(row) for row in rows]

    # -- files ------------------------------------------------------------------------------

    async def file_exists(self, file_id: str) -> bool:
        query = select(t.files.c.id).where(t.files.c.id == file_id)
        return (await self._connection.execute(query)).first() is not None

    async def add_file(self, stored: StoredFile, content: bytes) -> None:
        await self._connection.execute(
            insert(t.files).values(
                id=stored.id,
                name=stored.name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                content=content,
                created_at=stored.created_at,
            )
        )

    async def file(self, file_id: str) -> StoredFile | None:
        """A stored file's description, without its content."""
        columns = [c for c in t.files.c if c.name != "content"]
        row = (
            await self._connection.execute(select(*columns).where(t.files.c.id == file_id))
        ).first()
        return None if row is None else file_from_row(row)


__all__ = [
    "Catalog",
    "Paging",
    "benefit_from_row",
    "file_from_row",
    "load_price",
    "price_from_row",
]
