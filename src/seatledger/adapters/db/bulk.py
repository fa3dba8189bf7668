"""Many rows into one table, inside the caller's transaction.

On PostgreSQL a batch of rows goes through ``COPY … FROM STDIN`` (psycopg's copy): one stream
instead of a statement per row, which is what makes a batch of renewals cheap for the driver.
Elsewhere, and for a few rows, it is an ordinary ``executemany`` ``INSERT``. Values pass through
the columns' own bind processing (aware datetimes in UTC, …), as an ``INSERT`` would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

COPY_FROM = 50  # fewer rows than this: a plain INSERT is as cheap


async def insert_rows(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``."""
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        await connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    dialect = connection.dialect
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    async with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            await copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(
                        processors, (row[name] for name in columns), strict=True
                    )
                ]
            )


__all__ = ["insert_rows"]
