"""Changing a subscription: its seats, its price, a scheduled cancellation (SPEC §2, §3).

``change_subscription`` (``PATCH``) and ``preview_change`` (``POST …/preview``) load where the
subscription stands and ask ``seatledger.domain.billing.plan_change`` what the change does; the
preview answers that plan, the change writes it. ``apply_plan`` is also how the ``members``
mode grows and shrinks a pool (``seatledger.services.seat_sync``).

A change whose invoice has something to collect (``invoice``, a charge) is paid first: the
plan is made in one transaction, the card charged with no transaction open, and the change
written in a second transaction after planning again at the same instant. Under an
``Idempotency-Key`` that instant is the request's recovery point: a retry after a crash plans at
the first run's instant, so the charge goes out under the same provider key. A declined card
changes nothing and leaves no invoice (``PaymentFailed``). Should the subscription have moved
in between (a concurrent change), the money taken goes to the credit balance and the change is
refused (``subscription_changed``), so nothing is billed for a plan that no longer holds.

A price of another product is allowed (a plan change, e.g. "Team" → "Business"): the seats and
their holders stay, and claimed seats' grants follow the new product's benefits. The defaults
used are those of the product the subscription moves to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.purchases import pending_change_json, subscription_from_row
from seatledger.adapters.db.seat_pools import SUBSCRIPTION_COLUMNS, lock_subscription
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangePlan, ChangeRequest, Standing, Terms, plan_change
from seatledger.domain.catalog import PRORATION_BEHAVIORS, ProrationBehavior
from seatledger.domain.errors import (
    Conflict,
    NotFound,
    PaymentFailed,
    SubscriptionChanged,
    SubscriptionNotActive,
    ValidationFailed,
)
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.invoice import InvoiceLine
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.domain.purchase import PendingChange, Subscription
from seatledger.pricing import Period
from seatledger.services import idempotency
from seatledger.services.benefit_sync import resync_benefits
from seatledger.services.collection import customer_of
from seatledger.services.credit import add_to_balances, read_balances
from seatledger.services.invoicing import create_invoice
from seatledger.services.runtime import Runtime
from seatledger.services.terms import TermsBook


@dataclass(frozen=True, slots=True)
class ChangePreview:
    """What a change would do now, computed by the change's own planner; nothing is written.

    ``lines`` are billed now when ``invoice_now`` (``amount_due_now`` is then collected), and
    otherwise wait for the next renewal invoice. ``subtotal`` is their sum, ``credit_applied``
    the credit balance an invoice made now would use, ``total = max(0, subtotal −
    credit_applied)``. ``proration_behavior`` is None for a change that changes nothing.
    """

    subscription_id: str
    proration_behavior: ProrationBehavior | None
    currency: str
    lines: tuple[InvoiceLine, ...]
    subtotal: int
    credit_applied: int
    total: int
    amount_due_now: int
    invoice_now: bool
    seats: int
    price_id: str
    current_period_start: datetime
    current_period_end: datetime
    pending_change: PendingChange | None
    effective_at: datetime


# -- loading --------------------------------------------------------------------------------------


async def subscription_row(
    connection: AsyncConnection,
    subscription_id: object,
    scope_company_id: str | None,
    *,
    lock: bool,
) -> Any:
    """The subscription's row (locked for this transaction when ``lock``), else NotFound."""
    if isinstance(subscription_id, str):
        condition = t.subscriptions.c.id == subscription_id
        if scope_company_id is not None:
            condition = and_(condition, t.subscriptions.c.company_id == scope_company_id)
        if lock:
            row = await lock_subscription(connection, condition)
        else:
            row = (await connection.execute(select(*SUBSCRIPTION_COLUMNS).where(condition))).first()
        if row is not None:
            return row
    raise NotFound("subscription")


def line_from_pending(row: Any) -> InvoiceLine:
    return InvoiceLine(
        kind=row.kind,
        description=row.description,
        quantity=row.quantity,
        unit_amount=row.unit_amount,
        amount=row.amount,
        period_start=row.period_start,
        period_end=row.period_end,
    )


async def waiting_lines(
    connection: AsyncConnection, subscription_ids: list[str]
) -> dict[str, list[InvoiceLine]]:
    """Proration lines not yet on an invoice, per subscription, in the order they were made."""
    waiting: dict[str, list[InvoiceLine]] = {sub_id: [] for sub_id in subscription_ids}
    if not subscription_ids:
        return waiting
    rows = await connection.execute(
        select(t.pending_lines)
        .where(
            t.pending_lines.c.subscription_id.in_(subscription_ids),
            t.pending_lines.c.invoice_id.is_(None),
        )
        .order_by(t.pending_lines.c.id)
    )
    for row in rows:
        waiting[row.subscription_id].append(line_from_pending(row))
    return waiting


