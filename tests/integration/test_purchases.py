"""SPEC §3, §4, §6: subscriptions, orders, attaching owner-scoped purchases, and invoices, on both
databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict, NotFound, ValidationFailed
from seatledger.domain.invoice import InvoiceLine
from seatledger.services import checkouts, companies, invoicing, purchases, seats
from seatledger.services.runtime import Runtime
from tests.integration import pools

TOUCHED = (t.subscriptions, t.orders, t.invoices, t.checkouts, t.seats, t.outbox)


async def _rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def _events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    return [row.payload for row in await _rows(engine, t.outbox, t.outbox.c.type == kind)]


async def _snapshot(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as c:
        return {
            table.name: sorted(tuple(str(v) for v in row) for row in await c.execute(select(table)))
            for table in TOUCHED
        }


async def _buy(
    runtime: Runtime,
    price_id: str,
    *,
    seats: int = 2,
    company_id: str | None = None,
    email: str | None = None,
) -> str:
    """Check out and pay; answers the subscription or order id."""
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=seats, company_id=company_id, customer_email=email
    )
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    purchase_id = done.subscription_id or done.order_id
    assert purchase_id is not None
    return purchase_id


@pytest.fixture
async def prices(runtime: Runtime) -> dict[str, str]:
    return {
        "monthly": await pools.product(runtime.engine, benefits=0),
        "once": await pools.product(runtime.engine, benefits=0, interval=None),
    }


# -- reading --------------------------------------------------------------------------------------


async def test_a_company_lists_its_subscriptions_and_orders(
    runtime: Runtime, prices: dict[str, str]
) -> None:
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="boss@acme.example"
    )
    other = await companies.create_company(
        runtime, name="Other", billing_manager_email="boss@other.example"
    )
    subs = [await _buy(runtime, prices["monthly"], company_id=company.id) for _ in range(3)]
    orders = [await _buy(runtime, prices["once"], company_id=company.id) for _ in range(2)]
    await _buy(runtime, prices["monthly"], company_id=other.id)
    await _buy(runtime, prices["once"], company_id=other.id)

    first = await purchases.list_subscriptions(runtime, company_id=company.id, limit=2)
    assert [s.id for s in first.data] == subs[:2]
    assert (first.has_more, first.next_cursor) == (True, subs[1])
    rest = await purchases.list_subscriptions(
        runtime, company_id=company.id, limit=2, cursor=first.next_cursor
    )
    assert [s.id for s in rest.data] == subs[2:]
    assert not rest.has_more
    listed = await purchases.list_orders(runtime, company_id=company.id)
    assert [o.id for o in listed.data] == orders
    assert all(o.company_id == company.id and o.status == "paid" for o in listed.data)

    for function in (purchases.list_subscriptions, purchases.list_orders):
        with pytest.raises(NotFound) as caught:
            await function(runtime, company_id="co_nope")
        assert caught.value.errors == (("company_id", "no such company"),)
        with pytest.raises(ValidationFailed):
            await function(runtime, company_id=company.id, limit=0)


async def test_unknown_purchases_are_not_found(runtime: Runtime, prices: dict[str, str]) -> None:
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="boss@acme.example"
    )
    sub_id = await _buy(runtime, prices["monthly"], company_id=company.id)
    order_id = await _buy(runtime, prices["once"], company_id=company.id)
    for missing in ("sub_nope", "", 5, order_id):
        with pytest.raises(NotFound):
            await purchases.get_subscription(runtime, missing)  # type: ignore[arg-type]
    for missing in ("ord_nope", sub_id):
        with pytest.raises(NotFound):
            await purchases.get_order(runtime, missing)
    with pytest.raises(NotFound):
        await purchases.get_subscription(runtime, sub_id, scope_company_id="co_other")
    with pytest.raises(NotFound):
        await purchases.get_order(runtime, order_id, scope_company_id="co_other")
    assert (await purchases.get_order(runtime, order_id, scope_company_id=company.id)).id == (
        order_id
    )


# -- buying before the company exists -------------------------------------------------------------


async def test_purchases_attach_when_the_company_is_created(
    runtime: Runtime, prices: dict[str, str]
) -> None:
    sub_id = await _buy(runtime, prices["monthly"], seats=4, email="Founder@Start.example")
    order_id = await _buy(runtime, prices["once"], seats=2, email="founder@start.example")
    stranger = await _buy(runtime, prices["monthly"], email="someone@else.example")
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.company_id, sub.owner_email) == (None, "founder@start.example")
    with pytest.raises(Conflict) as caught:  # no seats before a company exists
        await seats.assign_seat(runtime, subscription_id=sub_id, email="a@start.example")
    assert caught.value.code == "company_required"

    company = await companies.create_company(
        runtime, name="Start", billing_manager_email="FOUNDER@start.EXAMPLE"
    )

    attached = await purchases.get_subscription(runtime, sub_id)
    assert attached.company_id == company.id
    # It keeps its seats, its period, its owner and its payment method.
    assert (attached.seats, attached.current_period_end, attached.owner_email) == (
        4,
        sub.current_period_end,
        "founder@start.example",
    )
    assert attached.payment_method == "pm_card_ok"
    assert (await purchases.get_order(runtime, order_id)).company_id == company.id
    assert (await purchases.get_subscription(runtime, stranger)).company_id is None
    invoices = (await invoicing.list_invoices(runtime, company_id=company.id)).data
    assert {(i.subscription_id, i.order_id) for i in invoices} == {
        (sub_id, None),
        (None, order_id),
    }
    [sub_event] = await _events(runtime.engine, "subscription.attached")
    assert (sub_event["id"], sub_event["company_id"]) == (sub_id, company.id)
    [order_event] = await _events(runtime.engine, "order.attached")
    assert (order_event["id"], order_event["company_id"]) == (order_id, company.id)
    listed = await purchases.list_subscriptions(runtime, company_id=company.id)
    assert [s.id for s in listed.data] == [sub_id]

    # Seats work now.
    seat = await seats.assign_seat(runtime, subscription_id=sub_id, email="a@start.example")
    assert seat.company_id == company.id

    # A second company with the same manager email finds nothing left to attach.
    second = await companies.create_company(
        runtime, name="Start 2", billing_manager_email="founder@start.example"
    )
    assert (await purchases.list_subscriptions(runtime, company_id=second.id)).data == ()
    assert (await purchases.get_subscription(runtime, sub_id)).company_id == company.id


async def test_an_open_checkout_follows_its_buyer_into_the_company(
    runtime: Runtime, prices: dict[str, str]
) -> None:
    checkout = await checkouts.create_checkout(
        runtime, price_id=prices["monthly"], seats=2, customer_email="founder@start.example"
    )
    company = await companies.create_company(
        runtime, name="Start", billing_manager_email="Founder@Start.example"
    )
    assert (await checkouts.get_checkout(runtime, checkout.id)).company_id == company.id
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    sub = await purchases.get_subscription(runtime, done.subscription_id)
    assert (sub.company_id, sub.owner_email) == (company.id, "founder@start.example")
    [invoice] = (await invoicing.list_invoices(runtime, subscription_id=sub.id)).data
    assert invoice.company_id == company.id


async def test_the_merchant_attaches_a_purchase_explicitly(
    runtime: Runtime, prices: dict[str, str]
) -> None:
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="boss@acme.example"
    )
    other = await companies.create_company(
        runtime, name="Other", billing_manager_email="boss@other.example"
    )
    sub_id = await _buy(runtime, prices["monthly"], email="buyer@elsewhere.example")
    order_id = await _buy(runtime, prices["once"], email="buyer@elsewhere.example")

    before = await _snapshot(runtime.engine)
    for company_id in ("co_nope", None, 9):
        with pytest.raises(NotFound) as caught:
            await purchases.attach_subscription(runtime, sub_id, company_id=company_id)  # type: ignore[arg-type]
        assert caught.value.errors == (("company_id", "no such company"),)
    with pytest.raises(NotFound):
        await purchases.attach_subscription(runtime, "sub_nope", company_id=company.id)
    with pytest.raises(NotFound):
        await purchases.attach_order(runtime, sub_id, company_id=company.id)
    assert await _snapshot(runtime.engine) == before

    sub = await purchases.attach_subscription(runtime, sub_id, company_id=company.id)
    order = await purchases.attach_order(runtime, order_id, company_id=company.id)
    assert (sub.company_id, order.company_id) == (company.id, company.id)
    assert sub.owner_email == "buyer@elsewhere.example"
    invoices = await _rows(runtime.engine, t.invoices)
    assert {i.company_id for i in invoices} == {company.id}
    assert len(await _events(runtime.engine, "subscription.attached")) == 1
    assert len(await _events(runtime.engine, "order.attached")) == 1

    # Attaching again to the same company changes nothing; to another is a conflict.
    before = await _snapshot(runtime.engine)
    assert await purchases.attach_subscription(runtime, sub_id, company_id=company.id) == sub
    assert await purchases.attach_order(runtime, order_id, company_id=company.id) == order
    for attach, purchase_id in (
        (purchases.attach_subscription, sub_id),
        (purchases.attach_order, order_id),
    ):
        with pytest.raises(Conflict) as conflict:
            await attach(runtime, purchase_id, company_id=other.id)
        assert conflict.value.code == "already_attached"
    assert await _snapshot(runtime.engine) == before


# -- invoices -------------------------------------------------------------------------------------


def _line(amount: int, kind: Any = "seats") -> InvoiceLine:
    return InvoiceLine(kind, f"{kind} {amount}", 1, amount, amount, None, None)


async def test_invoices_are_numbered_when_finalised(
    runtime: Runtime, prices: dict[str, str], clock: FixedClock
) -> None:
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="boss@acme.example"
    )
    sub_id = await _buy(runtime, prices["monthly"], company_id=company.id)  # INV-000001
    clock.advance(timedelta(days=3))
    now = clock.now()
    async with runtime.transaction() as uow:
        draft = await invoicing.create_invoice(
            uow,
            now=now,
            company_id=company.id,
            subscription_id=sub_id,
            currency="usd",
            lines=[_line(500)],
            status="draft",
            reason="subscription_update",
        )
        opened = await invoicing.create_invoice(
            uow,
            now=now,
            company_id=company.id,
            subscription_id=sub_id,
            currency="usd",
            lines=[_line(3000, "base"), _line(-1000, "proration")],
            status="open",
            reason="subscription_cycle",
            period_start=now,
            period_end=now + timedelta(days=30),
            credit_applied=1500,
        )
        await uow.commit()
    assert (draft.number, draft.finalized_at, draft.paid_at) == (None, None, None)
    assert (opened.number, opened.status, opened.finalized_at, opened.paid_at) == (
        "INV-000002",
        "open",
        now,
        None,
    )
    assert (opened.subtotal, opened.credit_applied, opened.total) == (2000, 1500, 500)
    assert await invoicing.get_invoice(runtime, opened.id) == opened
    assert await invoicing.get_invoice(runtime, draft.id) == draft
    [finalized] = await _events(runtime.engine, "invoice.finalized")
    assert (finalized["id"], finalized["number"]) == (opened.id, "INV-000002")

    # A negative subtotal totals 0; the rolled-back invoice gives its number back.
    async with runtime.transaction() as uow:
        credit = await invoicing.create_invoice(
            uow,
            now=now,
            company_id=company.id,
            subscription_id=sub_id,
            currency="usd",
            lines=[_line(-700, "proration")],
            status="open",
            reason="subscription_update",
        )
        assert (credit.number, credit.subtotal, credit.total) == ("INV-000003", -700, 0)
    async with runtime.transaction() as uow:
        again = await invoicing.create_invoice(
            uow,
            now=now,
            company_id=company.id,
            subscription_id=sub_id,
            currency="usd",
            lines=[_line(100)],
            status="paid",
            reason="subscription_update",
        )
        await uow.commit()
    assert (again.number, again.paid_at) == ("INV-000003", now)

    page = await invoicing.list_invoices(runtime, subscription_id=sub_id, limit=2)
    assert [i.number for i in page.data] == ["INV-000001", None]
    assert page.has_more
    rest = await invoicing.list_invoices(
        runtime, subscription_id=sub_id, limit=2, cursor=page.next_cursor
    )
    assert [i.number for i in rest.data] == ["INV-000002", "INV-000003"]
    assert [line.amount for line in rest.data[0].lines] == [3000, -1000]


async def test_impossible_invoices_are_programming_errors(
    runtime: Runtime, clock: FixedClock
) -> None:
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="boss@acme.example"
    )
    for status, credit in (("open", 600), ("open", -1), ("void", 0)):
        async with runtime.transaction() as uow:
            with pytest.raises(ValueError, match=r"credit_applied|void"):
                await invoicing.create_invoice(
                    uow,
                    now=clock.now(),
                    company_id=company.id,
                    currency="usd",
                    lines=[_line(500)],
                    status=status,  # type: ignore[arg-type]
                    reason="subscription_update",
                    credit_applied=credit,
                )
    assert await _rows(runtime.engine, t.invoices) == []


async def test_invoice_lists_take_at_most_one_known_filter(
    runtime: Runtime, prices: dict[str, str]
) -> None:
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="boss@acme.example"
    )
    other = await companies.create_company(
        runtime, name="Other", billing_manager_email="boss@other.example"
    )
    sub_id = await _buy(runtime, prices["monthly"], company_id=company.id)
    order_id = await _buy(runtime, prices["once"], company_id=company.id)
    with pytest.raises(ValidationFailed) as caught:
        await invoicing.list_invoices(runtime, company_id=company.id, subscription_id=sub_id)
    assert [f for f, _ in caught.value.errors] == ["company_id"]
    for field, value in (
        ("company_id", "co_nope"),
        ("subscription_id", "sub_nope"),
        ("order_id", "ord_nope"),
        ("order_id", sub_id),
    ):
        with pytest.raises(NotFound) as missing:
            await invoicing.list_invoices(runtime, **{field: value})
        assert [f for f, _ in missing.value.errors] == [field]
    # Another company's objects are not found through a scoped list.
    for field, value in (
        ("company_id", company.id),
        ("subscription_id", sub_id),
        ("order_id", order_id),
    ):
        with pytest.raises(NotFound):
            await invoicing.list_invoices(runtime, scope_company_id=other.id, **{field: value})
    mine = await invoicing.list_invoices(
        runtime, company_id=company.id, scope_company_id=company.id
    )
    assert len(mine.data) == 2
    assert (await invoicing.list_invoices(runtime, company_id=other.id)).data == ()
    for invoice_id in ("inv_nope", 3):
        with pytest.raises(NotFound):
            await invoicing.get_invoice(runtime, invoice_id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await invoicing.get_invoice(runtime, mine.data[0].id, scope_company_id=other.id)
