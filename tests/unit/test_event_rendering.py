"""Rendering an event's object (``seatledger.domain.events``, ``seatledger.api.event_rendering``):
once, at emit time, as the API answers it; never with a token."""

from __future__ import annotations

from datetime import UTC, datetime

from seatledger.api.event_rendering import event_renderer
from seatledger.api.seats import seat_out
from seatledger.config import Settings
from seatledger.domain.events import EventType, plain_payload
from seatledger.domain.purchase import Checkout
from seatledger.domain.seat import Invitation, Seat

NOW = datetime(2031, 1, 16, 12, 0, 0, 654_321, tzinfo=UTC)
INVITED = Seat(
    id="seat_1",
    company_id="co_1",
    subscription_id="sub_1",
    order_id=None,
    member_id=None,
    email="ann@acme.test",
    status="pending",
    metadata={"team": "blue"},
    created_at=NOW,
    claimed_at=None,
    revoked_at=None,
    invitation=Invitation(url="https://x.test/claim/tok", token="tok", expires_at=NOW),
)
RENDER = event_renderer(Settings(database_url="sqlite+aiosqlite://", public_url="https://x.test"))


def test_a_seat_event_is_the_seat_as_the_api_answers_it_without_its_invitation() -> None:
    data = RENDER(EventType.SEAT_ASSIGNED, INVITED)
    assert data == seat_out(INVITED).model_dump(mode="json")
    assert "invitation" not in data
    assert "tok" not in repr(data)


def test_a_checkout_event_carries_the_url_of_its_page() -> None:
    checkout = Checkout(
        id="co_x",
        price_id="price_1",
        seats=3,
        company_id="co_1",
        customer_email=None,
        status="completed",
        amount_due=3000,
        currency="jpy",
        expires_at=NOW,
        subscription_id="sub_1",
        order_id=None,
        created_at=NOW,
    )
    data = RENDER(EventType.CHECKOUT_COMPLETED, checkout)
    assert data["url"] == "https://x.test/checkout/co_x"
    assert data["expires_at"] == "2031-01-16T12:00:00Z"


def test_the_default_renders_the_objects_own_fields_and_never_the_invitation() -> None:
    data = plain_payload("seat.assigned", INVITED)
    assert data["id"] == "seat_1"
    assert data["created_at"] == "2031-01-16T12:00:00Z"
    assert "invitation" not in data
    # Outside the catalogue the API's renderer falls back to it.
    assert RENDER("seat.internal", INVITED) == data
