"""The API's ``EventRenderer``: a catalogued event's ``data`` is its object as the API answers it.

The unit of work calls it once per event, when the event is emitted
(``seatledger.domain.events``): the object is validated by the very response model
``/openapi.json`` documents for the type (``event_catalogue.DATA``) and dumped to JSON, so an
event's ``data`` is, byte for byte, what ``GET`` answers for the object at that moment. A seat
is a ``SeatOut``, which has no ``invitation``: no token reaches an event.

Services cannot import the API, so the composition roots hand this renderer to the runtime:
``seatledger serve`` (``create_app``) and ``seatledger worker`` (``seatledger.cli``), and the
tests' runtime. A type outside the catalogue falls back to ``plain_payload``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from seatledger.api.checkouts import CheckoutOut, checkout_out
from seatledger.api.event_catalogue import DATA
from seatledger.api.grants import GrantOut, grant_out
from seatledger.config import Settings
from seatledger.domain.events import EVENT_TYPES, EventRenderer, EventType, plain_payload
from seatledger.domain.grant import BenefitGrant
from seatledger.domain.purchase import Checkout

Build = Callable[[object], Any]


def _by_hand(public_url: str) -> dict[EventType, Build]:
    """The types whose answers the API builds by hand (``checkout_out``, ``grant_out``, which
    say why), built the same way here; every other type is ``from_attributes`` validation."""

    def checkout(obj: object) -> CheckoutOut:
        assert isinstance(obj, Checkout)
        return checkout_out(public_url, obj)

    def grant(obj: object) -> Any:
        assert isinstance(obj, BenefitGrant)
        return grant_out(obj)

    builds: dict[Any, Build] = {CheckoutOut: checkout, GrantOut: grant}
    return {
        event_type: build
        for event_type in EventType
        for model, build in builds.items()
        if DATA[event_type] is model
    }


def event_renderer(settings: Settings) -> EventRenderer:
    """The renderer of the instance of ``settings`` (its ``public_url``: a checkout's ``url``)."""
    by_hand = _by_hand(settings.public_url)
    adapters = {event_type: TypeAdapter(DATA[event_type]) for event_type in EventType}

    def render(event_type: str, obj: object) -> dict[str, Any]:
        if event_type not in EVENT_TYPES:
            return plain_payload(event_type, obj)
        kind = EventType(event_type)
        adapter = adapters[kind]
        build = by_hand.get(kind)
        answer = build(obj) if build else adapter.validate_python(obj, from_attributes=True)
        data: dict[str, Any] = adapter.dump_python(answer, mode="json")
        return data

    return render


__all__ = ["event_renderer"]
