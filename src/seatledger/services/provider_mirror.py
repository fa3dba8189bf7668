"""Mirroring a subscription the provider bills (SPEC §7, ``billing`` mode) from its webhooks.

``customer.subscription.created/updated/deleted`` become ``ProviderSubscriptionChanged``
(``adapters.payments.stripe_events``); applying it reads the subscription again from the
provider — an event's snapshot may be old, late or repeated — and applies what it is now:

* its standing: status (``active``/``trialing`` → ``active``; ``past_due``/``unpaid``/
  ``incomplete`` → ``past_due``), ``cancel_at_period_end`` and the current period, as
  ``subscription.updated`` (``subscription.past_due`` when it fell due);
* canceled (or ``incomplete_expired``): canceled here, seats revoked (SPEC §3's cancel now);
* its items: the seats read back and clamped, as reconciliation does
  (``provider_reconciliation.reconcile_one``).

Because the object is read now, a late event never brings back an older state; the link's
``state_at`` keeps the time of the last state applied, and one read earlier is not recorded
over it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from seatledger.adapters.db.provider_billing import ProviderSubscriptions
from seatledger.domain.events import EventType
from seatledger.domain.provider_billing import ProviderSubscription, ProviderSubscriptionChanged
from seatledger.domain.purchase import Subscription
from seatledger.services import provider_reconciliation
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions.standing import subscription_of

_PAST_DUE = frozenset({"past_due", "unpaid", "incomplete"})


def _standing(remote: ProviderSubscription) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": "past_due" if remote.status in _PAST_DUE else "active",
        "cancel_at_period_end": remote.cancel_at_period_end,
    }
    if remote.period_start is not None and remote.period_end is not None:
        values["current_period_start"] = remote.period_start
        values["current_period_end"] = remote.period_end
    return values


def _differs(row: Subscription, name: str, value: object) -> bool:
    current = getattr(row, name)
    if isinstance(current, datetime) and isinstance(value, datetime):
        return current.replace(microsecond=0) != value.replace(microsecond=0)
    return bool(current != value)


async def mirror_standing(rt: Runtime, subscription_id: str, remote: ProviderSubscription) -> bool:
    """The provider's status, cancellation flag and period written here; answers whether
    anything changed."""
    async with rt.transaction() as uow:
        row = await subscription_of(uow, subscription_id, None, lock=True)
        if row.status == "canceled":
            return False
        changed = {k: v for k, v in _standing(remote).items() if _differs(row, k, v)}
        if not changed:
            return False
        await uow.subscriptions.update(row.id, **changed)
        updated = await subscription_of(uow, row.id, None, lock=False)
        fell_due = changed.get("status") == "past_due"
        uow.emit(
            EventType.SUBSCRIPTION_PAST_DUE if fell_due else EventType.SUBSCRIPTION_UPDATED,
            updated,
        )
        await uow.commit()
    return True


async def mirror_subscription(rt: Runtime, fact: ProviderSubscriptionChanged) -> None:
    """Apply the provider's subscription as it is now (the applier of the fact)."""
    if rt.billing is None:
        return  # ``payments`` mode: Stripe bills no subscription of ours
    link = await ProviderSubscriptions(rt.engine, provider_reconciliation.PROVIDER).by_provider_id(
        fact.provider_id
    )
    if link is None or link.status == "canceled":
        return  # not one of ours (or no longer)
    remote = await rt.billing.subscription(fact.provider_id)
    if remote.status not in ("canceled", "incomplete_expired"):
        await mirror_standing(rt, link.subscription_id, remote)
    await provider_reconciliation.reconcile_one(
        rt, rt.billing, link, remote, push_back=rt.settings.stripe_push_back
    )


__all__ = ["mirror_standing", "mirror_subscription"]
