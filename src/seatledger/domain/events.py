"""The events a merchant can hear of (SPEC §10): a closed catalogue.

These are the types of ``GET /v1/events``, of outgoing webhooks and of a webhook endpoint's
``event_types`` (where ``*`` stands for all of them). The outbox also carries internal records
(``invitation.email``, ``product.created``, …) that are not part of the catalogue and are never
offered to endpoints.

Typed events. A use case records a catalogued event with the domain object it is about
(``uow.emit(EventType.SEAT_CLAIMED, seat)``); the unit of work serialises it once, at emit
time, with the runtime's ``EventRenderer``, and the outbox keeps the result: the event's
``data``, never rendered again. The API's renderer (``seatledger.api.event_rendering``) makes it
the object as the API answers it, by the routers' own response models; the composition roots
(``seatledger serve`` and ``worker``, ``create_app``) give it to the runtime. ``plain_payload``
is the default of a runtime built without one: the object's own fields, JSON-ready, without
the invitation (a token never enters the outbox through an event). Internal records keep plain
dict payloads, stored as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from seatledger.domain.clock import format_timestamp


class EventType(StrEnum):
    CHECKOUT_COMPLETED = "checkout.completed"
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_UPDATED = "subscription.updated"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_PAST_DUE = "subscription.past_due"
    SUBSCRIPTION_CANCELED = "subscription.canceled"
    SUBSCRIPTION_TRIAL_WILL_END = "subscription.trial_will_end"
    SUBSCRIPTION_SEATS_DRIFT_DETECTED = "subscription.seats_drift_detected"
    ORDER_PAID = "order.paid"
    INVOICE_PAID = "invoice.paid"
    INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
    SEAT_ASSIGNED = "seat.assigned"
    SEAT_INVITATION_RESENT = "seat.invitation_resent"
    SEAT_CLAIMED = "seat.claimed"
    SEAT_REVOKED = "seat.revoked"
    SEAT_USAGE_THRESHOLD_REACHED = "seat.usage_threshold_reached"
    BENEFIT_GRANT_CREATED = "benefit_grant.created"
    BENEFIT_GRANT_REVOKED = "benefit_grant.revoked"
    MEMBER_ADDED = "member.added"
    MEMBER_REMOVED = "member.removed"
    COMPANY_CREATED = "company.created"
    COMPANY_UPDATED = "company.updated"


EVENT_TYPES: frozenset[str] = frozenset(EventType)
ALL_EVENTS = "*"  # in an endpoint's ``event_types``: every type of the catalogue


def unknown_event_types(event_types: object) -> list[tuple[int, object]]:
    """The ``(index, value)`` of every entry that is neither a catalogued type nor ``*``."""
    if not isinstance(event_types, list | tuple):
        return []
    return [
        (i, value)
        for i, value in enumerate(event_types)
        if not (isinstance(value, str) and (value == ALL_EVENTS or value in EVENT_TYPES))
    ]


# ``(event_type, obj) -> data``: a domain object as a catalogued event carries it (JSON-ready).
EventRenderer = Callable[[str, object], dict[str, Any]]

# Fields no event carries: the invitation holds the one-time token (SPEC §10); a
# subscription's provider customer and failed attempts are the engine's own bookkeeping.
_PRIVATE_FIELDS = frozenset({"invitation", "payment_customer", "payment_attempts"})


def _plain(value: object) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in fields(value)
            if f.name not in _PRIVATE_FIELDS
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def plain_payload(event_type: str, obj: object) -> dict[str, Any]:
    """The default ``EventRenderer``: a dataclass's fields, timestamps in the one format,
    without the invitation; a mapping as it is. Only runtimes built without the API's renderer
    use it (a few tests, tools): it never fails and never leaks a token."""
    del event_type
    plain = _plain(obj)
    if not isinstance(plain, dict):
        raise TypeError(f"an event carries an object, not {type(obj).__name__}")
    return plain


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event as the outbox holds it, handed to each delivery channel once (at least)."""

    id: str  # the event id (``evt_…``) every email and webhook carries
    type: str  # a catalogued ``EventType`` or an internal record (``invitation.email``)
    created_at: datetime  # by the runtime clock
    payload: dict[str, Any]

    @property
    def catalogued(self) -> bool:
        return self.type in EVENT_TYPES

    def document(self) -> dict[str, Any]:
        """``{id, type, created_at, data}``: the event as ``GET /v1/events`` answers it and as a
        webhook's body carries it (SPEC §10)."""
        return {
            "id": self.id,
            "type": self.type,
            "created_at": format_timestamp(self.created_at),
            "data": self.payload,
        }


__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "EventRenderer",
    "EventType",
    "OutboxEvent",
    "plain_payload",
    "unknown_event_types",
]
