"""The sandbox clock (``SEATLEDGER_SANDBOX=1``; ``GET/POST /v1/sandbox/clock``, SPEC §6).

The sandbox's time is the one row of ``sandbox_clock``: NULL until first moved (the clock then
reads the system time), afterwards frozen at the time it was moved to. It only moves forward:
``advance_clock`` to a time before the current one is ``ValidationFailed("now")``. Moving it
runs every renewal, payment retry, grace-period cancellation and quarterly true-up that falls
due on the way, in time order, synchronously: the clock stops at each due time, ``renew_due``
runs there (so invoices, retries and revocations carry the time they were due), and it moves
on. A period
that passes several boundaries renews once per boundary.

Processes. Each process keeps the time in its ``SandboxClock``: loaded from the row when the
runtime is built (``bootstrap.build_runtime``), set when this process moves it, and re-read by
``read_clock``, ``advance_clock`` and ``renew_due`` (so the worker follows the API). Other use
cases in *another* process see a move at its next clock read or renewal run: run the sandbox
with one API process, as ``make run`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.services import renewals
from seatledger.services.runtime import Runtime
from seatledger.services.sandbox_clock import Settable, store_time, stored_time


def _require_sandbox(rt: Runtime) -> Settable:
    if not rt.settings.sandbox:
        raise NotFound("sandbox clock")
    clock = rt.clock
    if not callable(getattr(clock, "set", None)):
        raise NotFound("sandbox clock")
    return clock  # type: ignore[return-value]


async def _next_due(rt: Runtime) -> datetime | None:
    """The earliest time something falls due: a period's end, a payment attempt or a quarter
    of a quarterly true-up."""
    async with rt.reading() as uow:
        period_end, attempt = await uow.subscriptions.earliest_due()
        quarter = await uow.true_ups.earliest_quarter()
    times = [value for value in (period_end, attempt, quarter) if value is not None]
    return min(times) if times else None


async def read_clock(rt: Runtime) -> datetime:
    """The sandbox's current time (``NotFound`` when the sandbox is off)."""
    clock = _require_sandbox(rt)
    stored = await stored_time(rt)
    if stored is not None:
        clock.set(stored)
        return stored
    return clock.now()


async def advance_clock(rt: Runtime, now: datetime) -> tuple[datetime, list[str]]:
    """Move the sandbox clock forward to ``now``, running what falls due on the way (module
    docstring). Answers the new time and the subscriptions renewed, once per renewal, in
    order."""
    clock = _require_sandbox(rt)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationFailed.field("now", "must be a time with a time zone (ISO 8601)")
    try:
        target = now.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset: before the first UTC instant
        raise ValidationFailed.field("now", "is out of range") from None
    current = await read_clock(rt)
    if target < current:
        raise ValidationFailed.field(
            "now", f"must not be before the sandbox clock's time ({current.isoformat()})"
        )
    renewed: list[str] = []
    while True:
        due = await _next_due(rt)
        if due is None or due > target:
            break
        step = max(due, clock.now())
        await store_time(rt, clock, step)
        renewed += await renewals.renew_due(rt)
        after = await _next_due(rt)
        if after is not None and after <= step:
            break  # held elsewhere (another process has it locked): the final run retries
    await store_time(rt, clock, target)
    renewed += await renewals.renew_due(rt)
    return target, renewed


__all__ = ["advance_clock", "read_clock"]
