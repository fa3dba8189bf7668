"""Seats: the right to use a product, in one pool, held by at most one member.

    pending ──claim──▶ claimed
       │                  │
       └──────revoke──────┴──▶ revoked   (final; the pool's seat is free again)

A seat row exists from the moment a seat is assigned (a purchase creates none). A pending seat
carries an invitation token: random (≥ 128 bits), stored only as its SHA-256, single use,
expiring. Benefits are granted on claim, to the holder, and revoked with the seat.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.json_value import check_json

SeatStatus = Literal["pending", "claimed", "revoked"]

MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Invitation:
    url: str
    token: str  # the plain token: shown once, never stored
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Seat:
    id: str
    company_id: str
    subscription_id: str | None
    order_id: str | None
    member_id: str | None
    email: str
    status: SeatStatus
    metadata: dict[str, Any]
    created_at: datetime
    claimed_at: datetime | None
    revoked_at: datetime | None
    invitation: Invitation | None = None  # only in the answers to assign and resend


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_metadata(metadata: object, *, field: str = "metadata") -> dict[str, Any]:
    """Small merchant metadata: at most 20 string keys with string, number or boolean values."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ValidationFailed.field(field, "must be an object")
    check_json(metadata, field)
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationFailed.field(field, f"must have at most {MAX_METADATA_KEYS} keys")
    for key, value in metadata.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_METADATA_KEY_LENGTH:
            raise ValidationFailed.field(
                field, f"keys must be 1 to {MAX_METADATA_KEY_LENGTH} characters"
            )
        if isinstance(value, str):
            if len(value) > MAX_METADATA_VALUE_LENGTH:
                raise ValidationFailed.field(
                    f"{field}.{key}", f"must be at most {MAX_METADATA_VALUE_LENGTH} characters"
                )
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            continue  # within ±2^53 (check_json)
        else:
            raise ValidationFailed.field(
                f"{field}.{key}", "must be a string, an integer, a boolean or null"
            )
    return dict(metadata)
