"""The fake's memory: objects by id, the event log, idempotent answers, and the test knobs."""

from __future__ import annotations

import copy
import itertools
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.stripe.wire import missing

API_VERSION_ANSWERED = "2026-10-28.endive"


@dataclass
class Knobs:
    """What the tests ask of the fake's next requests.

    ``fail_before``: statuses answered before the next requests run (429, 500; nothing done);
    ``fail_after``: statuses answered after the next requests ran (done, answer lost);
    ``down``: every request answers 500 (the API is down) until cleared;
    ``hold_events``: events wait in ``outgoing`` until the test delivers them.
    """

    fail_before: deque[int] = field(default_factory=deque)
    fail_after: deque[int] = field(default_factory=deque)
    down: bool = False
    hold_events: bool = False


@dataclass
class IdempotentAnswer:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class Store:
    base_url: str = ""
    webhook_url: str | None = None
    webhook_secret: str = "whsec_fake"
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    outgoing: list[dict[str, Any]] = field(default_factory=list)
    idempotency: dict[str, IdempotentAnswer] = field(default_factory=dict)
    knobs: Knobs = field(default_factory=Knobs)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) served
    deliveries: list[tuple[str, int]] = field(default_factory=list)  # (event id, status)
    # Test payment method → the behaviour its card has (``payment_methods``).
    cards: dict[str, str] = field(default_factory=dict)
    # Customers whose subscription invoices fail to pay (``invoices``), and the prorations
    # waiting for a subscription's next invoice (``subscriptions``).
    declining: set[str] = field(default_factory=set)
    pending_prorations: list[tuple[str, int]] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(4)}{next(self._counter):06d}"

    @staticmethod
    def now() -> int:
        return int(time.time())

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, *, param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise missing(kind.replace("_", " ").replace(".", " "), object_id, param)
        return obj

    def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An event with a snapshot of ``obj`` as it is now, logged and queued for delivery."""
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION_ANSWERED,
            "created": self.now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        self.events.append(event)
        self.objects[event["id"]] = event
        self.outgoing.append(event)
        return event
