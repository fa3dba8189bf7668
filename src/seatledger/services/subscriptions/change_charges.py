"""A subscription change's charge in flight (``seatledger.domain.payments.ChangeCharge``):
written, and committed, just before it is sent to the provider; released in the transaction
that settles it (the change applied, its money kept as credit, or the charge declined). One
left behind by a process killed while the provider answered is reused by the same change asked
again (``seatledger.services.subscriptions.changes``), or settled by ``settle_charge`` before
another change once it is older than ``CHARGE_LEASE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangePlan
from seatledger.domain.payment_record import PaymentRecord
from seatledger.domain.payments import ChangeCharge, PaymentRequest, PaymentResult
from seatledger.domain.purchase import Subscription
from seatledger.services.collection import customer_of
from seatledger.services.credit import add_to_balances
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions.standing import subscription_of

# How long a change's charge may be in flight before another change settles it as abandoned:
# longer than any provider call takes.
CHARGE_LEASE = timedelta(minutes=10)


def change_request(row: Subscription, plan: ChangePlan, method: str, key: str) -> PaymentRequest:
    return PaymentRequest(
        amount=plan.total,
        currency=plan.terms.price.currency,
        payment_method=method,
        customer=customer_of(row),
        description=f"Subscription {row.id}: change",
        idempotency_key=key,
    )


async def hold_charge(
    uow: UnitOfWork, rt: Runtime, row: Subscription, plan: ChangePlan, key: str, now: datetime
) -> None:
    """Write the charge about to be sent, committed before it goes (``ChangeCharge``)."""
    assert row.payment_method is not None
    request = change_request(row, plan, row.payment_method, key)
    await uow.change_charges.hold(ChangeCharge(row.id, request, now, rt.clock.now()))
    await uow.commit()


async def settle_charge(rt: Runtime, charge: ChangeCharge) -> None:
    """Settle a change's charge left in flight by a process that stopped while the provider
    answered, before another change: sent again under its key, the provider answers what it
    did; money taken is kept as credit, since that change was never applied."""
    result = await rt.charge(charge.request)
    async with rt.transaction() as uow:
        row = await subscription_of(uow, charge.subscription_id, None, lock=True)
        if charge not in await uow.change_charges.of(row.id):
            return  # another request settled it meanwhile
        reference = result.reference or ""
        if result.succeeded and not await uow.payments.recorded([reference]):
            request = charge.request
            await credit_change(uow, rt, row, request.amount, request.currency, result)
        await uow.change_charges.release(charge.request.idempotency_key)
        await uow.commit()


async def credit_change(
    uow: UnitOfWork,
    rt: Runtime,
    row: Subscription,
    amount: int,
    currency: str,
    result: PaymentResult,
) -> None:
    """Money taken for a change that was not applied: the company's credit, and its payment."""
    assert row.company_id is not None  # ``plan_change`` refuses a subscription without one
    await add_to_balances(uow, {(row.company_id, currency): amount})
    await uow.payments.add(
        [
            PaymentRecord.of(
                result,
                provider=rt.gateway.name,
                payment_method=row.payment_method or "",
                amount=amount,
                currency=currency,
                now=rt.clock.now(),
            )
        ]
    )


__all__ = ["CHARGE_LEASE", "change_request", "credit_change", "hold_charge", "settle_charge"]
