"""SPEC §1, §3, §5: companies, members and the single billing manager, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.domain.clock import FixedClock, format_timestamp
from seatledger.domain.company import Company
from seatledger.domain.errors import Conflict, NotFound, ValidationFailed
from seatledger.services import checkouts, companies, purchases, seats
from seatledger.services.runtime import Runtime
from tests.integration import pools

TOUCHED = (t.companies, t.members, t.seats, t.benefit_grants, t.subscriptions, t.outbox)


async def _rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def _events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    return [row.payload for row in await _rows(engine, t.outbox, t.outbox.c.type == kind)]


async def _snapshot(engine: AsyncEngine) -> dict[str, Any]:
    """Every row of the tables a company use case may touch."""
    async with engine.connect() as c:
        return {
            table.name: sorted(tuple(str(v) for v in row) for row in await c.execute(select(table)))
            for table in TOUCHED
        }


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as c:
        return int((await c.execute(select(func.count()).select_from(table))).scalar_one())


async def _acme(runtime: Runtime, email: str = "boss@acme.example") -> Company:
    return await companies.create_company(runtime, name="Acme", billing_manager_email=email)


# -- companies ------------------------------------------------------------------------------------


async def test_a_company_is_created_with_its_billing_manager(
    runtime: Runtime, clock: FixedClock
) -> None:
    company = await companies.create_company(
        runtime,
        name="  Acme Inc.  ",
        external_id="crm-42",
        billing_manager_email="Boss@Acme.Example",
        billing_manager_name="Bo Boss",
    )
    assert (company.name, company.external_id, company.created_at) == (
        "Acme Inc.",
        "crm-42",
        clock.now(),
    )
    assert await companies.get_company(runtime, company.id) == company
    manager = await companies.get_member(runtime, company.billing_manager_member_id)
    assert (manager.company_id, manager.email, manager.name, manager.role) == (
        company.id,
        "boss@acme.example",
        "Bo Boss",
        "billing_manager",
    )
    [created] = await _events(runtime.engine, "company.created")
    assert created == {
        "id": company.id,
        "name": "Acme Inc.",
        "external_id": "crm-42",
        "billing_manager_member_id": manager.id,
        "created_at": format_timestamp(company.created_at),
    }
    [added] = await _events(runtime.engine, "member.added")
    assert (added["id"], added["role"]) == (manager.id, "billing_manager")


async def test_an_external_id_belongs_to_one_company(runtime: Runtime) -> None:
    await companies.create_company(
        runtime, name="Acme", external_id="crm-1", billing_manager_email="a@acme.example"
    )
    before = await _snapshot(runtime.engine)
    with pytest.raises(Conflict) as caught:
        await companies.create_company(
            runtime, name="Other", external_id="crm-1", billing_manager_email="b@other.example"
        )
    assert caught.value.code == "external_id_taken"
    assert await _snapshot(runtime.engine) == before
    # Companies without an external id are many.
    await _acme(runtime)
    await _acme(runtime)
    assert await _count(runtime.engine, t.companies) == 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"billing_manager_email": "nope"}, "billing_manager.email"),
        ({"billing_manager_email": "a@b@c.example"}, "billing_manager.email"),
        ({"billing_manager_email": None}, "billing_manager.email"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "x" * 201}, "external_id"),
        ({"external_id": 12}, "external_id"),
        ({"billing_manager_name": ""}, "billing_manager.name"),
    ],
)
async def test_bad_company_input_is_rejected(
    runtime: Runtime, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "Acme", "billing_manager_email": "boss@acme.example"}
    arguments.update(kwargs)
    with pytest.raises(ValidationFailed) as caught:
        await companies.create_company(runtime, **arguments)
    assert [f for f, _ in caught.value.errors] == [field]
    assert await _snapshot(runtime.engine) == {table.name: [] for table in TOUCHED}


@pytest.mark.parametrize("company_id", ["co_nope", "", 3, None])
async def test_unknown_companies_are_not_found(runtime: Runtime, company_id: Any) -> None:
    with pytest.raises(NotFound):
        await companies.get_company(runtime, company_id)
    with pytest.raises(NotFound):
        await companies.update_company(runtime, company_id, name="New")
    with pytest.raises(NotFound):
        await companies.add_member(runtime, company_id, email="a@acme.example")
    with pytest.raises(NotFound):
        await companies.list_members(runtime, company_id)
    assert await _count(runtime.engine, t.members) == 0


async def test_a_company_is_renamed(runtime: Runtime) -> None:
    company = await _acme(runtime)
    renamed = await companies.update_company(runtime, company.id, name="Acme Corp")
    assert renamed.name == "Acme Corp"
    assert await companies.get_company(runtime, company.id) == renamed
    [updated] = await _events(runtime.engine, "company.updated")
    assert updated["name"] == "Acme Corp"

    before = await _snapshot(runtime.engine)
    with pytest.raises(ValidationFailed):
        await companies.update_company(runtime, company.id, name=" ")
    assert await companies.update_company(runtime, company.id) == renamed  # nothing asked
    assert await companies.update_company(runtime, company.id, name="Acme Corp") == renamed
    assert await _snapshot(runtime.engine) == before


# -- the billing manager --------------------------------------------------------------------------


async def test_the_billing_manager_role_is_handed_over(runtime: Runtime) -> None:
    company = await _acme(runtime)
    old = company.billing_manager_member_id
    new = await companies.add_member(runtime, company.id, email="Next@Acme.Example")

    updated = await companies.update_company(runtime, company.id, billing_manager_member_id=new.id)
    assert updated.billing_manager_member_id == new.id
    assert (await companies.get_member(runtime, new.id)).role == "billing_manager"
    assert (await companies.get_member(runtime, old)).role == "member"
    managers = await _rows(runtime.engine, t.members, t.members.c.role == "billing_manager")
    assert [m.id for m in managers] == [new.id]
    [changed] = await _events(runtime.engine, "company.billing_manager_changed")
    assert changed == {"company_id": company.id, "previous_member_id": old, "member_id": new.id}

    # Handing the role to its holder changes nothing.
    before = await _snapshot(runtime.engine)
    assert (
        await companies.update_company(runtime, company.id, billing_manager_member_id=new.id)
        == updated
    )
    assert await _snapshot(runtime.engine) == before

    # The old manager is a plain member now, and can be removed; the new one cannot.
    await companies.remove_member(runtime, company.id, old)
    with pytest.raises(Conflict) as caught:
        await companies.remove_member(runtime, company.id, new.id)
    assert caught.value.code == "billing_manager_required"


async def test_the_role_goes_only_to_a_current_member_of_that_company(runtime: Runtime) -> None:
    company = await _acme(runtime)
    other = await _acme(runtime, "boss@other.example")
    outsider = await companies.add_member(runtime, other.id, email="x@other.example")
    gone = await companies.add_member(runtime, company.id, email="gone@acme.example")
    await companies.remove_member(runtime, company.id, gone.id)

    before = await _snapshot(runtime.engine)
    for member_id in (outsider.id, other.billing_manager_member_id, gone.id, "mem_nope", 7):
        with pytest.raises(NotFound) as caught:
            await companies.update_company(
                runtime, company.id, name="Renamed", billing_manager_member_id=member_id
            )
        assert caught.value.errors == (("billing_manager_member_id", "no such member"),)
    assert await _snapshot(runtime.engine) == before
    assert await companies.get_company(runtime, company.id) == company


async def test_concurrent_handovers_leave_one_billing_manager(runtime: Runtime) -> None:
    company = await _acme(runtime)
    members = [
        await companies.add_member(runtime, company.id, email=f"m{i}@acme.example")
        for i in range(4)
    ]
    await asyncio.gather(
        *(
            companies.update_company(runtime, company.id, billing_manager_member_id=m.id)
            for m in members
        )
    )
    managers = await _rows(
        runtime.engine,
        t.members,
        t.members.c.company_id == company.id,
        t.members.c.role == "billing_manager",
    )
    assert len(managers) == 1
    assert (await companies.get_company(runtime, company.id)).billing_manager_member_id == (
        managers[0].id
    )
    assert len(await _events(runtime.engine, "company.billing_manager_changed")) == 4


# -- members --------------------------------------------------------------------------------------


async def test_members_are_added_once_per_email(runtime: Runtime) -> None:
    company = await _acme(runtime)
    member = await companies.add_member(
        runtime, company.id, email="Ann@Acme.Example", name="Ann", external_id="u-1"
    )
    assert (member.email, member.name, member.external_id, member.role) == (
        "ann@acme.example",
        "Ann",
        "u-1",
        "member",
    )
    assert await companies.get_member(runtime, member.id, company_id=company.id) == member
    assert (await _events(runtime.engine, "member.added"))[-1] == {
        "id": member.id,
        "company_id": company.id,
        "email": "ann@acme.example",
        "name": member.name,
        "external_id": member.external_id,
        "role": "member",
    }

    before = await _snapshot(runtime.engine)
    for email in ("ANN@acme.example", "boss@ACME.example"):
        with pytest.raises(Conflict) as caught:
            await companies.add_member(runtime, company.id, email=email)
        assert caught.value.code == "already_member"
    for kwargs, field in (
        ({"email": "not an email"}, "email"),
        ({"email": None}, "email"),
        ({"email": "z@acme.example", "name": ""}, "name"),
        ({"email": "z@acme.example", "external_id": "x" * 201}, "external_id"),
    ):
        with pytest.raises(ValidationFailed) as invalid:
            await companies.add_member(runtime, company.id, **kwargs)
        assert [f for f, _ in invalid.value.errors] == [field]
    assert await _snapshot(runtime.engine) == before

    # The same person may belong to another company.
    other = await _acme(runtime, "boss@other.example")
    elsewhere = await companies.add_member(runtime, other.id, email="ann@acme.example")
    assert elsewhere.company_id == other.id


async def test_members_of_another_company_are_not_found(runtime: Runtime) -> None:
    company = await _acme(runtime)
    other = await _acme(runtime, "boss@other.example")
    member = await companies.add_member(runtime, other.id, email="x@other.example")
    for member_id in (member.id, "mem_nope", 3):
        with pytest.raises(NotFound):
            await companies.get_member(runtime, member_id, company_id=company.id)
    before = await _snapshot(runtime.engine)
    for member_id in (member.id, other.billing_manager_member_id, "mem_nope", None):
        with pytest.raises(NotFound):
            await companies.remove_member(runtime, company.id, member_id)
    assert await _snapshot(runtime.engine) == before


async def test_members_are_listed_in_pages_without_the_removed(runtime: Runtime) -> None:
    company = await _acme(runtime)
    added = [
        await companies.add_member(runtime, company.id, email=f"m{i}@acme.example")
        for i in range(4)
    ]
    await companies.remove_member(runtime, company.id, added[1].id)
    expected = [company.billing_manager_member_id, added[0].id, added[2].id, added[3].id]

    first = await companies.list_members(runtime, company.id, limit=3)
    assert [m.id for m in first.data] == expected[:3]
    assert first.has_more
    assert first.next_cursor == expected[2]
    second = await companies.list_members(runtime, company.id, limit=3, cursor=first.next_cursor)
    assert [m.id for m in second.data] == expected[3:]
    assert (second.has_more, second.next_cursor) == (False, None)
    for limit in (0, 101, -1):
        with pytest.raises(ValidationFailed):
            await companies.list_members(runtime, company.id, limit=limit)


async def test_removing_a_member_revokes_their_seats(runtime: Runtime) -> None:
    company = await _acme(runtime)
    price_id = await pools.product(runtime.engine, benefits=2)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=3, company_id=company.id
    )
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    sub_id = done.subscription_id
    # A seat assigned by email before the person was a member is theirs once they join.
    early = await seats.assign_seat(runtime, subscription_id=sub_id, email="Ann@Acme.Example")
    ann = await companies.add_member(runtime, company.id, email="ann@acme.example")
    [linked] = await _rows(runtime.engine, t.seats, t.seats.c.id == early.id)
    assert linked.member_id == ann.id
    assert (await purchases.get_subscription(runtime, sub_id)).assigned_seats == 1
    bob = await companies.add_member(runtime, company.id, email="bob@acme.example")
    bobs = await seats.assign_seat(
        runtime, subscription_id=sub_id, member_id=bob.id, immediate_claim=True
    )

    removed = await companies.remove_member(runtime, company.id, bob.id)
    assert removed.removed_at is not None
    with pytest.raises(NotFound):
        await companies.get_member(runtime, bob.id)
    assert bob.id not in [m.id for m in (await companies.list_members(runtime, company.id)).data]
    [seat] = await _rows(runtime.engine, t.seats, t.seats.c.id == bobs.id)
    assert seat.status == "revoked"
    grants = await _rows(runtime.engine, t.benefit_grants, t.benefit_grants.c.member_id == bob.id)
    assert len(grants) == 2
    assert {g.status for g in grants} == {"revoked"}
    assert (await purchases.get_subscription(runtime, sub_id)).assigned_seats == 1
    [event] = await _events(runtime.engine, "member.removed")
    assert event["id"] == bob.id
    revoked = [e["id"] for e in await _events(runtime.engine, "seat.revoked")]
    assert revoked == [bobs.id]

    await companies.remove_member(runtime, company.id, ann.id)
    [seat] = await _rows(runtime.engine, t.seats, t.seats.c.id == early.id)
    assert seat.status == "revoked"  # the pending seat by email went with her
    assert (await purchases.get_subscription(runtime, sub_id)).assigned_seats == 0

    # Removed twice: there is no such member any more.
    with pytest.raises(NotFound):
        await companies.remove_member(runtime, company.id, bob.id)
    # The same email may join again, as a new member.
    again = await companies.add_member(runtime, company.id, email="bob@acme.example")
    assert again.id != bob.id


async def test_the_billing_manager_cannot_be_removed(runtime: Runtime) -> None:
    company = await _acme(runtime)
    before = await _snapshot(runtime.engine)
    with pytest.raises(Conflict) as caught:
        await companies.remove_member(runtime, company.id, company.billing_manager_member_id)
    assert (caught.value.code, caught.value.detail) == (
        "billing_manager_required",
        "hand the role over first",
    )
    assert await _snapshot(runtime.engine) == before
