"""The payment provider's customer of each seatledger customer: a company id, or a buyer's
email before the company exists (``PaymentRequest.customer``).

One provider customer per company. A purchase made with only an email keeps the customer it
was charged as when it attaches to a company (its subscription's ``payment_customer`` stays the
email); a company without a customer of its own then takes that one over, so that its later
purchases are charged as the same customer. Rows are written once: the first writer wins.

The payment adapter asks this directory outside any unit of work (a provider call never waits
on an open transaction): each method is its own short transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t


class PaymentCustomers:
    def __init__(self, engine: AsyncEngine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    async def find(self, key: str) -> str | None:
        """The provider customer of ``key``: its own, or (a company without one) the one a
        purchase attached to it was charged as."""
        table = t.payment_customers
        own = select(table.c.provider_customer_id).where(
            table.c.provider == self.provider, table.c.customer_key == key
        )
        attached = (
            select(table.c.provider_customer_id)
            .join(t.subscriptions, t.subscriptions.c.payment_customer == table.c.customer_key)
            .where(table.c.provider == self.provider, t.subscriptions.c.company_id == key)
            .order_by(t.subscriptions.c.created_at, t.subscriptions.c.id)
            .limit(1)
        )
        async with self.engine.connect() as connection:
            found = (await connection.execute(own)).scalar_one_or_none()
            if found is None:
                found = (await connection.execute(attached)).scalar_one_or_none()
        return None if found is None else str(found)

    async def remember(self, key: str, provider_customer_id: str) -> str:
        """Keep ``provider_customer_id`` as ``key``'s unless one is kept already; answers the
        one kept."""
        table = t.payment_customers
        values = {
            "provider": self.provider,
            "customer_key": key,
            "provider_customer_id": provider_customer_id,
            "created_at": datetime.now(UTC).replace(microsecond=0),
        }
        async with self.engine.begin() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            await connection.execute(dialect.insert(table).values(values).on_conflict_do_nothing())
            kept = (
                await connection.execute(
                    select(table.c.provider_customer_id).where(
                        table.c.provider == self.provider, table.c.customer_key == key
                    )
                )
            ).scalar_one()
        return str(kept)


__all__ = ["PaymentCustomers"]