async def load_standing(
    connection: AsyncConnection,
    row: Any,
    book: TermsBook,
    *,
    lock: bool,
    cancel_at_period_end: bool | None = None,
) -> Standing:
    terms = await book.get(connection, row.price_id)
    if terms is None:  # pragma: no cover - a foreign key stands behind it
        raise NotFound("price")
    waiting = (await waiting_lines(connection, [row.id]))[row.id]
    balance = 0
    if row.company_id is not None:
        key = (row.company_id, terms.price.currency)
        balance = (await read_balances(connection, [key], lock=lock))[key]
    return Standing(
        status=row.status,
        cancel_at_period_end=bool(
            row.cancel_at_period_end if cancel_at_period_end is None else cancel_at_period_end
        ),
        has_company=row.company_id is not None,
        seats=row.seats,
        assigned=row.assigned_seats,
        terms=terms,
        period=Period(row.current_period_start, row.current_period_end),
        pending_change=subscription_from_row(row).pending_change,
        waiting=tuple(waiting),
        balance=balance,
    )


async def _target(connection: AsyncConnection, book: TermsBook, price_id: object) -> Terms | None:
    if price_id is None:
        return None
    terms = await book.get(connection, price_id) if isinstance(price_id, str) else None
    if terms is None:
        raise NotFound("price", field="price_id")
    return terms


def _behavior(value: object) -> ProrationBehavior | None:
    if value is None:
        return None
    if value not in PRORATION_BEHAVIORS:
        raise ValidationFailed.field(
            "proration_behavior", "must be 'invoice', 'prorate' or 'next_period'"
        )
    return value  # type: ignore[return-value]


# -- applying a plan ---------------------------------------------------------------------------


async def apply_plan(
    uow: UnitOfWork,
    rt: Runtime,
    row: Any,
    standing: Standing,
    plan: ChangePlan,
    *,
    extra: dict[str, Any] | None = None,
    payment: tuple[str, PaymentResult] | None = None,
    assigned_delta: int = 0,
) -> Any | None:
    """Write ``plan`` (and the ``extra`` column values) inside ``uow``; answers the updated row,
    or None when nothing changed. Emits ``subscription.updated``."""
    connection = uow.connection
    now = rt.clock.now()
    values: dict[str, Any] = {}
    if plan.applies_now or assigned_delta:
        # The pool first: the subscription's answer below reads its counts.
        seats = plan.seats if plan.applies_now else standing.seats
        await uow.pools.resize(row.id, seats, assigned_delta=assigned_delta)
    if plan.applies_now:
        values.update(
            price_id=plan.terms.price_id,
            pending_change=None
            if plan.pending_change is None
            else pending_change_json(plan.pending_change),
        )
        if plan.anchor_moved:
            values.update(
                billing_anchor=plan.period.start,
                current_period_start=plan.period.start,
                current_period_end=plan.period.end,
            )
    elif plan.changed:
        values["pending_change"] = (
            None if plan.pending_change is None else pending_change_json(plan.pending_change)
        )
    values.update(extra or {})
    if not values and not (plan.applies_now or assigned_delta):
        return None
    statement: Any = select(*SUBSCRIPTION_COLUMNS).where(t.subscriptions.c.id == row.id)
    if values:
        statement = (
            update(t.subscriptions)
            .where(t.subscriptions.c.id == row.id)
            .values(**values)
            .returning(*SUBSCRIPTION_COLUMNS)
        )
    updated = (await connection.execute(statement)).one()
    if plan.applies_now:
        currency = standing.terms.price.currency
        if plan.invoice_now and plan.lines:
            invoice = await create_invoice(
                uow,
                now=now,
                company_id=row.company_id,
                subscription_id=row.id,
                currency=currency,
                lines=plan.lines,
                status="paid",
                reason="subscription_update",
                period_start=plan.period.start if plan.anchor_moved else plan.effective_at,
                period_end=plan.period.end,
                credit_applied=plan.credit_applied,
            )
            if plan.sweeps_waiting and standing.waiting:
                await connection.execute(
                    update(t.pending_lines)
                    .where(
                        t.pending_lines.c.subscription_id == row.id,
                        t.pending_lines.c.invoice_id.is_(None),
                    )
                    .values(invoice_id=invoice.id)
                )
            delta = -plan.credit_applied if plan.subtotal > 0 else -plan.subtotal
            await add_to_balances(uow, {(row.company_id, currency): delta})
            if payment is not None:
                method, result = payment
                await connection.execute(
                    insert(t.payments).values(
                        id=new_id("pay"),
                        invoice_id=invoice.id,
                        provider=rt.gateway.name,
                        provider_reference=result.reference,
                        payment_method=method,
                        amount=invoice.total,
                        currency=currency,
                        status="succeeded",
                        created_at=now,
                    )
                )
        elif plan.lines:
            await connection.execute(
                insert(t.pending_lines),
                [
                    {
                        "subscription_id": row.id,
                        "kind": line.kind,
                        "description": line.description,
                        "quantity": line.quantity,
                        "unit_amount": line.unit_amount,
                        "amount": line.amount,
                        "currency": currency,
                        "period_start": line.period_start,
                        "period_end": line.period_end,
                        "created_at": now,
                    }
                    for line in plan.lines
                ],
            )
        if plan.terms.product_id != standing.terms.product_id:
            await resync_benefits(uow, rt, subscription_id=row.id, product_id=plan.terms.product_id)
    subscription = subscription_from_row(updated)
    uow.emit(EventType.SUBSCRIPTION_UPDATED, subscription)
    return updated


