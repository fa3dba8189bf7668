"""``PreparedRead``: a hot read that psycopg runs itself, as a prepared statement (SPEC §9).

Through SQLAlchemy, running a prebuilt statement costs about three times what psycopg spends on
it (its compiled-cache lookup, the execution context, the result's rows, and the hop into a
greenlet that the asyncio engine makes for every statement): measured, 123 µs against 42 µs
per entitlement read, an eighth of the check. So on PostgreSQL a hot read is compiled once for
the connection's dialect and handed to psycopg on the same connection (its transaction or its
autocommit, as the unit of work set them), with ``prepare=True``. Elsewhere (SQLite) it goes
through SQLAlchemy as every other statement does.

That is only exact when SQLAlchemy would not change the values on the way: so a read whose
parameters or columns have a type that converts them (a ``bind_processor`` or a
``result_processor`` for this dialect) is refused with a ``TypeError`` the first time it runs.
The statement is still announced to the engine's ``before_cursor_execute`` listeners, as
SQLAlchemy announces its own, so whatever counts or logs the engine's statements sees it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection


class PreparedRead:
    """One ``SELECT``, read with ``rows(connection, **params)`` (module docstring)."""

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: tuple[str, dict[str, Any]] | None = None

    def _compile(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        compiled = self._statement.compile(dialect=dialect)
        converts = [
            bind.key
            for bind in compiled.binds.values()
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None
        ] + [
            str(column.name)
            for column in self._statement.selected_columns
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
        ]
        if converts:
            raise TypeError(f"SQLAlchemy converts {', '.join(converts)}: not a PreparedRead")
        return str(compiled), dict(compiled.params)

    async def rows(self, connection: AsyncConnection, **params: Any) -> Sequence[Sequence[Any]]:
        """The statement's rows, as tuples in its column order."""
        if connection.dialect.name != "postgresql":
            found: Sequence[Sequence[Any]] = (
                await connection.execute(self._statement, params)
            ).all()
            return found
        if self._compiled is None:
            self._compiled = self._compile(connection.dialect)
        sql, fixed = self._compiled
        values: Mapping[str, Any] = {**fixed, **params}
        sync = connection.sync_connection
        if sync is not None and sync.dispatch.before_cursor_execute:
            sync.dispatch.before_cursor_execute(sync, None, sql, values, None, False)
        raw = await connection.get_raw_connection()
        cursor = await raw.driver_connection.execute(sql, values, prepare=True)  # type: ignore[union-attr]
        rows: Sequence[Sequence[Any]] = await cursor.fetchall()
        return rows


__all__ = ["PreparedRead"]
