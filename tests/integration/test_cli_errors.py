"""A command that cannot run says what is wrong and what to do in one line, exits non-zero,
and shows no traceback (SPEC §8). Each runs as a real process."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatledger.adapters.db import migrations
from tests.integration.processes import (
    assert_fails_in_one_line,
    clean_environment,
    migrate,
    run,
)

NOT_MIGRATED = "the database is not migrated: run `seatledger migrate`"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def env(tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # commands read the .env of the current folder: none
    return clean_environment(DATABASE_URL=f"sqlite:///{database}", SANDBOX="1")


def test_a_fresh_folder_is_migrated_and_served_a_key_with_the_default_database(
    tmp_path: Path,
) -> None:
    """A fresh clone: var/ does not exist yet; the first command that opens it makes it."""
    env = clean_environment(SANDBOX="1")
    not_yet = run(env, "keys", "list", cwd=tmp_path)
    assert_fails_in_one_line(not_yet, NOT_MIGRATED)
    assert not (tmp_path / "var" / "seatledger.sqlite3").exists()  # not created by the check
    migrated = run(env, "migrate", cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "var" / "seatledger.sqlite3").is_file()
    created = run(env, "keys", "create", "--name", "first", cwd=tmp_path)
    assert created.returncode == 0, created.stderr


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("INVITATION_TTL_DAYS", "abc", "SEATLEDGER_INVITATION_TTL_DAYS='abc'"),
        ("PAYMENT_PROVIDER", "paypal", "SEATLEDGER_PAYMENT_PROVIDER='paypal': must be 'local'"),
        ("SANDBOX", "perhaps", "SEATLEDGER_SANDBOX='perhaps'"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    env: dict[str, str], name: str, value: str, needle: str
) -> None:
    env[f"SEATLEDGER_{name}"] = value
    assert_fails_in_one_line(
        run(env, "keys", "list"), needle, "fix it in the environment or in .env"
    )


@pytest.mark.parametrize("command", [["migrate"], ["serve"], ["worker", "--once"]])
def test_every_command_checks_the_settings_first(env: dict[str, str], command: list[str]) -> None:
    env["SEATLEDGER_INVITATION_TTL_DAYS"] = "abc"
    assert_fails_in_one_line(run(env, *command), "SEATLEDGER_INVITATION_TTL_DAYS='abc'")


def test_dot_env_is_read_from_the_current_folder(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SEATLEDGER_INVITATION_TTL_DAYS=abc\n")
    assert_fails_in_one_line(run(env, "migrate", cwd=tmp_path), "SEATLEDGER_INVITATION_TTL_DAYS")
    (tmp_path / ".env").write_text("SEATLEDGER_INVITATION_TTL_DAYS=3\n")
    assert run(env, "migrate", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    "command",
    [["keys", "list"], ["keys", "create", "--name", "x"], ["worker", "--once"], ["serve"]],
)
def test_an_unmigrated_database_says_to_migrate(
    env: dict[str, str], database: Path, command: list[str]
) -> None:
    assert_fails_in_one_line(run(env, *command), NOT_MIGRATED)
    assert not database.exists()


def test_a_database_behind_says_to_migrate(env: dict[str, str], database: Path) -> None:
    migrations.upgrade(f"sqlite:///{database}", "0003")
    line = assert_fails_in_one_line(run(env, "keys", "list"), "run `seatledger migrate`")
    assert "revision 0003" in line
    assert run(env, "migrate").returncode == 0
    assert run(env, "keys", "list").returncode == 0


@pytest.mark.parametrize(
    "command", [["migrate"], ["keys", "list"], ["serve"], ["worker", "--once"]]
)
def test_an_unreachable_database_says_so(env: dict[str, str], command: list[str]) -> None:
    env["SEATLEDGER_DATABASE_URL"] = "postgresql://seller:hunter2@127.0.0.1:1/seats"
    line = assert_fails_in_one_line(
        run(env, *command), "cannot reach the database", "check SEATLEDGER_DATABASE_URL"
    )
    assert "hunter2" not in line


def test_the_local_gateway_refuses_to_take_payments_outside_the_sandbox(
    env: dict[str, str],
) -> None:
    env["SEATLEDGER_SANDBOX"] = "0"
    assert run(env, "migrate").returncode == 0
    for command in (["serve"], ["worker", "--once"]):
        assert_fails_in_one_line(
            run(env, *command), "SEATLEDGER_PAYMENT_PROVIDER=local", "SEATLEDGER_SANDBOX=1"
        )
    assert run(env, "keys", "list").returncode == 0  # keys take no payment


def test_the_stripe_gateway_without_its_settings_is_refused(env: dict[str, str]) -> None:
    env["SEATLEDGER_PAYMENT_PROVIDER"] = "stripe"
    migrate(env)
    for command in (["serve"], ["worker", "--once"]):
        assert_fails_in_one_line(run(env, *command), "SEATLEDGER_STRIPE_SECRET_KEY")
    env.update(SEATLEDGER_STRIPE_SECRET_KEY="sk_test_x", SEATLEDGER_STRIPE_WEBHOOK_SECRET="whsec_x")
    env["SEATLEDGER_STRIPE_MODE"] = "billing"  # billing mode needs the same settings
    env["SEATLEDGER_STRIPE_SECRET_KEY"] = "pk_live_x"
    assert_fails_in_one_line(run(env, "serve"), "SEATLEDGER_STRIPE_SECRET_KEY", "secret key")


def test_keys_revoke_of_an_unknown_id_says_so(env: dict[str, str]) -> None:
    migrate(env)
    assert_fails_in_one_line(run(env, "keys", "revoke", "key_nope"), "no API key", "key_nope")


def test_keys_create_with_a_blank_name_says_so(env: dict[str, str]) -> None:
    migrate(env)
    assert_fails_in_one_line(run(env, "keys", "create", "--name", "  "), "--name must be")


def test_a_key_file_that_cannot_be_written_fails_before_a_key_is_made(
    env: dict[str, str], tmp_path: Path
) -> None:
    migrate(env)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = run(env, "keys", "create", "--name", "x", "--reuse-file", str(folder))
    assert_fails_in_one_line(result, f"cannot write {folder}")
    assert "no API keys yet" in run(env, "keys", "list").stdout