# -- use cases ------------------------------------------------------------------------------------


def _cancel_flag(row: Any, cancel_at_period_end: object) -> dict[str, Any]:
    """Column values for ``cancel_at_period_end`` in a PATCH (empty: nothing to do)."""
    if cancel_at_period_end is None:
        return {}
    if not isinstance(cancel_at_period_end, bool):
        raise ValidationFailed.field("cancel_at_period_end", "must be true or false")
    if row.status == "canceled":
        if cancel_at_period_end:
            return {}  # cancelling again changes nothing
        raise SubscriptionNotActive()
    if cancel_at_period_end == bool(row.cancel_at_period_end):
        return {}
    if cancel_at_period_end:
        return {"cancel_at_period_end": True, "pending_change": None}
    return {"cancel_at_period_end": False}


def _fingerprint(row: Any, plan: ChangePlan) -> str:
    """The idempotency key of a change's charge: the state it starts from, the plan, the
    instant. A retry of the same change at the same second sends the same key."""
    material = json.dumps(
        [
            row.id,
            row.seats,
            row.price_id,
            row.current_period_start.isoformat(),
            row.pending_change,
            plan.seats,
            plan.terms.price_id,
            plan.total,
            plan.effective_at.isoformat(),
        ],
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


async def change_subscription(
    rt: Runtime,
    subscription_id: str,
    *,
    seats: int | None = None,
    price_id: str | None = None,
    proration_behavior: ProrationBehavior | None = None,
    cancel_at_period_end: bool | None = None,
    scope_company_id: str | None = None,
) -> Subscription:
    """Change the seats and/or the price (with ``proration_behavior`` or the product's default),
    and/or schedule or undo a cancellation at period end. A change that changes nothing bills
    nothing and emits nothing. Errors: see ``seatledger.domain.billing.plan_change``;
    ``PaymentFailed`` when an ``invoice`` charge is declined (nothing changes)."""
    behavior = _behavior(proration_behavior)
    # A keyed request retried after a crash plans at the instant its first run planned at: the
    # same plan, charged under the same provider key (``_fingerprint``), is never taken twice.
    now = datetime.fromisoformat(
        idempotency.recovery_point("change_planned_at", rt.clock.now().isoformat())
    )
    book = TermsBook()
    asks_change = seats is not None or price_id is not None
    async with rt.transaction() as uow:
        connection = uow.connection
        row = await subscription_row(connection, subscription_id, scope_company_id, lock=True)
        flag = _cancel_flag(row, cancel_at_period_end)
        if not asks_change:
            if not flag:
                return subscription_from_row(row)
            updated = (
                await connection.execute(
                    update(t.subscriptions)
                    .where(t.subscriptions.c.id == row.id)
                    .values(**flag)
                    .returning(*SUBSCRIPTION_COLUMNS)
                )
            ).one()
            uow.emit(EventType.SUBSCRIPTION_UPDATED, subscription_from_row(updated))
            await uow.commit()
            return subscription_from_row(updated)
        undo = flag.get("cancel_at_period_end") is False
        standing = await load_standing(
            connection, row, book, lock=True, cancel_at_period_end=False if undo else None
        )
        target = await _target(connection, book, price_id)
        request = ChangeRequest(seats=seats, terms=target, behavior=behavior)
        plan = plan_change(standing, request, now)
        if plan.total == 0:
            applied = await apply_plan(uow, rt, row, standing, plan, extra=flag)
            if applied is None:
                return subscription_from_row(row)
            await uow.commit()
            return subscription_from_row(applied)
        key = f"subscription:{row.id}:change:{_fingerprint(row, plan)}"

    result = await _collect_change(rt, row, plan, key)
    async with rt.transaction() as uow:
        connection = uow.connection
        row = await subscription_row(connection, row.id, None, lock=True)
        try:
            flag = _cancel_flag(row, cancel_at_period_end)
            standing = await load_standing(
                connection, row, book, lock=True, cancel_at_period_end=False if undo else None
            )
            replanned = plan_change(standing, request, now)
        except Conflict:
            replanned = None
        if replanned != plan:
            await _keep_as_credit(uow, rt, row, plan, result)
            raise SubscriptionChanged()
        applied = await apply_plan(
            uow, rt, row, standing, plan, extra=flag, payment=(row.payment_method or "", result)
        )
        await uow.commit()
    assert applied is not None
    return subscription_from_row(applied)


async def _collect_change(rt: Runtime, row: Any, plan: ChangePlan, key: str) -> PaymentResult:
    """Charge the change's invoice total with the saved payment method; a decline raises."""
    method = row.payment_method
    result = (
        PaymentResult(False, failure_reason="No payment method is saved for this subscription.")
        if method is None
        else await rt.charge(
            PaymentRequest(
                amount=plan.total,
                currency=plan.terms.price.currency,
                payment_method=method,
                customer=customer_of(row),
                description=f"Subscription {row.id}: change",
                idempotency_key=key,
            )
        )
    )
    if result.succeeded:
        return result
    reason = result.failure_reason or "The payment was declined."
    async with rt.transaction() as uow:
        uow.emit(
            "subscription.update_payment_failed",
            {
                "subscription_id": row.id,
                "amount": plan.total,
                "currency": plan.terms.price.currency,
                "seats": plan.seats,
                "price_id": plan.terms.price_id,
                "reason": reason,
            },
        )
        await uow.commit()
    raise PaymentFailed(reason)


async def _keep_as_credit(
    uow: UnitOfWork, rt: Runtime, row: Any, plan: ChangePlan, result: PaymentResult
) -> None:
    currency = plan.terms.price.currency
    await add_to_balances(uow, {(row.company_id, currency): plan.total})
    await uow.connection.execute(
        insert(t.payments).values(
            id=new_id("pay"),
            invoice_id=None,
            provider=rt.gateway.name,
            provider_reference=result.reference,
            payment_method=row.payment_method or "",
            amount=plan.total,
            currency=currency,
            status="succeeded",
            created_at=rt.clock.now(),
        )
    )
    await uow.commit()


async def preview_change(
    rt: Runtime,
    subscription_id: str,
    *,
    seats: int | None = None,
    price_id: str | None = None,
    proration_behavior: ProrationBehavior | None = None,
    scope_company_id: str | None = None,
) -> ChangePreview:
    """What ``change_subscription`` with these arguments would do now; changes nothing."""
    behavior = _behavior(proration_behavior)
    book = TermsBook()
    async with rt.reading() as uow:
        connection = uow.connection
        row = await subscription_row(connection, subscription_id, scope_company_id, lock=False)
        standing = await load_standing(connection, row, book, lock=False)
        target = await _target(connection, book, price_id)
        plan = plan_change(
            standing, ChangeRequest(seats=seats, terms=target, behavior=behavior), rt.clock.now()
        )
    total = max(0, plan.subtotal - plan.credit_applied)
    return ChangePreview(
        subscription_id=row.id,
        proration_behavior=plan.behavior,
        currency=standing.terms.price.currency,
        lines=plan.lines,
        subtotal=plan.subtotal,
        credit_applied=plan.credit_applied,
        total=total,
        amount_due_now=plan.total,
        invoice_now=plan.invoice_now,
        seats=plan.seats,
        price_id=plan.terms.price_id,
        current_period_start=plan.period.start,
        current_period_end=plan.period.end,
        pending_change=plan.pending_change,
        effective_at=plan.effective_at,
    )


__all__ = [
    "ChangePreview",
    "apply_plan",
    "change_subscription",
    "line_from_pending",
    "load_standing",
    "preview_change",
    "subscription_row",
    "waiting_lines",
]
