"""A pool's page in the manager's portal: its seats, inviting people, resending, transferring
and revoking.

``GET /portal/subscriptions/{id}`` and ``GET /portal/orders/{id}`` list the pool's seats
(pending, claimed, revoked) with the forms that act on them. Inviting a list follows the one rule
of ``services.invitations``: a list with a bad address (not an address, already holding a seat)
or more addresses than free seats is refused whole and shown again with each bad address named;
a good list is invited, one seat and one email each.
Revoking asks first on a page of its own (a confirmation that needs no JavaScript); so does a
transfer, whose page asks for the new holder's address. Buying more
seats of a one-time product opens a checkout for the same price and hands over to its page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.ids import check_id
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef
from seatledger.errors import SeatledgerError
from seatledger.services import checkouts, invitations, invoicing, purchases, seats, transfers
from seatledger.services.callers import Caller
from seatledger.services.runtime import Runtime
from seatledger.web import csrf
from seatledger.web.invitation_form import refusal_of
from seatledger.web.portal_notices import Notice, redirect
from seatledger.web.portal_route import (
    PortalRoute,
    cursor_of,
    manager_company,
    page,
    rt_of,
    seat_count,
    text_of,
)
from seatledger.web.portal_session import PortalCaller
from seatledger.web.portal_views import (
    REASONS,
    Offers,
    PoolView,
    order_href,
    order_view,
    subscription_href,
    subscription_view,
)
from seatledger.web.statuses import status_for

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
CSRF = [Depends(csrf.require)]

SEATS_SHOWN = 100


async def read_pool(rt: Runtime, caller: Caller, ref: PoolRef) -> PoolView:
    """The subscription or order in the caller's company (404 otherwise), for its manager
    (403 for a plain member), as the pages show it."""
    offers = Offers(rt)
    if ref.kind == "subscription":
        subscription = await purchases.get_subscription(
            rt, ref.id, scope_company_id=caller.company_scope
        )
        caller.require_manager()
        return await subscription_view(offers, subscription)
    order = await purchases.get_order(rt, ref.id, scope_company_id=caller.company_scope)
    caller.require_manager()
    return await order_view(offers, order)


def pool_ref(kind: str, pool_id: str) -> PoolRef:
    """The pool a page's address names (404 for an id that cannot be one)."""
    checked = check_id(pool_id, kind)
    return PoolRef.of(checked, None) if kind == "subscription" else PoolRef.of(None, checked)


