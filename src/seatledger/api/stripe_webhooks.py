"""Stripe's webhooks (SPEC §7): ``POST /v1/stripe/webhooks``, public, signed by Stripe.

The body is verified with ``stripe.Webhook.construct_event`` (through the gateway: the
endpoint's signing secret, a 300 s tolerance); a forged, stale, unsigned or malformed one is
400 ``invalid_provider_event`` and nothing is kept. A verified event is kept once per event id
and answered at once (200 ``{"received": true, "duplicate": …}``): the work is done by the
delivery loop (``seatledger.services.provider_events``), so Stripe never waits on it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from seatledger.api.common import OutModel, RuntimeDep, idempotency_key_header
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.services import provider_events

router = APIRouter(tags=["stripe"], route_class=JsonRoute)


class ReceivedOut(OutModel):
    received: bool
    duplicate: bool


@router.post(
    "/v1/stripe/webhooks",
    summary="Receive an event from Stripe",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 404),
)
async def receive_stripe_event(request: Request, rt: RuntimeDep) -> ReceivedOut:
    """Stripe's own call (configure it in Stripe's dashboard with the events
    `checkout.session.completed`, `payment_intent.succeeded`, `payment_intent.payment_failed`).
    Its `Stripe-Signature` header is verified against the endpoint's signing secret. 404 when
    the payment provider is not Stripe."""
    signature = request.headers.get("stripe-signature")
    new = await provider_events.receive(rt, await request.body(), signature)
    return ReceivedOut(received=True, duplicate=not new)
