"""Every invoice of one subscription, wherever it lives: seatledger's own, and in ``billing``
mode the provider's, mirrored (SPEC §7), in one list of seatledger's invoice shape — a
provider's invoice says so with ``provider`` and carries its hosted page.

Oldest first, by creation time (then id). A subscription has a handful of invoices a year, so
both kinds are read whole and paged here; the cursor is the id of the last invoice answered.
"""

from __future__ import annotations

from seatledger.adapters.db.provider_invoices import as_invoice
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.invoice import Invoice
from seatledger.services import invoicing
from seatledger.services.pages import MAX_LIMIT, Page, check_limit
from seatledger.services.purchases import get_subscription
from seatledger.services.runtime import Runtime


async def _own(rt: Runtime, subscription_id: str, scope_company_id: str | None) -> list[Invoice]:
    found: list[Invoice] = []
    cursor: str | None = None
    while True:
        page = await invoicing.list_invoices(
            rt,
            subscription_id=subscription_id,
            limit=MAX_LIMIT,
            cursor=cursor,
            scope_company_id=scope_company_id,
        )
        found.extend(page.data)
        if not page.has_more:
            return found
        cursor = page.next_cursor


async def list_subscription_invoices(
    rt: Runtime,
    subscription_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> Page[Invoice]:
    """The subscription's invoices, seatledger's and its provider's, oldest first.
    ``not_found`` for a subscription that is unknown or not the caller's; a cursor this list
    did not give is a ``validation_error`` naming ``cursor``."""
    size = check_limit(limit)
    subscription = await get_subscription(rt, subscription_id, scope_company_id=scope_company_id)
    own = await _own(rt, subscription.id, scope_company_id)
    async with rt.reading() as uow:
        rows = await uow.provider_invoices.of_subscription(subscription.id)
    every = sorted(
        [*own, *(as_invoice(row, subscription.company_id) for row in rows)],
        key=lambda invoice: (invoice.created_at, invoice.id),
    )
    start = 0
    if cursor is not None:
        after = next((n for n, invoice in enumerate(every) if invoice.id == cursor), None)
        if after is None:
            raise ValidationFailed.field("cursor", "is not a cursor this list gave")
        start = after + 1
    kept = every[start : start + size]
    has_more = start + size < len(every)
    return Page(tuple(kept), has_more, kept[-1].id if has_more else None)


async def provider_invoices_of_company(
    rt: Runtime, company_id: str, *, limit: int = MAX_LIMIT
) -> list[Invoice]:
    """The newest invoices the provider made for the company's subscriptions (``billing``
    mode), newest first: what the portal shows beside seatledger's own."""
    async with rt.reading() as uow:
        rows = await uow.provider_invoices.of_company(company_id, limit)
    return [as_invoice(row, row.company_id) for row in rows]


__all__ = ["list_subscription_invoices", "provider_invoices_of_company"]
