"""Run the Alembic migrations in ``migrations/``: the only way the schema is built or changed;
and tell which revision a database is at, and which one this code expects (the head).

``check_schema`` tells, before a command starts, whether a database's schema is the one this
code needs; ``upgrade`` brings it there. Both first make sure the database can be reached (a
``StartupError`` saying so otherwise) and, for SQLite, that its folder exists.
``current_revision`` answers the same question on a running server's engine (``/readyz``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from seatledger.adapters.db.engine import make_sqlite_folder, reading, sqlite_file
from seatledger.config import StartupError, sync_database_url

# What a database that does not answer raises (a refused connection, a dropped one, a timeout):
# the readiness probe's one seam to the toolkit's errors.
UNREACHABLE: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)

MIGRATIONS = Path(__file__).resolve().parents[4] / "migrations"
NOT_MIGRATED = "the database is not migrated: run `seatledger migrate`"
CONNECT_TIMEOUT = 10  # seconds; PostgreSQL only (SQLite opens a file)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    make_sqlite_folder(url)
    with _connection(url):
        pass  # reachable: any later error is the migration's own
    command.upgrade(alembic_config(url), revision)


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """The revision this code's schema is at: the last migration."""
    head = _scripts().get_current_head()
    assert head is not None  # migrations/ holds at least one revision
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _revision_of(connection: Connection) -> str | None:
    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before the first migration); one query, reading
    only (``seatledger.adapters.db.engine.reading``)."""
    async with reading(engine) as connection:
        return await connection.run_sync(_revision_of)


def stored_revision(url: str) -> str | None:
    """The database's schema revision; None when it was never migrated. A SQLite file that
    does not exist is not created."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    with _connection(url) as connection:
        return _revision_of(connection)


def check_schema(url: str) -> None:
    """``StartupError`` unless the database's schema is exactly this code's."""
    current, head = stored_revision(url), head_revision()
    if current == head:
        return
    if current is None:
        raise StartupError(NOT_MIGRATED)
    if current in known_revisions():
        raise StartupError(
            f"the database is not fully migrated (revision {current}, this version needs"
            f" {head}): run `seatledger migrate`"
        )
    raise StartupError(
        f"the database's schema is at revision {current}, which this version of seatledger"
        " does not know (a newer one migrated it): upgrade seatledger"
    )


def describe_url(url: str) -> str:
    """The URL without its password, to name the database in a message."""
    return make_url(sync_database_url(url)).render_as_string(hide_password=True)


@contextmanager
def _connection(url: str) -> Iterator[Connection]:
    """A short-lived connection; ``StartupError`` when the database cannot be reached."""
    sync_url = sync_database_url(url)
    options: dict[str, Any] = {}
    if make_url(sync_url).get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(sync_url, poolclass=NullPool, **options)
    try:
        try:
            connection = engine.connect()
        except DBAPIError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise StartupError(
                f"cannot reach the database {describe_url(url)} ({reason}):"
                " check SEATLEDGER_DATABASE_URL and that the database is running"
            ) from None
        with connection:
            yield connection
    finally:
        engine.dispose()
