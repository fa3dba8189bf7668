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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seatledger.api.common import check_id
from seatledger.domain.errors import Forbidden, NotFound, Unauthenticated
from seatledger.services import api_keys, customer_sessions
from seatledger.services.api_keys import ApiKey
from seatledger.services.customer_sessions import SessionMember
from seatledger.services.runtime import Runtime

# Where the idempotency middleware leaves the caller it resolved, so it is resolved only once.
CALLER_KEY = "seatledger.caller"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`sl_…`) or a customer session token (`cs_…`).",
)


def _forbidden(detail: str = "This credential may not do this.") -> Forbidden:
    return Forbidden(detail)


@dataclass(frozen=True, slots=True)
class Caller:
    credential: str  # "key:<id>" or "session:<id>": scopes idempotency keys
    api_key: ApiKey | None = None
    session: SessionMember | None = None

    @property
    def company_scope(self) -> str | None:
        """The company a session is confined to; None for an API key."""
        return None if self.session is None else self.session.company_id

    @property
    def is_manager(self) -> bool:
        return self.session is not None and self.session.role == "billing_manager"

    @property
    def is_plain_member(self) -> bool:
        return self.session is not None and self.session.role != "billing_manager"

    def own_company(self, company_id: str, *, field: str | None = None) -> None:
        """A session names another company: 404 (as if it did not exist)."""
        if self.session is not None and company_id != self.session.company_id:
            raise NotFound("company", field=field)

    def merchant_only(self, company_id: str | None = None) -> None:
        """Only an API key may: 403 for a session (404 for another company's)."""
        if self.session is not None:
            if company_id is not None:
                self.own_company(company_id)
            raise _forbidden("Only the merchant's API key may do this.")

    def manager_of(self, company_id: str, *, field: str | None = None) -> None:
        """An API key, or the billing manager of ``company_id``."""
        self.own_company(company_id, field=field)
        if self.is_plain_member:
            raise _forbidden("Only the company's billing manager may do this.")

    def listed_company(self, company_id: str | None) -> str | None:
        """The company a list is for, checked like ``manager_of``: a customer session's own
        when omitted; None (every company) for an API key that names none."""
        if company_id is None:
            if self.session is None:
                return None
            company_id = self.session.company_id
        company_id = check_id(company_id, "company", field="company_id")
        self.manager_of(company_id, field="company_id")
        return company_id

    def require_manager(self) -> None:
        """After the object was read in the caller's scope: plain members may not."""
        if self.is_plain_member:
            raise _forbidden("Only the company's billing manager may do this.")

    async def manager_for(self, scoped_read: Callable[[], Awaitable[Any]]) -> None:
        """Before an action on an object: a plain member gets 404 when the object is not in
        their company (``scoped_read`` raises it), else 403."""
        if self.is_plain_member:
            await scoped_read()
            raise _forbidden("Only the company's billing manager may do this.")


async def resolve(rt: Runtime, authorization: str | None) -> Caller | None:
    """The caller behind an ``Authorization`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    if token.startswith(customer_sessions.TOKEN_PREFIX):
        session = await customer_sessions.authenticate_session(rt, token)
        return None if session is None else Caller(f"session:{session.session_id}", session=session)
    key = await api_keys.authenticate_api_key(rt, token)
    return None if key is None else Caller(f"key:{key.id}", api_key=key)


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
        raise _forbidden("This API key may only read.")
    return caller


async def _merchant(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
    if caller.session is not None:
        raise _forbidden("Only the merchant's API key may do this.")
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
