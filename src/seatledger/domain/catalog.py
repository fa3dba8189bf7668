"""What a merchant sells: products, their immutable price versions, and benefits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from seatledger.pricing import SeatPrice

ProrationBehavior = Literal["invoice", "prorate", "next_period", "true_up"]
# How often an annual subscription's true-up is invoiced: at renewal (None) or each quarter.
TrueUpInterval = Literal["quarter"]
BenefitType = Literal["file_download", "license_key", "access_grant", "custom"]
BENEFIT_TYPES: tuple[str, ...] = ("file_download", "license_key", "access_grant", "custom")
PRORATION_BEHAVIORS: tuple[str, ...] = ("invoice", "prorate", "next_period", "true_up")
TRUE_UP_INTERVALS: tuple[str, ...] = ("quarter",)


@dataclass(frozen=True, slots=True)
class Price:
    """One version of a product's price. Never edited: archived, and replaced by a new version."""

    id: str
    product_id: str
    version: int
    seat_price: SeatPrice
    archived_at: datetime | None
    created_at: datetime

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str
    description: str | None
    prices: tuple[Price, ...]
    benefit_ids: tuple[str, ...]
    proration_increase: ProrationBehavior
    proration_decrease: ProrationBehavior
    created_at: datetime
    true_up_interval: TrueUpInterval | None = None


@dataclass(frozen=True, slots=True)
class Benefit:
    id: str
    type: BenefitType
    description: str
    properties: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
