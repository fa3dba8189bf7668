"""Benefit grants: what a seat holder received on claim; revoked with the seat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

GrantStatus = Literal["granted", "revoked"]


@dataclass(frozen=True, slots=True)
class BenefitGrant:
    id: str
    seat_id: str
    member_id: str
    benefit_id: str
    benefit_type: str
    status: GrantStatus
    # What the holder gets: a license key, a signed download link, access properties, a note.
    properties: dict[str, Any]
    granted_at: datetime
    revoked_at: datetime | None
