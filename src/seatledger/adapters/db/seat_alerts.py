"""Seat alerts: a company's thresholds per product and whether each is reached.

A threshold's state changes by one conditional update (``reach``: only while armed;
``rearm``: only while reached): of two transactions that see usage rise past a threshold at
once, the second waits for the first's row lock, then finds it reached and changes nothing, so
one crossing is told once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.seat_alerts import SeatAlert

_alerts = t.seat_alerts


class SeatAlerts:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def of_company(self, company_id: str, *, lock: bool = False) -> list[SeatAlert]:
        """The company's thresholds, by product then threshold; ``lock``: their rows locked
        until commit (PostgreSQL), so that evaluations of one company run one after the other,
        each counting what the one before committed (two pools of one product would otherwise
        each miss the other's new seat)."""
        query = (
            select(_alerts)
            .where(_alerts.c.company_id == company_id)
            .order_by(_alerts.c.product_id, _alerts.c.threshold)
        )
        rows = await self._connection.execute(query.with_for_update() if lock else query)
        return [
            SeatAlert(row.company_id, row.product_id, row.threshold, row.reached_at) for row in rows
        ]

    async def companies_among(self, company_ids: Iterable[str]) -> set[str]:
        """Those of ``company_ids`` that have thresholds, in one read whatever their number (a
        renewal batch touches up to a thousand companies, most of them without alerts)."""
        wanted = list(company_ids)
        if not wanted:
            return set()
        rows = await self._connection.execute(
            select(_alerts.c.company_id).distinct().where(_alerts.c.company_id.in_(wanted))
        )
        return {row.company_id for row in rows}

    async def replace(
        self, company_id: str, product_id: str, reached: Sequence[tuple[int, datetime | None]]
    ) -> None:
        """The product's thresholds become ``reached`` (each with its state); [] removes them."""
        await self._connection.execute(
            delete(_alerts).where(
                _alerts.c.company_id == company_id, _alerts.c.product_id == product_id
            )
        )
        if reached:
            await self._connection.execute(
                insert(_alerts),
                [
                    {
                        "company_id": company_id,
                        "product_id": product_id,
                        "threshold": threshold,
                        "reached_at": reached_at,
                    }
                    for threshold, reached_at in reached
                ],
            )

    async def reach(self, alert: SeatAlert, now: datetime) -> bool:
        """Mark the threshold reached; True only for the transaction that found it armed."""
        found = await self._connection.execute(
            update(_alerts)
            .where(*self._key(alert), _alerts.c.reached_at.is_(None))
            .values(reached_at=now)
        )
        return found.rowcount == 1

    async def rearm(self, alert: SeatAlert) -> None:
        """Usage fell below the threshold: the next rise to it is told again."""
        await self._connection.execute(
            update(_alerts)
            .where(*self._key(alert), _alerts.c.reached_at.is_not(None))
            .values(reached_at=None)
        )

    @staticmethod
    def _key(alert: SeatAlert) -> tuple[ColumnElement[bool], ...]:
        return (
            _alerts.c.company_id == alert.company_id,
            _alerts.c.product_id == alert.product_id,
            _alerts.c.threshold == alert.threshold,
        )


__all__ = ["SeatAlerts"]
