"""A company's credit balance, per currency (SPEC §3, §6): positive amounts only.

An invoice with a negative subtotal (a net credit) adds to the balance; the balance pays what it
can of later invoices (``credit_applied``); it is never paid out. Rows are read ``FOR UPDATE``
by the use case that applies them, and written as deltas (``uow.credit``:
``seatledger.adapters.db.credit``), so concurrent writers never lose each other's changes.

Lock order, everywhere: subscription rows, then balance rows (sorted), then the invoice
sequence row; so writers queue and never deadlock on these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from seatledger.adapters.db.credit import Key
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import NotFound
from seatledger.services.runtime import Runtime


class CreditBalance(NamedTuple):
    currency: str
    amount: int  # minor units; credit is positive


async def read_balances(
    uow: UnitOfWork, keys: Iterable[Key], *, lock: bool = True
) -> dict[Key, int]:
    """The balances of ``keys`` (0 when there is no row), locked for this transaction."""
    return await uow.credit.read(keys, lock=lock)


async def add_to_balances(uow: UnitOfWork, deltas: Mapping[Key, int]) -> None:
    """Add each delta: credit given (positive, an upsert) or used (negative, an update of the
    row the caller read and locked)."""
    changes = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not changes:
        return
    await uow.credit.add(changes)
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
        if not await uow.companies.exists(company_id):
            raise NotFound("company")
        balances = await uow.credit.positive(company_id)
    return [CreditBalance(currency, amount) for currency, amount in balances]


__all__ = ["CreditBalance", "Key", "add_to_balances", "company_balance", "read_balances"]
