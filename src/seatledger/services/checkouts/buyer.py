"""The buyer's way into the portal after paying a hosted checkout.

The checkout's link is the buyer's credential, as a portal link is a member's: whoever holds it
may pay. The browser that has just paid a checkout for a company is the billing manager's, so
the payment's answer opens a customer session for that company's billing manager (and only that
answer: the confirmation page opens none; a stranger holding the link sees the confirmation and
no portal). A checkout bought by email alone has no company yet, hence no portal.
"""

from __future__ import annotations

from seatledger.domain.purchase import Checkout
from seatledger.services.companies import get_company
from seatledger.services.customer_sessions import NewSession, create_customer_session
from seatledger.services.runtime import Runtime


async def open_buyer_session(rt: Runtime, checkout: Checkout) -> NewSession | None:
    """A session for the billing manager of a just-completed checkout's company, or None."""
    if checkout.status != "completed" or checkout.company_id is None:
        return None
    company = await get_company(rt, checkout.company_id)
    return await create_customer_session(rt, company.billing_manager_member_id)


__all__ = ["open_buyer_session"]
