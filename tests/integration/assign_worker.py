"""A separate process that assigns seats concurrently: ``python -m tests.integration.assign_worker
URL SUBSCRIPTION_ID PREFIX COUNT`` prints how many assignments succeeded and how many were
refused with ``no_seats_available``."""

from __future__ import annotations

import asyncio
import sys

from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.config import Settings
from seatledger.domain.clock import SystemClock
from seatledger.domain.errors import Conflict
from seatledger.services import seats
from seatledger.services.runtime import Runtime


async def main(url: str, subscription_id: str, prefix: str, count: int) -> None:
    engine = create_engine(url)
    runtime = Runtime(engine, SystemClock(), Settings(database_url=url), LocalGateway())

    async def one(n: int) -> str:
        try:
            await seats.assign_seat(
                runtime, subscription_id=subscription_id, email=f"{prefix}{n}@acme.test"
            )
        except Conflict as error:
            return error.code
        return "ok"

    outcomes = await asyncio.gather(*(one(n) for n in range(count)))
    await engine.dispose()
    print(outcomes.count("ok"), outcomes.count("no_seats_available"))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
