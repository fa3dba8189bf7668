"""Fanning the outbox out for the channels' tests: the delivery loop's own dispatch
(``seatledger.services.delivery``), batch after batch until nothing is left."""

from __future__ import annotations

from collections.abc import Sequence

from seatledger.services import delivery, emails
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime


async def fan_out_undelivered(rt: Runtime, channels: Sequence[Channel] = (emails.CHANNEL,)) -> int:
    """Fan out every undelivered outbox event; answers how many."""
    total = 0
    while delivered := await delivery.dispatch(rt, channels):
        total += delivered
    return total
