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
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.bulk import insert_rows
from seatledger.adapters.db.purchases import subscription_from_row
from seatledger.adapters.db.seat_pools import SUBSCRIPTION_COLUMNS
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.invoice import Invoice
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.domain.renewal import next_attempt
from seatledger.services.credit import add_to_balances
from seatledger.services.invoicing import emit_invoices
from seatledger.services.runtime import Runtime

# How long a run owns an attempt it claimed: longer than any provider call takes.
COLLECTION_LEASE = timedelta(minutes=10)
NO_PAYMENT_METHOD = "No payment method is saved for this subscription."


def customer_of(subscription: Any) -> str:
    """The payment provider's customer of a subscription row: the one its checkout charged."""
    return str(subscription.payment_customer or subscription.company_id or subscription.owner_email)


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


def attempt_for(row: Any, invoice: Invoice, lease: datetime) -> Attempt:
    """The attempt to collect ``invoice`` of the subscription ``row`` under ``lease``."""
    return Attempt(
        subscription_id=row.id,
        invoice=invoice,
        number=int(row.payment_attempts) + 1,
        payment_method=row.payment_method,
        customer=customer_of(row),
        lease=lease,
    )


async def charge(rt: Runtime, attempts: Sequence[Attempt]) -> list[PaymentResult | BaseException]:
    """Send every attempt to the provider, concurrently; an exception is answered in place."""

    async def one(attempt: Attempt) -> PaymentResult:
        if attempt.payment_method is None:
            return PaymentResult(False, failure_reason=NO_PAYMENT_METHOD)
        invoice = attempt.invoice
        return await rt.charge(
            PaymentRequest(
                amount=invoice.total,
                currency=invoice.currency,
                payment_method=attempt.payment_method,
                customer=attempt.customer,
                description=f"Invoice {invoice.number}",
                idempotency_key=attempt.key,
            )
        )

    if len(attempts) == 1:
        try:
            return [await one(attempts[0])]
        except Exception as error:
            return [error]
    return list(await asyncio.gather(*(one(a) for a in attempts), return_exceptions=True))


async def collect(rt: Runtime, attempts: Sequence[Attempt]) -> list[PaymentResult]:
    """Charge, then record the outcomes; answers the provider's answers. A provider error (not
    a decline) is raised after the other outcomes are recorded; its attempt is retried once its
    lease expires."""
    if not attempts:
        return []
    results = await charge(rt, attempts)
    await record(rt, attempts, results)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [result for result in results if isinstance(result, PaymentResult)]


def payment_row(
    rt: Runtime, invoice: Invoice, method: str, result: PaymentResult, now: datetime
) -> dict[str, Any]:
    return {
        "id": new_id("pay"),
        "invoice_id": invoice.id,
        "checkout_id": None,
        "provider": rt.gateway.name,
        "provider_reference": result.reference,
        "payment_method": method,
        "amount": invoice.total,
        "currency": invoice.currency,
        "status": "succeeded" if result.succeeded else "failed",
        "failure_reason": None if result.succeeded else (result.failure_reason or "")[:300],
        "created_at": now,
    }


async def _already_recorded(connection: AsyncConnection, references: list[str]) -> set[str]:
    if not references:
        return set()
    rows = await connection.execute(
        select(t.payments.c.provider_reference).where(
            t.payments.c.provider_reference.in_(references)
        )
    )
    return {str(row.provider_reference) for row in rows}


async def mark_paid(connection: AsyncConnection, invoice_ids: list[str], now: datetime) -> set[str]:
    """Open invoices among ``invoice_ids`` become paid; answers the ones that did."""
    if not invoice_ids:
        return set()
    rows = await connection.execute(
        update(t.invoices)
        .where(t.invoices.c.id.in_(invoice_ids), t.invoices.c.status == "open")
        .values(status="paid", paid_at=now, payment_url=None)
        .returning(t.invoices.c.id)
    )
    return {str(row.id) for row in rows}


async def credit_leftover(uow: UnitOfWork, invoices: Sequence[Invoice]) -> None:
    """Money taken for an invoice that someone else paid meanwhile becomes credit."""
    deltas: dict[tuple[str, str], int] = {}
    for invoice in invoices:
        if invoice.company_id is not None:
            key = (invoice.company_id, invoice.currency)
            deltas[key] = deltas.get(key, 0) + invoice.total
    await add_to_balances(uow, deltas)


