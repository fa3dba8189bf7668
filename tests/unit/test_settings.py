"""Settings: read from the environment and ./.env, checked at start-up with one clear line."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.pool import AsyncAdaptedQueuePool

from seatledger.bootstrap import build_runtime, check_payment_provider
from seatledger.config import Settings, SmtpServer, StartupError, address_url


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No SEATLEDGER_ variable, and an empty current folder (no .env)."""
    for name in list(os.environ):
        if name.startswith("SEATLEDGER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_keyword_arguments_are_taken_as_given(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SEATLEDGER_PUBLIC_URL", "https://ignored.example")
    settings = Settings(database_url="sqlite:///x.sqlite3", sandbox=True)
    assert settings.database_url == "sqlite+aiosqlite:///x.sqlite3"
    assert settings.sandbox is True
    assert settings.public_url == "http://127.0.0.1:8000"  # the environment is not read
    assert settings.invitation_ttl == timedelta(days=7)
    with pytest.raises(ValidationError):
        Settings(payment_provider="paypal")


def test_the_environment_and_dot_env_are_read(environment: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(
        "SEATLEDGER_SANDBOX=1\nSEATLEDGER_INVITATION_TTL_DAYS=3\nSEATLEDGER_PUBLIC_URL=\n"
        "SEATLEDGER_TEST_DATABASE_URL=postgresql://elsewhere/test\nOTHER=1\n"
    )
    environment.setenv("SEATLEDGER_INVITATION_TTL_DAYS", "5")  # the environment wins
    environment.setenv("SEATLEDGER_DATABASE_URL", "postgresql://u@db/seats")
    settings = Settings.from_env()
    assert type(settings) is Settings
    assert settings.sandbox is True
    assert settings.invitation_ttl == timedelta(days=5)
    assert settings.database_url == "postgresql+psycopg://u@db/seats"
    assert settings.public_url == "http://127.0.0.1:8000"  # empty: the default
    assert not settings.public_url_given


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("INVITATION_TTL_DAYS", "abc", "SEATLEDGER_INVITATION_TTL_DAYS='abc': must be a valid"),
        ("INVITATION_TTL_DAYS", "0", "SEATLEDGER_INVITATION_TTL_DAYS='0': must be greater"),
        ("SANDBOX", "maybe", "SEATLEDGER_SANDBOX='maybe': must be a valid boolean"),
        ("PAYMENT_PROVIDER", "paypal", "SEATLEDGER_PAYMENT_PROVIDER='paypal': must be 'local'"),
        ("PUBLIC_URL", "billing.example", "SEATLEDGER_PUBLIC_URL='billing.example': must be"),
        ("DATABASE_URL", "mysql://u:hunter2@h/db", "SEATLEDGER_DATABASE_URL: unsupported"),
        ("SMTP_URL", "http://u:hunter2@mail", "SEATLEDGER_SMTP_URL: must be smtp://"),
        ("SMTP_URL", "smtp://u:hunter2@mail:port", "SEATLEDGER_SMTP_URL: the port must be"),
        ("SMTP_URL", "smtp://u:hunter2@:25", "SEATLEDGER_SMTP_URL: names no host"),
        ("SMTP_URL", "smtp://mail?tls=1", "SEATLEDGER_SMTP_URL: takes one option only"),
        ("SMTP_URL", "smtps://mail?starttls=true", "SEATLEDGER_SMTP_URL: smtps:// is TLS"),
        ("EMAIL_FROM", "billing", "SEATLEDGER_EMAIL_FROM='billing': must be an address"),
        ("EMAIL_TEMPLATES", "no/such/folder", "SEATLEDGER_EMAIL_TEMPLATES='no/such/folder'"),
        ("DATABASE_POOL_SIZE", "0", "SEATLEDGER_DATABASE_POOL_SIZE='0': must be greater"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    environment: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    environment.setenv(f"SEATLEDGER_{name}", value)
    with pytest.raises(StartupError) as caught:
        Settings.from_env()
    message = str(caught.value)
    assert message.startswith(expected)
    assert message.endswith("(fix it in the environment or in .env)")
    assert "\n" not in message
    assert "hunter2" not in message  # a database URL's password is never repeated


def test_links_follow_the_served_address_unless_a_public_url_is_set(
    environment: pytest.MonkeyPatch,
) -> None:
    assert Settings().for_address("127.0.0.1", 8765).public_url == "http://127.0.0.1:8765"
    assert Settings().for_address("0.0.0.0", 80).public_url == "http://127.0.0.1:80"
    assert Settings().for_address("::", 80).public_url == "http://[::1]:80"
    assert address_url("fe80::1", 9) == "http://[fe80::1]:9"
    given = Settings(public_url="https://billing.example/")
    assert given.public_url == "https://billing.example"
    assert given.for_address("127.0.0.1", 8765).public_url == "https://billing.example"
    environment.setenv("SEATLEDGER_PUBLIC_URL", "https://billing.example")
    assert Settings.from_env().for_address("127.0.0.1", 1).public_url == "https://billing.example"


def test_the_local_gateway_runs_in_the_sandbox_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(StartupError, match="SEATLEDGER_SANDBOX=1"):
        build_runtime(Settings(database_url=url, sandbox=False))
    check_payment_provider(Settings(database_url=url, sandbox=True))


def test_the_stripe_gateway_needs_its_keys_in_either_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    stripe = {"database_url": url, "payment_provider": "stripe"}
    with pytest.raises(StartupError, match="needs SEATLEDGER_STRIPE_SECRET_KEY"):
        check_payment_provider(Settings(**stripe))
    keyed = {**stripe, "stripe_secret_key": "sk_test_x"}
    with pytest.raises(StartupError, match="needs SEATLEDGER_STRIPE_WEBHOOK_SECRET"):
        check_payment_provider(Settings(**keyed))
    ready = {**keyed, "stripe_webhook_secret": "whsec_x"}
    check_payment_provider(Settings(**ready))  # production: no sandbox needed
    assert build_runtime(Settings(**ready)).gateway.name == "stripe"
    assert build_runtime(Settings(**ready)).billing is None
    check_payment_provider(Settings(**ready, stripe_mode="billing"))
    billed = build_runtime(Settings(**ready, stripe_mode="billing"))
    assert (billed.gateway.name, billed.billing is not None) == ("stripe", True)
    with pytest.raises(StartupError, match="needs SEATLEDGER_STRIPE_SECRET_KEY"):
        check_payment_provider(Settings(**stripe, stripe_mode="billing"))
    for name, value, says in (
        ("stripe_secret_key", "pk_test_x", "must be a Stripe secret key"),
        ("stripe_webhook_secret", "secret", "must be a webhook signing secret"),
        ("stripe_api_base", "ftp://stripe", "base URL such as"),
        ("stripe_mode", "both", "'payments' or 'billing'"),
    ):
        with pytest.raises(ValidationError, match=says):
            Settings(**{**ready, name: value})


def test_the_smtp_url_is_taken_apart(environment: pytest.MonkeyPatch) -> None:
    assert Settings().smtp is None
    assert build_runtime(Settings(sandbox=True, database_url="sqlite://")).mailer is None
    plain = Settings(smtp_url="smtp://ann%40shop:p%3Ass@mail.shop.test:2525?starttls=true")
    assert plain.smtp == SmtpServer("mail.shop.test", 2525, "ann@shop", "p:ss", False, True)
    assert "p%3Ass" not in repr(plain)
    assert Settings(smtp_url="smtps://mail").smtp == SmtpServer(
        "mail", 465, None, None, True, False
    )
    assert Settings(smtp_url="smtp://mail").smtp == SmtpServer("mail", 25, None, None, False, False)
    mailing = Settings(sandbox=True, database_url="sqlite://", smtp_url="smtp://mail")
    assert build_runtime(mailing).mailer is not None
    assert Settings(email_from="Shop <bill@shop.test>").email_from == "Shop <bill@shop.test>"


def test_a_postgresql_runtime_keeps_a_fixed_pool_of_the_configured_size(
    environment: pytest.MonkeyPatch,
) -> None:
    """No overflow connections: a burst waits for the pool's connections instead of opening and
    closing one per request."""
    environment.setenv("SEATLEDGER_DATABASE_POOL_SIZE", "7")
    settings = Settings.from_env().model_copy(
        update={"database_url": "postgresql+psycopg://u@db.invalid/seats", "sandbox": True}
    )
    pool = build_runtime(settings).engine.pool
    assert isinstance(pool, AsyncAdaptedQueuePool)
    # Sized as configured, none open yet; that it never opens more is tests/integration/
    # test_connection_pool.py's.
    assert (pool.size(), pool.overflow()) == (7, -7)
