"""Subscriptions: read, change (seats, price, cancellation at period end), preview a change,
cancel, attach (SPEC §3, §6)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import Field, StrictBool

from seatledger.api.auth import MerchantWriter, Reader, Writer
from seatledger.api.common import (
    ApiModel,
    AttachIn,
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    Seats,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
    optional_id,
)
from seatledger.api.invoices import LineOut, line_out
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.catalog import ProrationBehavior
from seatledger.domain.ids import check_id
from seatledger.domain.purchase import PendingChange, Subscription
from seatledger.services import cancellation, purchases, subscriptions
from seatledger.services.runtime import Runtime

router = APIRouter(tags=["subscriptions"], route_class=JsonRoute)


class PendingChangeOut(OutModel):
    seats: int
    price_id: str
    effective_at: Timestamp


class SubscriptionOut(OutModel):
    id: str
    company_id: str | None
    price_id: str
    status: Literal["trialing", "active", "past_due", "canceled"]
    seats: int
    assigned_seats: int
    available_seats: int
    current_period_start: Timestamp
    current_period_end: Timestamp
    cancel_at_period_end: bool
    pending_change: PendingChangeOut | None
    trial_end: Timestamp | None = Field(
        description="When the free trial (the first period) ends; null when bought without one."
        " While `trialing`, nothing is charged; the trial's end bills the first period."
    )


class ChangeIn(ApiModel):
    """What to change; a field left out keeps its value. `proration_behavior` defaults to the
    product's (increase: `invoice`, decrease: `prorate`). `true_up` applies a seat-count rise
    now and bills it later, for the time held, on the renewal invoice (or the quarter's);
    a decrease under it waits for the renewal, like `next_period`."""

    seats: Seats | None = None
    price_id: Text | None = None
    proration_behavior: ProrationBehavior | None = None


class SubscriptionPatch(ChangeIn):
    cancel_at_period_end: StrictBool | None = None


class CancelIn(ApiModel):
    at_period_end: StrictBool


class PreviewOut(OutModel):
    subscription_id: str
    proration_behavior: ProrationBehavior | None
    currency: str
    lines: list[LineOut]
    subtotal: int
    credit_applied: int
    total: int
    amount_due_now: int
    invoice_now: bool
    seats: int
    price_id: str
    current_period_start: Timestamp
    current_period_end: Timestamp
    pending_change: PendingChangeOut | None
    effective_at: Timestamp


def pending_out(change: PendingChange | None) -> PendingChangeOut | None:
    if change is None:
        return None
    return PendingChangeOut.model_validate(change, from_attributes=True)


def subscription_out(subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(subscription, from_attributes=True)


async def _manager_for(rt: Runtime, who: Writer, subscription_id: str) -> None:
    await who.manager_for(
        lambda: purchases.get_subscription(rt, subscription_id, scope_company_id=who.company_scope)
    )


@router.get(
    "/v1/subscriptions",
    summary="List subscriptions",
    responses=responses(401, 403, 404, 422),
)
async def list_subscriptions(
    rt: RuntimeDep,
    who: Reader,
    company_id: str | None = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[SubscriptionOut]:
    """A company's subscriptions, oldest first, canceled ones included; a customer session's
    defaults to its own company. An API key that names no company lists every subscription,
    newest first."""
    company_id = who.listed_company(company_id)
    page = await purchases.list_subscriptions(
        rt, company_id=company_id, limit=limit, cursor=cursor_of(cursor)
    )
    return ListOut[SubscriptionOut](**list_of(page, subscription_out))


@router.get(
    "/v1/subscriptions/{subscription_id}",
    summary="Get a subscription",
    responses=responses(401, 403, 404),
)
async def get_subscription(subscription_id: str, rt: RuntimeDep, who: Reader) -> SubscriptionOut:
    subscription = await purchases.get_subscription(
        rt, check_id(subscription_id, "subscription"), scope_company_id=who.company_scope
    )
    who.require_manager()
    return subscription_out(subscription)


@router.patch(
    "/v1/subscriptions/{subscription_id}",
    summary="Change a subscription's seats or price, or its cancellation at period end",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 402, 403, 404, 409, 422),
)
async def change_subscription(
    subscription_id: str, body: SubscriptionPatch, rt: RuntimeDep, who: Writer
) -> SubscriptionOut:
    """Prorated per SPEC §2–3. `invoice` collects a charge first (402 `payment_failed`: nothing
    changes); `prorate` bills at the next renewal; `next_period` schedules it
    (`pending_change`); `true_up` applies a rise now and bills it later for the time held.
    409 `seats_below_assigned` below the seats assigned, `subscription_not_active` once
    canceled or cancelling at period end;
    `cancel_at_period_end: false` undoes a scheduled cancellation."""
    subscription_id = check_id(subscription_id, "subscription")
    await _manager_for(rt, who, subscription_id)
    subscription = await subscriptions.change_subscription(
        rt,
        subscription_id,
        seats=body.seats,
        price_id=optional_id(body.price_id, "price", field="price_id"),
        proration_behavior=body.proration_behavior,
        cancel_at_period_end=body.cancel_at_period_end,
        scope_company_id=who.company_scope,
    )
    return subscription_out(subscription)


@router.post(
    "/v1/subscriptions/{subscription_id}/preview",
    summary="Preview a change",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def preview_subscription_change(
    subscription_id: str, body: ChangeIn, rt: RuntimeDep, who: Reader
) -> PreviewOut:
    """The lines and amounts the same `PATCH` would bill now (`invoice_now`) or at the next
    renewal; nothing changes. A read: a read-only API key may preview."""
    subscription_id = check_id(subscription_id, "subscription")
    await _manager_for(rt, who, subscription_id)
    preview = await subscriptions.preview_change(
        rt,
        subscription_id,
        seats=body.seats,
        price_id=optional_id(body.price_id, "price", field="price_id"),
        proration_behavior=body.proration_behavior,
        scope_company_id=who.company_scope,
    )
    return PreviewOut(
        subscription_id=preview.subscription_id,
        proration_behavior=preview.proration_behavior,
        currency=preview.currency,
        lines=[line_out(line) for line in preview.lines],
        subtotal=preview.subtotal,
        credit_applied=preview.credit_applied,
        total=preview.total,
        amount_due_now=preview.amount_due_now,
        invoice_now=preview.invoice_now,
        seats=preview.seats,
        price_id=preview.price_id,
        current_period_start=preview.current_period_start,
        current_period_end=preview.current_period_end,
        pending_change=pending_out(preview.pending_change),
        effective_at=preview.effective_at,
    )


@router.post(
    "/v1/subscriptions/{subscription_id}/cancel",
    summary="Cancel a subscription",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def cancel_subscription(
    subscription_id: str, body: CancelIn, rt: RuntimeDep, who: Writer
) -> SubscriptionOut:
    """`at_period_end: false` cancels now: every seat and its benefits are revoked at once.
    `true` keeps the seats usable until the period ends. Waiting proration lines are billed on
    a final invoice; the current period is not refunded. Cancelling again changes nothing."""
    subscription_id = check_id(subscription_id, "subscription")
    await _manager_for(rt, who, subscription_id)
    subscription = await cancellation.cancel_subscription(
        rt, subscription_id, at_period_end=body.at_period_end, scope_company_id=who.company_scope
    )
    return subscription_out(subscription)


@router.post(
    "/v1/subscriptions/{subscription_id}/attach",
    summary="Attach an owner-scoped subscription to a company",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def attach_subscription(
    subscription_id: str, body: AttachIn, rt: RuntimeDep, _: MerchantWriter
) -> SubscriptionOut:
    """For a subscription bought with only an email. Attaching again to the same company
    changes nothing; 409 `already_attached` when it belongs to another."""
    subscription = await purchases.attach_subscription(
        rt,
        check_id(subscription_id, "subscription"),
        company_id=check_id(body.company_id, "company", field="company_id"),
    )
    return subscription_out(subscription)