async def pool_page(
    request: Request,
    caller: Caller,
    ref: PoolRef,
    *,
    cursor: str | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The pool's page; ``extra`` carries a form's values and errors when it is shown again."""
    rt = rt_of(request)
    pool = await read_pool(rt, caller, ref)
    listed = await seats.list_seats(
        rt,
        subscription_id=ref.id if ref.kind == "subscription" else None,
        order_id=ref.id if ref.kind == "order" else None,
        include_revoked=True,
        limit=SEATS_SHOWN,
        cursor=cursor_of(cursor),
        scope_company_id=caller.company_scope,
    )
    invoices = await invoicing.list_invoices(
        rt,
        subscription_id=ref.id if ref.kind == "subscription" else None,
        order_id=ref.id if ref.kind == "order" else None,
        limit=SEATS_SHOWN,
        scope_company_id=caller.company_scope,
    )
    prices = pool.offer.product.prices
    switches = [
        price
        for price in prices
        if not price.archived
        and price.id != pool.offer.price.id
        and price.seat_price.currency == pool.offer.price.seat_price.currency
        and price.seat_price.interval is not None
    ]
    context = {
        "pool": pool,
        "seats": listed.page.data,
        "next_cursor": listed.page.next_cursor,
        "switches": switches,
        "invoices": invoices.data,
        "reasons": REASONS,
        "sandbox": rt.settings.sandbox,
        "form": {},
        "errors": {},
        **extra,
    }
    return await page(request, "portal/pool.html", context, status=status)


@router.get("/portal/subscriptions/{subscription_id}")
async def subscription_page(
    request: Request, subscription_id: str, caller: PortalCaller, cursor: str | None = None
) -> Response:
    return await pool_page(
        request, caller, pool_ref("subscription", subscription_id), cursor=cursor
    )


@router.get("/portal/orders/{order_id}")
async def order_page(
    request: Request, order_id: str, caller: PortalCaller, cursor: str | None = None
) -> Response:
    return await pool_page(request, caller, pool_ref("order", order_id), cursor=cursor)


async def _invite(request: Request, caller: Caller, ref: PoolRef) -> Response:
    rt = rt_of(request)
    pool = await read_pool(rt, caller, ref)
    company_id = manager_company(caller)
    text = text_of(await request.form(), "emails", limit=100_000)
    try:
        outcome = await invitations.invite(rt, ref, text, scope_company_id=company_id)
    except SeatledgerError as error:
        refusal = refusal_of(error)
        return await pool_page(
            request,
            caller,
            ref,
            status=status_for(error),
            form={"emails": text},
            errors={"emails": refusal.message},
            problems=refusal.problems,
        )
    invited = [seat.email for seat in outcome.seats]
    notices = [Notice(f"Invited {len(invited)}: {', '.join(invited)}.")] if invited else []
    notices += [  # another request's change between the check and the assignment
        Notice(f"{email} was not invited: {reason}", error=True)
        for email, reason in outcome.refused
    ]
    return await redirect(request, pool.href, notices)


@router.post("/portal/subscriptions/{subscription_id}/invite", dependencies=CSRF)
async def invite_to_subscription(
    request: Request, subscription_id: str, caller: PortalCaller
) -> Response:
    return await _invite(request, caller, pool_ref("subscription", subscription_id))


@router.post("/portal/orders/{order_id}/invite", dependencies=CSRF)
async def invite_to_order(request: Request, order_id: str, caller: PortalCaller) -> Response:
    return await _invite(request, caller, pool_ref("order", order_id))


async def _seat(request: Request, caller: Caller, seat_id: str) -> Seat:
    """A seat of the caller's company (404 otherwise), for its manager (403 otherwise)."""
    seat = await seats.get_seat(
        rt_of(request), check_id(seat_id, "seat"), scope_company_id=caller.company_scope
    )
    caller.require_manager()
    return seat


def _ref_of(seat: Seat) -> PoolRef:
    return PoolRef.of(seat.subscription_id, seat.order_id)


def _href_of(seat: Seat) -> str:
    if seat.subscription_id is not None:
        return subscription_href(seat.subscription_id)
    return order_href(seat.order_id or "")


@router.post("/portal/seats/{seat_id}/resend", dependencies=CSRF)
async def resend(request: Request, seat_id: str, caller: PortalCaller) -> Response:
    seat = await _seat(request, caller, seat_id)
    try:
        await seats.resend_invitation(
            rt_of(request), seat.id, scope_company_id=caller.company_scope
        )
    except SeatledgerError as error:
        flashes = [{"text": f"{seat.email}: {error.detail}", "error": True}]
        return await pool_page(
            request, caller, _ref_of(seat), status=status_for(error), flashes=flashes
        )
    notice = Notice(f"A new invitation was sent to {seat.email}; the old link no longer works.")
    return await redirect(request, _href_of(seat), [notice])


@router.get("/portal/seats/{seat_id}/revoke")
async def revoke_confirmation(request: Request, seat_id: str, caller: PortalCaller) -> Response:
    """Asks before revoking (a GET: nothing changes until the form is sent)."""
    seat = await _seat(request, caller, seat_id)
    pool = await read_pool(rt_of(request), caller, _ref_of(seat))
    return await page(request, "portal/revoke.html", {"seat": seat, "pool": pool})


@router.post("/portal/seats/{seat_id}/revoke", dependencies=CSRF)
async def revoke(request: Request, seat_id: str, caller: PortalCaller) -> Response:
    seat = await _seat(request, caller, seat_id)
    if seat.status == "revoked":
        notice = Notice(f"The seat of {seat.email} was already revoked.")
    else:
        await seats.revoke_seat(rt_of(request), seat.id, scope_company_id=caller.company_scope)
        notice = Notice(f"The seat of {seat.email} is revoked; it is free again.")
    return await redirect(request, _href_of(seat), [notice])


@router.get("/portal/seats/{seat_id}/transfer")
async def transfer_form(request: Request, seat_id: str, caller: PortalCaller) -> Response:
    """Who gets the seat (a GET: nothing changes until the form is sent)."""
    seat = await _seat(request, caller, seat_id)
    pool = await read_pool(rt_of(request), caller, _ref_of(seat))
    context = {"seat": seat, "pool": pool, "form": {}, "errors": {}}
    return await page(request, "portal/transfer.html", context)


@router.post("/portal/seats/{seat_id}/transfer", dependencies=CSRF)
async def transfer(request: Request, seat_id: str, caller: PortalCaller) -> Response:
    """The seat passes to the address typed, through the API's own transfer
    (``transfers.transfer_seat``); a refusal shows the form again, naming why."""
    seat = await _seat(request, caller, seat_id)
    rt = rt_of(request)
    email = text_of(await request.form(), "email", limit=320)
    try:
        _, moved = await transfers.transfer_seat(
            rt, seat.id, email=email, scope_company_id=caller.company_scope
        )
    except SeatledgerError as error:
        pool = await read_pool(rt, caller, _ref_of(seat))
        context = {"seat": seat, "pool": pool, "form": {"email": email}}
        context["errors"] = {"email": error.detail}
        return await page(request, "portal/transfer.html", context, status=status_for(error))
    notice = Notice(f"The seat of {seat.email} now belongs to {moved.email}; they are invited.")
    return await redirect(request, _href_of(seat), [notice])


@router.post("/portal/orders/{order_id}/buy", dependencies=CSRF)
async def buy_more(request: Request, order_id: str, caller: PortalCaller) -> Response:
    """More seats of a one-time product: a new order, through a new checkout for the same
    price (an order's seat count never changes)."""
    ref = pool_ref("order", order_id)
    rt = rt_of(request)
    pool = await read_pool(rt, caller, ref)
    typed = text_of(await request.form(), "seats", limit=100)
    try:
        checkout = await checkouts.create_checkout(
            rt,
            price_id=pool.offer.price.id,
            seats=seat_count(typed),
            company_id=manager_company(caller),
        )
    except SeatledgerError as error:
        form, errors = {"buy_seats": typed}, {"buy_seats": error.detail}
        return await pool_page(
            request, caller, ref, status=status_for(error), form=form, errors=errors
        )
    return RedirectResponse(f"/checkout/{checkout.id}", status_code=303)


__all__ = ["pool_page", "pool_ref", "read_pool", "router"]
