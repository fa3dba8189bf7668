"""A seat price: what N seats cost for one period (or one order), and its rules.

``billable = max(0, seats - included_seats)``; tier bounds (``up_to``) count billable seats.

* volume: the tier that contains ``billable`` prices every billable seat
  (``billable × unit_amount + flat_amount``);
* graduated: each tier prices the seats in its own range, plus its ``flat_amount`` when any seat
  falls in it;
* ``billable == 0`` costs nothing beyond ``base_amount`` (no flat amount).

A recurring price may start its subscriptions with a free trial of ``trial_days`` days (1 to
``MAX_TRIAL_DAYS``); a one-time price has none (an order is paid when it is bought).

``period_amount(seats) = base_amount + tiered(billable)``.

Prices are immutable values: a change of price is a new price (a new version of the product).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from seatledger.pricing.errors import InvalidPrice, SeatsOutOfRange
from seatledger.pricing.money import currency_exponent

Interval = Literal["month", "year"]
TiersMode = Literal["volume", "graduated"]
SeatSync = Literal["manual", "members"]

# Bounds of what the engine stores: every amount it computes fits a signed 64-bit integer
# (MAX_SEATS × MAX_AMOUNT × a few tiers stays far below 2**63).
MAX_SEATS = 10_000_000
MAX_AMOUNT = 100_000_000_000
MAX_TIERS = 50
MAX_TRIAL_DAYS = 730

_INTERVALS = ("month", "year", None)
_TIERS_MODES = ("volume", "graduated")
_SEAT_SYNCS = ("manual", "members")
_FIELDS = (
    "currency",
    "interval",
    "tiers_mode",
    "tiers",
    "base_amount",
    "included_seats",
    "minimum_seats",
    "maximum_seats",
    "seat_sync",
    "trial_days",
)
_TIER_FIELDS = ("up_to", "unit_amount", "flat_amount")
_ONE_TIME_MEMBERS = "a one-time price cannot follow members: an order never changes its seat count"


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: int | None
    unit_amount: int
    flat_amount: int = 0


@dataclass(frozen=True, slots=True)
class Line:
    """One priced line: ``amount == quantity × unit_amount`` for base and seat lines."""

    kind: Literal["base", "seats", "proration", "credit"]
    description: str
    quantity: int
    unit_amount: int
    amount: int


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount_problem(value: object) -> str | None:
    if not _is_int(value):
        return "must be an integer amount in the currency's minor unit"
    assert isinstance(value, int)
    if value < 0:
        return "must be 0 or more"
    if value > MAX_AMOUNT:
        return f"must be at most {MAX_AMOUNT}"
    return None


def _count_problem(value: object, minimum: int) -> str | None:
    if not _is_int(value):
        return "must be a whole number"
    assert isinstance(value, int)
    if value < minimum:
        return f"must be at least {minimum}"
    if value > MAX_SEATS:
        return f"must be at most {MAX_SEATS}"
    return None


@dataclass(frozen=True, slots=True)
class SeatPrice:
    currency: str
    interval: Interval | None
    tiers: tuple[Tier, ...]
    tiers_mode: TiersMode = "volume"
    base_amount: int = 0
    included_seats: int = 0
    minimum_seats: int = 1
    maximum_seats: int | None = None
    seat_sync: SeatSync = "manual"
    trial_days: int | None = None  # a free first period of this many days (recurring only)
    # Tiers flattened to (up_to, unit, flat) tuples for the hot path.
    _rows: tuple[tuple[int | None, int, int], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        problems = list(_price_problems(self))
        if problems:
            raise InvalidPrice(problems)
        rows = tuple((t.up_to, t.unit_amount, t.flat_amount) for t in self.tiers)
        object.__setattr__(self, "_rows", rows)

    # -- construction from and to plain data (JSON objects) -----------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, prefix: str = "") -> SeatPrice:
        """Build a price from its JSON shape (SPEC §2); every error names its field."""
        problems: list[tuple[str, str]] = []
        if not isinstance(data, Mapping):
            raise InvalidPrice([(prefix.rstrip(".") or "price", "must be an object")])
        problems += [(f"{prefix}{k}", "is not a price field") for k in data if k not in _FIELDS]
        for required in ("currency", "interval", "tiers"):
            if required not in data:
                problems.append((f"{prefix}{required}", "is required"))
        raw_tiers = data.get("tiers", [])
        tiers: list[Tier] = []
        if not isinstance(raw_tiers, list):
            problems.append((f"{prefix}tiers", "must be a list of tiers"))
        else:
            for i, raw in enumerate(raw_tiers):
                if not isinstance(raw, Mapping):
                    problems.append((f"{prefix}tiers[{i}]", "must be an object"))
                    continue
                problems += [
                    (f"{prefix}tiers[{i}].{k}", "is not a tier field")
                    for k in raw
                    if k not in _TIER_FIELDS
                ]
                for required in ("up_to", "unit_amount"):
                    if required not in raw:
                        problems.append((f"{prefix}tiers[{i}].{required}", "is required"))
                tiers.append(
                    Tier(raw.get("up_to"), raw.get("unit_amount", 0), raw.get("flat_amount", 0))
                )
        if problems:
            raise InvalidPrice(problems)
        kwargs = {k: data[k] for k in _FIELDS if k in data and k != "tiers"}
        try:
            return cls(tiers=tuple(tiers), **kwargs)
        except InvalidPrice as error:
            raise InvalidPrice([(prefix + f, m) for f, m in error.errors]) from None

    def to_mapping(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "interval": self.interval,
            "tiers_mode": self.tiers_mode,
            "tiers": [
                {"up_to": t.up_to, "unit_amount": t.unit_amount, "flat_amount": t.flat_amount}
                for t in self.tiers
            ],
            "base_amount": self.base_amount,
            "included_seats": self.included_seats,
            "minimum_seats": self.minimum_seats,
            "maximum_seats": self.maximum_seats,
            "seat_sync": self.seat_sync,
            "trial_days": self.trial_days,
        }

    # -- the rules ------------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def check_seats(self, seats: object, *, field: str = "seats") -> int:
        """The seat count if this price allows it, else ``SeatsOutOfRange`` naming ``field``."""
        if not _is_int(seats):
            raise SeatsOutOfRange([(field, "must be a whole number of seats")])
        assert isinstance(seats, int)
        lowest = max(1, self.minimum_seats)
        highest = MAX_SEATS if self.maximum_seats is None else self.maximum_seats
        if seats < lowest:
            raise SeatsOutOfRange([(field, f"must be at least {lowest}")])
        if seats > highest:
            raise SeatsOutOfRange([(field, f"must be at most {highest}")])
        return seats

    def period_amount(self, seats: int) -> int:
        """What ``seats`` seats cost for one period (or one order), in minor units."""
        billable = seats - self.included_seats
        if billable <= 0:
            return self.base_amount
        if self.tiers_mode == "volume":
            for up_to, unit, flat in self._rows:
                if up_to is None or billable <= up_to:
                    return self.base_amount + billable * unit + flat
        total = self.base_amount
        lower = 0
        for up_to, unit, flat in self._rows:
            if up_to is None or billable <= up_to:
                return total + (billable - lower) * unit + flat
            total += (up_to - lower) * unit + flat
            lower = up_to
        raise AssertionError("the last tier is unbounded")  # pragma: no cover - validated

    def lines(self, seats: int) -> tuple[Line, ...]:
        """The invoice lines of one period: base fee, one line per tier used, flat fees."""
        lines: list[Line] = []
        if self.base_amount > 0:
            included = f" (includes {_seats(self.included_seats)})" if self.included_seats else ""
            lines.append(Line("base", f"Base fee{included}", 1, self.base_amount, self.base_amount))
        billable = seats - self.included_seats
        if billable <= 0:
            return tuple(lines)
        offset = self.included_seats
        lower = 0
        for number, (up_to, unit, flat) in enumerate(self._rows, start=1):
            within = up_to is None or billable <= up_to
            if self.tiers_mode == "volume":
                if not within:
                    continue
                first, count = offset + 1, billable
            else:
                top = billable if within else up_to
                assert top is not None
                first, count = offset + lower + 1, top - lower
            last = first + count - 1
            span = f"Seat {first}" if count == 1 else f"Seats {first}–{last}"
            lines.append(Line("seats", f"{span} (tier {number})", count, unit, count * unit))
            if flat:
                lines.append(Line("seats", f"Tier {number} flat fee", 1, flat, flat))
            if within:
                break
            assert up_to is not None
            lower = up_to
        return tuple(lines)


def _seats(n: int) -> str:
    return "1 seat" if n == 1 else f"{n} seats"


def _price_problems(price: SeatPrice) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    try:
        currency_exponent(price.currency)
    except InvalidPrice as error:
        problems += error.errors
    if price.interval not in _INTERVALS:
        problems.append(("interval", "must be 'month', 'year', or null for a one-time price"))
    if price.tiers_mode not in _TIERS_MODES:
        problems.append(("tiers_mode", "must be 'volume' or 'graduated'"))
    if price.seat_sync not in _SEAT_SYNCS:
        problems.append(("seat_sync", "must be 'manual' or 'members'"))
    elif price.seat_sync == "members" and price.interval is None:
        problems.append(("seat_sync", _ONE_TIME_MEMBERS))
    for name in ("base_amount",):
        if (problem := _amount_problem(getattr(price, name))) is not None:
            problems.append((name, problem))
    if (problem := _count_problem(price.included_seats, 0)) is not None:
        problems.append(("included_seats", problem))
    if (problem := _count_problem(price.minimum_seats, 1)) is not None:
        problems.append(("minimum_seats", problem))
    if price.maximum_seats is not None:
        if (problem := _count_problem(price.maximum_seats, 1)) is not None:
            problems.append(("maximum_seats", problem))
        elif _is_int(price.minimum_seats) and price.maximum_seats < price.minimum_seats:
            problems.append(("maximum_seats", "must be at least minimum_seats"))
    problems += _trial_problems(price)
    problems += _tier_problems(price.tiers)
    return problems


def _trial_problems(price: SeatPrice) -> list[tuple[str, str]]:
    days = price.trial_days
    if days is None:
        return []
    if not _is_int(days) or not 1 <= days <= MAX_TRIAL_DAYS:
        return [("trial_days", f"must be a whole number of days from 1 to {MAX_TRIAL_DAYS}")]
    if price.interval is None:
        return [("trial_days", "a one-time price has no trial: an order is paid when bought")]
    return []


def _tier_problems(tiers: object) -> list[tuple[str, str]]:
    if not isinstance(tiers, tuple) or not tiers:
        return [("tiers", "must hold at least one tier")]
    if len(tiers) > MAX_TIERS:
        return [("tiers", f"must hold at most {MAX_TIERS} tiers")]
    problems: list[tuple[str, str]] = []
    previous: int | None = 0
    for i, tier in enumerate(tiers):
        if not isinstance(tier, Tier):
            problems.append((f"tiers[{i}]", "must be a tier"))
            continue
        last = i == len(tiers) - 1
        if tier.up_to is None:
            if not last:
                problems.append((f"tiers[{i}].up_to", "only the last tier may be unbounded (null)"))
            previous = None
        elif last:
            problems.append((f"tiers[{i}].up_to", "the last tier must be unbounded (null)"))
        elif (problem := _count_problem(tier.up_to, 1)) is not None:
            problems.append((f"tiers[{i}].up_to", problem))
            previous = None
        else:
            if previous is not None and tier.up_to <= previous:
                problems.append(
                    (f"tiers[{i}].up_to", f"must be greater than the previous tier's ({previous})")
                )
            previous = tier.up_to
        for name in ("unit_amount", "flat_amount"):
            if (problem := _amount_problem(getattr(tier, name))) is not None:
                problems.append((f"tiers[{i}].{name}", problem))
    return problems
