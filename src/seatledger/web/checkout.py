"""The hosted checkout (SPEC §11): ``/checkout/{id}``, the checkout's ``url``.

The page shows the product, its benefits, a seat-count field bounded by the price, the total
with its lines, and payment. Changing the count is the API's own change of an open checkout
(``update_checkout``, which recomputes ``amount_due``): the form's "Update total" posts it
(POST → 303 → GET), and htmx posts it as the field changes, swapping in the new total alone.
Paying is ``confirm_checkout``: in the sandbox with one of the local gateway's test cards (a
decline is shown on the page and leaves the checkout open); with Stripe the form goes on to
``/checkout/{id}/stripe`` instead. After a payment the buyer's browser is signed in to the
portal as the company's billing manager (``services.checkouts.buyer``) and lands on the
confirmation (``web.confirmation``).

The checkout's id is the credential, as with the API's ``url``: no other sign-in is asked.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.adapters.payments.local import DECLINED, FAIL_AFTER_FIRST, OK
from seatledger.domain.errors import CheckoutNotOpen, NotFound, PaymentFailed
from seatledger.errors import SeatledgerError
from seatledger.services import checkouts
from seatledger.services.checkouts.buyer import open_buyer_session
from seatledger.services.checkouts.view import CheckoutView, view_checkout
from seatledger.web import csrf, portal_session
from seatledger.web.cookies import runtime
from seatledger.web.failures import invalid_fields
from seatledger.web.statuses import status_for
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False)

# The sandbox's test cards (``adapters.payments.local``), as the page offers them.
TEST_CARDS = (
    (OK, "Test card that is accepted"),
    (DECLINED, "Test card that is declined"),
    (FAIL_AFTER_FIRST, "Test card accepted once, then declined (renewals fail)"),
)


def seats_field(value: object) -> object:
    """The form's seat count as a number when it reads as one; otherwise as typed, for the
    price's own check to say what is wrong with it."""
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 9:
            return int(text)
    return value


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def closed_page(request: Request, view: CheckoutView | None) -> Response:
    """The plain page of a checkout that cannot be paid: unknown, completed or expired."""
    root = request.scope.get("root_path", "").rstrip("/")
    if view is None:
        context: dict[str, Any] = {
            "heading": "No such checkout",
            "text": "This checkout link is not known here. Check the address, or ask the"
            " seller for a new link.",
        }
        return await render(request, "message.html", context, status=404)
    if view.checkout.status == "completed":
        context = {
            "heading": "This checkout is paid",
            "text": f"{view.product.name}: {view.checkout.seats} seats, bought.",
            "link": {
                "href": f"{root}/checkout/{view.checkout.id}/done",
                "text": "See the confirmation",
            },
        }
        return await render(request, "message.html", context)
    context = {
        "heading": "This checkout has expired",
        "text": "A checkout link works for 24 hours. Nothing was charged; ask the seller for"
        " a new link.",
    }
    return await render(request, "message.html", context, status=410)


async def find_view(request: Request, checkout_id: str) -> CheckoutView | None:
    try:
        return await view_checkout(runtime(request), checkout_id)
    except NotFound:
        return None


async def checkout_page(
    request: Request,
    view: CheckoutView,
    *,
    status: int = 200,
    error: SeatledgerError | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    """The open checkout's page; after a refused change, with the error and what was typed."""
    rt = runtime(request)
    fields = invalid_fields(error) if error is not None else {}
    typed = typed or {}
    context = {
        "view": view,
        "checkout": view.checkout,
        "seats_value": typed.get("seats", view.checkout.seats),
        "method": typed.get("payment_method"),
        "errors": fields,
        "error": None if error is None else error.detail,
        "declined": isinstance(error, PaymentFailed),
        "gateway": rt.gateway.name,
        "cards": TEST_CARDS,
    }
    name = "checkout/_quote.html" if _htmx(request) else "checkout/page.html"
    return await render(request, name, context, status=status)


@router.get("/checkout/{checkout_id}")
async def show_checkout(checkout_id: str, request: Request) -> Response:
    view = await find_view(request, checkout_id)
    if view is None or view.checkout.status != "open":
        return await closed_page(request, view)
    response = await checkout_page(request, view)
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def _after_closed(request: Request, checkout_id: str) -> Response:
    """A change or payment found the checkout closed: its plain page (htmx reloads)."""
    if _htmx(request):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return await closed_page(request, await find_view(request, checkout_id))


async def _change_seats(
    request: Request, view: CheckoutView, seats: object
) -> Response | CheckoutView:
    """``update_checkout`` when the count differs: the new view, or the page with the error."""
    if seats == view.checkout.seats:
        return view
    try:
        # Whatever was typed goes to the service: the price's own check says what is wrong.
        count = cast(int, seats)
        await checkouts.update_checkout(runtime(request), view.checkout.id, seats=count)
    except CheckoutNotOpen:
        return await _after_closed(request, view.checkout.id)
    except SeatledgerError as error:
        typed = {"seats": "" if seats is None else seats}
        return await checkout_page(
            request, view, status=status_for(error), error=error, typed=typed
        )
    fresh = await find_view(request, view.checkout.id)
    return fresh if fresh is not None else await closed_page(request, None)


@router.post("/checkout/{checkout_id}/seats", dependencies=[Depends(csrf.require)])
async def change_seats(checkout_id: str, request: Request) -> Response:
    view = await find_view(request, checkout_id)
    if view is None or view.checkout.status != "open":
        return await _after_closed(request, checkout_id)
    form = await request.form()
    changed = await _change_seats(request, view, seats_field(form.get("seats")))
    if isinstance(changed, Response):
        return changed
    if _htmx(request):
        return await checkout_page(request, changed)
    return RedirectResponse(f"{request.scope.get('root_path', '')}/checkout/{checkout_id}", 303)


@router.post("/checkout/{checkout_id}/pay", dependencies=[Depends(csrf.require)])
async def pay(checkout_id: str, request: Request) -> Response:
    """Pay with the count on the form (changed first when it differs), then confirm."""
    view = await find_view(request, checkout_id)
    if view is None or view.checkout.status != "open":
        return await _after_closed(request, checkout_id)
    form = await request.form()
    if "seats" in form:
        changed = await _change_seats(request, view, seats_field(form.get("seats")))
        if isinstance(changed, Response):
            return changed
        view = changed
    method = form.get("payment_method")
    rt = runtime(request)
    try:
        checkout = await checkouts.confirm_checkout(
            rt, checkout_id, payment_method=method if isinstance(method, str) else ""
        )
    except CheckoutNotOpen:
        return await _after_closed(request, checkout_id)
    except SeatledgerError as error:
        typed = {"payment_method": method if isinstance(method, str) else None}
        return await checkout_page(
            request, view, status=status_for(error), error=error, typed=typed
        )
    root = request.scope.get("root_path", "").rstrip("/")
    response = RedirectResponse(f"{root}/checkout/{checkout.id}/done", 303)
    session = await open_buyer_session(rt, checkout)
    if session is not None:
        portal_session.sign_in(request, response, session.token, session.expires_at)
    return response


__all__ = ["TEST_CARDS", "checkout_page", "closed_page", "find_view", "router", "seats_field"]
