"""Input checks shared by the catalog's use cases: each names the field it refuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from seatledger.domain.catalog import (
    PRORATION_BEHAVIORS,
    TRUE_UP_INTERVALS,
    ProrationBehavior,
    TrueUpInterval,
)
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.text import text_problem
from seatledger.pricing import InvalidPrice, SeatPrice

MAX_PRICES = 50
MAX_BENEFITS_PER_PRODUCT = 50
DEFAULT_PRORATION: dict[str, ProrationBehavior] = {"increase": "invoice", "decrease": "prorate"}
DECREASE_BEHAVIORS: tuple[str, ...] = ("invoice", "prorate", "next_period")


def checked_text(value: object, field: str, maximum: int, *, multiline: bool = False) -> str:
    """Text people read: required, at most ``maximum`` characters, without control or formatting
    characters (line breaks only where ``multiline``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.field(field, "is required")
    if len(value) > maximum:
        raise ValidationFailed.field(field, f"must be at most {maximum} characters")
    if (problem := text_problem(value, multiline=multiline)) is not None:
        raise ValidationFailed.field(field, problem)
    return value


def seat_prices(prices: object) -> list[SeatPrice]:
    """Every price checked; all their problems reported together, each naming its field."""
    if not isinstance(prices, Sequence) or isinstance(prices, str | bytes):
        raise ValidationFailed.field("prices", "must be a list of prices")
    if not prices:
        raise ValidationFailed.field("prices", "must hold at least one price")
    if len(prices) > MAX_PRICES:
        raise ValidationFailed.field("prices", f"must hold at most {MAX_PRICES} prices")
    checked: list[SeatPrice] = []
    problems: list[tuple[str, str]] = []
    for i, data in enumerate(prices):
        try:
            checked.append(SeatPrice.from_mapping(data, prefix=f"prices[{i}]."))
        except InvalidPrice as error:
            problems += error.errors
    if problems:
        raise InvalidPrice(problems)
    return checked


def proration_defaults(defaults: object) -> dict[str, ProrationBehavior]:
    """The product's behaviors by direction. ``true_up`` is an increase behavior only; with it,
    decreases wait for the renewal (``next_period``, the default then), since a credit now
    would undo the peak the true-up bills."""
    checked = dict(DEFAULT_PRORATION)
    if defaults is None:
        return checked
    if not isinstance(defaults, Mapping):
        raise ValidationFailed.field("proration_defaults", "must be an object")
    for key, value in defaults.items():
        field = f"proration_defaults.{key}"
        if key == "true_up_interval":
            continue  # checked by ``true_up_interval``
        if key not in DEFAULT_PRORATION:
            raise ValidationFailed.field(
                field, "must be 'increase', 'decrease' or 'true_up_interval'"
            )
        allowed = PRORATION_BEHAVIORS if key == "increase" else DECREASE_BEHAVIORS
        if value not in allowed:
            raise ValidationFailed.field(field, f"must be one of {', '.join(allowed)}")
        checked[key] = cast(ProrationBehavior, value)
    if checked["increase"] == "true_up":
        given = defaults.get("decrease")
        if given is None:
            checked["decrease"] = "next_period"
        elif given != "next_period":
            raise ValidationFailed.field(
                "proration_defaults.decrease",
                "must be next_period when increases are trued up (a decrease waits for the "
                "renewal)",
            )
    return checked


def true_up_interval(
    defaults: object, increase: ProrationBehavior, prices: Sequence[SeatPrice]
) -> TrueUpInterval | None:
    """``proration_defaults.true_up_interval``: None (the true-up is billed at renewal) or
    ``quarter``, which needs true-up increases and yearly prices only."""
    value = defaults.get("true_up_interval") if isinstance(defaults, Mapping) else None
    if value is None:
        return None
    field = "proration_defaults.true_up_interval"
    if value not in TRUE_UP_INTERVALS:
        raise ValidationFailed.field(field, f"must be one of {', '.join(TRUE_UP_INTERVALS)}")
    if increase != "true_up":
        raise ValidationFailed.field(field, "needs proration_defaults.increase true_up")
    if any(price.interval != "year" for price in prices):
        raise ValidationFailed.field(field, "is only valid when every price is yearly")
    return cast(TrueUpInterval, value)


def benefit_ids_of(benefit_ids: object) -> tuple[str, ...]:
    if benefit_ids is None:
        return ()
    if not isinstance(benefit_ids, Sequence) or isinstance(benefit_ids, str | bytes):
        raise ValidationFailed.field("benefit_ids", "must be a list of benefit ids")
    if len(benefit_ids) > MAX_BENEFITS_PER_PRODUCT:
        raise ValidationFailed.field(
            "benefit_ids", f"must hold at most {MAX_BENEFITS_PER_PRODUCT} benefits"
        )
    seen: set[str] = set()
    for i, benefit_id in enumerate(benefit_ids):
        if not isinstance(benefit_id, str):
            raise NotFound("benefit", field=f"benefit_ids[{i}]")
        if benefit_id in seen:
            raise ValidationFailed.field(f"benefit_ids[{i}]", "is listed twice")
        seen.add(benefit_id)
    return tuple(benefit_ids)


__all__ = [
    "DEFAULT_PRORATION",
    "benefit_ids_of",
    "checked_text",
    "proration_defaults",
    "seat_prices",
    "true_up_interval",
]
