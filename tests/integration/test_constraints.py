"""A broken constraint becomes the catalogue's error by its name, on both databases; one not
listed is not relabelled: it propagates as the database raised it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Index, UniqueConstraint, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.constraints import VIOLATIONS, constraint_name, translated_violations
from seatledger.domain.errors import AlreadyMember, ExternalIdTaken

NOW = datetime(2031, 1, 1, tzinfo=UTC)


def _company(company_id: str, external_id: str | None = None) -> dict[str, Any]:
    return {"id": company_id, "name": "Acme", "external_id": external_id, "created_at": NOW}


def _member(member_id: str, email: str, role: str = "member") -> dict[str, Any]:
    return {
        "id": member_id,
        "company_id": "co_1",
        "email": email,
        "role": role,
        "created_at": NOW,
    }


def test_every_listed_violation_names_a_unique_index_or_constraint() -> None:
    named = {
        str(item.name)
        for table in t.metadata.tables.values()
        for item in [*table.indexes, *table.constraints]
        if isinstance(item, UniqueConstraint) or (isinstance(item, Index) and item.unique)
    }
    assert set(VIOLATIONS) <= named


async def test_a_taken_external_id_is_external_id_taken(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(t.companies).values(_company("co_1", "ext-1")))
    async with engine.begin() as connection:
        with pytest.raises(ExternalIdTaken), translated_violations():
            await connection.execute(insert(t.companies).values(_company("co_2", "ext-1")))


async def test_a_second_live_member_with_one_email_is_already_member(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(t.companies).values(_company("co_1")))
        await connection.execute(insert(t.members).values(_member("mem_1", "a@acme.example")))
    async with engine.begin() as connection:
        with pytest.raises(AlreadyMember), translated_violations():
            await connection.execute(insert(t.members).values(_member("mem_2", "a@acme.example")))


async def test_an_unlisted_unique_index_propagates_with_its_name(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(t.companies).values(_company("co_1")))
        await connection.execute(
            insert(t.members).values(_member("mem_1", "a@acme.example", "billing_manager"))
        )
    async with engine.begin() as connection:
        with pytest.raises(IntegrityError) as caught, translated_violations():
            await connection.execute(
                insert(t.members).values(_member("mem_2", "b@acme.example", "billing_manager"))
            )
    assert constraint_name(caught.value) == "uq_members_one_billing_manager"


async def test_other_violations_propagate_unchanged(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(t.companies).values(_company("co_1")))
    for statement in (
        insert(t.companies).values(_company("co_1")),  # the primary key
        insert(t.members).values(_member("mem_1", "A@acme.example")),  # a CHECK
    ):
        async with engine.begin() as connection:
            with pytest.raises(IntegrityError), translated_violations():
                await connection.execute(statement)
