"""Changing a subscription: ``change_subscription`` (``PATCH``) and ``preview_change``; the
rules are the package's (``seatledger.services.subscriptions``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime

from seatledger.adapters.db.purchases import pending_change_json
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangePlan, ChangeRequest, Standing, plan_change
from seatledger.domain.catalog import ProrationBehavior
from seatledger.domain.errors import (
    Conflict,
    PaymentFailed,
    SubscriptionChanged,
    SubscriptionNotActive,
    ValidationFailed,
)
from seatledger.domain.events import EventType
from seatledger.domain.invoice import InvoiceLine
from seatledger.domain.payments import (
    ChangeCharge,
    PaymentResult,
    minimum_charge,
)
from seatledger.domain.purchase import PendingChange, Subscription
from seatledger.services import idempotency, provider_subscriptions
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions.billed import (
    change_billed,
    check_billed_change,
    push_cancel_flag,
)
from seatledger.services.subscriptions.change_charges import (
    CHARGE_LEASE,
    change_request,
    credit_change,
    hold_charge,
    settle_charge,
)
from seatledger.services.subscriptions.plan import apply_plan
from seatledger.services.subscriptions.standing import (
    change_target,
    load_standing,
    proration_behavior_of,
    subscription_of,
)
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


def _cancel_flag(row: Subscription, cancel_at_period_end: object) -> dict[str, object]:
    """Column values for ``cancel_at_period_end`` in a PATCH (empty: nothing to do)."""
    if cancel_at_period_end is None:
        return {}
    if not isinstance(cancel_at_period_end, bool):
        raise ValidationFailed.field("cancel_at_period_end", "must be true or false")
    if row.status == "canceled":
        if cancel_at_period_end:
            return {}  # cancelling again changes nothing
        raise SubscriptionNotActive()
    if cancel_at_period_end == row.cancel_at_period_end:
        return {}
    if cancel_at_period_end:
        return {"cancel_at_period_end": True, "pending_change": None}
    return {"cancel_at_period_end": False}


def _fingerprint(row: Subscription, plan: ChangePlan) -> str:
    """The idempotency key of a change's charge: the state it starts from, the plan, the
    instant. A retry of the same change at the same second sends the same key."""
    material = json.dumps(
        [
            row.id,
            row.seats,
            row.price_id,
            row.current_period_start.isoformat(),
            None if row.pending_change is None else pending_change_json(row.pending_change),
            plan.seats,
            plan.terms.price_id,
            plan.total,
            plan.effective_at.isoformat(),
        ],
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _charge_key(row: Subscription, plan: ChangePlan) -> str:
    return f"subscription:{row.id}:change:{_fingerprint(row, plan)}"


@dataclass(frozen=True, slots=True)
class _Ask:
    """What a ``PATCH`` asks for (None keeps the current value)."""

    subscription_id: str
    seats: int | None
    price_id: str | None
    behavior: ProrationBehavior | None
    cancel_at_period_end: bool | None
    scope_company_id: str | None

    @property
    def asks_change(self) -> bool:
        return self.seats is not None or self.price_id is not None


@dataclass(frozen=True, slots=True)
class _Started:
    """A change planned in its first transaction, with the charge it goes out under."""

    row: Subscription
    request: ChangeRequest
    planned: _Planned
    flag: dict[str, object]
    undo: bool
    key: str
    book: TermsBook


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
    ask = _Ask(
        subscription_id,
        seats,
        price_id,
        proration_behavior_of(proration_behavior),
        cancel_at_period_end,
        scope_company_id,
    )
    # A keyed request retried after a crash plans at the instant its first run planned at: the
    # same plan, charged under the same provider key (``_fingerprint``), is never taken twice.
    now = datetime.fromisoformat(
        idempotency.recovery_point("change_planned_at", rt.clock.now().isoformat())
    )
    billed = await _is_billed(rt, ask)
    started = await _start(rt, ask, now, billed=billed)
    if isinstance(started, Subscription):
        return started  # applied, or nothing to change
    row, plan = started.row, started.planned.plan
    if billed:  # the provider bills it: pushed there with no transaction open
        return await change_billed(rt, row.id, plan, started.key, flag=started.flag)
    if started.planned.stale:
        for charge in started.planned.stale:
            await settle_charge(rt, charge)
        return await change_subscription(
            rt,
            subscription_id,
            seats=seats,
            price_id=price_id,
            proration_behavior=proration_behavior,
            cancel_at_period_end=cancel_at_period_end,
            scope_company_id=scope_company_id,
        )
    result = await _collect_change(rt, row, plan, started.key)
    return await _apply_paid(
        rt,
        row.id,
        started.request,
        plan,
        result,
        started.book,
        started.planned.at,
        cancel_at_period_end,
        undo=started.undo,
        key=started.key,
    )


async def _is_billed(rt: Runtime, ask: _Ask) -> bool:
    """Whether the payment provider bills the subscription (``billing`` mode); a cancellation
    flag asked alone is then pushed there first."""
    asks_flag = ask.cancel_at_period_end is not None
    billed = (ask.asks_change or asks_flag) and await provider_subscriptions.is_billed(
        rt, ask.subscription_id
    )
    if billed and asks_flag and not ask.asks_change:  # with a change: pushed once planned
        await _push_cancel_flag(
            rt, ask.subscription_id, ask.cancel_at_period_end, ask.scope_company_id
        )
    return billed


async def _start(rt: Runtime, ask: _Ask, now: datetime, *, billed: bool) -> _Started | Subscription:
    """The first transaction: the change planned, and either applied at once (nothing to
    charge; the subscription answered) or its charge held (``_Started``)."""
    book = TermsBook()
    async with rt.transaction() as uow:
        row = await subscription_of(uow, ask.subscription_id, ask.scope_company_id, lock=True)
        flag = _cancel_flag(row, ask.cancel_at_period_end)
        if not ask.asks_change:
            return await _set_cancel_flag(uow, row, flag)
        undo = flag.get("cancel_at_period_end") is False
        standing = await load_standing(
            uow, row, book, lock=True, cancel_at_period_end=False if undo else None
        )
        target = await change_target(uow, book, ask.price_id)
        request = ChangeRequest(seats=ask.seats, terms=target, behavior=ask.behavior)
        planned = await _planned(uow, rt, row, standing, request, now, billed=billed)
        key = await _key_or_applied(uow, rt, row, standing, planned, flag, billed=billed)
        if isinstance(key, Subscription):
            return key
    return _Started(row, planned.request, planned, flag, undo, key, book)


async def _planned(
    uow: UnitOfWork,
    rt: Runtime,
    row: Subscription,
    standing: Standing,
    request: ChangeRequest,
    now: datetime,
    *,
    billed: bool,
) -> _Planned:
    if billed:
        plan = plan_change(standing, request, now)
        check_billed_change(plan, row.price_id)
        return _Planned(request, plan, now)
    charges = await uow.change_charges.of(row.id)
    return _plan_here(rt, row, standing, request, now, charges)


async def _key_or_applied(
    uow: UnitOfWork,
    rt: Runtime,
    row: Subscription,
    standing: Standing,
    planned: _Planned,
    flag: dict[str, object],
    *,
    billed: bool,
) -> str | Subscription:
    """The provider key the planned change is charged under (held before it goes out), or,
    when there is nothing to charge, the change applied and committed here."""
    plan = planned.plan
    if billed and plan.changed:
        return f"seatledger-change-{row.id}-{_fingerprint(row, plan)}"
    if planned.stale:
        return ""  # nothing is charged before those are settled and the change planned again
    if plan.total == 0:
        applied = await apply_plan(uow, rt, row, standing, plan, extra=flag)
        if applied is None:
            return row
        await uow.commit()
        return applied
    key = _charge_key(row, plan)
    if planned.reused is None and row.payment_method is not None:
        await hold_charge(uow, rt, row, plan, key, planned.at)
    return key


@dataclass(frozen=True, slots=True)
class _Planned:
    request: ChangeRequest
    plan: ChangePlan
    at: datetime  # the instant planned at
    reused: ChangeCharge | None = None  # the charge in flight it is the same change as
    stale: tuple[ChangeCharge, ...] = ()  # abandoned charges in flight, to settle first


def _plan_here(
    rt: Runtime,
    row: Subscription,
    standing: Standing,
    request: ChangeRequest,
    now: datetime,
    charges: list[ChangeCharge],
) -> _Planned:
    """The change planned now; or, when a charge of the same change is in flight (a process
    stopped while the provider answered), at that charge's instant, so that it goes under the
    same key and the provider answers the charge it took. Other charges in flight for longer
    than ``CHARGE_LEASE`` were abandoned: they are settled first."""
    first = _below_minimum(rt, standing, request, plan_change(standing, request, now), now)
    planned = _Planned(*first, now)
    for charge in charges:
        at = charge.planned_at
        try:
            again = (
                first
                if at == now
                else _below_minimum(rt, standing, request, plan_change(standing, request, at), at)
            )
        except (Conflict, ValidationFailed):
            continue  # not this change
        if again[1].total > 0 and _charge_key(row, again[1]) == charge.request.idempotency_key:
            planned = _Planned(*again, at, reused=charge)
            break
    cutoff = rt.clock.now() - CHARGE_LEASE
    stale = tuple(c for c in charges if c is not planned.reused and c.held_at <= cutoff)
    return replace(planned, stale=stale)


def _below_minimum(
    rt: Runtime, standing: Standing, request: ChangeRequest, plan: ChangePlan, now: datetime
) -> tuple[ChangeRequest, ChangePlan]:
    """A charge now below the provider's minimum (SPEC §7) is not made: the change applies
    with ``prorate``, its line waiting for the next invoice. An interval switch, which must be
    invoiced now whatever its behaviour, is left as it is (the provider then answers)."""
    currency = plan.terms.price.currency
    if not (plan.invoice_now and 0 < plan.total < minimum_charge(rt.gateway, currency)):
        return request, plan
    deferred = replace(request, behavior="prorate")
    replanned = plan_change(standing, deferred, now)
    return (request, plan) if replanned.invoice_now else (deferred, replanned)


async def _push_cancel_flag(
    rt: Runtime, subscription_id: str, value: object, scope_company_id: str | None
) -> None:
    """``billing`` mode: a cancellation at period end scheduled or undone in the provider
    first (it bills the subscription); nothing is asked when nothing would change."""
    async with rt.reading() as uow:
        row = await subscription_of(uow, subscription_id, scope_company_id, lock=False)
    await push_cancel_flag(rt, row.id, _cancel_flag(row, value))


async def _set_cancel_flag(
    uow: UnitOfWork, row: Subscription, flag: dict[str, object]
) -> Subscription:
    """A PATCH that only schedules or undoes a cancellation (nothing when ``flag`` is empty)."""
    if not flag:
        return row
    updated = await uow.subscriptions.update(row.id, **flag)
    uow.emit(EventType.SUBSCRIPTION_UPDATED, updated)
    await uow.commit()
    return updated


async def _apply_paid(
    rt: Runtime,
    subscription_id: str,
    request: ChangeRequest,
    plan: ChangePlan,
    result: PaymentResult,
    book: TermsBook,
    now: datetime,
    cancel_at_period_end: object,
    *,
    undo: bool,
    key: str,
) -> Subscription:
    """After the charge: plan again at the same instant and write the change, or, should the
    subscription have moved meanwhile, keep the money as credit (``subscription_changed``).
    A charge already recorded (another request sent the same charge in flight again, and
    settled it first) is neither applied nor credited twice: ``subscription_changed`` too."""
    async with rt.transaction() as uow:
        row = await subscription_of(uow, subscription_id, None, lock=True)
        await uow.change_charges.release(key)
        if result.reference and await uow.payments.recorded([result.reference]):
            await uow.commit()
            raise SubscriptionChanged()
        try:
            flag = _cancel_flag(row, cancel_at_period_end)
            standing = await load_standing(
                uow, row, book, lock=True, cancel_at_period_end=False if undo else None
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
        await uow.change_charges.release(row.id)
        await uow.commit()
    assert applied is not None
    return applied


async def _collect_change(
    rt: Runtime, row: Subscription, plan: ChangePlan, key: str
) -> PaymentResult:
    """Charge the change's invoice total with the saved payment method; a decline raises."""
    method = row.payment_method
    result = (
        PaymentResult(False, failure_reason="No payment method is saved for this subscription.")
        if method is None
        else await rt.charge(change_request(row, plan, method, key))
    )
    if result.succeeded:
        return result
    reason = result.failure_reason or "The payment was declined."
    async with rt.transaction() as uow:
        await uow.change_charges.release(key)
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
    uow: UnitOfWork, rt: Runtime, row: Subscription, plan: ChangePlan, result: PaymentResult
) -> None:
    await credit_change(uow, rt, row, plan.total, plan.terms.price.currency, result)
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
    behavior = proration_behavior_of(proration_behavior)
    book = TermsBook()
    async with rt.reading() as uow:
        row = await subscription_of(uow, subscription_id, scope_company_id, lock=False)
        standing = await load_standing(uow, row, book, lock=False)
        target = await change_target(uow, book, price_id)
        request, now = ChangeRequest(seats=seats, terms=target, behavior=behavior), rt.clock.now()
        _, plan = _below_minimum(rt, standing, request, plan_change(standing, request, now), now)
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


__all__ = ["ChangePreview", "change_subscription", "preview_change"]
