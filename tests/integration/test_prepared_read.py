"""A ``PreparedRead`` reads what SQLAlchemy reads, shows its statement to the engine's
listeners, and refuses a statement whose values SQLAlchemy would convert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import DateTime, TypeDecorator, bindparam, event, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.prepared import PreparedRead
from tests.integration import pools

_company = bindparam("company_id", type_=t.members.c.company_id.type)
MEMBERS = (
    select(t.members.c.email, t.members.c.role, t.members.c.company_id)
    .where(t.members.c.company_id == _company, t.members.c.role != "owner")
    .order_by(t.members.c.email)
)


async def test_it_reads_the_rows_sqlalchemy_reads(engine: AsyncEngine) -> None:
    company_id, _ = await pools.company(engine, manager="boss@acme.test")
    await pools.member(engine, company_id, "ann@acme.test")
    other, _ = await pools.company(engine, manager="other@else.test")
    read = PreparedRead(MEMBERS)
    async with engine.connect() as connection:
        for _ in range(7):  # past psycopg's threshold: prepared on the server from the 1st
            rows = await read.rows(connection, company_id=company_id)
        expected = (await connection.execute(MEMBERS, {"company_id": company_id})).all()
        assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
        assert [row[0] for row in rows] == ["ann@acme.test", "boss@acme.test"]
        assert [tuple(r) for r in await read.rows(connection, company_id=other)] == [
            ("other@else.test", "billing_manager", other)
        ]
        assert await read.rows(connection, company_id="co_none") == []


async def test_the_engine_listeners_see_its_statement(engine: AsyncEngine) -> None:
    company_id, _ = await pools.company(engine)
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        async with engine.connect() as connection:
            await PreparedRead(MEMBERS).rows(connection, company_id=company_id)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)
    selects = [statement for statement in seen if statement.startswith("SELECT")]
    assert len(selects) == 1  # SQLite's BEGIN aside
    assert selects[0].startswith("SELECT members.email")


class _Stamp(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return value


@pytest.mark.postgresql_only  # elsewhere SQLAlchemy runs it, converting as it always does
async def test_a_statement_sqlalchemy_would_convert_is_refused(engine: AsyncEngine) -> None:
    converted = select(literal_column("now()", type_=_Stamp()).label("at"))
    async with engine.connect() as connection:
        with pytest.raises(TypeError, match="converts at"):
            await PreparedRead(converted).rows(connection)
