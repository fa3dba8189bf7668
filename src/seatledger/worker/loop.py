"""The worker's loop: every round runs what fell due (renewals, payment retries, scheduled
cancellations) and forgets idempotency keys older than their 24 hours.

Each renewal is its own transaction and exactly-once per period in the database, so any number
of workers may run side by side on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from seatledger.services import idempotency, renewals
from seatledger.services.runtime import Runtime


async def run_round(rt: Runtime) -> list[str]:
    renewed = await renewals.renew_due(rt)
    await idempotency.prune(rt)
    return renewed


async def run_worker(
    rt: Runtime, *, interval: float, once: bool, echo: Callable[[str], object] = print
) -> None:
    while True:
        try:
            renewed = await run_round(rt)
        except Exception as error:
            # renew_due finishes every other subscription before it raises; the failed one is
            # retried next round, so a long-running worker logs and goes on.
            echo(f"round failed: {type(error).__name__}: {error}")
            if once:
                raise
            await asyncio.sleep(interval)
            continue
        if renewed:
            echo(f"renewed {len(renewed)} subscription(s): {', '.join(renewed)}")
        if once:
            return
        await asyncio.sleep(interval)
