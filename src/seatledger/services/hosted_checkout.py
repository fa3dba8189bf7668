"""A checkout paid on the payment provider's hosted page (SPEC §7, Stripe Checkout).

    open checkout ──open_hosted_page──▶ the provider's page (reused while it is open and still
                                        asks the amount due)
    page paid ──(provider event, delivery loop)──▶ complete_paid_page: the checkout completed
                                        exactly as a confirm would, with the payment the page
                                        took (nothing is charged again)

The page is opened under the idempotency key ``checkout:{id}:hosted:{n}`` (``n`` counts the
checkout's pages), so two requests racing to open the first page get one. Completion is
guarded as every confirm is (``UPDATE … WHERE status = 'open'``): a page event delivered twice,
late, or after a confirm by API completes the checkout once.
"""

from __future__ import annotations

import logging

from seatledger.domain.errors import CheckoutNotOpen, NotFound, PriceArchived
from seatledger.domain.payments import HostedPage, HostedPagePaid, HostedPageRequest, HostedPayments
from seatledger.domain.purchase import Checkout
from seatledger.services.checkouts.checkout import checkout_of, price_of, require_open
from seatledger.services.checkouts.confirmation import complete_purchase
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.payments")


def hosted_payments(rt: Runtime) -> HostedPayments:
    """The gateway's hosted pages; ``NotFound`` when this provider has none (``local``)."""
    if not isinstance(rt.gateway, HostedPayments):
        raise NotFound("hosted payment page")
    return rt.gateway


def _request(rt: Runtime, row: Checkout, number: int) -> HostedPageRequest:
    base = f"{rt.settings.public_url}/checkout/{row.id}"
    return HostedPageRequest(
        checkout_id=row.id,
        amount=row.amount_due,
        currency=row.currency,
        customer=row.customer,
        description=f"{row.seats} {'seat' if row.seats == 1 else 'seats'}",
        success_url=f"{base}/done",
        cancel_url=base,
        expires_at=row.expires_at,
        idempotency_key=f"checkout:{row.id}:hosted:{number}",
    )


def _asks(page: HostedPage, row: Checkout) -> bool:
    return page.status == "open" and (page.amount, page.currency) == (row.amount_due, row.currency)


async def open_hosted_page(rt: Runtime, checkout_id: str) -> str:
    """Where the customer pays the open checkout ``checkout_id``: its open page, or a new one.
    A page paid already completes the checkout and answers its success URL. Errors:
    ``not_found``, ``checkout_not_open``, ``price_archived``, ``payment_provider_unavailable``."""
    provider = hosted_payments(rt)
    async with rt.transaction() as uow:
        row = await checkout_of(uow, checkout_id, None)
        await require_open(uow, row, rt.clock.now())
        price = await price_of(uow, row.price_id)
        if price.archived:
            raise PriceArchived()
        pages = await uow.hosted_pages.of(row.id)
    if row.amount_due == 0:  # nothing to pay: completed as a confirm would
        await complete_purchase(rt, row.id, price, "", None)
        return f"{rt.settings.public_url}/checkout/{row.id}/done"
    if pages:
        latest = await provider.hosted_page(pages[0].id)
        if latest.status == "paid":
            await complete_paid_page(rt, HostedPagePaid(latest))
            return f"{rt.settings.public_url}/checkout/{row.id}/done"
        if _asks(latest, row) and latest.url is not None:
            return latest.url
    page = await provider.open_hosted_page(_request(rt, row, len(pages) + 1))
    async with rt.transaction() as uow:
        await uow.hosted_pages.add(rt.gateway.name, page.id, row.id, page.url, rt.clock.now())
        await uow.commit()
    if page.url is None:
        raise CheckoutNotOpen()
    return page.url


async def complete_paid_page(rt: Runtime, fact: HostedPagePaid) -> None:
    """Complete the checkout a paid page belongs to, with the payment it took (once)."""
    page = fact.page
    if page.checkout_id is None or page.result is None:
        return
    async with rt.reading() as uow:
        try:
            row = await checkout_of(uow, page.checkout_id, None)
        except NotFound:
            log.warning("hosted page %s names an unknown checkout %s", page.id, page.checkout_id)
            return
        price = await price_of(uow, row.price_id)
    if row.status != "open":
        return  # completed already: by this page's earlier event, or by a confirm
    if page.amount != row.amount_due:
        log.warning(
            "checkout %s was paid %s %s on page %s while %s was due",
            row.id, page.amount, page.currency, page.id, row.amount_due,
        )  # fmt: skip
    try:
        await complete_purchase(rt, row.id, price, page.result.payment_method or "", page.result)
    except CheckoutNotOpen:
        return


__all__ = ["complete_paid_page", "hosted_payments", "open_hosted_page"]
