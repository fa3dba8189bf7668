"""What every use case needs: the database, the clock, the settings and the payment gateway."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.config import Settings
from seatledger.domain.clock import Clock
from seatledger.domain.payments import PaymentGateway


@dataclass
class Runtime:
    engine: AsyncEngine
    clock: Clock
    settings: Settings
    gateway: PaymentGateway

    def transaction(self) -> UnitOfWork:
        """A new unit of work: ``async with rt.transaction() as uow: ...; await uow.commit()``."""
        return UnitOfWork(self.engine, self.clock.now)
