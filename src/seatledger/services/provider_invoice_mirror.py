"""Invoices the provider makes for a subscription it bills (SPEC §7, ``billing`` mode),
mirrored from ``invoice.finalized``, ``invoice.paid`` and ``invoice.payment_failed``.

They are the provider's invoices, numbered by it: they are kept apart from seatledger's own
(``provider_invoices``, never in ``invoices``, never on seatledger's invoice sequence, never in
``GET /v1/invoices``; ``GET /v1/subscriptions/{id}/invoices`` shows them beside seatledger's),
one row per provider invoice id with its number, status, currency, total, amount paid, lines
(with what each bills: base, seats or proration), billing reason, hosted page and dates as the
provider has them *now* (read again when the event is applied: a late ``invoice.finalized``
after ``invoice.paid`` does not bring back ``open``). An invoice of a subscription seatledger
does not know is left alone.
"""

from __future__ import annotations

from seatledger.adapters.db.provider_billing import ProviderPriceBook, ProviderSubscriptions
from seatledger.domain.invoice import LineKind
from seatledger.domain.provider_billing import ProviderInvoiceChanged, ProviderInvoiceLine
from seatledger.services.runtime import Runtime

PROVIDER = "stripe"


async def mirror_invoice(rt: Runtime, fact: ProviderInvoiceChanged) -> None:
    """Apply the provider's invoice as it is now (the applier of the fact)."""
    if rt.billing is None:
        return
    invoice = await rt.billing.invoice(fact.provider_id)
    if invoice.subscription is None:
        return
    link = await ProviderSubscriptions(rt.engine, PROVIDER).by_provider_id(invoice.subscription)
    if link is None:
        return
    kinds = [await _kind(rt, line) for line in invoice.lines]
    async with rt.transaction() as uow:
        await uow.provider_invoices.keep(
            PROVIDER, link.subscription_id, invoice, rt.clock.now(), kinds=kinds
        )
        await uow.commit()


async def _kind(rt: Runtime, line: ProviderInvoiceLine) -> LineKind:
    """What a provider's line bills, in seatledger's words: a proration, else the base or
    the seats item by the price it names (a price seatledger did not make: seats)."""
    if line.proration:
        return "proration"
    if line.price is None:
        return "seats"
    role = await ProviderPriceBook(rt.engine, PROVIDER).role_of(line.price)
    return "base" if role is not None and role[1] == "base" else "seats"


__all__ = ["mirror_invoice"]
