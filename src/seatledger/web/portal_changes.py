"""Changing a subscription from the manager's portal: its seat count, a switch to another price
(the annual switch), cancelling and undoing a cancellation (SPEC §3).

A change is shown before it is made: ``GET …/change?seats=8`` asks the same preview the API's
``POST /v1/subscriptions/{id}/preview`` answers (each line, the total due now) and changes
nothing; its form posts the same values to ``POST …/change``, which applies them as the API's
``PATCH`` does: with the product's default proration behaviour (or from the next period, when
the manager chooses so) and the payment method saved on the subscription. A declined card is
said plainly and changes nothing. Cancelling asks on a page of its own, at the period's end or
now.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from seatledger.domain.catalog import ProrationBehavior
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.ids import check_id
from seatledger.domain.seat_pool import PoolRef
from seatledger.errors import SeatledgerError
from seatledger.services import cancellation, subscriptions
from seatledger.services.callers import Caller
from seatledger.services.subscriptions import ChangePreview
from seatledger.services.subscriptions.standing import proration_behavior_of
from seatledger.web import csrf
from seatledger.web.portal_notices import Notice, redirect
from seatledger.web.portal_pools import pool_page, pool_ref, read_pool
from seatledger.web.portal_route import PortalRoute, page, rt_of, seat_count, text_of
from seatledger.web.portal_session import PortalCaller
from seatledger.web.portal_views import Offers, PoolView
from seatledger.web.statuses import status_for
from seatledger.web.templating import day

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
CSRF = [Depends(csrf.require)]
WHEN = {"period_end": True, "now": False}  # the cancel form's choice → ``at_period_end``


class Change:
    """A change as the forms carry it: ``seats`` and ``price_id`` typed (either may be blank),
    and when it applies (``proration_behavior``; blank: the product's default)."""

    def __init__(self, values: Any) -> None:
        self.typed_seats = text_of(values, "seats", limit=100)
        self.typed_price = text_of(values, "price_id", limit=100)
        self.typed_behavior = text_of(values, "proration_behavior", limit=100)

    @property
    def seats(self) -> int | None:
        return seat_count(self.typed_seats) if self.typed_seats else None

    @property
    def price_id(self) -> str | None:
        if not self.typed_price:
            return None
        return check_id(self.typed_price, "price", field="price_id")

    @property
    def behavior(self) -> ProrationBehavior | None:
        return proration_behavior_of(self.typed_behavior or None)

    def form(self) -> dict[str, str]:
        return {
            "seats": self.typed_seats,
            "price_id": self.typed_price,
            "proration_behavior": self.typed_behavior,
        }


async def _refused(
    request: Request, caller: Caller, ref: PoolRef, change: Change, error: SeatledgerError
) -> Response:
    """The pool's page again, the error beside the field it is about."""
    fields = [field for field, _ in error.errors]
    field = next((f for f in ("price_id", "proration_behavior") if f in fields), "seats")
    return await pool_page(
        request,
        caller,
        ref,
        status=status_for(error),
        form=change.form(),
        errors={field: error.detail},
    )


async def _preview(
    request: Request, caller: Caller, pool: PoolView, change: Change
) -> ChangePreview:
    seats, price_id = change.seats, change.price_id
    if seats is None and price_id is None:
        message = "Choose a seat count or another price."
        raise ValidationFailed(message, errors=[("seats", message)])
    return await subscriptions.preview_change(
        rt_of(request),
        pool.id,
        seats=seats,
        price_id=price_id,
        proration_behavior=change.behavior,
        scope_company_id=caller.company_scope,
    )


async def _preview_page(
    request: Request,
    pool: PoolView,
    change: Change,
    preview: ChangePreview,
    *,
    status: int = 200,
    flashes: list[dict[str, object]] | None = None,
) -> Response:
    target = await Offers(rt_of(request)).of(preview.price_id)
    context = {
        "pool": pool,
        "preview": preview,
        "target": target,
        "form": change.form(),
        "sandbox": rt_of(request).settings.sandbox,
        "flashes": flashes or [],
    }
    return await page(request, "portal/change.html", context, status=status)


@router.get("/portal/subscriptions/{subscription_id}/change")
async def preview(request: Request, subscription_id: str, caller: PortalCaller) -> Response:
    """What the change would bill, line by line; nothing changes."""
    ref = pool_ref("subscription", subscription_id)
    pool = await read_pool(rt_of(request), caller, ref)
    change = Change(request.query_params)
    try:
        found = await _preview(request, caller, pool, change)
    except SeatledgerError as error:
        return await _refused(request, caller, ref, change, error)
    return await _preview_page(request, pool, change, found)


@router.post("/portal/subscriptions/{subscription_id}/change", dependencies=CSRF)
async def apply(request: Request, subscription_id: str, caller: PortalCaller) -> Response:
    """Make the change shown by the preview: a charge is collected first from the saved
    payment method; declined, nothing changes and the preview says why."""
    ref = pool_ref("subscription", subscription_id)
    rt = rt_of(request)
    pool = await read_pool(rt, caller, ref)
    change = Change(await request.form())
    try:
        changed = await subscriptions.change_subscription(
            rt,
            pool.id,
            seats=change.seats,
            price_id=change.price_id,
            proration_behavior=change.behavior,
            scope_company_id=caller.company_scope,
        )
    except SeatledgerError as error:
        return await _change_refused(request, caller, ref, pool, change, error)
    offer = await Offers(rt).of(changed.price_id)
    text = f"Done: {changed.seats} seats of {offer.name}."
    if changed.pending_change is not None:
        pending = changed.pending_change
        text = f"Scheduled: {pending.seats} seats from the next period."
    return await redirect(request, pool.href, [Notice(text)])


async def _change_refused(
    request: Request,
    caller: Caller,
    ref: PoolRef,
    pool: PoolView,
    change: Change,
    error: SeatledgerError,
) -> Response:
    """A declined payment is shown on the preview, which still holds; other refusals (the
    subscription moved meanwhile, a count out of range) on the pool's page."""
    if status_for(error) == 402:
        try:
            found = await _preview(request, caller, pool, change)
        except SeatledgerError:
            pass
        else:
            flashes: list[dict[str, object]] = [
                {
                    "text": f"The payment was declined: {error.detail} Nothing was changed.",
                    "error": True,
                }
            ]
            return await _preview_page(request, pool, change, found, status=402, flashes=flashes)
    return await _refused(request, caller, ref, change, error)


@router.get("/portal/subscriptions/{subscription_id}/cancel")
async def cancel_confirmation(
    request: Request, subscription_id: str, caller: PortalCaller, when: str = "period_end"
) -> Response:
    """Asks before cancelling (a GET: nothing changes until the form is sent)."""
    pool = await read_pool(rt_of(request), caller, pool_ref("subscription", subscription_id))
    chosen = when if when in WHEN else "period_end"
    return await page(request, "portal/cancel.html", {"pool": pool, "when": chosen})


@router.post("/portal/subscriptions/{subscription_id}/cancel", dependencies=CSRF)
async def cancel(request: Request, subscription_id: str, caller: PortalCaller) -> Response:
    ref = pool_ref("subscription", subscription_id)
    rt = rt_of(request)
    pool = await read_pool(rt, caller, ref)
    when = text_of(await request.form(), "when", limit=20)
    if when not in WHEN:
        flashes = [{"text": "Choose when to cancel: at the period's end or now.", "error": True}]
        return await pool_page(request, caller, ref, status=422, flashes=flashes)
    await cancellation.cancel_subscription(
        rt, pool.id, at_period_end=WHEN[when], scope_company_id=caller.company_scope
    )
    if WHEN[when]:
        ends = day(pool.current_period_end)
        text = f"The subscription ends on {ends}; its seats work until then."
    else:
        text = "The subscription is canceled; its seats are revoked."
    return await redirect(request, pool.href, [Notice(text)])


@router.post("/portal/subscriptions/{subscription_id}/resume", dependencies=CSRF)
async def resume(request: Request, subscription_id: str, caller: PortalCaller) -> Response:
    """Undo a cancellation at period end: the subscription renews again."""
    ref = pool_ref("subscription", subscription_id)
    rt = rt_of(request)
    pool = await read_pool(rt, caller, ref)
    try:
        await subscriptions.change_subscription(
            rt, pool.id, cancel_at_period_end=False, scope_company_id=caller.company_scope
        )
    except SeatledgerError as error:
        flashes = [{"text": error.detail, "error": True}]
        return await pool_page(request, caller, ref, status=status_for(error), flashes=flashes)
    return await redirect(
        request, pool.href, [Notice("The cancellation is undone: the subscription renews.")]
    )


__all__ = ["router"]
