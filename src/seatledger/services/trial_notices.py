"""Announcing a trial's end: ``subscription.trial_will_end``, once per trial, ``NOTICE`` before
the trial ends (at once for a trial shorter than that).

Run with the renewals (``seatledger.services.renewals.run_due``: the worker, and every move of
the sandbox clock), before them: a trial that has already ended when the run comes is renewed,
not announced. A trial that cancels at its end is not announced (nothing is charged then).
Runs on one PostgreSQL database share the work: rows are taken with ``SKIP LOCKED`` and marked
in the transaction that emits their events.
"""

from __future__ import annotations

from datetime import timedelta

from seatledger.domain.events import EventType
from seatledger.services.runtime import Runtime

NOTICE = timedelta(days=3)
BATCH_SIZE = 500


async def announce_trial_ends(rt: Runtime, *, batch_size: int = BATCH_SIZE) -> list[str]:
    """Emit ``subscription.trial_will_end`` for every trial due for it now; answers their ids."""
    now = rt.clock.now()
    announced: list[str] = []
    while True:
        async with rt.transaction() as uow:
            rows = await uow.subscriptions.trials_ending(now, now + NOTICE, batch_size)
            if not rows:
                return announced
            for row in rows:
                uow.emit(EventType.SUBSCRIPTION_TRIAL_WILL_END, row)
            await uow.subscriptions.mark_trials_notified([row.id for row in rows], now)
            await uow.commit()
        announced += [row.id for row in rows]


__all__ = ["NOTICE", "announce_trial_ends"]
