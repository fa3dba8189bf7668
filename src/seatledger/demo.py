"""``seatledger demo``: the eight requirements of the seat-billing design, in order, plus the
members mode and a purchase made before the company exists — told as a short story with the
amounts, on a throw-away SQLite database and a clock that starts on 2027-01-01."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from seatledger.adapters.db import migrations
from seatledger.bootstrap import build_runtime
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.domain.events import EventRenderer
from seatledger.domain.invoice import Invoice
from seatledger.pricing import currency_exponent
from seatledger.services import (
    catalog,
    checkouts,
    companies,
    entitlements,
    invoicing,
    purchases,
    renewals,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime

Say = Callable[[str], object]


def money(amount: int, currency: str) -> str:
    """Minor units shown in major units, exactly (Decimal, never float)."""
    exponent = currency_exponent(currency)
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f} {currency.upper()}"


def _invoice(say: Say, invoice: Invoice) -> None:
    say(f"    {invoice.number or 'draft'} ({invoice.status})")
    for line in invoice.lines:
        say(f"      {line.description:<46} {money(line.amount, invoice.currency):>14}")
    if invoice.credit_applied:
        say(f"      {'credit applied':<46} {money(-invoice.credit_applied, invoice.currency):>14}")
    say(f"      {'total':<46} {money(invoice.total, invoice.currency):>14}")


async def _latest_invoice(rt: Runtime, **pool: Any) -> Invoice:
    page = await invoicing.list_invoices(rt, limit=100, **pool)
    return page.data[-1]


async def run_demo(
    say: Say = print, render_event: Callable[[Settings], EventRenderer] | None = None
) -> None:
    """The demo story on a fresh database; ``render_event`` as ``bootstrap.build_runtime``
    takes it (``seatledger demo`` gives the API's)."""
    with tempfile.TemporaryDirectory(prefix="seatledger-demo-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.sqlite3'}"
        migrations.upgrade(url)
        clock = FixedClock(datetime(2027, 1, 1, tzinfo=UTC))
        rt = build_runtime(
            Settings(database_url=url, sandbox=True), clock=clock, render_event=render_event
        )
        try:
            await _story(rt, clock, say)
        finally:
            await rt.engine.dispose()


async def _story(rt: Runtime, clock: FixedClock, say: Say) -> None:
    say("seatledger demo — a throw-away database, the clock at 2027-01-01 00:00 UTC\n")

    say("1. The merchant creates a seat-based product.")
    key = await catalog.create_benefit(
        rt, type="license_key", description="Team licence", properties={"prefix": "TEAM"}
    )
    tiers = [
        {"up_to": 5, "unit_amount": 1000},
        {"up_to": 10, "unit_amount": 800},
        {"up_to": None, "unit_amount": 500},
    ]
    team = await catalog.create_product(
        rt,
        name="Team plan",
        prices=[
            {"currency": "usd", "interval": "month", "tiers_mode": "volume", "tiers": tiers},
            {
                "currency": "usd",
                "interval": "year",
                "tiers": [{"up_to": None, "unit_amount": 9600}],
            },
        ],
        benefit_ids=[key.id],
    )
    monthly, annual = team.prices
    say("   'Team plan': monthly volume tiers 1–5 at 10.00, 6–10 at 8.00, 11+ at 5.00 a seat;")
    say("   annual 96.00 a seat; each seat holder gets a licence key.\n")

    say("2. Acme's billing manager buys 3 monthly seats.")
    acme = await companies.create_company(
        rt, name="Acme", billing_manager_email="dana@acme.example", billing_manager_name="Dana"
    )
    checkout = await checkouts.create_checkout(rt, price_id=monthly.id, seats=3, company_id=acme.id)
    say(f"   checkout {checkout.id}: amount due {money(checkout.amount_due, checkout.currency)}")
    checkout = await checkouts.confirm_checkout(rt, checkout.id, payment_method="pm_card_ok")
    assert checkout.subscription_id is not None
    subscription_id = checkout.subscription_id
    _invoice(say, await _latest_invoice(rt, subscription_id=subscription_id))
    say("   No seat is assigned and no benefit granted yet.\n")

    say("3. Dana assigns a seat to ann@acme.example.")
    seat = await seats.assign_seat(rt, subscription_id=subscription_id, email="ann@acme.example")
    assert seat.invitation is not None
    say(f"   seat {seat.id} is {seat.status}; invitation {seat.invitation.url[:60]}…")
    say(f"   (the link expires {seat.invitation.expires_at:%Y-%m-%d}; it works once)\n")

    say("4. Ann claims her seat and receives the benefit.")
    claim = await seats.claim_seat(rt, seat.invitation.token)
    license_key = claim.grants[0].properties["license_key"]
    say(f"   seat {claim.seat.status}; Ann's licence key: {license_key}\n")

    say("5. Dana removes Ann's seat assignment.")
    revoked = await seats.revoke_seat(rt, seat.id)
    pool = await purchases.get_subscription(rt, subscription_id)
    say(
        f"   seat {revoked.status}, licence revoked; {pool.available_seats} of 3 seats free again\n"
    )

    say("6. On Jan 16 Dana switches to the annual plan.")
    clock.set(datetime(2027, 1, 16, tzinfo=UTC))
    switched = await subscriptions.change_subscription(rt, subscription_id, price_id=annual.id)
    _invoice(say, await _latest_invoice(rt, subscription_id=subscription_id))
    say(
        f"   next renewal {switched.current_period_end:%Y-%m-%d}; the unused rest of January is"
        " credited\n"
    )

    say("7. On Mar 1 Dana raises the seat count from 3 to 8 (charged now, prorated).")
    clock.set(datetime(2027, 3, 1, tzinfo=UTC))
    await subscriptions.change_subscription(rt, subscription_id, seats=8)
    _invoice(say, await _latest_invoice(rt, subscription_id=subscription_id))
    say("")

    say("8. Perpetual seats: two one-time orders, each its own pool, each priced alone.")
    desktop = await catalog.create_product(
        rt,
        name="Desktop app",
        prices=[
            {
                "currency": "usd",
                "interval": None,
                "tiers_mode": "volume",
                "tiers": [{"up_to": 9, "unit_amount": 5000}, {"up_to": None, "unit_amount": 4000}],
            }
        ],
        benefit_ids=[key.id],
    )
    for count in (10, 5):
        order_checkout = await checkouts.create_checkout(
            rt, price_id=desktop.prices[0].id, seats=count, company_id=acme.id
        )
        done = await checkouts.confirm_checkout(rt, order_checkout.id, payment_method="pm_card_ok")
        assert done.order_id is not None
        order = await purchases.get_order(rt, done.order_id)
        say(f"   order {order.id}: {order.seats} seats for {money(order.amount, 'usd')}")
    company_view = await entitlements.company_entitlements(rt, acme.id)
    say(
        f"   Acme may now hand out {company_view.seats.limit} seats"
        f" ({company_view.seats.used} in use)\n"
    )

    say("9. Members mode: seats follow the people.")
    chat = await catalog.create_product(
        rt,
        name="Chat",
        prices=[
            {
                "currency": "eur",
                "interval": "month",
                "tiers": [{"up_to": None, "unit_amount": 600}],
                "seat_sync": "members",
                "maximum_seats": 50,
            }
        ],
    )
    chat_checkout = await checkouts.create_checkout(
        rt, price_id=chat.prices[0].id, seats=1, company_id=acme.id
    )
    chat_done = await checkouts.confirm_checkout(rt, chat_checkout.id, payment_method="pm_card_ok")
    assert chat_done.subscription_id is not None
    for person in ("erin", "frank"):
        await seats.assign_seat(
            rt, subscription_id=chat_done.subscription_id, email=f"{person}@acme.example"
        )
    chat_pool = await purchases.get_subscription(rt, chat_done.subscription_id)
    say("   the billing manager holds a seat from purchase; after inviting Erin and Frank")
    say(f"   the subscription counts {chat_pool.seats} seats, billed prorated at renewal.\n")

    say("10. A purchase before the company exists.")
    early = await checkouts.create_checkout(
        rt, price_id=monthly.id, seats=2, customer_email="gus@globex.example"
    )
    early_done = await checkouts.confirm_checkout(rt, early.id, payment_method="pm_card_ok")
    assert early_done.subscription_id is not None
    say("   Gus pays for 2 seats with only his email: the subscription waits, owner-scoped.")
    globex = await companies.create_company(
        rt, name="Globex", billing_manager_email="Gus@Globex.example"
    )
    attached = await purchases.get_subscription(rt, early_done.subscription_id)
    state = "attached" if attached.company_id == globex.id else "not attached"
    say("   Globex is created with Gus as billing manager: the subscription attaches to it")
    say(f"   ({state}, {attached.seats} seats).\n")

    say("11. Time passes: on Apr 1 the monthly subscriptions renew.")
    clock.set(datetime(2027, 4, 1, tzinfo=UTC) + timedelta(minutes=1))
    renewed = await renewals.renew_due(rt)
    say(f"   {len(renewed)} renewal(s) billed, each exactly once.")
    say("\nThat is the whole flow; the database is thrown away now.")
