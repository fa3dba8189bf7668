"""Writing a planned change (``seatledger.domain.billing.plan_change``): the pool, the
subscription's row, the invoice or the waiting lines, the balance, the benefits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.purchases import pending_change_json, subscription_from_row
from seatledger.adapters.db.seat_pools import SUBSCRIPTION_COLUMNS
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangePlan, Standing
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.payments import PaymentResult
from seatledger.services.benefit_sync import resync_benefits
from seatledger.services.credit import add_to_balances
from seatledger.services.invoicing import create_invoice
from seatledger.services.runtime import Runtime


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
    now = rt.clock.now()
    if plan.applies_now or assigned_delta:
        # The pool first: the subscription's answer below reads its counts.
        seats = plan.seats if plan.applies_now else standing.seats
        await uow.pools.resize(row.id, seats, assigned_delta=assigned_delta)
    values = _plan_values(plan)
    values.update(extra or {})
    if not values and not (plan.applies_now or assigned_delta):
        return None
    updated = await _write(uow.connection, row.id, values)
    if plan.applies_now:
        currency = standing.terms.price.currency
        if plan.invoice_now and plan.lines:
            await _bill_now(uow, rt, row, standing, plan, payment, now)
        elif plan.lines:
            await _keep_waiting(uow.connection, row.id, plan, currency, now)
        if plan.terms.product_id != standing.terms.product_id:
            await resync_benefits(uow, rt, subscription_id=row.id, product_id=plan.terms.product_id)
    subscription = subscription_from_row(updated)
    uow.emit(EventType.SUBSCRIPTION_UPDATED, subscription)
    return updated


def _plan_values(plan: ChangePlan) -> dict[str, Any]:
    """The subscription's column values the plan changes."""
    values: dict[str, Any] = {}
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
    return values


async def _write(connection: AsyncConnection, subscription_id: str, values: dict[str, Any]) -> Any:
    """The subscription's row after ``values`` are written (read as it is when there are
    none), with its pool's counts."""
    statement: Any = select(*SUBSCRIPTION_COLUMNS).where(t.subscriptions.c.id == subscription_id)
    if values:
        statement = (
            update(t.subscriptions)
            .where(t.subscriptions.c.id == subscription_id)
            .values(**values)
            .returning(*SUBSCRIPTION_COLUMNS)
        )
    return (await connection.execute(statement)).one()


async def _bill_now(
    uow: UnitOfWork,
    rt: Runtime,
    row: Any,
    standing: Standing,
    plan: ChangePlan,
    payment: tuple[str, PaymentResult] | None,
    now: datetime,
) -> None:
    """The change's invoice, paid (sweeping the waiting lines when the plan says so), the
    balance moved by it, and the payment that paid it."""
    connection = uow.connection
    currency = standing.terms.price.currency
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


async def _keep_waiting(
    connection: AsyncConnection,
    subscription_id: str,
    plan: ChangePlan,
    currency: str,
    now: datetime,
) -> None:
    """The plan's lines, waiting for the next invoice."""
    await connection.execute(
        insert(t.pending_lines),
        [
            {
                "subscription_id": subscription_id,
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


__all__ = ["apply_plan"]
