"""Outgoing webhooks' rules (SPEC §10): which events an endpoint hears, when a failed delivery
is tried again, when an endpoint is disabled, and which addresses are never called.

A delivery's life, one per (endpoint, catalogued event)::

    pending ──2xx──▶ succeeded
       │
       └─anything else─▶ pending again after RETRY_DELAYS[attempts - 1] ── … ──▶ failed

Eight attempts in all: the first, then one after each delay (5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 10 h), counted by the runtime clock from the previous failure. An endpoint whose every
delivery has failed for ``DISABLE_AFTER`` (since ``failing_since``, reset by any success) is
disabled.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from seatledger.domain.events import ALL_EVENTS, EVENT_TYPES, OutboxEvent

DeliveryStatus = Literal["pending", "succeeded", "failed"]

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
DISABLE_AFTER = timedelta(days=5)
# A rotated-out secret keeps signing beside the new one this long (runtime clock).
ROTATION_OVERLAP = timedelta(hours=24)
SEND_TIMEOUT = 10.0  # seconds: a 2xx later than this is a failure


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    url: str
    event_types: tuple[str, ...]
    created_at: datetime
    description: str | None = None
    enabled: bool = True
    secret: str = ""  # filled only in the answers to the creation and to a rotation


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery with what sending it needs: its endpoint's URL and secrets, its event."""

    delivery_id: str
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    lease_expires_at: datetime | None
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    event: OutboxEvent

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign it at ``now``: the previous one too during a rotation."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            return (self.secret, self.previous_secret)
        return (self.secret,)


def hears(event_types: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``event_types`` hears a catalogued ``event_type``."""
    return event_type in EVENT_TYPES and (ALL_EVENTS in event_types or event_type in event_types)


def after_failure(attempts: int, now: datetime) -> tuple[DeliveryStatus, datetime | None]:
    """The status and next attempt of a delivery whose ``attempts``-th attempt just failed."""
    if attempts <= len(RETRY_DELAYS):
        return "pending", now + RETRY_DELAYS[attempts - 1]
    return "failed", None


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    """Whether an endpoint failing since ``failing_since`` has failed long enough to stop."""
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def forbidden_address(address: IpAddress) -> bool:
    """Whether a webhook may not be sent to ``address``: loopback, private, link-local,
    multicast, unspecified or otherwise not global (an IPv4 address mapped into IPv6 is judged
    as itself), so that an endpoint's URL cannot reach the instance's own network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
    )


__all__ = [
    "DISABLE_AFTER",
    "RETRY_DELAYS",
    "ROTATION_OVERLAP",
    "SEND_TIMEOUT",
    "DeliveryStatus",
    "IpAddress",
    "after_failure",
    "forbidden_address",
    "hears",
    "should_disable",
]
