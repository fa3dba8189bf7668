"""The tier editor's form (SPEC §2, §11): a seat price as form fields, and back.

Amounts are typed in the currency's minor unit (cents), as the API takes them: no decimal
point to parse, nothing rounded. Each tier is a row of ``up_to`` (empty: no upper bound),
``unit_amount`` and ``flat_amount``. The editor's buttons are submits (``action``): add a row,
remove one, preview, create; so it works without JavaScript.

The price preview comes from the pricing package itself (``SeatPrice.period_amount`` and
``lines``): volume and graduated totals side by side for seats 1..N, and the lines of any one
seat count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from starlette.datastructures import FormData

from seatledger.pricing import InvalidPrice, SeatPrice
from seatledger.pricing.price import Line
from seatledger.web.dashboard.forms import field as form_field
from seatledger.web.dashboard.forms import fields, whole_number

MAX_ROWS = 50
MAX_PREVIEW = 100
DEFAULT_PREVIEW = 20


@dataclass
class TierRow:
    up_to: str = ""
    unit_amount: str = "0"
    flat_amount: str = "0"


@dataclass
class PriceForm:
    """The editor's fields, as typed."""

    currency: str = "usd"
    interval: str = "month"  # month | year | one_time
    tiers_mode: str = "volume"
    base_amount: str = "0"
    included_seats: str = "0"
    minimum_seats: str = "1"
    maximum_seats: str = ""
    seat_sync: str = "manual"
    trial_days: str = ""  # empty: no trial
    tiers: list[TierRow] = field(default_factory=lambda: [TierRow()])
    preview_seats: str = str(DEFAULT_PREVIEW)
    quote_seats: str = ""

    @classmethod
    def read(cls, form: FormData) -> PriceForm:
        columns = [
            fields(form, name)[:MAX_ROWS] for name in ("up_to", "unit_amount", "flat_amount")
        ]
        # A row's missing cell (a form built by hand) is empty, as a blank one: no upper
        # bound, an amount of 0.
        rows = zip(*(column + [""] * (MAX_ROWS - len(column)) for column in columns), strict=True)
        count = min(max(len(column) for column in columns), MAX_ROWS)
        tiers = [TierRow(*row) for row in rows][:count]
        values = {
            name: form_field(form, name)
            for name in (
                "currency",
                "base_amount",
                "included_seats",
                "minimum_seats",
                "maximum_seats",
                "trial_days",
                "preview_seats",
                "quote_seats",
            )
        }
        # A choice left out (a form built by hand) is the editor's default choice.
        for choice in ("interval", "tiers_mode", "seat_sync"):
            if chosen := form_field(form, choice):
                values[choice] = chosen
        return cls(**values, tiers=tiers or [TierRow()])

    def with_action(self, action: str) -> PriceForm:
        """The form after an editing button: a row added or removed."""
        if action == "add_row" and len(self.tiers) < MAX_ROWS:
            return replace(self, tiers=[*self.tiers, TierRow()])
        if action.startswith("remove_row:") and len(self.tiers) > 1:
            index = whole_number(action.removeprefix("remove_row:"))
            if isinstance(index, int) and 0 <= index < len(self.tiers):
                return replace(self, tiers=[t for i, t in enumerate(self.tiers) if i != index])
        return self

    def mapping(self) -> dict[str, Any]:
        """The price as the API's JSON takes it; the catalog checks every field."""
        return {
            "currency": self.currency.strip().lower(),
            "interval": None if self.interval == "one_time" else self.interval,
            "tiers_mode": self.tiers_mode,
            "tiers": [
                {
                    "up_to": None if not row.up_to.strip() else whole_number(row.up_to),
                    "unit_amount": whole_number(row.unit_amount or "0"),
                    "flat_amount": whole_number(row.flat_amount or "0"),
                }
                for row in self.tiers
            ],
            "base_amount": whole_number(self.base_amount or "0"),
            "included_seats": whole_number(self.included_seats or "0"),
            "minimum_seats": whole_number(self.minimum_seats or "1"),
            "maximum_seats": None
            if not self.maximum_seats.strip()
            else whole_number(self.maximum_seats),
            "seat_sync": self.seat_sync,
            "trial_days": None if not self.trial_days.strip() else whole_number(self.trial_days),
        }


def form_of(price: SeatPrice) -> PriceForm:
    """A price's fields in the editor (a new version starts from the latest one)."""
    return PriceForm(
        currency=price.currency,
        interval=price.interval or "one_time",
        tiers_mode=price.tiers_mode,
        base_amount=str(price.base_amount),
        included_seats=str(price.included_seats),
        minimum_seats=str(price.minimum_seats),
        maximum_seats="" if price.maximum_seats is None else str(price.maximum_seats),
        seat_sync=price.seat_sync,
        trial_days="" if price.trial_days is None else str(price.trial_days),
        tiers=[
            TierRow("" if t.up_to is None else str(t.up_to), str(t.unit_amount), str(t.flat_amount))
            for t in price.tiers
        ],
    )


def invalid_fields(errors: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The service's ``(field, message)`` pairs keyed as the form's inputs are:
    ``prices[0].tiers[1].unit_amount`` → ``tiers[1].unit_amount``."""
    return {name.removeprefix("prices[0]."): message for name, message in errors}


@dataclass(frozen=True)
class PreviewRow:
    seats: int
    volume: int
    graduated: int
    allowed: bool


@dataclass(frozen=True)
class Preview:
    price: SeatPrice
    rows: tuple[PreviewRow, ...]
    quote_seats: int | None
    quote_lines: tuple[Line, ...]
    quote_total: int | None


def _count(text: str, default: int) -> int:
    value = whole_number(text or str(default))
    return min(max(value, 1), MAX_PREVIEW) if isinstance(value, int) else default


def preview(form: PriceForm) -> tuple[Preview | None, dict[str, str]]:
    """The price table of the form's price, or the fields at fault."""
    try:
        price = SeatPrice.from_mapping(form.mapping())
    except InvalidPrice as error:
        return None, invalid_fields(error.errors)
    volume = replace(price, tiers_mode="volume")
    graduated = replace(price, tiers_mode="graduated")
    highest = price.maximum_seats or 10**9
    rows = tuple(
        PreviewRow(
            n,
            volume.period_amount(n),
            graduated.period_amount(n),
            max(1, price.minimum_seats) <= n <= highest,
        )
        for n in range(1, _count(form.preview_seats, DEFAULT_PREVIEW) + 1)
    )
    quote = whole_number(form.quote_seats) if form.quote_seats.strip() else None
    if isinstance(quote, int) and 1 <= quote <= 10_000_000:
        lines, total = price.lines(quote), price.period_amount(quote)
        return Preview(price, rows, quote, lines, total), {}
    return Preview(price, rows, None, (), None), {}


__all__ = ["Preview", "PriceForm", "TierRow", "form_of", "invalid_fields", "preview"]
