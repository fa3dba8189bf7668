"""``seatledger users create`` (SPEC §8): a dashboard login from the real command — the
password from standard input or prompted twice, never an argument; one line of output; one
line of error for a taken email, a short password or an unmigrated database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from seatledger.adapters.db import tables as t
from seatledger.config import sync_database_url
from tests.integration.processes import (
    SEATLEDGER,
    assert_fails_in_one_line,
    clean_environment,
    migrate,
)

PASSWORD = "a long enough passphrase"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return clean_environment(DATABASE_URL=f"sqlite:///{tmp_path}/users.sqlite3")


def users_create(env: dict[str, str], *args: str, typed: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEATLEDGER), "users", "create", *args],
        input=typed,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _stored(env: dict[str, str]) -> list[tuple[str, str]]:
    engine = create_engine(sync_database_url(env["SEATLEDGER_DATABASE_URL"]))
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.dashboard_users.c.email, t.dashboard_users.c.password_hash)
        ).all()
    engine.dispose()
    return [(row.email, row.password_hash) for row in rows]


def test_from_standard_input_stored_as_an_argon2_hash(env: dict[str, str]) -> None:
    migrate(env)
    made = users_create(env, "--email", "Ops@Merchant.test", "--password-stdin", typed=PASSWORD)
    assert made.returncode == 0, made.stderr
    (line,) = made.stdout.strip().splitlines()
    assert line.startswith("created dashboard user usr_")
    ((email, stored),) = _stored(env)
    assert email == "ops@merchant.test"
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_prompted_twice(env: dict[str, str]) -> None:
    migrate(env)
    made = users_create(env, "--email", "ops@merchant.test", typed=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    mismatched = users_create(env, "--email", "two@merchant.test", typed=f"{PASSWORD}\nother\n")
    assert mismatched.returncode != 0
    assert [email for email, _ in _stored(env)] == ["ops@merchant.test"]


def test_refusals_are_one_line(env: dict[str, str]) -> None:
    unmigrated = users_create(env, "--email", "a@merchant.test", "--password-stdin", typed=PASSWORD)
    assert_fails_in_one_line(unmigrated, "seatledger migrate")
    migrate(env)
    users_create(env, "--email", "a@merchant.test", "--password-stdin", typed=PASSWORD)
    taken = users_create(env, "--email", "A@merchant.test", "--password-stdin", typed=PASSWORD)
    assert_fails_in_one_line(taken, "--email", "exists")
    short = users_create(env, "--email", "b@merchant.test", "--password-stdin", typed="short")
    assert_fails_in_one_line(short, "password", "at least 12")
    bad = users_create(env, "--email", "nope", "--password-stdin", typed=PASSWORD)
    assert_fails_in_one_line(bad, "--email")
    empty = users_create(env, "--email", "c@merchant.test", "--password-stdin", typed="")
    assert_fails_in_one_line(empty, "password")
    assert len(_stored(env)) == 1
