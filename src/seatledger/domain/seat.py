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
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from seatledger.domain.errors import InvalidToken, ValidationFailed
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

    @property
    def pool_id(self) -> str:
        """The pool's id is its owner's: the subscription's or the order's."""
        pool_id = self.subscription_id or self.order_id
        assert pool_id is not None  # a seat always belongs to a pool
        return pool_id

    @property
    def live(self) -> bool:
        """Pending or claimed: it takes one of the pool's assigned seats."""
        return self.status != "revoked"

    def claim(self, member_id: str, now: datetime) -> Seat:
        """A pending seat becomes ``member_id``'s; its token dies with the claim. Anything but a
        pending seat refuses as an unknown token would (the claim's one answer to a bad link).
        Enforced by ``UPDATE seats ... WHERE token_hash = :hash AND status = 'pending' AND
        token_expires_at > :now`` (``Seats.take_token``), then ``Seats.mark_claimed``."""
        if self.status != "pending":
            raise InvalidToken()
        return replace(self, status="claimed", member_id=member_id, claimed_at=now, invitation=None)

    def revoke(self, now: datetime) -> Seat:
        """The seat ends, its pool's seat is free again. Revoking a revoked seat changes nothing
        (it keeps its first ``revoked_at``). Enforced by ``UPDATE seats ... WHERE status IN
        ('pending', 'claimed')`` (``Seats.revoke``): of racing revocations one wins."""
        if self.status == "revoked":
            return self
        return replace(self, status="revoked", revoked_at=now, invitation=None)


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
