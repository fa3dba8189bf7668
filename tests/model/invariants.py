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
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.services import entitlements
from seatledger.services.runtime import Runtime


async def _all(engine: AsyncEngine, table: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(table))).all())


async def check_seats(engine: AsyncEngine) -> None:
    """assigned ≤ purchased; the pool's counter is its live seats; a pool is closed exactly when
    its subscription is canceled; no member or email holds two live seats in one pool; live
    grants exist exactly for claimed seats."""
    pools = {row.id: row for row in await _all(engine, t.seat_pools)}
    seats = await _all(engine, t.seats)
    live = [s for s in seats if s.status != "revoked"]
    per_pool = Counter(s.pool_id for s in live)
    for pool in pools.values():
        assert pool.assigned_seats <= pool.seats, pool
        assert per_pool[pool.id] == pool.assigned_seats, (pool, per_pool[pool.id])
    canceled = {s.id for s in await _all(engine, t.subscriptions) if s.status == "canceled"}
    closed = {pool.id for pool in pools.values() if pool.closed_at is not None}
    assert closed == canceled, closed ^ canceled  # a canceled subscription's pool takes no seat
    holders = Counter((s.pool_id, s.member_id) for s in live if s.member_id is not None)
    assert all(n == 1 for n in holders.values()), holders
    emails = Counter((s.pool_id, s.email) for s in live)
    assert all(n == 1 for n in emails.values()), emails
    grants = await _all(engine, t.benefit_grants)
    granted = Counter(g.seat_id for g in grants if g.status == "granted")
    claimed = {s.id for s in seats if s.status == "claimed"}
    assert set(granted) <= claimed, set(granted) - claimed
    benefits_of_price = await _benefit_counts(engine)
    owner_price = await _pool_prices(engine)
    for seat in seats:
        if seat.status == "claimed":
            assert granted[seat.id] == benefits_of_price[owner_price[seat.pool_id]], seat


async def _benefit_counts(engine: AsyncEngine) -> dict[str, int]:
    per_product = Counter(row.product_id for row in await _all(engine, t.product_benefits))
    return {p.id: per_product[p.product_id] for p in await _all(engine, t.prices)}


async def _pool_prices(engine: AsyncEngine) -> dict[str, str]:
    owners = await _all(engine, t.subscriptions) + await _all(engine, t.orders)
    return {row.id: row.price_id for row in owners}


async def check_money(engine: AsyncEngine) -> None:
    """The identities of the module docstring."""
    invoices = [i for i in await _all(engine, t.invoices) if i.status != "draft"]
    lines: defaultdict[str, int] = defaultdict(int)
    for line in await _all(engine, t.invoice_lines):
        lines[line.invoice_id] += line.amount
    paid: defaultdict[str, int] = defaultdict(int)
    for payment in await _all(engine, t.payments):
        if payment.status == "succeeded" and payment.invoice_id is not None:
            paid[payment.invoice_id] += payment.amount
    expected: defaultdict[tuple[str, str], int] = defaultdict(int)
    for inv in invoices:
        assert lines[inv.id] == inv.subtotal, inv
        assert inv.total == max(0, inv.subtotal - inv.credit_applied), inv
        assert paid[inv.id] == (inv.total if inv.status == "paid" else 0), (inv, paid[inv.id])
        if inv.company_id is not None:
            expected[(inv.company_id, inv.currency)] += inv.total - inv.subtotal
    balances = {(b.company_id, b.currency): b.amount for b in await _all(engine, t.credit_balances)}
    for key in set(expected) | set(balances):
        assert balances.get(key, 0) == expected.get(key, 0), (key, balances, dict(expected))


async def check_periods(engine: AsyncEngine) -> None:
    """Each renewal period is invoiced at most once, and the period a live subscription is in
    was invoiced (at checkout, at a renewal, or by an interval switch)."""
    invoices = await _all(engine, t.invoices)
    cycles = Counter(
        (i.subscription_id, i.period_start) for i in invoices if i.reason == "subscription_cycle"
    )
    assert all(n == 1 for n in cycles.values()), cycles
    starts = {
        (i.subscription_id, i.period_start)
        for i in invoices
        if i.reason in ("subscription_create", "subscription_cycle", "subscription_update")
    }
    for sub in await _all(engine, t.subscriptions):
        if sub.status != "canceled":
            assert (sub.id, sub.current_period_start) in starts, sub


async def check_entitlements(rt: Runtime) -> None:
    """A company's entitlements are the sum of what its live pools say."""
    pools = {row.id: row for row in await _all(rt.engine, t.seat_pools)}
    limits: defaultdict[str, int] = defaultdict(int)
    used: defaultdict[str, int] = defaultdict(int)
    for sub in await _all(rt.engine, t.subscriptions):
        if sub.company_id is not None and sub.status != "canceled":
            limits[sub.company_id] += pools[sub.id].seats
            used[sub.company_id] += pools[sub.id].assigned_seats
    for order in await _all(rt.engine, t.orders):
        if order.company_id is not None and order.status == "paid":
            limits[order.company_id] += pools[order.id].seats
            used[order.company_id] += pools[order.id].assigned_seats
    for company in await _all(rt.engine, t.companies):
        counts = (await entitlements.company_entitlements(rt, company.id)).seats
        assert (counts.limit, counts.used) == (limits[company.id], used[company.id]), company


async def check_all(rt: Runtime) -> None:
    await check_seats(rt.engine)
    await check_money(rt.engine)
    await check_periods(rt.engine)
    await check_entitlements(rt)
