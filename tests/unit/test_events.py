"""The closed catalogue of event types (SPEC §10)."""

from __future__ import annotations

from seatledger.domain.events import EVENT_TYPES, EventType, unknown_event_types

SPEC_10 = [
    "checkout.completed",
    "subscription.created",
    "subscription.updated",
    "subscription.renewed",
    "subscription.past_due",
    "subscription.canceled",
    "subscription.trial_will_end",  # beyond SPEC §10: a free trial ends in 3 days
    "subscription.seats_drift_detected",
    "order.paid",
    "invoice.paid",
    "invoice.payment_failed",
    "seat.assigned",
    "seat.invitation_resent",
    "seat.claimed",
    "seat.revoked",
    "seat.usage_threshold_reached",  # beyond SPEC §10: a seat alert's threshold reached
    "benefit_grant.created",
    "benefit_grant.revoked",
    "member.added",
    "member.removed",
    "company.created",
    "company.updated",
]


def test_the_catalogue_is_the_spec_s_twenty_types_the_seat_alerts_and_trials() -> None:
    assert len(SPEC_10) == 22
    assert [str(event_type) for event_type in EventType] == SPEC_10
    assert frozenset(SPEC_10) == EVENT_TYPES


def test_unknown_event_types_are_all_named_by_index() -> None:
    assert unknown_event_types(["*", "seat.claimed"]) == []
    assert unknown_event_types(["seat.claimed", "seat.clamed", 5, "", "**"]) == [
        (1, "seat.clamed"),
        (2, 5),
        (3, ""),
        (4, "**"),
    ]
