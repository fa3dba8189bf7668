"""Collecting open invoices: renewal charges, dunning retries, final invoices, and paying an
open invoice by hand (``POST /v1/invoices/{id}/pay``).

No transaction is open while the payment provider answers. An attempt is *claimed* first: the
subscription's ``next_payment_attempt_at`` is set to a lease (``now + COLLECTION_LEASE``) in the
transaction that finalises the invoice or picks the retry, so no other run collects it
meanwhile; the charge then goes out with the idempotency key
``invoice:{id}:attempt:{n}`` (``n`` counts the subscription's attempts); its outcome is recorded
in a transaction of its own, and only if the lease is still the one this run took. A crash
between the steps leaves the lease to expire; the next run claims the attempt again, sends the
same key, and the provider answers the first outcome again: nothing is charged twice.

Outcomes: a paid invoice, and when every open invoice of the subscription is paid, an
``active`` subscription. A failure makes it ``past_due`` (``past_due_since`` is the first
failure) and schedules the next attempt (``seatledger.domain.renewal.next_attempt``); on a
canceled subscription (a final invoice) a failure leaves the invoice open and nothing retries.
A renewal below the provider's minimum charge is not charged: it is paid by carrying its total
to the next invoice (``carry_over``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from seatledger import faults
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice, InvoiceLine
from seatledger.domain.payment_record import PaymentRecord
from seatledger.domain.payments import PaymentRequest, PaymentResult, minimum_charge
from seatledger.domain.purchase import Subscription
from seatledger.domain.renewal import Dunning, next_attempt
from seatledger.services.credit import add_to_balances
from seatledger.services.invoicing import emit_invoices
from seatledger.services.runtime import Runtime

# How long a run owns an attempt it claimed: longer than any provider call takes.
COLLECTION_LEASE = timedelta(minutes=10)
NO_PAYMENT_METHOD = "No payment method is saved for this subscription."


def customer_of(subscription: Subscription) -> str:
    """The payment provider's customer of a subscription: the one its checkout charged."""
    return subscription.customer


@dataclass(frozen=True, slots=True)
class Attempt:
    """One claimed attempt to collect one open invoice of a subscription."""

    subscription_id: str
    invoice: Invoice
    number: int  # the subscription's payment_attempts + 1
    payment_method: str | None
    customer: str
    lease: datetime  # the subscription's next_payment_attempt_at while it runs

    @property
    def key(self) -> str:
        return f"invoice:{self.invoice.id}:attempt:{self.number}"


def attempt_for(row: Subscription, invoice: Invoice, lease: datetime) -> Attempt:
    """The attempt to collect ``invoice`` of the subscription ``row`` under ``lease``."""
    return Attempt(
        subscription_id=row.id,
        invoice=invoice,
        number=row.payment_attempts + 1,
        payment_method=row.payment_method,
        customer=customer_of(row),
        lease=lease,
    )


async def charge(rt: Runtime, attempts: Sequence[Attempt]) -> list[PaymentResult | BaseException]:
    """Send every attempt to the provider, at most ``payment_concurrency`` at once; an exception
    is answered in place."""
    bound = asyncio.Semaphore(rt.settings.payment_concurrency)

    async def one(attempt: Attempt) -> PaymentResult:
        if attempt.payment_method is None:
            return PaymentResult(False, failure_reason=NO_PAYMENT_METHOD)
        async with bound:
            return await _charge_one(rt, attempt, attempt.payment_method)

    if len(attempts) == 1:
        try:
            return [await one(attempts[0])]
        except Exception as error:
            return [error]
    return list(await asyncio.gather(*(one(a) for a in attempts), return_exceptions=True))


async def _charge_one(rt: Runtime, attempt: Attempt, method: str) -> PaymentResult:
    invoice = attempt.invoice
    return await rt.charge(
        PaymentRequest(
            amount=invoice.total,
            currency=invoice.currency,
            payment_method=method,
            customer=attempt.customer,
            description=f"Invoice {invoice.number}",
            idempotency_key=attempt.key,
        )
    )


