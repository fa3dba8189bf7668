"""Quarterly true-up of annual subscriptions (``proration_defaults.true_up_interval:
"quarter"``): at each quarter's end the seat-count rises of that quarter are invoiced.

Run by the same due scan as renewals (``seatledger.services.renewals``), before them, so that a
quarter is billed before the period it belongs to renews. Each subscription's quarter is billed
in one transaction that locks the subscription, reads its rises still unbilled that fall due
(their ``bill_at`` passed), invoices them (``subscription_update``: the invoice of changes made
earlier) and marks them billed by that invoice; a second run, or a run after a crash, finds
them billed and does nothing: each quarter is billed once. The company's credit balance pays
what it can; the rest is collected like a renewal, with the saved card (a decline leaves the
invoice open and the subscription ``past_due``, retried on the dunning schedule); a subscription
already past due keeps its schedule, whose next retry collects this invoice too.
"""

from __future__ import annotations

from datetime import datetime

from seatledger import faults
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.services.collection import COLLECTION_LEASE, Attempt, attempt_for
from seatledger.services.invoicing import create_invoice_with_credit
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import true_up_lines_of

BATCH = 100


async def bill_quarters(rt: Runtime, now: datetime) -> list[Attempt]:
    """Bill every quarter whose end has come (module docstring); answers the payment attempts
    that collect the invoices with something left to pay."""
    attempts: list[Attempt] = []
    while True:
        async with rt.reading() as uow:
            due = await uow.true_ups.quarters_due(now, BATCH)
        billed = 0
        for subscription_id in due:
            async with rt.transaction() as uow:
                attempt, done = await _bill_quarter(uow, subscription_id, now)
                await uow.commit()
            faults.reached("true_up_quarter_committed")
            billed += done
            if attempt is not None:
                attempts.append(attempt)
        if len(due) < BATCH or not billed:
            return attempts


async def _bill_quarter(
    uow: UnitOfWork, subscription_id: str, now: datetime
) -> tuple[Attempt | None, bool]:
    """The subscription's due quarter invoiced, under its lock; (its attempt, whether billed)."""
    row = await uow.subscriptions.find(subscription_id, lock=True)
    if row is None or row.company_id is None:
        return None, False
    rises = await uow.true_ups.unbilled([row.id], due_by=now)
    if not rises[row.id]:
        return None, False  # billed by another run meanwhile
    terms = await uow.catalog.terms(sorted({rise.price_id for rise in rises[row.id]}))
    lines = true_up_lines_of(terms, rises)[row.id]
    invoice = await create_invoice_with_credit(
        uow,
        now=now,
        company_id=row.company_id,
        subscription_id=row.id,
        currency=terms[rises[row.id][0].price_id].price.currency,
        lines=lines,
        reason="subscription_update",
        period_start=min(rise.step.at for rise in rises[row.id]),
        period_end=max(rise.bill_at for rise in rises[row.id]),
    )
    faults.reached("true_up_quarter_invoiced")
    await uow.true_ups.take([(row.id, invoice.id)], due_by=now)
    if invoice.total <= 0:
        return None, True
    if row.next_payment_attempt_at is not None:
        return None, True  # a retry is scheduled (past due): it collects every open invoice
    lease = now + COLLECTION_LEASE
    await uow.subscriptions.set_next_attempt([row.id], lease)
    return attempt_for(row, invoice, lease), True


__all__ = ["bill_quarters"]
