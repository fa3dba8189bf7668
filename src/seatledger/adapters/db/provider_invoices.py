"""The provider's invoices of the subscriptions it bills (``billing`` mode), kept apart from
seatledger's own invoices: one row per provider invoice, rewritten with its current state."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.provider_billing import ProviderInvoice


async def keep_invoice(
    connection: AsyncConnection,
    provider: str,
    subscription_id: str,
    invoice: ProviderInvoice,
    now: datetime,
) -> None:
    values: dict[str, Any] = {
        "id": invoice.id,
        "provider": provider,
        "subscription_id": subscription_id,
        "number": invoice.number,
        "status": invoice.status,
        "currency": invoice.currency,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "lines": [asdict(line) for line in invoice.lines],
        "updated_at": now,
    }
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(t.provider_invoices).values(values)
    changing = {k: statement.excluded[k] for k in values if k != "id"}
    await connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changing))


async def invoices_of(connection: AsyncConnection, subscription_id: str) -> list[Any]:
    table = t.provider_invoices
    query = select(table).where(table.c.subscription_id == subscription_id).order_by(table.c.id)
    return list((await connection.execute(query)).all())


__all__ = ["invoices_of", "keep_invoice"]
