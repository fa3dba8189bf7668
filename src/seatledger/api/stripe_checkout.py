"""The way from a checkout to Stripe's hosted payment page (SPEC §7, §11): public, as the
checkout page that posts to it is; the checkout id is what it is given.

``POST /checkout/{checkout_id}/stripe`` answers 303 to the open Checkout Session of the checkout
(a new one, or the one opened before while it is open and asks the amount due). Stripe sends
the customer back to ``{public_url}/checkout/{id}/done`` once paid, or to the checkout page;
the checkout is completed from Stripe's ``checkout.session.completed`` event. Errors are
problem documents: ``not_found`` (unknown checkout, or a provider without hosted pages),
``checkout_not_open``, ``price_archived``, ``payment_provider_unavailable``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from seatledger.api.common import RuntimeDep, idempotency_key_header
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.services import hosted_checkout

router = APIRouter(tags=["checkouts"], route_class=JsonRoute)


@router.post(
    "/checkout/{checkout_id}/stripe",
    summary="Pay a checkout on Stripe's hosted page",
    status_code=303,
    dependencies=[Depends(idempotency_key_header)],
    response_class=RedirectResponse,
    responses={
        303: {"description": "To the checkout's Stripe Checkout Session (`Location`)."},
        **responses(404, 409, 503),
    },
)
async def open_stripe_checkout(checkout_id: str, rt: RuntimeDep) -> RedirectResponse:
    """Opens (or reuses while it is open) the Stripe Checkout Session of an open checkout, for
    its amount due, saving the card for the renewals, and answers 303 to it."""
    url = await hosted_checkout.open_hosted_page(rt, checkout_id)
    return RedirectResponse(url, status_code=303)
