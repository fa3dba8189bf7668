"""The worker's loop: every round runs what fell due (renewals, payment retries, scheduled
cancellations) and forgets idempotency keys older than their 24 hours.

Each renewal is its own transaction and exactly-once per period in the database, so any number
of workers may run side by side on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from seatledger.services import idempotency, renewals
from seatledger.services.renewals import DueRun
from seatledger.services.runtime import Runtime


async def run_round(rt: Runtime) -> DueRun:
    done = await renewals.run_due(rt)
    await idempotency.prune(rt)
    return done


def summary(done: DueRun) -> str:
    """One line: what a round did, or "nothing due"."""
    if done.nothing_done:
        return "nothing due"
    line = ", ".join(
        (
            _count(len(done.renewed), "renewal", "renewals"),
            _count(done.retried, "payment retry", "payment retries"),
            _count(len(done.canceled), "cancellation", "cancellations"),
        )
    )
    if done.declined:
        line += f" ({_count(done.declined, 'payment', 'payments')} declined)"
    return line


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


async def run_worker(
    rt: Runtime,
    *,
    interval: float,
    once: bool,
    echo: Callable[[str], object] = print,
    warn: Callable[[str], object] = print,
) -> bool:
    """Round after round, ``interval`` seconds apart; with ``once``, one round, whose line is
    echoed even when nothing was due. Answers False when the last round failed."""
    while True:
        try:
            done = await run_round(rt)
        except Exception as error:
            # run_due finishes every other subscription before it raises; the failed one is
            # retried next round, so a long-running worker warns and goes on.
            first_line = (str(error).strip().splitlines() or [""])[0]
            warn(f"round failed: {type(error).__name__}: {first_line}")
            if once:
                return False
            await asyncio.sleep(interval)
            continue
        if once or not done.nothing_done:
            echo(summary(done))
        if once:
            return True
        await asyncio.sleep(interval)
