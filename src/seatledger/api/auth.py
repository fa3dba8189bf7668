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

from collections.abc import Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPBearer

from seatledger.domain.errors import Unauthenticated
from seatledger.services.callers import Caller, forbidden, resolve

# Where the request gate leaves the caller it resolved, so it is resolved only once.
CALLER_KEY = "seatledger.caller"
_DESCRIPTION = "An API key (`sl_…`) or a customer session token (`cs_…`)."

Check = Callable[[Caller], None]


class _CallerScheme(HTTPBearer):
    """The bearer scheme whose dependency is the caller itself, checked.

    A route depends on one of these alone: being a security scheme, it documents the
    ``Authorization`` header in ``/openapi.json`` as the plain ``HTTPBearer`` did, and it
    answers the ``Caller`` the request gate resolved (``CALLER_KEY``) with the route's check
    applied. The caller, the scheme and the checks used to be three nested dependencies, which
    FastAPI solves again on every request (its dependency solving was a seventh of an
    entitlement check's CPU)."""

    def __init__(self, *checks: Check) -> None:
        super().__init__(auto_error=False, scheme_name="bearer", description=_DESCRIPTION)
        self._checks = checks

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        if CALLER_KEY in request.scope:
            known: Caller | None = request.scope[CALLER_KEY]
        else:
            known = await resolve(request.app.state.runtime, request.headers.get("authorization"))
            request.scope[CALLER_KEY] = known
        if known is None:
            raise Unauthenticated()
        for check in self._checks:
            check(known)
        return known


def _writes(caller: Caller) -> None:
    if caller.api_key is not None and not caller.api_key.can_write:
        raise forbidden("This API key may only read.")


def _is_merchant(caller: Caller) -> None:
    if caller.session is not None:
        raise forbidden("Only the merchant's API key may do this.")


Reader = Annotated[Caller, Security(_CallerScheme())]
"""Any valid credential; the route narrows sessions down."""
Writer = Annotated[Caller, Security(_CallerScheme(_writes))]
"""Any valid credential that may write; the route narrows sessions down."""
MerchantReader = Annotated[Caller, Security(_CallerScheme(_is_merchant))]
"""An API key only."""
MerchantWriter = Annotated[Caller, Security(_CallerScheme(_writes, _is_merchant))]
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
