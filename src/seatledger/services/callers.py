"""Who is calling, and what each caller may do: an API key or a customer session (SPEC §6).

The rules are the API's and the portal's alike (``seatledger.api.auth`` reads the
``Authorization`` header, ``seatledger.web`` the portal's cookie; both resolve the credential
here and ask the same ``Caller``):

* An API key (``sl_…``, the merchant's backend) may do everything; one with only the ``read``
  scope may not change anything.
* A customer session (``cs_…``, one member of one company) may, in that company only, read the
  company, its members, subscriptions, orders, seats, invoices, balance and entitlements; the
  billing manager's may also buy, change, cancel and pay, and assign, resend and revoke seats. A
  plain member's reads only their own seats and their own entitlements.
* Another company's objects are ``NotFound`` to every session, never ``Forbidden``: the check
  that scopes an object to the caller's company runs before the check of the caller's role.

A dashboard user (``seatledger.web.dashboard``) is the merchant too: a ``Caller`` with neither
a key nor a session (credential ``user:<id>``) may do what a read-and-write key may.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from seatledger.domain.errors import Forbidden, NotFound
from seatledger.domain.ids import check_id
from seatledger.services import api_keys, customer_sessions
from seatledger.services.api_keys import ApiKey
from seatledger.services.customer_sessions import SessionMember
from seatledger.services.runtime import Runtime


def forbidden(detail: str = "This credential may not do this.") -> Forbidden:
    return Forbidden(detail)


@dataclass(frozen=True, slots=True)
class Caller:
    credential: str  # "key:<id>", "session:<id>" or "user:<id>": scopes idempotency keys
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
            raise forbidden("Only the merchant's API key may do this.")

    def manager_of(self, company_id: str, *, field: str | None = None) -> None:
        """An API key, or the billing manager of ``company_id``."""
        self.own_company(company_id, field=field)
        if self.is_plain_member:
            raise forbidden("Only the company's billing manager may do this.")

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
            raise forbidden("Only the company's billing manager may do this.")

    async def manager_for(self, scoped_read: Callable[[], Awaitable[Any]]) -> None:
        """Before an action on an object: a plain member gets 404 when the object is not in
        their company (``scoped_read`` raises it), else 403."""
        if self.is_plain_member:
            await scoped_read()
            raise forbidden("Only the company's billing manager may do this.")


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


__all__ = ["Caller", "forbidden", "resolve"]