async def collect(rt: Runtime, attempts: Sequence[Attempt]) -> list[PaymentResult]:
    """Charge, then record the outcomes; answers the provider's answers (a renewal carried
    over, ``carry_over``, as a success). A provider error (not a decline) is raised after the
    other outcomes are recorded; its attempt is retried once its lease expires."""
    if not attempts:
        return []
    carried = [a for a in attempts if below_minimum(rt, a.invoice)]
    attempts = [a for a in attempts if a not in carried]
    if carried:
        await carry_over(rt, carried)
    results = await charge(rt, attempts)
    await record(rt, attempts, results)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [PaymentResult(True) for _ in carried] + [
        result for result in results if isinstance(result, PaymentResult)
    ]


def below_minimum(rt: Runtime, invoice: Invoice) -> bool:
    """A renewal invoice the provider would refuse to charge: more than nothing, less than its
    minimum charge in the currency (Stripe's 0.50 USD …; SPEC §7)."""
    return invoice.reason == "subscription_cycle" and 0 < invoice.total < minimum_charge(
        rt.gateway, invoice.currency
    )


def carried_line(invoice: Invoice) -> InvoiceLine:
    return InvoiceLine(
        kind="proration",
        description=f"Carried over from {invoice.number}: below the minimum charge",
        quantity=1,
        unit_amount=invoice.total,
        amount=invoice.total,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
    )


