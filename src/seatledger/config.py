"""Settings, read from the environment once at start-up (SPEC §8)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DEFAULT_SQLITE = Path("var") / "seatledger.sqlite3"


def async_database_url(url: str) -> str:
    """The async driver's URL for a configured one (postgresql → psycopg, sqlite → aiosqlite)."""
    for prefix, driver in (
        ("postgresql+psycopg://", "postgresql+psycopg://"),
        ("postgresql+asyncpg://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    raise ValueError(f"unsupported database URL {url!r}: use postgresql+psycopg:// or sqlite://")


def sync_database_url(url: str) -> str:
    """The same database through a synchronous driver, for migrations."""
    url = async_database_url(url)
    return url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE}"
    sandbox: bool = False
    payment_provider: str = "local"
    public_url: str = "http://127.0.0.1:8000"
    invitation_ttl: timedelta = timedelta(days=7)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=async_database_url(
                env.get("SEATLEDGER_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"
            ),
            sandbox=_flag("SEATLEDGER_SANDBOX", False),
            payment_provider=env.get("SEATLEDGER_PAYMENT_PROVIDER", "local"),
            public_url=env.get("SEATLEDGER_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            invitation_ttl=timedelta(days=int(env.get("SEATLEDGER_INVITATION_TTL_DAYS", "7"))),
        )
