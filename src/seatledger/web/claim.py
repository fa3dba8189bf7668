"""The claim page (SPEC §11): ``/claim/{token}``, an invitation's ``url``.

GET shows whose team it is, the product, the invited address and the expiry, and changes
nothing (mail scanners follow links; ``lookup_invitation`` is read-only). The button POSTs the
claim (``claim_seat``, which opens the holder's customer session in the same transaction) and
the holder enters the portal with that session (``portal_session.enter``), on their seats.
A used, expired, revoked or unknown token gets one plain page: the service does not say which,
so that a link reveals nothing about the seat behind it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from seatledger.domain.errors import InvalidToken
from seatledger.services import seats
from seatledger.web import csrf, portal_session
from seatledger.web.cookies import runtime
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False)


async def _invalid(request: Request) -> Response:
    context = {
        "heading": "This invitation link does not work",
        "text": "It has been used already, it has expired, or the invitation was withdrawn."
        " If you claimed your seat, open the portal from a newer link; otherwise ask your"
        " company's billing manager to send the invitation again.",
    }
    response = await render(request, "message.html", context, status=400)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/claim/{token}")
async def show_invitation(token: str, request: Request) -> Response:
    try:
        invitation = await seats.lookup_invitation(runtime(request), token)
    except InvalidToken:
        return await _invalid(request)
    response = await render(request, "claim/page.html", {"invitation": invitation, "token": token})
    # The token is in this page's address: never send it on in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/claim/{token}", dependencies=[Depends(csrf.require)])
async def claim(token: str, request: Request) -> Response:
    try:
        claimed = await seats.claim_seat(runtime(request), token, open_session=True)
    except InvalidToken:
        return await _invalid(request)
    session = claimed.session
    assert session is not None  # asked for: opened in the claim's own transaction
    root = request.scope.get("root_path", "").rstrip("/")
    return await portal_session.enter(request, session.token, f"{root}/portal/seats")


__all__ = ["router"]
