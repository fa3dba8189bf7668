"""The checkout's confirmation (SPEC §11): ``/checkout/{id}/done``.

Anyone holding the checkout's link sees what was bought and the invoice it paid. The billing
manager of the buying company, signed in to the portal (the paying browser is, see
``services.checkouts.buyer``), also gets the "invite your team" form: several addresses at
once, a seat and an invitation email for each (``services.invitations``: a list with a bad
address is refused whole, each bad address named on the form), and the list of the pool's
seats so far. A stranger sees the confirmation and no form.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.seat_pool import PoolRef
from seatledger.errors import SeatledgerError
from seatledger.services import invitations, seats
from seatledger.services.callers import Caller
from seatledger.services.checkouts.view import CheckoutView, first_invoice
from seatledger.services.pages import MAX_LIMIT
from seatledger.web import csrf
from seatledger.web.checkout import closed_page, find_view
from seatledger.web.cookies import runtime
from seatledger.web.invitation_form import refusal_of
from seatledger.web.portal_session import PortalSignedOut, current_caller
from seatledger.web.statuses import status_for
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False)


def _pool(view: CheckoutView) -> PoolRef:
    checkout = view.checkout
    return PoolRef.of(checkout.subscription_id, checkout.order_id)


def _manages(caller: Caller | None, view: CheckoutView) -> bool:
    return (
        caller is not None
        and caller.is_manager
        and caller.company_scope is not None
        and caller.company_scope == view.checkout.company_id
    )


async def _done_page(
    request: Request,
    view: CheckoutView,
    caller: Caller | None,
    *,
    status: int = 200,
    context: dict[str, Any] | None = None,
) -> Response:
    rt = runtime(request)
    manager = _manages(caller, view)
    pool = None
    if manager and caller is not None:
        pool = await seats.list_seats(
            rt,
            subscription_id=view.checkout.subscription_id,
            order_id=view.checkout.order_id,
            limit=MAX_LIMIT,
            scope_company_id=caller.company_scope,
        )
    page = {
        "view": view,
        "checkout": view.checkout,
        "invoice": await first_invoice(rt, view.checkout),
        "manager": manager,
        "pool": pool,
        "errors": {},
        **(context or {}),
    }
    return await render(request, "checkout/done.html", page, status=status)


async def _completed(request: Request, checkout_id: str) -> CheckoutView | Response:
    """The completed checkout's view, or the answer for one that is not (yet) completed."""
    view = await find_view(request, checkout_id)
    if view is not None and view.checkout.status == "open":
        root = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(f"{root}/checkout/{checkout_id}", 303)
    if view is None or view.checkout.status != "completed":
        return await closed_page(request, view)
    return view


@router.get("/checkout/{checkout_id}/done")
async def done(checkout_id: str, request: Request) -> Response:
    found = await _completed(request, checkout_id)
    if isinstance(found, Response):
        return found
    invited = request.query_params.get("invited", "")
    count = int(invited) if invited.isascii() and invited.isdigit() and len(invited) < 4 else 0
    flashes = [{"text": f"Invitations sent: {count}.", "error": False}] if count else []
    caller = await current_caller(request)
    response = await _done_page(request, found, caller, context={"flashes": flashes})
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.post("/checkout/{checkout_id}/invite", dependencies=[Depends(csrf.require)])
async def invite(checkout_id: str, request: Request) -> Response:
    found = await _completed(request, checkout_id)
    if isinstance(found, Response):
        return found
    caller = await current_caller(request)
    if caller is None:
        raise PortalSignedOut
    form = await request.form()
    emails = form.get("emails")
    typed = emails if isinstance(emails, str) else ""
    try:
        if found.checkout.company_id is None:
            caller.require_manager()
        else:
            caller.manager_of(found.checkout.company_id)
        outcome = await invitations.invite(
            runtime(request), _pool(found), emails, scope_company_id=caller.company_scope
        )
    except SeatledgerError as error:
        refusal = refusal_of(error)
        context: dict[str, Any] = {
            "errors": {"emails": refusal.message},
            "problems": refusal.problems,
            "emails": typed,
        }
        return await _done_page(request, found, caller, status=status_for(error), context=context)
    if outcome.refused:  # another request's change between the check and the assignment
        refused = [
            {"text": f"{email}: {reason}", "error": True} for email, reason in outcome.refused
        ]
        sent = [{"text": f"Invitations sent: {len(outcome.seats)}.", "error": False}]
        retry = "\n".join(email for email, _ in outcome.refused)
        context = {"flashes": sent + refused, "emails": retry, "problems": ()}
        return await _done_page(request, found, caller, status=409, context=context)
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/checkout/{checkout_id}/done?invited={len(outcome.seats)}", 303)


__all__ = ["router"]
