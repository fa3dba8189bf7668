"""Which of the hot paths' SQL statements are keyed by company: the inventory the scaling plan
(docs/operations/scaling.md) rests on.

Distributing the database (Citus) by ``company_id`` needs every statement a request runs to name
one company, so that it can be routed to the one node holding that company's rows. Here a
statement is **keyed** when every company-owned table it reads or writes is pinned to one
company by the statement's own text:

- ``<table>.company_id = <bind parameter>`` (``companies.id = …`` for ``companies``), or
  ``<table>.company_id = <other>.company_id`` against another table of the statement;
- or, for an ``INSERT``, the row's ``company_id`` column is written (the new row carries its key).

A list of several companies (``company_id IN (…)``), a look-up by another key (a seat's id, a
pool's id, a token's hash) or a scan across companies is not keyed. Tables that are not
company-owned (the catalogue, which would be a replicated reference table; the outbox,
idempotency keys and other merchant-wide tables, which would stay on the coordinator) do not
count.

The hot paths are SPEC §9's (assign, claim, revoke, entitlements, seat list) and the renewal
batch. The test runs each through the API (the batch through its service), captures its
statements with an SQLAlchemy event listener and compares the company-owned tables left
unkeyed with ``UNKEYED``, on both databases: a statement that stops being keyed fails it, and so
does one that becomes keyed (shrink the inventory and the page's list with it). Nothing is
routable by company yet: the scaling page says what it takes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from seatledger.api.app import create_app
from seatledger.domain.clock import FixedClock
from seatledger.services import api_keys, renewals
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api

# Tables that hold one company's data: the ones Citus would distribute by company_id.
COMPANY_OWNED = frozenset(
    {
        "companies",
        "members",
        "checkouts",
        "seat_pools",
        "subscriptions",
        "orders",
        "seats",
        "benefit_grants",
        "invoices",
        "invoice_lines",
        "payments",
        "pending_lines",
        "credit_balances",
        "customer_sessions",
        "emails",
        "payment_customers",
    }
)

# What each hot path leaves unkeyed today: the work the scaling plan lists (empty = routable).
UNKEYED: dict[str, set[str]] = {
    # The pool by its id (pools have no company_id), its owner by the pool's id (on
    # PostgreSQL the one statement pins the owner to the company: see ``_unkeyed_on``).
    "assign": {"seat_pools", "subscriptions"},
    # The seat by its token's hash (the token is the only credential), then by its id; its
    # pool, its owner and the session by ids.
    "claim": {"seats", "seat_pools", "subscriptions", "orders", "customer_sessions"},
    # The pool locked through the seat's id, the seat by id, the grants by the seat's id.
    "revoke": {"seat_pools", "seats", "subscriptions", "benefit_grants"},
    # One statement: subscriptions and orders pinned to the company, their pools joined by the
    # owner's id (pools have no company_id).
    "entitlements": {"seat_pools"},
    # The pool and its seats by the pool's id.
    "seat list": {"seat_pools", "seats", "subscriptions"},
    # A scan across companies by design (what is due), then the batch's rows by their ids.
    "renewal batch": {
        "subscriptions",
        "seat_pools",
        "pending_lines",
        "credit_balances",
        "invoices",
        "invoice_lines",
        "payments",
    },
}

_TABLE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\"?(\w+)\"?", re.IGNORECASE)
_PARAMETER = r"(?:%\(\w+\)s|\?|:\w+)"


def tables_of(statement: str) -> set[str]:
    return {name.lower() for name in _TABLE.findall(statement)} & COMPANY_OWNED


def is_keyed(table: str, statement: str) -> bool:
    """Whether ``statement`` pins ``table`` to one company (the rules in the docstring)."""
    column = r"companies\.id" if table == "companies" else rf"{table}\.company_id"
    pinned = rf"{column} = (?:{_PARAMETER}(?:::\w+)?|\w+\.company_id)"
    joined = rf"\w+\.company_id = {column}\b"
    insert = rf"INSERT INTO {table} \([^)]*\bcompany_id\b"
    return any(re.search(pattern, statement) for pattern in (pinned, joined, insert))


def unkeyed_tables(statements: list[str]) -> set[str]:
    return {
        table
        for statement in statements
        for table in tables_of(statement)
        if not is_keyed(table, statement)
    }


@contextmanager
def capturing(runtime: Runtime) -> Iterator[list[str]]:
    """Every statement ``runtime``'s engine sends inside the block, whitespace collapsed."""
    statements: list[str] = []
    sync = runtime.engine.sync_engine

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(sync, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(sync, "before_cursor_execute", before)


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        _, key = await api_keys.create_api_key(runtime, name="backend")
        yield Api(client, key, runtime)


async def _hot_paths(api: Api, runtime: Runtime, clock: FixedClock) -> dict[str, list[str]]:
    subscription_id, company = await api.subscription(seats=5)
    await api.get("/v1/products")  # the API key is known from now on
    seats = f"/v1/seats?subscription_id={subscription_id}"
    captured: dict[str, list[str]] = {}
    with capturing(runtime) as captured["assign"]:
        body = {"subscription_id": subscription_id, "email": "ann@acme.test"}
        token = (await api.post("/v1/seats", body))["invitation"]["token"]
    with capturing(runtime) as captured["claim"]:
        claimed = await api.client.post(f"/v1/claims/{token}")
    assert claimed.status_code == 200, claimed.text
    with capturing(runtime) as captured["revoke"]:
        await api.call("DELETE", f"/v1/seats/{claimed.json()['seat']['id']}")
    with capturing(runtime) as captured["entitlements"]:
        await api.get(f"/v1/companies/{company['id']}/entitlements")
    with capturing(runtime) as captured["seat list"]:
        await api.get(seats)
    end = (await api.get(f"/v1/subscriptions/{subscription_id}"))["current_period_end"]
    clock.set(datetime.fromisoformat(end.replace("Z", "+00:00")))
    with capturing(runtime) as captured["renewal batch"]:
        assert await renewals.renew_due(runtime) == [subscription_id]
    return captured


async def test_the_hot_paths_unkeyed_tables_are_the_known_ones(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    captured = await _hot_paths(api, runtime, clock)
    for name, statements in captured.items():
        assert statements, f"{name} ran no statement"
    found = {name: unkeyed_tables(statements) for name, statements in captured.items()}
    assert found == _unkeyed_on(runtime.engine.dialect.name)


def _unkeyed_on(dialect: str) -> dict[str, set[str]]:
    """PostgreSQL's one-statement assignment reads its owner pinned to the company (the seat
    alerts' check names it); SQLite's step-by-step path reads the owner by the pool's id."""
    if dialect != "postgresql":
        return UNKEYED
    return {**UNKEYED, "assign": {"seat_pools"}}


def test_what_counts_as_keyed() -> None:
    keyed = [
        "SELECT x FROM subscriptions WHERE subscriptions.company_id = %(company_id)s::VARCHAR",
        "SELECT x FROM companies WHERE companies.id = ?",
        "SELECT x FROM members JOIN seats ON seats.company_id = members.company_id "
        "WHERE members.company_id = %(c)s",
        "INSERT INTO members (id, company_id, email) VALUES (?, ?, ?)",
    ]
    for statement in keyed:
        assert unkeyed_tables([statement]) == set(), statement
    not_keyed = {
        "SELECT x FROM seats WHERE seats.id = %(id_1)s::VARCHAR": {"seats"},
        "SELECT x FROM credit_balances WHERE credit_balances.company_id IN (%(c_1)s)": {
            "credit_balances"
        },
        "INSERT INTO invoice_lines (invoice_id, amount) VALUES (?, ?)": {"invoice_lines"},
        "SELECT x FROM products WHERE products.id = ?": set(),  # the catalogue: not company data
    }
    for statement, tables in not_keyed.items():
        assert unkeyed_tables([statement]) == tables, statement
