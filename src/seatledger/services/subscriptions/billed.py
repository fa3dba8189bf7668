"""A seat change of a subscription the provider bills (SPEC §7, ``billing`` mode).

The change is planned as any other (``plan_change``: seats in range, never below the assigned
seats, an active subscription), then pushed to the provider with its behaviour's proration
instead of being billed here, and the seat count here follows only what the provider applied:

* ``invoice``: the provider invoices the proration now; a failed payment leaves its items as
  they were (``pending_if_incomplete``), so nothing changes here either: ``PaymentFailed``;
* ``prorate``: the provider applies it and bills the proration with its next invoice;
* ``next_period``: the provider has no seat count waiting for the next period — refused
  (``validation_error`` naming ``proration_behavior``).

A price change is made in the provider (its prices are not seatledger's to swap): refused,
naming ``price_id``.
"""

from __future__ import annotations

from collections.abc import Mapping

from seatledger.adapters.db.provider_billing import ProviderSubscriptions
from seatledger.domain.billing import ChangePlan
from seatledger.domain.errors import PaymentFailed, ValidationFailed
from seatledger.domain.events import EventType
from seatledger.domain.purchase import Subscription
from seatledger.services import provider_subscriptions
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions.standing import subscription_of

NOT_APPLIED = "Stripe could not collect the change's invoice; the seats did not change."


def check_billed_change(plan: ChangePlan, current_price_id: str) -> None:
    """``ValidationFailed`` for what a provider-billed subscription cannot change here."""
    if plan.terms.price_id != current_price_id:
        raise ValidationFailed.field(
            "price_id", "a subscription Stripe bills changes its price in Stripe"
        )
    if plan.behavior in ("next_period", "true_up"):
        raise ValidationFailed.field(
            "proration_behavior",
            "a subscription Stripe bills changes now: use invoice or prorate",
        )


async def push_cancel_flag(rt: Runtime, subscription_id: str, flag: Mapping[str, object]) -> None:
    """A cancellation at period end scheduled or undone (``flag``, as a PATCH sets it) in the
    provider first; nothing asked when ``flag`` changes nothing."""
    if flag.get("cancel_at_period_end") is True:
        await provider_subscriptions.cancel_billed(rt, subscription_id, at_period_end=True)
    elif flag.get("cancel_at_period_end") is False:
        await provider_subscriptions.undo_cancel_billed(rt, subscription_id)


async def change_billed(
    rt: Runtime,
    subscription_id: str,
    plan: ChangePlan,
    key: str,
    *,
    flag: Mapping[str, object] | None = None,
) -> Subscription:
    """Push ``plan``'s seats to the provider, then follow what it applied (and ``flag``, the
    cancellation at period end the same PATCH set or undid, pushed before)."""
    assert rt.billing is not None
    assert plan.behavior is not None
    await push_cancel_flag(rt, subscription_id, flag or {})
    pushed = await provider_subscriptions.push_seats(
        rt,
        rt.billing,
        subscription_id,
        seats=plan.seats,
        behavior=plan.behavior,
        idempotency_key=key,
    )
    if not pushed.applied:
        raise PaymentFailed(NOT_APPLIED)
    async with rt.transaction() as uow:
        row = await subscription_of(uow, subscription_id, None, lock=True)
        if row.seats != plan.seats:
            await uow.pools.resize(row.id, plan.seats)
        if flag:
            await uow.subscriptions.update(row.id, **flag)
        updated = await subscription_of(uow, row.id, None, lock=False)
        uow.emit(EventType.SUBSCRIPTION_UPDATED, updated)
        await uow.commit()
    now = int(rt.clock.now().timestamp())
    links = ProviderSubscriptions(rt.engine, provider_subscriptions.PROVIDER)
    await links.record(subscription_id, pushed.remote.status, plan.seats, now, synced=plan.seats)
    return updated


__all__ = ["change_billed", "check_billed_change", "push_cancel_flag"]
