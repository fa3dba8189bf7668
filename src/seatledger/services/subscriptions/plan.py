"""Writing a planned change (``seatledger.domain.billing.plan_change``): the pool, the
subscription's row, the invoice or the waiting lines, the balance, the benefits."""

from __future__ import annotations

from datetime import datetime

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangePlan, Standing
from seatledger.domain.events import EventType
from seatledger.domain.payment_record import PaymentRecord
from seatledger.domain.payments import PaymentResult
from seatledger.domain.purchase import Subscription
from seatledger.domain.true_up import TrueUp
from seatledger.pricing import SeatStep, billed_at
from seatledger.services.benefit_sync import resync_benefits
from seatledger.services.credit import add_to_balances
from seatledger.services.invoicing import create_invoice
from seatledger.services.runtime import Runtime


async def apply_plan(
    uow: UnitOfWork,
    rt: Runtime,
    row: Subscription,
    standing: Standing,
    plan: ChangePlan,
    *,
    extra: dict[str, object] | None = None,
    payment: tuple[str, PaymentResult] | None = None,
    assigned_delta: int = 0,
) -> Subscription | None:
    """Write ``plan`` (and the ``extra`` column values) inside ``uow``; answers the updated
    subscription, or None when nothing changed. Emits ``subscription.updated``."""
    now = rt.clock.now()
    if plan.applies_now or assigned_delta:
        # The pool first: the subscription's answer below reads its counts.
        seats = plan.seats if plan.applies_now else standing.seats
        await uow.pools.resize(row.id, seats, assigned_delta=assigned_delta)
    values = _plan_values(plan)
    values.update(extra or {})
    if not values and not (plan.applies_now or assigned_delta):
        return None
    updated = await uow.subscriptions.update(row.id, **values)
    if plan.applies_now:
        currency = standing.terms.price.currency
        if plan.true_up is not None:
            await uow.true_ups.add(true_up_of(row.id, plan, plan.true_up), now)
        elif plan.invoice_now and plan.lines:
            await _bill_now(uow, rt, row, standing, plan, payment, now)
        elif plan.lines:
            await uow.pending_lines.add(row.id, plan.lines, currency, now)
        if plan.terms.product_id != standing.terms.product_id:
            await resync_benefits(uow, rt, subscription_id=row.id, product_id=plan.terms.product_id)
    uow.emit(EventType.SUBSCRIPTION_UPDATED, updated)
    return updated


def true_up_of(subscription_id: str, plan: ChangePlan, step: SeatStep) -> TrueUp:
    """The rise as recorded: billed at renewal, or at the end of its quarter when the product
    trues up yearly periods quarterly."""
    quarterly = plan.terms.true_up_interval == "quarter" and plan.terms.interval == "year"
    return TrueUp(
        subscription_id=subscription_id,
        price_id=plan.terms.price_id,
        period=plan.period,
        step=step,
        bill_at=billed_at(plan.period, step.at) if quarterly else plan.period.end,
    )


def _plan_values(plan: ChangePlan) -> dict[str, object]:
    """The subscription's column values the plan changes."""
    values: dict[str, object] = {}
    if plan.applies_now:
        values.update(price_id=plan.terms.price_id, pending_change=plan.pending_change)
        if plan.anchor_moved:
            values.update(
                billing_anchor=plan.period.start,
                current_period_start=plan.period.start,
                current_period_end=plan.period.end,
            )
    elif plan.changed:
        values["pending_change"] = plan.pending_change
    return values


async def _bill_now(
    uow: UnitOfWork,
    rt: Runtime,
    row: Subscription,
    standing: Standing,
    plan: ChangePlan,
    payment: tuple[str, PaymentResult] | None,
    now: datetime,
) -> None:
    """The change's invoice, paid (sweeping the waiting lines when the plan says so), the
    balance moved by it, and the payment that paid it."""
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
        await uow.pending_lines.take([(row.id, invoice.id)])
        await uow.true_ups.take([(row.id, invoice.id)])
    assert row.company_id is not None  # ``plan_change`` refuses a subscription without one
    delta = -plan.credit_applied if plan.subtotal > 0 else -plan.subtotal
    await add_to_balances(uow, {(row.company_id, currency): delta})
    if payment is not None:
        method, result = payment
        await uow.payments.add(
            [
                PaymentRecord.of(
                    result,
                    provider=rt.gateway.name,
                    payment_method=method,
                    amount=invoice.total,
                    currency=currency,
                    now=now,
                    invoice_id=invoice.id,
                )
            ]
        )


__all__ = ["apply_plan"]
