"""A seat-count rise under true-up, as recorded for its period (``seatledger.pricing.true_up``
prices it): billed later, for the time held, on the invoice ``bill_at`` falls on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.pricing import Period, SeatStep


@dataclass(frozen=True, slots=True)
class TrueUp:
    subscription_id: str
    price_id: str  # the price the rise is priced at (the subscription's, when it rose)
    period: Period
    step: SeatStep
    bill_at: datetime  # the renewal (the period's end) or, quarterly, the quarter's end
