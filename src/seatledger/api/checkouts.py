"""Checkouts: buying seats (SPEC §3, §4, §6)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import Field

from seatledger.api.auth import Reader, Writer
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    Seats,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
    optional_id,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.errors import Forbidden
from seatledger.domain.ids import check_id
from seatledger.domain.purchase import Checkout
from seatledger.services import checkouts
from seatledger.services.runtime import Runtime

router = APIRouter(tags=["checkouts"], route_class=JsonRoute)

CheckoutStatus = Literal["open", "completed", "expired"]


class CheckoutIn(ApiModel):
    """Give `company_id`, or `customer_email` to buy before the company exists."""

    price_id: Text
    seats: Seats
    company_id: Text | None = None
    customer_email: Text | None = None


class CheckoutPatch(ApiModel):
    seats: Seats


class ConfirmIn(ApiModel):
    payment_method: Text


class CheckoutOut(OutModel):
    id: str
    status: CheckoutStatus
    seats: int
    amount_due: int
    currency: str
    url: str
    price_id: str
    company_id: str | None
    customer_email: str | None
    expires_at: Timestamp
    subscription_id: str | None
    order_id: str | None
    payment_url: str | None = Field(
        default=None,
        description="While a confirm's charge waits for the buyer (a card that needs 3-D Secure,"
        " with Stripe): where they finish it; the checkout completes once the provider reports"
        " it paid. Null otherwise.",
    )
    trial_days: int | None = Field(
        default=None,
        description="A trial price's checkout: `amount_due` is 0 and the card is checked, not"
        " charged; the trial lasts this many days from the confirm. Null otherwise.",
    )
    amount_due_after_trial: int | None = Field(
        default=None,
        description="What the first charged period costs at this seat count, billed when the"
        " trial ends (at the seats held then). Null without a trial.",
    )


def checkout_out(public_url: str, checkout: Checkout) -> CheckoutOut:
    """A checkout with the URL of its page: built field by field, as it combines the checkout
    with this instance's public URL, which the checkout itself does not know."""
    return CheckoutOut(
        id=checkout.id,
        status=checkout.status,
        seats=checkout.seats,
        amount_due=checkout.amount_due,
        currency=checkout.currency,
        url=f"{public_url}/checkout/{checkout.id}",
        price_id=checkout.price_id,
        company_id=checkout.company_id,
        customer_email=checkout.customer_email,
        expires_at=checkout.expires_at,
        subscription_id=checkout.subscription_id,
        order_id=checkout.order_id,
        payment_url=checkout.payment_url,
        trial_days=checkout.trial_days,
        amount_due_after_trial=checkout.amount_after_trial,
    )


@router.post(
    "/v1/checkouts",
    status_code=201,
    summary="Open a checkout",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def create_checkout(body: CheckoutIn, rt: RuntimeDep, who: Writer) -> CheckoutOut:
    """`amount_due` is in the currency's minor unit; the checkout expires after 24 h. 409
    `price_archived` for an archived price, 409 `trial_not_supported` for a price with a free
    trial when the payment provider cannot take one (Stripe); 422 `seats_out_of_range` outside
    the price's seat range. A trial price's checkout owes 0 now (`trial_days`,
    `amount_due_after_trial`). A billing manager's session buys for its own company
    (`company_id` may be left out)."""
    company_id = optional_id(body.company_id, "company", field="company_id")
    if who.session is not None:
        if body.customer_email is not None:
            raise Forbidden(
                "A customer session buys for its own company: leave customer_email out."
            )
        company_id = company_id or who.session.company_id
        who.manager_of(company_id, field="company_id")
    checkout = await checkouts.create_checkout(
        rt,
        price_id=check_id(body.price_id, "price", field="price_id"),
        seats=body.seats,
        company_id=company_id,
        customer_email=body.customer_email,
    )
    return checkout_out(rt.settings.public_url, checkout)


async def _manager_for(rt: Runtime, who: Writer, checkout_id: str) -> None:
    await who.manager_for(
        lambda: checkouts.get_checkout(rt, checkout_id, scope_company_id=who.company_scope)
    )


@router.get(
    "/v1/checkouts",
    summary="List checkouts",
    responses=responses(401, 403, 422),
)
async def list_checkouts(
    rt: RuntimeDep,
    who: Reader,
    status: CheckoutStatus | None = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[CheckoutOut]:
    """Newest first; `status` keeps those that read so now (an open checkout past its 24 hours
    is `expired`). A billing manager's session lists its own company's."""
    who.require_manager()
    page = await checkouts.list_checkouts(
        rt,
        status=status,
        limit=limit,
        cursor=cursor_of(cursor),
        scope_company_id=who.company_scope,
    )
    return ListOut[CheckoutOut](
        **list_of(page, lambda checkout: checkout_out(rt.settings.public_url, checkout))
    )


@router.get(
    "/v1/checkouts/{checkout_id}",
    summary="Get a checkout",
    responses=responses(401, 403, 404),
)
async def get_checkout(checkout_id: str, rt: RuntimeDep, who: Reader) -> CheckoutOut:
    """An open checkout past its 24 hours reads as `expired`."""
    checkout = await checkouts.get_checkout(
        rt, check_id(checkout_id, "checkout"), scope_company_id=who.company_scope
    )
    who.require_manager()
    return checkout_out(rt.settings.public_url, checkout)


@router.patch(
    "/v1/checkouts/{checkout_id}",
    summary="Change an open checkout's seat count",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def update_checkout(
    checkout_id: str, body: CheckoutPatch, rt: RuntimeDep, who: Writer
) -> CheckoutOut:
    """`amount_due` is recomputed. 409 `checkout_not_open` once completed or expired."""
    checkout_id = check_id(checkout_id, "checkout")
    await _manager_for(rt, who, checkout_id)
    checkout = await checkouts.update_checkout(
        rt, checkout_id, seats=body.seats, scope_company_id=who.company_scope
    )
    return checkout_out(rt.settings.public_url, checkout)


@router.post(
    "/v1/checkouts/{checkout_id}/confirm",
    summary="Pay a checkout",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 402, 403, 404, 409, 422),
)
async def confirm_checkout(
    checkout_id: str, body: ConfirmIn, rt: RuntimeDep, who: Writer
) -> CheckoutOut:
    """Charges `amount_due` and creates a subscription (recurring price) or a paid order
    (one-time price), with its paid invoice; no seat is assigned yet. A declined card is 402
    `payment_failed` and leaves the checkout open; a completed or expired one is 409
    `checkout_not_open`. A card that needs the buyer (3-D Secure) answers 200 with the
    checkout still `open` and `payment_url`, where they finish it; the same card again answers
    the same link, another is 409 `checkout_not_open` until Stripe reports that payment failed,
    and once it is paid the checkout completes. Sandbox cards: `pm_card_ok`, `pm_card_declined`,
    `pm_card_fail_after_first`; any other is 422 `validation_error` naming `payment_method`,
    and changes nothing."""
    checkout_id = check_id(checkout_id, "checkout")
    await _manager_for(rt, who, checkout_id)
    checkout = await checkouts.confirm_checkout(
        rt, checkout_id, payment_method=body.payment_method, scope_company_id=who.company_scope
    )
    return checkout_out(rt.settings.public_url, checkout)
