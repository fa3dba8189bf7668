"""What must hold between any two use cases, read straight from the tables.

Money (SPEC §3 and the invoice, payment and credit tables). For every invoice that left the
draft state, ``subtotal = Σ lines`` and ``total = max(0, subtotal − credit_applied)``: a renewal
takes the company's credit balance, and a negative subtotal (a net credit) leaves ``total = 0``
and puts ``−subtotal`` on the balance. So, per company and currency, with ``B`` the credit
balance:

    B = Σ_invoices (total − subtotal)          (open, paid and void invoices alike)

(``−credit_applied`` where the subtotal is not negative, ``−subtotal`` where it is), and the
money collected is exactly what paid invoices ask for:

    Σ succeeded payments of an invoice = its total   when it is paid
                                         0           otherwise

so charges − credits given = invoiced totals + the balance still owed back. Credits are never
paid out, so B ≥ 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.services import entitlements
from seatledger.services.runtime import Runtime

_TABLES = (
    "seat_pools",
    "seats",
    "subscriptions",
    "orders",
    "benefit_grants",
    "product_benefits",
    "prices",
    "invoices",
    "invoice_lines",
    "payments",
    "credit_balances",
    "companies",
)


@dataclass(frozen=True)
class Snapshot:
    """Every row the invariants look at, read once per step in one transaction: the checks
    see one moment of the database, and a step costs one read of each table, not one per
    check that needs it."""

    rows: dict[str, list[Any]]

    def __getattr__(self, table: str) -> list[Any]:
        try:
            return self.rows[table]
        except KeyError:
            raise AttributeError(table) from None


async def snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as c, c.begin():
        return Snapshot(
            {name: list((await c.execute(select(getattr(t, name)))).all()) for name in _TABLES}
        )


def check_seats(db: Snapshot) -> None:
    """assigned ≤ purchased; the pool's counter is its live seats; a pool is closed exactly when
    its subscription is canceled; no member or email holds two live seats in one pool; live
    grants exist exactly for claimed seats."""
    pools = {row.id: row for row in db.seat_pools}
    live = [s for s in db.seats if s.status != "revoked"]
    per_pool = Counter(s.pool_id for s in live)
    for pool in pools.values():
        assert pool.assigned_seats <= pool.seats, pool
        assert per_pool[pool.id] == pool.assigned_seats, (pool, per_pool[pool.id])
    canceled = {s.id for s in db.subscriptions if s.status == "canceled"}
    closed = {pool.id for pool in pools.values() if pool.closed_at is not None}
    assert closed == canceled, closed ^ canceled  # a canceled subscription's pool takes no seat
    holders = Counter((s.pool_id, s.member_id) for s in live if s.member_id is not None)
    assert all(n == 1 for n in holders.values()), holders
    emails = Counter((s.pool_id, s.email) for s in live)
    assert all(n == 1 for n in emails.values()), emails
    granted = Counter(g.seat_id for g in db.benefit_grants if g.status == "granted")
    claimed = {s.id for s in db.seats if s.status == "claimed"}
    assert set(granted) <= claimed, set(granted) - claimed
    per_product = Counter(row.product_id for row in db.product_benefits)
    benefits_of_price = {p.id: per_product[p.product_id] for p in db.prices}
    owner_price = {row.id: row.price_id for row in db.subscriptions + db.orders}
    for seat in db.seats:
        if seat.status == "claimed":
            assert granted[seat.id] == benefits_of_price[owner_price[seat.pool_id]], seat


def check_money(db: Snapshot) -> None:
    """The identities of the module docstring."""
    invoices = [i for i in db.invoices if i.status != "draft"]
    lines: defaultdict[str, int] = defaultdict(int)
    for line in db.invoice_lines:
        lines[line.invoice_id] += line.amount
    paid: defaultdict[str, int] = defaultdict(int)
    for payment in db.payments:
        if payment.status == "succeeded" and payment.invoice_id is not None:
            paid[payment.invoice_id] += payment.amount
    expected: defaultdict[tuple[str, str], int] = defaultdict(int)
    for inv in invoices:
        assert lines[inv.id] == inv.subtotal, inv
        assert inv.total == max(0, inv.subtotal - inv.credit_applied), inv
        assert paid[inv.id] == (inv.total if inv.status == "paid" else 0), (inv, paid[inv.id])
        if inv.company_id is not None:
            expected[(inv.company_id, inv.currency)] += inv.total - inv.subtotal
    balances = {(b.company_id, b.currency): b.amount for b in db.credit_balances}
    for key in set(expected) | set(balances):
        assert balances.get(key, 0) == expected.get(key, 0), (key, balances, dict(expected))


def check_periods(db: Snapshot) -> None:
    """Each renewal period is invoiced at most once, and the period a live subscription is in
    was invoiced (at checkout, at a renewal, or by an interval switch)."""
    cycles = Counter(
        (i.subscription_id, i.period_start) for i in db.invoices if i.reason == "subscription_cycle"
    )
    assert all(n == 1 for n in cycles.values()), cycles
    starts = {
        (i.subscription_id, i.period_start)
        for i in db.invoices
        if i.reason in ("subscription_create", "subscription_cycle", "subscription_update")
    }
    for sub in db.subscriptions:
        if sub.status != "canceled":
            assert (sub.id, sub.current_period_start) in starts, sub


async def check_entitlements(rt: Runtime, db: Snapshot) -> None:
    """A company's entitlements, as the service answers them, are the sum of what its live
    pools say."""
    pools = {row.id: row for row in db.seat_pools}
    limits: defaultdict[str, int] = defaultdict(int)
    used: defaultdict[str, int] = defaultdict(int)
    for sub in db.subscriptions:
        if sub.company_id is not None and sub.status != "canceled":
            limits[sub.company_id] += pools[sub.id].seats
            used[sub.company_id] += pools[sub.id].assigned_seats
    for order in db.orders:
        if order.company_id is not None and order.status == "paid":
            limits[order.company_id] += pools[order.id].seats
            used[order.company_id] += pools[order.id].assigned_seats
    for company in db.companies:
        counts = (await entitlements.company_entitlements(rt, company.id)).seats
        assert (counts.limit, counts.used) == (limits[company.id], used[company.id]), company


async def check_all(rt: Runtime) -> None:
    db = await snapshot(rt.engine)
    check_seats(db)
    check_money(db)
    check_periods(db)
    await check_entitlements(rt, db)