async def carry_over(rt: Runtime, attempts: Sequence[Attempt]) -> None:
    """Renewals below the provider's minimum charge are not sent to fail: as Stripe does with
    its own invoices, each is marked paid without a charge and its total waits, as one line,
    for the subscription's next invoice (the subscription stays, or becomes, ``active``). Only
    while this run holds the attempt's lease (as ``record``); a canceled subscription's
    invoice, which no next invoice follows, is left open."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        subscriptions = await uow.subscriptions.lock_all({a.subscription_id for a in attempts})
        mine = [
            a
            for a in attempts
            if (row := subscriptions.get(a.subscription_id)) is not None
            and row.status != "canceled"
            and row.next_payment_attempt_at == a.lease
            and row.payment_attempts == a.number - 1
        ]
        paid = await uow.invoices.mark_paid([a.invoice.id for a in mine], now)
        carried = [a for a in mine if a.invoice.id in paid]
        for a in carried:
            await uow.pending_lines.add(
                a.subscription_id, [carried_line(a.invoice)], a.invoice.currency, now
            )
        await emit_invoices(uow, EventType.INVOICE_PAID, [a.invoice.id for a in carried])
        outcomes: dict[str, list[tuple[Attempt, PaymentResult]]] = {}
        for a in carried:
            outcomes.setdefault(a.subscription_id, []).append((a, PaymentResult(True)))
        if outcomes:
            unpaid = await uow.invoices.with_open(sorted(outcomes))
            await uow.subscriptions.write_dunning(
                [
                    _dunning(uow, subscriptions[sub_id], of, now, sub_id in unpaid)
                    for sub_id, of in outcomes.items()
                ],
            )
        await uow.commit()


def payment_record(
    rt: Runtime, invoice: Invoice, method: str, result: PaymentResult, now: datetime
) -> PaymentRecord:
    """The record of a payment for ``invoice`` with ``method``, taken or declined."""
    return PaymentRecord.of(
        result,
        provider=rt.gateway.name,
        payment_method=method,
        amount=invoice.total,
        currency=invoice.currency,
        now=now,
        invoice_id=invoice.id,
    )


async def credit_leftover(uow: UnitOfWork, invoices: Sequence[Invoice]) -> None:
    """Money taken for an invoice that someone else paid meanwhile becomes credit."""
    deltas: dict[tuple[str, str], int] = {}
    for invoice in invoices:
        if invoice.company_id is not None:
            key = (invoice.company_id, invoice.currency)
            deltas[key] = deltas.get(key, 0) + invoice.total
    await add_to_balances(uow, deltas)


async def record(
    rt: Runtime, attempts: Sequence[Attempt], results: Sequence[PaymentResult | BaseException]
) -> None:
    """Write the outcomes of ``attempts`` (one transaction).

    Money taken is never lost: a successful charge not yet recorded (its provider reference is
    new) pays its invoice, or becomes credit when the invoice was paid meanwhile. Declines and
    the subscription's dunning columns are written only while this run still holds the lease;
    otherwise another run took the attempt over and records the same answer itself.
    """
    done = [(a, r) for a, r in zip(attempts, results, strict=True) if isinstance(r, PaymentResult)]
    if not done:
        return
    now = rt.clock.now()
    async with rt.transaction() as uow:
        subscriptions = await uow.subscriptions.lock_all({a.subscription_id for a, _ in done})
        known = await uow.payments.recorded(
            [r.reference for a, r in done if r.succeeded and r.reference]
        )
        taken = [(a, r) for a, r in done if r.succeeded and r.reference not in known]
        paid = await uow.invoices.mark_paid([a.invoice.id for a, _ in taken], now)
        await credit_leftover(uow, [a.invoice for a, _ in taken if a.invoice.id not in paid])
        mine = [
            (a, r)
            for a, r in done
            if (row := subscriptions.get(a.subscription_id)) is not None
            and row.next_payment_attempt_at == a.lease
            and row.payment_attempts == a.number - 1
        ]
        declined = [(a, r) for a, r in mine if not r.succeeded and a.payment_method is not None]
        await uow.invoices.keep_payment_urls(
            [(a.invoice.id, r.action_url) for a, r in mine if r.action_url is not None]
        )
        await uow.payments.add(
            [
                payment_record(rt, a.invoice, a.payment_method or "", r, now)
                for a, r in (*taken, *declined)
            ]
        )
        await emit_invoices(
            uow, EventType.INVOICE_PAID, [a.invoice.id for a, _ in taken if a.invoice.id in paid]
        )
        await emit_invoices(
            uow,
            EventType.INVOICE_PAYMENT_FAILED,
            [a.invoice.id for a, r in mine if not r.succeeded],
        )
        outcomes: dict[str, list[tuple[Attempt, PaymentResult]]] = {}
        for a, r in mine:
            outcomes.setdefault(a.subscription_id, []).append((a, r))
        if outcomes:
            unpaid = await uow.invoices.with_open(sorted(outcomes))
            await uow.subscriptions.write_dunning(
                [
                    _dunning(uow, subscriptions[sub_id], of, now, sub_id in unpaid)
                    for sub_id, of in outcomes.items()
                ],
            )
        faults.reached("payments_recorded")
        await uow.commit()


def _dunning(
    uow: UnitOfWork,
    row: Subscription,
    outcomes: list[tuple[Attempt, PaymentResult]],
    now: datetime,
    unpaid: bool,
) -> Dunning:
    """The subscription's status and dunning columns after its attempts, with their events;
    ``unpaid``: invoices of it are still open (the subscription stays as it is)."""
    unchanged = Dunning(row.id, row.status, row.payment_attempts, row.past_due_since, None)
    if row.status == "canceled":
        return unchanged  # a final invoice: one attempt, then it waits for a payment by hand
    if all(result.succeeded for _, result in outcomes):
        if unpaid and row.past_due_since is not None:
            # An older invoice is still open: its retries go on as scheduled.
            attempts = max(1, row.payment_attempts)
            return replace(
                unchanged, next_payment_attempt_at=next_attempt(row.past_due_since, attempts)
            )
        if row.status != "active":
            uow.emit(EventType.SUBSCRIPTION_UPDATED, replace(row, status="active"))
        return Dunning(row.id, "active", 0, None, None)
    failures = row.payment_attempts + 1
    since = row.past_due_since or now
    if row.status != "past_due":
        uow.emit(EventType.SUBSCRIPTION_PAST_DUE, replace(row, status="past_due"))
    return Dunning(row.id, "past_due", failures, since, next_attempt(since, failures))


__all__ = [
    "COLLECTION_LEASE",
    "Attempt",
    "attempt_for",
    "charge",
    "collect",
    "credit_leftover",
    "customer_of",
    "payment_record",
    "record",
]
