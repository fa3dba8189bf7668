"""Migration 0007 moves every pool's counts and every seat's link into ``seat_pools`` and back.

A database is built at revision 0006 by alembic, filled with companies, subscriptions and
orders holding pending, claimed and revoked seats with grants, then upgraded: every count, seat
and link is there after, and a downgrade gives the old shape back with the same data. On
PostgreSQL it runs in a schema of its own, so the suite's database is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import IntegrityError

from seatledger.adapters.db import migrations
from seatledger.config import sync_database_url
from tests.conftest import POSTGRES_URL

T0 = "'2027-01-01 00:00:00'"
SCHEMA = "migration_0007"


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    admin = create_engine(sync_database_url(POSTGRES_URL))
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{SCHEMA}"
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def _fill(c: Connection) -> None:
    def run(sql: str) -> None:
        c.execute(text(sql))

    run(f"INSERT INTO companies (id, name, created_at) VALUES ('co_1', 'Acme', {T0})")
    run(
        "INSERT INTO products (id, name, proration_increase, proration_decrease, created_at)"
        f" VALUES ('prod_1', 'P', 'invoice', 'prorate', {T0})"
    )
    run(
        "INSERT INTO prices (id, product_id, version, currency, interval, seat_sync, definition,"
        f" created_at) VALUES ('price_1', 'prod_1', 1, 'usd', 'month', 'manual', '{{}}', {T0})"
    )
    run(
        "INSERT INTO benefits (id, type, description, properties, created_at)"
        f" VALUES ('ben_1', 'custom', 'Support', '{{}}', {T0})"
    )
    for member in ("a", "b"):
        run(
            "INSERT INTO members (id, company_id, email, role, created_at) VALUES"
            f" ('mem_{member}', 'co_1', '{member}@acme.test',"
            f" '{'billing_manager' if member == 'a' else 'member'}', {T0})"
        )
    for sub, company, seats, assigned in (("sub_1", "'co_1'", 4, 2), ("sub_2", "NULL", 3, 0)):
        run(
            "INSERT INTO subscriptions (id, company_id, owner_email, price_id, status, seats,"
            " assigned_seats, billing_anchor, current_period_start, current_period_end,"
            f" cancel_at_period_end, created_at) VALUES ('{sub}', {company}, 'a@acme.test',"
            f" 'price_1', 'active', {seats}, {assigned}, {T0}, {T0}, {T0}, false, {T0})"
        )
    run(
        "INSERT INTO orders (id, company_id, owner_email, price_id, status, seats,"
        " assigned_seats, amount, currency, created_at) VALUES ('ord_1', 'co_1', 'a@acme.test',"
        f" 'price_1', 'paid', 2, 1, 500, 'usd', {T0})"
    )
    seats = (
        ("seat_1", "subscription_id", "sub_1", "'mem_a'", "a@acme.test", "claimed"),
        ("seat_2", "subscription_id", "sub_1", "NULL", "c@acme.test", "pending"),
        ("seat_3", "subscription_id", "sub_1", "'mem_b'", "b@acme.test", "revoked"),
        ("seat_4", "order_id", "ord_1", "'mem_b'", "b@acme.test", "claimed"),
    )
    for seat_id, column, pool, member, email, status in seats:
        run(
            f"INSERT INTO seats (id, company_id, {column}, member_id, email, status, metadata,"
            f" created_at) VALUES ('{seat_id}', 'co_1', '{pool}', {member}, '{email}',"
            f" '{status}', '{{}}', {T0})"
        )
    for grant, seat, member, status in (
        ("grant_1", "seat_1", "mem_a", "granted"),
        ("grant_3", "seat_3", "mem_b", "revoked"),
        ("grant_4", "seat_4", "mem_b", "granted"),
    ):
        run(
            "INSERT INTO benefit_grants (id, seat_id, member_id, benefit_id, status, properties,"
            f" granted_at) VALUES ('{grant}', '{seat}', '{member}', 'ben_1', '{status}', '{{}}',"
            f" {T0})"
        )


def _rows(c: Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in c.execute(text(sql))]


def _old_shape(c: Connection) -> None:
    assert _rows(c, "SELECT id, seats, assigned_seats FROM subscriptions ORDER BY id") == [
        ("sub_1", 4, 2),
        ("sub_2", 3, 0),
    ]
    assert _rows(c, "SELECT id, seats, assigned_seats FROM orders") == [("ord_1", 2, 1)]
    assert _rows(c, "SELECT id, subscription_id, order_id, status FROM seats ORDER BY id") == [
        ("seat_1", "sub_1", None, "claimed"),
        ("seat_2", "sub_1", None, "pending"),
        ("seat_3", "sub_1", None, "revoked"),
        ("seat_4", None, "ord_1", "claimed"),
    ]


def test_pools_and_seats_survive_the_upgrade_and_the_downgrade(old_url: str) -> None:
    migrations.upgrade(old_url, "0006")
    engine = create_engine(sync_database_url(old_url))
    with engine.begin() as c:
        _fill(c)
    migrations.upgrade(old_url)
    with engine.connect() as c:
        assert _rows(c, "SELECT id, kind, seats, assigned_seats FROM seat_pools ORDER BY id") == [
            ("ord_1", "order", 2, 1),
            ("sub_1", "subscription", 4, 2),
            ("sub_2", "subscription", 3, 0),
        ]
        assert _rows(
            c,
            "SELECT seats.id, pool_id, seats.company_id, member_id, email, seats.status"
            " FROM seats ORDER BY seats.id",
        ) == [
            ("seat_1", "sub_1", "co_1", "mem_a", "a@acme.test", "claimed"),
            ("seat_2", "sub_1", "co_1", None, "c@acme.test", "pending"),
            ("seat_3", "sub_1", "co_1", "mem_b", "b@acme.test", "revoked"),
            ("seat_4", "ord_1", "co_1", "mem_b", "b@acme.test", "claimed"),
        ]
        assert _rows(c, "SELECT id, seat_id, status FROM benefit_grants ORDER BY id") == [
            ("grant_1", "seat_1", "granted"),
            ("grant_3", "seat_3", "revoked"),
            ("grant_4", "seat_4", "granted"),
        ]
        assert _rows(c, "SELECT id, company_id FROM subscriptions ORDER BY id") == [
            ("sub_1", "co_1"),
            ("sub_2", None),
        ]
        assert _rows(c, "SELECT id, company_id, amount FROM orders") == [("ord_1", "co_1", 500)]
    # The new unique index holds for the moved seats: the pending seat's email is taken.
    with engine.connect() as c, pytest.raises(IntegrityError), c.begin():
        c.execute(
            text(
                "INSERT INTO seats (id, company_id, pool_id, email, status, metadata,"
                f" created_at) VALUES ('seat_9', 'co_1', 'sub_1', 'c@acme.test', 'pending',"
                f" '{{}}', {T0})"
            )
        )
    command.downgrade(migrations.alembic_config(old_url), "0006")
    with engine.connect() as c:
        _old_shape(c)
    engine.dispose()
