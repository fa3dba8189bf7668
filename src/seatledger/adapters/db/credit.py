"""Companies' credit balances in the database (``credit_balances``), per company and currency.

Rows are read ``FOR UPDATE`` by the use case that applies them, and written as deltas
(``amount = amount + delta``, an upsert for a first credit), so concurrent writers never lose
each other's changes; the ``CHECK (amount >= 0)`` stands behind it. The rules and the lock order
are the service's (``seatledger.services.credit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t

Key = tuple[str, str]  # (company id, currency)
_balances = t.credit_balances

_use = (
    update(_balances)
    .where(
        _balances.c.company_id == bindparam("b_company_id"),
        _balances.c.currency == bindparam("b_currency"),
    )
    .values(amount=_balances.c.amount + bindparam("b_delta"))
)


class CreditBalances:
    """The credit balances of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def read(self, keys: Iterable[Key], *, lock: bool) -> dict[Key, int]:
        """The balances of ``keys`` (0 when there is no row), locked when ``lock``."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        # By company (one indexed IN list), filtered by currency here: a row-value IN list of
        # many pairs plans slowly on PostgreSQL. Other currencies of these companies are locked
        # too.
        companies = sorted({company_id for company_id, _ in wanted})
        query = (
            select(_balances)
            .where(_balances.c.company_id.in_(companies))
            .order_by(_balances.c.company_id, _balances.c.currency)
        )
        if lock:
            query = query.with_for_update()
        balances = dict.fromkeys(wanted, 0)
        for row in await self._connection.execute(query):
            key = (row.company_id, row.currency)
            if key in balances:
                balances[key] = int(row.amount)
        return balances

    async def add(self, changes: Sequence[tuple[Key, int]]) -> None:
        """Add each delta: credit given (positive, an upsert) or used (negative, an update of
        a row the caller read and locked)."""
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
            dialect: Any = postgresql if self._connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(_balances)
            statement = statement.on_conflict_do_update(
                index_elements=[_balances.c.company_id, _balances.c.currency],
                set_={"amount": _balances.c.amount + statement.excluded.amount},
            )
            await self._connection.execute(statement, given)
        if used:
            await self._connection.execute(_use, used)

    async def positive(self, company_id: str) -> list[tuple[str, int]]:
        """The company's (currency, amount) with credit, by currency."""
        rows = await self._connection.execute(
            select(_balances.c.currency, _balances.c.amount)
            .where(_balances.c.company_id == company_id, _balances.c.amount > 0)
            .order_by(_balances.c.currency)
        )
        return [(row.currency, int(row.amount)) for row in rows]


__all__ = ["CreditBalances", "Key"]
