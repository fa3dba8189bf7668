"""Upgrading keeps every row: data written at one revision is there after the next ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from seatledger.adapters.db import migrations
from seatledger.config import StartupError


def test_upgrade_from_the_first_revision_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrations.upgrade(url, "0001")
    engine = create_engine(url.replace("sqlite://", "sqlite+pysqlite://"))
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO companies (id, name, created_at) "
                "VALUES ('co_1', 'Acme', '2027-01-01 00:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO products (id, name, proration_increase, proration_decrease,"
                " created_at) VALUES ('prod_1', 'P', 'invoice', 'prorate', '2027-01-01 00:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO prices (id, product_id, version, currency, interval, seat_sync,"
                " definition, created_at) VALUES ('price_1', 'prod_1', 1, 'usd', 'month',"
                " 'manual', '{}', '2027-01-01 00:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO subscriptions (id, company_id, owner_email, price_id, status, seats,"
                " assigned_seats, billing_anchor, current_period_start, current_period_end,"
                " cancel_at_period_end, created_at) VALUES ('sub_1', 'co_1', 'a@a.test',"
                " 'price_1', 'active', 4, 2, '2027-01-01 00:00:00', '2027-01-01 00:00:00',"
                " '2027-02-01 00:00:00', 0, '2027-01-01 00:00:00')"
            )
        )
    migrations.upgrade(url)
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT seats, assigned_seats, payment_attempts FROM subscriptions"
                " JOIN seat_pools ON seat_pools.id = subscriptions.id"
            )
        ).one()
        assert tuple(row) == (4, 2, 0)
        assert c.execute(text("SELECT name FROM companies")).scalar_one() == "Acme"
        assert c.execute(text("SELECT last_number FROM invoice_sequence")).scalar_one() == 0
    engine.dispose()


def test_the_folder_of_a_sqlite_file_is_made_by_the_migrations(tmp_path: Path) -> None:
    """A fresh clone has no var/: migrating makes it (the check before does not)."""
    url = f"sqlite:///{tmp_path / 'var' / 'seatledger.sqlite3'}"
    with pytest.raises(StartupError, match="not migrated: run `seatledger migrate`"):
        migrations.check_schema(url)
    assert not (tmp_path / "var").exists()
    migrations.upgrade(url)
    migrations.check_schema(url)
    assert migrations.stored_revision(url) == migrations.head_revision()


def test_a_schema_behind_or_ahead_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrations.upgrade(url, "0003")
    with pytest.raises(StartupError, match=r"revision 0003.*run `seatledger migrate`"):
        migrations.check_schema(url)
    engine = create_engine(url.replace("sqlite://", "sqlite+pysqlite://"))
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StartupError, match=r"revision 9999.*upgrade seatledger"):
        migrations.check_schema(url)


def test_an_unreachable_database_is_named_without_its_password() -> None:
    url = "postgresql://seller:hunter2@127.0.0.1:1/seats"
    with pytest.raises(StartupError, match="cannot reach the database") as caught:
        migrations.check_schema(url)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(StartupError, match="cannot reach the database"):
        migrations.upgrade(url)


def test_upgrade_to_atomic_idempotency_keeps_answers_but_no_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    migrations.upgrade(url, "0004")
    engine = create_engine(url.replace("sqlite://", "sqlite+pysqlite://"))
    rows = [
        ("key:1", "/v1/products", "a", "done", b'{"id":"prod_1"}'),
        ("key:1", "/v1/checkouts/chk_1/confirm", "b", "running", None),
        ("key:1", "/v1/seats", "c", "done", b'{"invitation":{"token":"secret-1"}}'),
        ("key:1", "/v1/seats/seat_1/resend", "d", "done", b'{"invitation":{"token":"secret-2"}}'),
        ("key:1", "/v1/customer-sessions", "e", "done", b'{"token":"cs_secret"}'),
        ("public", "/v1/claims/secret-3", "f", "done", b'{"session_token":"cs_other"}'),
    ]
    with engine.begin() as c:
        for credential, path, key, status, body in rows:
            c.execute(
                text(
                    "INSERT INTO idempotency_keys (credential, path, key, request_hash, status,"
                    " response_status, response_body, response_content_type, created_at)"
                    " VALUES (:credential, :path, :key, 'h', :status, :code, :body,"
                    " 'application/json', '2027-01-01 00:00:00')"
                ),
                {
                    "credential": credential,
                    "path": path,
                    "key": key,
                    "status": status,
                    "code": None if body is None else 201,
                    "body": body,
                },
            )
    migrations.upgrade(url)
    with engine.connect() as c:
        kept = c.execute(
            text("SELECT path, status, response_body, recovery FROM idempotency_keys ORDER BY key")
        ).all()
        dump = b"".join(bytes(row.response_body or b"") for row in kept)
    engine.dispose()
    assert [(row.path, row.status) for row in kept] == [
        ("/v1/products", "done"),
        ("/v1/checkouts/chk_1/confirm", "started"),  # runs again on a retry, as its lease allowed
    ]
    assert kept[0].response_body == b'{"id":"prod_1"}'
    assert kept[0].recovery is None
    assert b"secret" not in dump
