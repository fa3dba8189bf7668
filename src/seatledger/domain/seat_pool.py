"""A seat pool: the seats one subscription or one order bought, and how many are assigned.

    take ──▶ assigned_seats + 1   (refused: no company yet, canceled, unpaid order, full)
    release ──▶ assigned_seats − 1 (a seat was revoked: it is free again)
    grow(n) / shrink(n) ──▶ seats ± n within the price's minimum and maximum, never below the
                            assigned seats (``members`` mode and seat-count changes)

A pool shares its owner's id. Its counts live only in ``seat_pools``; who may assign (the
owner's company and status) and its price are the owner's, read alongside. The methods state
the rules and are what the use cases call to name a refusal; under concurrency the database
enforces the same rules atomically (see ``seatledger.adapters.db.seat_pools``):

* capacity: the conditional ``UPDATE seat_pools SET assigned_seats = assigned_seats + 1 WHERE
  assigned_seats < seats AND <owner assignable>`` (``SeatPools.take``), behind it the CHECK
  ``assigned_seats <= seats``;
* release: ``UPDATE seat_pools SET assigned_seats = assigned_seats - 1`` with the revoking
  statement (``seatledger.adapters.db.revocation``), the CHECK ``assigned_seats >= 0`` behind it;
* growing and shrinking: the pool's and the subscription's row locks (``lock_subscription``),
  then ``SeatPools.resize``, guarded by ``assigned_seats + delta <= seats``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from seatledger.domain.errors import (
    CompanyRequired,
    NoSeatsAvailable,
    OrderNotPaid,
    SeatLimitReached,
    SeatsBelowAssigned,
    SubscriptionNotActive,
    ValidationFailed,
)
from seatledger.pricing import MAX_SEATS

PoolKind = Literal["subscription", "order"]
POOL_KINDS: tuple[PoolKind, ...] = ("subscription", "order")


@dataclass(frozen=True, slots=True)
class PoolRef:
    """Which pool a request names: a subscription's or an order's, by the owner's id."""

    kind: PoolKind
    id: str

    @property
    def noun(self) -> str:
        return self.kind

    @property
    def field(self) -> str:
        """The request field that named the pool (for 404s)."""
        return f"{self.kind}_id"

    @classmethod
    def of(cls, subscription_id: str | None, order_id: str | None) -> PoolRef:
        """The pool named by exactly one of ``subscription_id`` and ``order_id``."""
        if (subscription_id is None) == (order_id is None):
            raise ValidationFailed.field(
                "subscription_id", "give exactly one of subscription_id or order_id"
            )
        if subscription_id is not None:
            return cls("subscription", subscription_id)
        assert order_id is not None
        return cls("order", order_id)


@dataclass(frozen=True, slots=True)
class SeatPool:
    id: str
    kind: PoolKind
    company_id: str | None  # the owner's
    price_id: str  # the owner's
    owner_status: str  # the subscription's (active, past_due, canceled) or the order's
    seats: int
    assigned_seats: int

    @property
    def ref(self) -> PoolRef:
        return PoolRef(self.kind, self.id)

    @property
    def available_seats(self) -> int:
        return self.seats - self.assigned_seats

    def check_assignable(self) -> None:
        """Seats are assigned only in a company's pool, of a subscription that is not
        canceled (past due and cancel-at-period-end still assign) or of a paid order."""
        if self.company_id is None:
            raise CompanyRequired(f"This {self.kind} is not attached to a company yet.")
        if self.kind == "subscription" and self.owner_status == "canceled":
            raise SubscriptionNotActive()
        if self.kind == "order" and self.owner_status != "paid":
            raise OrderNotPaid()

    def take(self) -> SeatPool:
        """One more seat assigned; refused when the pool may not assign or is full."""
        self.check_assignable()
        if self.assigned_seats >= self.seats:
            raise NoSeatsAvailable(f"Every seat of this {self.kind} is assigned.")
        return replace(self, assigned_seats=self.assigned_seats + 1)

    def release(self) -> SeatPool:
        """A revoked seat is free again."""
        if self.assigned_seats <= 0:
            raise ValueError("release of a pool with no assigned seat")
        return replace(self, assigned_seats=self.assigned_seats - 1)

    def grow(self, n: int, *, maximum: int | None) -> SeatPool:
        """``n`` more seats bought, up to the price's maximum (unlimited: ``MAX_SEATS``).
        An order's seat count never changes: more seats are a new order."""
        if self.kind != "subscription":
            raise NoSeatsAvailable(f"Every seat of this {self.kind} is assigned.")
        highest = MAX_SEATS if maximum is None else maximum
        if self.seats + n > highest:
            raise SeatLimitReached(f"This subscription has its maximum of {highest} seats.")
        return replace(self, seats=self.seats + n)

    def shrink(self, n: int, *, minimum: int) -> SeatPool:
        """Up to ``n`` seats fewer: never below the price's minimum, one seat, or the seats
        assigned (a pool at that floor stays as it is)."""
        return replace(self, seats=max(self.seats - n, minimum, self.assigned_seats, 1))

    def resize(self, seats: int) -> SeatPool:
        """A seat count set by a change: never below the seats assigned."""
        if seats < self.assigned_seats:
            raise SeatsBelowAssigned()
        return replace(self, seats=seats)


__all__ = ["POOL_KINDS", "PoolKind", "PoolRef", "SeatPool"]
