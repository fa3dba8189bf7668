"""A company's credit balance, per currency (SPEC §3, §6): positive amounts only.

An invoice with a negative subtotal (a net credit) adds to the balance; the balance pays what it
can of later invoices (``credit_applied``); it is never paid out. Rows are read ``FOR UPDATE``
by the use case that applies them, and written as deltas (``amount = amount + delta``, an
upsert for a first credit), so concurrent writers never lose each other's changes; the
``CHECK (amount >= 0)`` stands behind it.

Lock order, everywhere: subscription rows, then balance rows (sorted), then the invoice
sequence row; so writers queue and never deadlock on these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import NotFound
from seatledger.services.runtime import Runtime

Key = tuple[str, str]  # (company id, currency)


class CreditBalance(NamedTuple):
    currency: str
    amount: int  # minor units; credit is positive


async def read_balances(
    connection: AsyncConnection, keys: Iterable[Key], *, lock: bool = True
) -> dict[Key, int]:
    """The balances of ``keys`` (0 when there is no row), locked for this transaction."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    table = t.credit_balances
    # By company (one indexed IN list), filtered by currency here: a row-value IN list of many
    # pairs plans slowly on PostgreSQL. Other currencies of these companies are locked too.
    companies = sorted({company_id for company_id, _ in wanted})
    query = (
        select(table)
        .where(table.c.company_id.in_(companies))
        .order_by(table.c.company_id, table.c.currency)
    )
    if lock:
        query = query.with_for_update()
    balances = dict.fromkeys(wanted, 0)
    for row in await connection.execute(query):
        key = (row.company_id, row.currency)
        if key in balances:
            balances[key] = int(row.amount)
    return balances


_use = (
    update(t.credit_balances)
    .where(
        t.credit_balances.c.company_id == bindparam("b_company_id"),
        t.credit_balances.c.currency == bindparam("b_currency"),
    )
    .values(amount=t.credit_balances.c.amount + bindparam("b_delta"))
)


async def add_to_balances(uow: UnitOfWork, deltas: Mapping[Key, int]) -> None:
    """Add each delta: credit given (positive, an upsert) or used (negative, an update of the
    row the caller read and locked)."""
    changes = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not changes:
        return
    given = [
        {"company_id": company_id, "currency": currency, "amount": delta}
        for (company_id, currency), delta in changes
        if delta > 0
    ]
    used = [
        {"b_company_id": company_id, "b_currency": currency, "b_delta": delta}
        for (company_id, currency), delta in changes
        if delta < 0
    ]
    if given:
        dialect = postgresql if uow.dialect == "postgresql" else sqlite
        statement = dialect.insert(t.credit_balances)
        statement = statement.on_conflict_do_update(
            index_elements=[t.credit_balances.c.company_id, t.credit_balances.c.currency],
            set_={"amount": t.credit_balances.c.amount + statement.excluded.amount},
        )
        await uow.connection.execute(statement, given)
    if used:
        await uow.connection.execute(_use, used)
    for (company_id, currency), delta in changes:
        uow.emit(
            "credit_balance.updated",
            {"company_id": company_id, "currency": currency, "change": delta},
        )


async def company_balance(
    rt: Runtime, company_id: str, *, scope_company_id: str | None = None
) -> list[CreditBalance]:
    """The company's credit per currency (currencies with credit only), by currency."""
    if not isinstance(company_id, str) or (
        scope_company_id is not None and company_id != scope_company_id
    ):
        raise NotFound("company")
    async with rt.reading() as uow:
        connection = uow.connection
        found = (
            await connection.execute(select(t.companies.c.id).where(t.companies.c.id == company_id))
        ).first()
        if found is None:
            raise NotFound("company")
        rows = await connection.execute(
            select(t.credit_balances.c.currency, t.credit_balances.c.amount)
            .where(t.credit_balances.c.company_id == company_id, t.credit_balances.c.amount > 0)
            .order_by(t.credit_balances.c.currency)
        )
        return [CreditBalance(row.currency, int(row.amount)) for row in rows]


__all__ = ["CreditBalance", "add_to_balances", "company_balance", "read_balances"]
