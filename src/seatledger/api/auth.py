"""Who is calling: ``Authorization: Bearer <credential>``, an API key or a customer session.

* An API key (``sl_…``, the merchant's backend) may call every route; one with only the ``read``
  scope gets 403 ``forbidden`` on every route that changes something.
* A customer session (``cs_…``, one member of one company) may, in that company only, read the
  company, its members, subscriptions, orders, seats, invoices, balance and entitlements; the
  billing manager's may also create and confirm checkouts, change, cancel and pay for
  subscriptions, and assign, resend and revoke seats. A plain member's reads only their own
  seats and their own entitlements. Anything else is 403.
* Another company's objects are 404 to every session, never 403: the check that scopes an object
  to the caller's company runs before the check of the caller's role.

Claims (``/v1/claims/{token}``) and signed download links need no credential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seatledger.domain.errors import Unauthenticated
from seatledger.services.callers import Caller, forbidden, resolve

# Where the idempotency middleware leaves the caller it resolved, so it is resolved only once.
CALLER_KEY = "seatledger.caller"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`sl_…`) or a customer session token (`cs_…`).",
)


async def _caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Caller:
    if CALLER_KEY in request.scope:
        known: Caller | None = request.scope[CALLER_KEY]
    else:
        known = await resolve(request.app.state.runtime, request.headers.get("authorization"))
        request.scope[CALLER_KEY] = known
    if known is None:
        raise Unauthenticated()
    return known


async def _writer(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if caller.api_key is not None and not caller.api_key.can_write:
        raise forbidden("This API key may only read.")
    return caller


async def _merchant(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if caller.session is not None:
        raise forbidden("Only the merchant's API key may do this.")
    return caller


async def _merchant_writer(caller: Annotated[Caller, Depends(_writer)]) -> Caller:
    return await _merchant(caller)


Reader = Annotated[Caller, Depends(_caller)]
"""Any valid credential; the route narrows sessions down."""
Writer = Annotated[Caller, Depends(_writer)]
"""Any valid credential that may write; the route narrows sessions down."""
MerchantReader = Annotated[Caller, Depends(_merchant)]
"""An API key only."""
MerchantWriter = Annotated[Caller, Depends(_merchant_writer)]
"""An API key with the ``write`` scope only."""

__all__ = [
    "CALLER_KEY",
    "Caller",
    "MerchantReader",
    "MerchantWriter",
    "Reader",
    "Unauthenticated",
    "Writer",
    "resolve",
]
