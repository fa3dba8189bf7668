"""Where the sandbox's time is kept: the one row of ``sandbox_clock``, shared by every process
of an instance (``seatledger.services.sandbox`` moves it; renewals follow it).

NULL until first moved (the clock then reads the system time), afterwards the time it was
moved to, which only grows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from seatledger.adapters.db.instance import load_sandbox_time
from seatledger.domain.clock import SandboxClock
from seatledger.services.runtime import Runtime


class Settable(Protocol):
    def now(self) -> datetime: ...

    def set(self, moment: datetime) -> None: ...


async def stored_time(rt: Runtime) -> datetime | None:
    async with rt.reading() as uow:
        return await uow.sandbox_clock.now()


async def follow_sandbox_clock(rt: Runtime) -> None:
    """A ``SandboxClock`` takes the shared time (another process may have moved it)."""
    if isinstance(rt.clock, SandboxClock):
        stored = await stored_time(rt)
        if stored is not None:
            rt.clock.set(stored)


async def store_time(rt: Runtime, clock: Settable, moment: datetime) -> None:
    async with rt.transaction() as uow:
        await uow.sandbox_clock.advance(moment)
        await uow.commit()
    clock.set(moment)


__all__ = ["Settable", "follow_sandbox_clock", "load_sandbox_time", "store_time", "stored_time"]