_update_dunning = (
    update(t.subscriptions)
    .where(t.subscriptions.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        payment_attempts=bindparam("b_attempts"),
        past_due_since=bindparam("b_since"),
        next_payment_attempt_at=bindparam("b_next"),
    )
)


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
        connection = uow.connection
        subscriptions = await _locked(connection, {a.subscription_id for a, _ in done})
        known = await _already_recorded(
            connection, [r.reference for a, r in done if r.succeeded and r.reference]
        )
        taken = [(a, r) for a, r in done if r.succeeded and r.reference not in known]
        paid = await mark_paid(connection, [a.invoice.id for a, _ in taken], now)
        await credit_leftover(uow, [a.invoice for a, _ in taken if a.invoice.id not in paid])
        mine = [
            (a, r)
            for a, r in done
            if (row := subscriptions.get(a.subscription_id)) is not None
            and row.next_payment_attempt_at == a.lease
            and row.payment_attempts == a.number - 1
        ]
        declined = [(a, r) for a, r in mine if not r.succeeded and a.payment_method is not None]
        await keep_payment_links(connection, [(a.invoice.id, r) for a, r in mine])
        payments = [
            payment_row(rt, a.invoice, a.payment_method or "", r, now)
            for a, r in (*taken, *declined)
        ]
        await insert_rows(connection, t.payments, payments)
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
            unpaid = await _with_open_invoices(connection, sorted(outcomes))
            await _write_dunning(
                connection,
                [
                    _dunning(uow, subscriptions[sub_id], of, now, sub_id in unpaid)
                    for sub_id, of in outcomes.items()
                ],
            )
        await uow.commit()


async def keep_payment_links(
    connection: AsyncConnection, outcomes: Sequence[tuple[str, PaymentResult]]
) -> None:
    """An open invoice whose payment waits for the customer keeps where they finish it."""
    for invoice_id, result in outcomes:
        if result.action_url is not None:
            await connection.execute(
                update(t.invoices)
                .where(t.invoices.c.id == invoice_id, t.invoices.c.status == "open")
                .values(payment_url=result.action_url)
            )


async def _locked(connection: AsyncConnection, subscription_ids: set[str]) -> dict[str, Any]:
    """The subscriptions' rows by id, locked in id order (the order every run takes them in)."""
    return {
        row.id: row
        for row in await connection.execute(
            select(*SUBSCRIPTION_COLUMNS)
            .where(t.subscriptions.c.id.in_(sorted(subscription_ids)))
            .order_by(t.subscriptions.c.id)
            .with_for_update()
        )
    }


async def _with_open_invoices(connection: AsyncConnection, subscription_ids: list[str]) -> set[str]:
    rows = await connection.execute(
        select(t.invoices.c.subscription_id)
        .where(
            t.invoices.c.subscription_id.in_(subscription_ids),
            t.invoices.c.status == "open",
        )
        .distinct()
    )
    return {str(row.subscription_id) for row in rows}


async def _write_dunning(connection: AsyncConnection, values: list[dict[str, Any]]) -> None:
    """One ``UPDATE … WHERE id IN`` per distinct outcome (a run of renewals that were all paid
    is one statement), the rest one row at a time."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for row in values:
        key = (row["b_status"], row["b_attempts"], row["b_since"], row["b_next"])
        groups.setdefault(key, []).append(row["b_id"])
    singles = []
    for (status, attempts, since, next_at), ids in groups.items():
        if len(ids) == 1:
            singles.append(
                {
                    "b_id": ids[0],
                    "b_status": status,
                    "b_attempts": attempts,
                    "b_since": since,
                    "b_next": next_at,
                }
            )
            continue
        await connection.execute(
            update(t.subscriptions)
            .where(t.subscriptions.c.id.in_(ids))
            .values(
                status=status,
                payment_attempts=attempts,
                past_due_since=since,
                next_payment_attempt_at=next_at,
            )
        )
    if singles:
        await connection.execute(_update_dunning, singles)


def _dunning(
    uow: UnitOfWork,
    row: Any,
    outcomes: list[tuple[Attempt, PaymentResult]],
    now: datetime,
    unpaid: bool,
) -> dict[str, Any]:
    """The subscription's status and dunning columns after its attempts, with their events;
    ``unpaid``: invoices of it are still open (the subscription stays as it is)."""
    values = {
        "b_id": row.id,
        "b_status": row.status,
        "b_attempts": row.payment_attempts,
        "b_since": row.past_due_since,
        "b_next": None,
    }
    if row.status == "canceled":
        return values  # a final invoice: one attempt, then it waits for a payment by hand
    if all(result.succeeded for _, result in outcomes):
        if unpaid and row.past_due_since is not None:
            # An older invoice is still open: its retries go on as scheduled.
            attempts = max(1, int(row.payment_attempts))
            values["b_next"] = next_attempt(row.past_due_since, attempts)
            return values
        values.update(b_status="active", b_attempts=0, b_since=None)
        if row.status != "active":
            subscription = replace(subscription_from_row(row), status="active")
            uow.emit(EventType.SUBSCRIPTION_UPDATED, subscription)
        return values
    failures = int(row.payment_attempts) + 1
    since = row.past_due_since or now
    values.update(
        b_status="past_due",
        b_attempts=failures,
        b_since=since,
        b_next=next_attempt(since, failures),
    )
    if row.status != "past_due":
        subscription = replace(subscription_from_row(row), status="past_due")
        uow.emit(EventType.SUBSCRIPTION_PAST_DUE, subscription)
    return values


__all__ = [
    "COLLECTION_LEASE",
    "Attempt",
    "attempt_for",
    "charge",
    "collect",
    "credit_leftover",
    "customer_of",
    "keep_payment_links",
    "mark_paid",
    "payment_row",
    "record",
]
