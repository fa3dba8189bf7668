"""The benchmarks' PostgreSQL: reachable or not, and how libpq's tools (pgbench) name it."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from sqlalchemy.engine import URL, make_url

from seatledger.config import sync_database_url


def libpq(url: str) -> tuple[URL, dict[str, str]]:
    """The database's URL, and this process's environment with libpq's ``PGHOST``… naming it."""
    parsed = make_url(sync_database_url(url))
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None:
            env[name] = str(value)
    return parsed, env


def conninfo(url: str, database: str | None = None) -> dict[str, Any]:
    """psycopg's connection arguments for the server of ``url`` (``database`` instead of its
    own): autocommit, a 3 s connect timeout."""
    parsed, _ = libpq(url)
    return {
        "host": parsed.host or "",
        "port": parsed.port or 5432,
        "user": parsed.username or "",
        "password": parsed.password or "",
        "dbname": database or parsed.database or "",
        "connect_timeout": 3,
        "autocommit": True,
    }


def connect(url: str, database: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
    """A plain connection to the server of ``url`` (to ``database`` instead of its own)."""
    return psycopg.connect(**conninfo(url, database))


def unreachable(url: str) -> str | None:
    """Why the PostgreSQL server of ``url`` cannot be used, or None when it can."""
    parsed, _ = libpq(url)
    try:
        connect(url, "postgres").close()
    except psycopg.Error as error:
        lines = str(error).strip().splitlines()
        return (
            f"PostgreSQL unreachable at {parsed.host}:{parsed.port or 5432}"
            f" ({lines[0] if lines else type(error).__name__})"
        )
    return None
