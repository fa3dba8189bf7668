"""Benefit grants: what a seat holder received on claim; revoked with the seat.

    granted ──(seat revoked, member removed, subscription canceled)──▶ revoked   (final)

One grant per benefit of the seat's product, created when the seat is claimed (never at
purchase). What the holder gets depends on the benefit's type:

* ``license_key``: a key generated for this grant alone (unique across the instance);
* ``file_download``: the file's id and name; a signed, expiring download link is added each time
  the grant is read, and dies with the grant;
* ``access_grant``: the benefit's properties, handed to the merchant through events;
* ``custom``: the merchant's note.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

GrantStatus = Literal["granted", "revoked"]

LICENSE_KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
LICENSE_KEY_GROUP = 4
DEFAULT_LICENSE_KEY_LENGTH = 16  # random characters: 80 bits
MIN_LICENSE_KEY_LENGTH = 12
MAX_LICENSE_KEY_LENGTH = 32
MAX_LICENSE_KEY_PREFIX = 20
LICENSE_KEY_PREFIX = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,18}[A-Za-z0-9])?")


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


@dataclass(frozen=True, slots=True)
class GrantableBenefit:
    """A benefit of a product as a grant is made from it, with the file it names (if any)."""

    id: str
    type: str
    properties: dict[str, Any]  # the merchant's, as stored (JSON)
    file_name: str | None = None
    file_content_type: str | None = None
    file_size: int | None = None


@dataclass(frozen=True, slots=True)
class HeldSeat:
    """A member's claimed seat with its product, and one of its live grants (None: the
    product has no benefits)."""

    seat_id: str
    product_id: str
    product_name: str
    grant: BenefitGrant | None


@dataclass(frozen=True, slots=True)
class ProductEntitlement:
    """One product a member holds: the claimed seats that give it, and the live grants."""

    product_id: str
    name: str
    seat_ids: tuple[str, ...]
    benefits: tuple[BenefitGrant, ...]


@dataclass(frozen=True, slots=True)
class MemberEntitlements:
    """What one member holds, product by product (only claimed seats and live grants)."""

    member_id: str
    company_id: str
    products: tuple[ProductEntitlement, ...]


def new_license_key(prefix: str | None = None, length: int = DEFAULT_LICENSE_KEY_LENGTH) -> str:
    """``PREFIX-XXXX-XXXX-XXXX-XXXX``: ``length`` random base32 characters in groups of four.

    The random part alone carries ``5 × length`` bits; the database's unique index on the key is
    the final guard.
    """
    chars = "".join(secrets.choice(LICENSE_KEY_ALPHABET) for _ in range(length))
    groups = [chars[i : i + LICENSE_KEY_GROUP] for i in range(0, length, LICENSE_KEY_GROUP)]
    return "-".join([prefix, *groups] if prefix else groups)
