"""A stateful model of the engine: companies, members, subscriptions and orders, seats
assigned, claimed and revoked, seat-count and price changes under every proration behaviour,
free trials,
the sandbox clock moving through renewals, declined cards and cancellations — run against the
real services and database, with ``tests.model.invariants`` checked after every step.

Hypothesis drives a synchronous machine; the machines of one run share one event loop and one
engine (``EngineModel.shared``, closed by ``EngineModel.close``), so the async services run on
the loop that opened their connections.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.errors import SeatledgerError
from seatledger.services import (
    cancellation,
    checkouts,
    claims,
    companies,
    invoice_payments,
    sandbox,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime
from tests.conftest import _empty_tables
from tests.integration import shop
from tests.integration.shop import utc
from tests.model import invariants

T = TypeVar("T")

CARDS = ("pm_card_ok", "pm_card_ok", "pm_card_fail_after_first", "pm_card_declined")
BEHAVIORS = (None, "invoice", "prorate", "next_period", "true_up")
PEOPLE = tuple(f"p{n}@model.test" for n in range(5))


class EngineModel(RuleBasedStateMachine):
    database_url: ClassVar[str] = ""
    _shared: ClassVar[tuple[asyncio.AbstractEventLoop, AsyncEngine]]
    # use case → answer ("ok" or the refusal's code), over every machine of the run: shows
    # that the sequences reach the states they are meant to (printed by the soak driver).
    outcomes: ClassVar[Counter[tuple[str, str]]] = Counter()
    # Sequences run and invariant checks passed, over every machine of the run (the soak's figure).
    ran: ClassVar[Counter[str]] = Counter()

    companies = Bundle("companies")
    subscriptions = Bundle("subscriptions")
    pools = Bundle("pools")
    pending = Bundle("pending")  # (seat id, token)
    live_seats = Bundle("live_seats")

    def __init__(self) -> None:
        super().__init__()
        self.loop, engine = self.shared()
        self.clock = FixedClock()
        self.clock.set(utc(2027, 1, 31))  # month ends move the anchor's day (Jan 31 → Feb 28)
        settings = Settings(database_url=self.database_url, sandbox=True)
        self.rt = Runtime(
            engine=engine, clock=self.clock, settings=settings, gateway=LocalGateway()
        )
        self.run(_empty_tables(engine))
        self.prices: dict[str, str] = {}
        self.steps = 0

    @classmethod
    def shared(cls) -> tuple[asyncio.AbstractEventLoop, AsyncEngine]:
        """One event loop and one engine for every machine of a run: an engine keeps the
        statements it compiled, and a new one per sequence spent a seventh of the run compiling
        them again. Each sequence still starts from empty tables, with a runtime of its own."""
        if "_shared" not in cls.__dict__:
            loop = asyncio.new_event_loop()
            cls._shared = (loop, create_engine(cls.database_url))
        return cls._shared

    @classmethod
    def close(cls) -> None:
        if "_shared" in cls.__dict__:
            loop, engine = cls._shared
            loop.run_until_complete(engine.dispose())
            loop.close()
            del cls._shared

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def attempt(self, work: Coroutine[Any, Any, T]) -> T | None:
        """The use case's answer, or None when it refused with a catalogued error (a refusal
        must change nothing, which the invariants then check)."""
        name = work.__qualname__
        try:
            answer = self.run(work)
        except SeatledgerError as error:
            self.outcomes[(name, error.code)] += 1
            return None
        self.outcomes[(name, "ok")] += 1
        return answer

    def teardown(self) -> None:
        self.ran["sequences"] += 1
        if self.ran["sequences"] % 500 == 0:  # the soak's progress (shown with pytest -s)
            print(f"{self.ran['sequences']} sequences", flush=True)

    @initialize()
    def catalogue(self) -> None:
        monthly, annual, graduated, trial = self.run(
            shop.product(
                self.rt,
                shop.per_seat(1000),
                shop.per_seat(10000, "year"),
                {
                    "currency": "usd",
                    "interval": "month",
                    "tiers_mode": "graduated",
                    "tiers": shop.VOLUME,
                    "base_amount": 500,
                    "included_seats": 1,
                },
                # A 10-day free trial before its first month (the clock moves by 1 to 370 days).
                shop.per_seat(1000, trial_days=10),
                benefits=2,
            )
        )
        (volume,) = self.run(
            shop.product(
                self.rt,
                {"currency": "usd", "interval": "month", "tiers": shop.VOLUME},
                name="Volume plan",
                increase="prorate",
                decrease="next_period",
            )
        )
        (one_time,) = self.run(shop.product(self.rt, shop.per_seat(5000, None), name="Perpetual"))
        self.prices = {
            "monthly": monthly,
            "annual": annual,
            "graduated": graduated,
            "trial": trial,
            "volume": volume,
            "one_time": one_time,
        }

    @rule(target=companies, n=st.integers(0, 10_000))
    def new_company(self, n: int) -> str:
        self.steps += 1
        return self.run(shop.company(self.rt, f"boss{n}.{self.steps}@model.test"))

    @rule(
        target=subscriptions,
        company_id=companies,
        plan=st.sampled_from(["monthly", "annual", "graduated", "volume", "trial"]),
        n=st.integers(1, 6),
        card=st.sampled_from(CARDS),
    )
    def subscribe(self, company_id: str, plan: str, n: int, card: str) -> Any:
        checkout = self.run(
            checkouts.create_checkout(
                self.rt, price_id=self.prices[plan], seats=n, company_id=company_id
            )
        )
        done = self.attempt(checkouts.confirm_checkout(self.rt, checkout.id, payment_method=card))
        if done is None or done.subscription_id is None:
            return multiple()
        return done.subscription_id

    @rule(target=pools, sub_id=subscriptions)
    def pool_of_subscription(self, sub_id: str) -> tuple[str, str]:
        return ("subscription", sub_id)

    @rule(target=pools, company_id=companies, n=st.integers(1, 4))
    def order(self, company_id: str, n: int) -> Any:
        checkout = self.run(
            checkouts.create_checkout(
                self.rt, price_id=self.prices["one_time"], seats=n, company_id=company_id
            )
        )
        done = self.attempt(
            checkouts.confirm_checkout(self.rt, checkout.id, payment_method="pm_card_ok")
        )
        if done is None or done.order_id is None:
            return multiple()
        return ("order", done.order_id)

    @rule(target=pending, pool=pools, who=st.sampled_from(PEOPLE))
    def invite(self, pool: tuple[str, str], who: str) -> Any:
        kind, pool_id = pool
        where = {"subscription_id": pool_id} if kind == "subscription" else {"order_id": pool_id}
        seat = self.attempt(seats.assign_seat(self.rt, email=who, send_email=False, **where))
        if seat is None or seat.invitation is None:
            return multiple()
        return (seat.id, seat.invitation.token)

    @rule(target=live_seats, pool=pools, who=st.sampled_from(PEOPLE))
    def assign_claimed(self, pool: tuple[str, str], who: str) -> Any:
        kind, pool_id = pool
        where = {"subscription_id": pool_id} if kind == "subscription" else {"order_id": pool_id}
        seat = self.attempt(seats.assign_seat(self.rt, email=who, immediate_claim=True, **where))
        return multiple() if seat is None else seat.id

    @rule(target=live_seats, invitation=consumes(pending))
    def claim(self, invitation: tuple[str, str]) -> Any:
        seat_id, token = invitation
        claimed = self.attempt(claims.claim_seat(self.rt, token))
        return multiple() if claimed is None else seat_id

    @rule(seat_id=consumes(live_seats))
    def revoke(self, seat_id: str) -> None:
        self.attempt(seats.revoke_seat(self.rt, seat_id))

    @rule(invitation=consumes(pending))
    def revoke_pending(self, invitation: tuple[str, str]) -> None:
        self.attempt(seats.revoke_seat(self.rt, invitation[0]))

    @rule(sub_id=subscriptions, n=st.integers(1, 14), behavior=st.sampled_from(BEHAVIORS))
    def change_seats(self, sub_id: str, n: int, behavior: Any) -> None:
        self.attempt(
            subscriptions.change_subscription(self.rt, sub_id, seats=n, proration_behavior=behavior)
        )

    @rule(
        sub_id=subscriptions,
        plan=st.sampled_from(["monthly", "annual", "graduated", "trial"]),
        behavior=st.sampled_from(BEHAVIORS),
    )
    def switch_price(self, sub_id: str, plan: str, behavior: Any) -> None:
        self.attempt(
            subscriptions.change_subscription(
                self.rt, sub_id, price_id=self.prices[plan], proration_behavior=behavior
            )
        )

    @rule(sub_id=subscriptions, at_period_end=st.booleans())
    def cancel(self, sub_id: str, at_period_end: bool) -> None:
        self.attempt(cancellation.cancel_subscription(self.rt, sub_id, at_period_end=at_period_end))

    @rule(sub_id=subscriptions)
    def undo_cancel(self, sub_id: str) -> None:
        self.attempt(subscriptions.change_subscription(self.rt, sub_id, cancel_at_period_end=False))

    @rule(company_id=companies, card=st.sampled_from(CARDS))
    def pay_open_invoice(self, company_id: str, card: str) -> None:
        async def open_ids() -> list[str]:
            async with self.rt.engine.connect() as c:
                query = select(t.invoices.c.id).where(
                    t.invoices.c.company_id == company_id, t.invoices.c.status == "open"
                )
                return list((await c.execute(query)).scalars())

        for invoice_id in self.run(open_ids())[:1]:
            self.attempt(invoice_payments.pay_invoice(self.rt, invoice_id, payment_method=card))

    @rule(days=st.sampled_from([1, 3, 7, 16, 31, 45, 200, 370]))
    def move_clock(self, days: int) -> None:
        target = self.clock.now() + timedelta(days=days)
        self.run(sandbox.advance_clock(self.rt, target))

    @rule(company_id=companies, who=st.sampled_from(PEOPLE))
    def add_member(self, company_id: str, who: str) -> None:
        self.attempt(companies.add_member(self.rt, company_id, email=who))

    @invariant()
    def engine_is_consistent(self) -> None:
        if self.prices:
            self.run(invariants.check_all(self.rt))
            self.ran["checks"] += 1
