"""The delivery backlog as an operator watches it (``/metrics``): events waiting in the outbox,
the age of the oldest, and the webhook endpoints failing every delivery — ages by the
runtime's clock, the one the rows were written by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class BacklogAges:
    undelivered: int
    oldest_undelivered_seconds: float  # 0 when nothing waits
    failing_endpoints: int
    longest_failing_seconds: float  # 0 when no endpoint fails


async def backlog(rt: Runtime) -> BacklogAges:
    async with rt.reading() as uow:
        found = await uow.backlog.read()
    now = rt.clock.now()

    def age(since: datetime | None) -> float:
        return 0.0 if since is None else max(0.0, (now - since).total_seconds())

    return BacklogAges(
        undelivered=found.undelivered,
        oldest_undelivered_seconds=age(found.oldest_undelivered_at),
        failing_endpoints=found.failing_endpoints,
        longest_failing_seconds=age(found.failing_since),
    )


__all__ = ["BacklogAges", "backlog"]
