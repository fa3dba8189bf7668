"""The worker's loop: every round runs what fell due (renewals, payment retries, scheduled
cancellations) and forgets idempotency keys older than their 24 hours; between those rounds,
every ``delivery_interval`` seconds (at once while there is work), a delivery round
(``seatledger.services.delivery``) fans the outbox out to the channels and sends what is due.

Each renewal is its own transaction and exactly-once per period in the database, and delivery
takes its events under ``SKIP LOCKED``, so any number of workers (and serving processes) may
run side by side on PostgreSQL.

SIGTERM and SIGINT stop the loop once the round under way is done; nothing is lost either way
(a round killed halfway rolls back, and its work is done again by the next one).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Sequence
from contextlib import suppress

from seatledger.bootstrap import delivery_channels
from seatledger.services import delivery, idempotency, provider_reconciliation, renewals
from seatledger.services.channels import Channel
from seatledger.services.delivery import DeliveryRound
from seatledger.services.renewals import DueRun
from seatledger.services.runtime import Runtime

# ``billing`` mode: every subscription Stripe bills is compared with it this often (SPEC §7).
RECONCILE_EVERY = 15 * 60.0  # seconds


async def reconcile_round(rt: Runtime, echo: Callable[[str], object]) -> None:
    """Reconciliation with Stripe Billing, when the runtime has it: a line per repair."""
    if rt.billing is None:
        return
    done = await provider_reconciliation.reconcile(
        rt, rt.billing, push_back=rt.settings.stripe_push_back
    )
    for repair in done.repairs:
        echo(repair.line())
    if done.repairs or done.unavailable:
        echo(f"reconciliation: {done.summary()}")


async def run_round(rt: Runtime) -> DueRun:
    done = await renewals.run_due(rt)
    await idempotency.prune(rt)
    return done


def summary(done: DueRun, delivered: DeliveryRound | None = None) -> str:
    """One line: what a round did (its renewals, then its delivery), or "nothing due"."""
    parts = []
    if not done.nothing_done:
        line = ", ".join(
            (
                _count(len(done.renewed), "renewal", "renewals"),
                _count(done.retried, "payment retry", "payment retries"),
                _count(len(done.canceled), "cancellation", "cancellations"),
            )
        )
        if done.declined:
            line += f" ({_count(done.declined, 'payment', 'payments')} declined)"
        parts.append(line)
    if delivered is not None and not delivered.nothing_done:
        parts.append(delivery.describe(delivered))
    return "; ".join(parts) or "nothing due"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _first_line(error: Exception) -> str:
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"


async def run_worker(
    rt: Runtime,
    *,
    interval: float,
    once: bool,
    delivery_interval: float = delivery.INTERVAL,
    channels: Sequence[Channel] | None = None,
    echo: Callable[[str], object] = print,
    warn: Callable[[str], object] = print,
) -> bool:
    """Renewal rounds ``interval`` seconds apart and delivery rounds ``delivery_interval``
    seconds apart (the next at once after one that moved work along), until SIGTERM or SIGINT;
    with ``once``, one renewal round then one delivery round (delivering the renewals' events
    too), whose line is echoed even when nothing was due. Answers False when the last round failed.

    The first SIGTERM or SIGINT stops the loop once the round under way is done; a second one
    abandons that round (its transaction rolls back: the next worker does the work again)."""
    channels = delivery_channels(rt) if channels is None else channels
    if once:
        return await _once(rt, channels, echo, warn)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set() and task is not None:
            task.cancel()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    try:
        return await _rounds(rt, channels, stop, interval, delivery_interval, echo, warn)
    except asyncio.CancelledError:
        if not stop.is_set() or task is None:
            raise
        task.uncancel()
        warn("stopped halfway through a round: what it had not committed is done next round")
        return False
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _rounds(
    rt: Runtime,
    channels: Sequence[Channel],
    stop: asyncio.Event,
    interval: float,
    delivery_interval: float,
    echo: Callable[[str], object],
    warn: Callable[[str], object],
) -> bool:
    renewed = delivered_ok = True
    next_renewals = next_reconcile = time.monotonic()
    while not stop.is_set():
        done, delivered = DueRun(), None
        if time.monotonic() >= next_reconcile:
            next_reconcile = time.monotonic() + RECONCILE_EVERY
            try:
                await reconcile_round(rt, echo)
            except Exception as error:
                warn(f"reconciliation failed: {_first_line(error)}")
        if time.monotonic() >= next_renewals:
            next_renewals = time.monotonic() + interval
            try:
                done = await run_round(rt)
                renewed = True
            except Exception as error:
                renewed = False
                # run_due finishes every other subscription before it raises; the failed
                # one is retried next round, so a long-running worker warns and goes on.
                warn(f"round failed: {_first_line(error)}")
        delivered_ok, delivered = await _deliver(rt, channels, warn)
        if not (done.nothing_done and (delivered is None or delivered.nothing_done)):
            echo(summary(done, delivered))
        if delivered is not None and delivered.busy:
            continue  # more may be waiting: the next delivery round starts at once
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delivery_interval)
    return renewed and delivered_ok


async def _once(
    rt: Runtime,
    channels: Sequence[Channel],
    echo: Callable[[str], object],
    warn: Callable[[str], object],
) -> bool:
    renewed = True
    try:
        await reconcile_round(rt, echo)
        done = await run_round(rt)
    except Exception as error:
        warn(f"round failed: {_first_line(error)}")
        done, renewed = DueRun(), False  # the outbox is delivered all the same
    delivered_ok, delivered = await _deliver(rt, channels, warn)
    if renewed or (delivered is not None and not delivered.nothing_done):
        echo(summary(done, delivered))  # never "nothing due" after a failed round
    return renewed and delivered_ok


async def _deliver(
    rt: Runtime, channels: Sequence[Channel], warn: Callable[[str], object]
) -> tuple[bool, DeliveryRound | None]:
    try:
        return True, await delivery.run_round(rt, channels)
    except Exception as error:
        warn(f"delivery round failed: {_first_line(error)}")
        return False, None
