"""Benefit grants on claim, their revocation, a member's entitlements and signed download links
(SPEC §5), on both databases.

The seat rows are written straight into the tables: these tests are about what happens to
benefits once a seat is claimed or revoked, whichever use case does it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import migrations
from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.config import Settings, sync_database_url
from seatledger.domain.clock import FixedClock, format_timestamp
from seatledger.domain.errors import NotFound
from seatledger.domain.grant import BenefitGrant
from seatledger.domain.ids import new_id
from seatledger.services import catalog, grants
from seatledger.services.runtime import Runtime
from seatledger.services.secret_key import forget_cached_keys, secret_key

PRICE: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers": [{"up_to": None, "unit_amount": 1000}],
}
ONE_TIME: dict[str, Any] = {**PRICE, "interval": None}
KEY_CHARACTER = "[0-9A-HJKMNP-TV-Z]"  # Crockford base32, upper case
INSTALLER = b"#!/bin/sh\necho installing\n"


# -- rows ---------------------------------------------------------------------------------------


async def _product(runtime: Runtime, *, price: dict[str, Any] = PRICE) -> dict[str, Any]:
    """A product with one benefit of each type, in the order file, key, access, note."""
    stored = await catalog.upload_file(
        runtime, name="install.sh", content_type="text/x-shellscript", content=INSTALLER
    )
    benefits = [
        await catalog.create_benefit(
            runtime,
            type="file_download",
            description="Installer",
            properties={"file_id": stored.id},
        ),
        await catalog.create_benefit(
            runtime, type="license_key", description="Licence", properties={"prefix": "ACME"}
        ),
        await catalog.create_benefit(
            runtime,
            type="access_grant",
            description="Workspace",
            properties={"workspace": "acme", "role": "editor"},
        ),
        await catalog.create_benefit(
            runtime, type="custom", description="Welcome", properties={"note": "Hello!"}
        ),
    ]
    product = await catalog.create_product(
        runtime, name="Team plan", prices=[price], benefit_ids=[b.id for b in benefits]
    )
    return {"product": product, "file": stored, "benefits": benefits}


async def _company(engine: AsyncEngine, *emails: str) -> tuple[str, list[str]]:
    """A company whose first member is the billing manager: (company id, member ids)."""
    company_id = new_id("co")
    member_ids = [new_id("mem") for _ in emails]
    now = FixedClock().now()
    async with engine.begin() as c:
        await c.execute(insert(t.companies).values(id=company_id, name="Acme", created_at=now))
        await c.execute(
            insert(t.members),
            [
                {
                    "id": member_id,
                    "company_id": company_id,
                    "email": email,
                    "role": "billing_manager" if i == 0 else "member",
                    "created_at": now,
                }
                for i, (member_id, email) in enumerate(zip(member_ids, emails, strict=True))
            ],
        )
    return company_id, member_ids


async def _pool(engine: AsyncEngine, company_id: str, price_id: str, *, order: bool) -> str:
    """A paid order, or an active monthly subscription, of 10 seats."""
    now = FixedClock().now()
    pool_id = new_id("ord" if order else "sub")
    common = {
        "id": pool_id,
        "company_id": company_id,
        "owner_email": "boss@acme.test",
        "price_id": price_id,
        "created_at": now,
    }
    async with engine.begin() as c:
        kind = "order" if order else "subscription"
        await c.execute(
            insert(t.seat_pools).values(id=pool_id, kind=kind, seats=10, created_at=now)
        )
        if order:
            await c.execute(
                insert(t.orders).values(**common, status="paid", amount=10_000, currency="usd")
            )
        else:
            await c.execute(
                insert(t.subscriptions).values(
                    **common,
                    status="active",
                    billing_anchor=now,
                    current_period_start=now,
                    current_period_end=now + timedelta(days=31),
                )
            )
    return pool_id


async def _seat(
    engine: AsyncEngine, company_id: str, pool_id: str, member_id: str, email: str
) -> str:
    """A claimed seat of the member in the pool."""
    now = FixedClock().now()
    seat_id = new_id("seat")
    async with engine.begin() as c:
        await c.execute(
            insert(t.seats).values(
                id=seat_id,
                company_id=company_id,
                member_id=member_id,
                email=email,
                status="claimed",
                metadata={},
                created_at=now,
                claimed_at=now,
                pool_id=pool_id,
            )
        )
    return seat_id


@pytest.fixture
async def world(runtime: Runtime) -> dict[str, Any]:
    """A product of four benefits, a company of two people, a subscription and Ann's seat."""
    made = await _product(runtime)
    company_id, (boss_id, ann_id) = await _company(
        runtime.engine, "boss@acme.test", "ann@acme.test"
    )
    price_id = made["product"].prices[0].id
    subscription_id = await _pool(runtime.engine, company_id, price_id, order=False)
    seat_id = await _seat(runtime.engine, company_id, subscription_id, ann_id, "ann@acme.test")
    return {
        **made,
        "company_id": company_id,
        "boss_id": boss_id,
        "ann_id": ann_id,
        "subscription_id": subscription_id,
        "seat_id": seat_id,
    }


async def _grant(runtime: Runtime, seat_id: str, member_id: str, product_id: str) -> list[Any]:
    async with runtime.transaction() as uow:
        granted = await grants.grant_benefits(
            uow, runtime, seat_id=seat_id, member_id=member_id, product_id=product_id
        )
        await uow.commit()
    return granted


async def _revoke(runtime: Runtime, seat_id: str) -> list[BenefitGrant]:
    async with runtime.transaction() as uow:
        revoked = await grants.revoke_benefits(uow, runtime, seat_id=seat_id)
        await uow.commit()
    return revoked


async def _rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def _events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    rows = await _rows(engine, t.outbox, t.outbox.c.type == kind)
    return [row.payload for row in sorted(rows, key=lambda row: row.id)]


async def _granted(runtime: Runtime, world: dict[str, Any]) -> list[BenefitGrant]:
    return await _grant(runtime, world["seat_id"], world["ann_id"], world["product"].id)


def _link(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    match = re.fullmatch(r"/v1/files/([^/]+)/download", parts.path)
    assert match is not None
    return {
        "file_id": match.group(1),
        "grant_id": query["grant"],
        "expires": query["expires"],
        "signature": query["signature"],
    }


async def _download_link(runtime: Runtime, member_id: str) -> dict[str, str]:
    held = await grants.member_entitlements(runtime, member_id)
    [file_grant] = [
        grant
        for product in held.products
        for grant in product.benefits
        if grant.benefit_type == "file_download"
    ]
    return _link(file_grant.properties["download_url"])


# -- granting -----------------------------------------------------------------------------------


async def test_claiming_grants_each_benefit_in_the_products_order(
    runtime: Runtime, world: dict[str, Any], clock: FixedClock
) -> None:
    file_grant, key_grant, access_grant, note_grant = await _granted(runtime, world)

    assert [g.benefit_id for g in (file_grant, key_grant, access_grant, note_grant)] == [
        b.id for b in world["benefits"]
    ]
    assert [g.benefit_type for g in (file_grant, key_grant, access_grant, note_grant)] == [
        "file_download",
        "license_key",
        "access_grant",
        "custom",
    ]
    for grant in (file_grant, key_grant, access_grant, note_grant):
        assert grant.id.startswith("grant_")
        assert (grant.seat_id, grant.member_id) == (world["seat_id"], world["ann_id"])
        assert (grant.status, grant.granted_at, grant.revoked_at) == ("granted", clock.now(), None)
    stored = world["file"]
    assert file_grant.properties == {
        "file_id": stored.id,
        "name": "install.sh",
        "content_type": "text/x-shellscript",
        "size": len(INSTALLER),
    }
    key = key_grant.properties["license_key"]
    assert re.fullmatch(rf"ACME(-{KEY_CHARACTER}{{4}}){{4}}", key), key
    assert access_grant.properties == {"workspace": "acme", "role": "editor"}
    assert note_grant.properties == {"note": "Hello!"}

    rows = {row.id: row for row in await _rows(runtime.engine, t.benefit_grants)}
    assert set(rows) == {g.id for g in (file_grant, key_grant, access_grant, note_grant)}
    assert rows[key_grant.id].license_key == key
    assert [rows[g.id].license_key for g in (file_grant, access_grant, note_grant)] == [None] * 3
    assert rows[file_grant.id].properties == file_grant.properties

    events = await _events(runtime.engine, "benefit_grant.created")
    # A grant as the API answers it: a download's link is made when read, never in an event.
    no_link = {"download_url": None, "download_expires_at": None}
    assert [(e["id"], e["type"], e["properties"]) for e in events] == [
        (file_grant.id, "file_download", {**file_grant.properties, **no_link}),
        *((g.id, g.benefit_type, g.properties) for g in (key_grant, access_grant, note_grant)),
    ]
    assert {(e["seat_id"], e["member_id"]) for e in events} == {(world["seat_id"], world["ann_id"])}


async def test_license_keys_are_unique_per_grant(runtime: Runtime, world: dict[str, Any]) -> None:
    plain = await catalog.create_benefit(runtime, type="license_key", description="Key")
    long = await catalog.create_benefit(
        runtime, type="license_key", description="Key", properties={"length": 32}
    )
    product = await catalog.create_product(
        runtime, name="Keys", prices=[PRICE], benefit_ids=[plain.id, long.id]
    )
    pool_id = await _pool(runtime.engine, world["company_id"], product.prices[0].id, order=False)
    keys: list[str] = []
    for member_id, email in (
        (world["ann_id"], "ann@acme.test"),
        (world["boss_id"], "boss@acme.test"),
    ):
        seat_id = await _seat(runtime.engine, world["company_id"], pool_id, member_id, email)
        short_grant, long_grant = await _grant(runtime, seat_id, member_id, product.id)
        short_key, long_key = (g.properties["license_key"] for g in (short_grant, long_grant))
        assert re.fullmatch(rf"{KEY_CHARACTER}{{4}}(-{KEY_CHARACTER}{{4}}){{3}}", short_key)
        assert re.fullmatch(rf"{KEY_CHARACTER}{{4}}(-{KEY_CHARACTER}{{4}}){{7}}", long_key)
        keys += [short_key, long_key]
    assert len(set(keys)) == 4

    [row] = await _rows(runtime.engine, t.benefit_grants, t.benefit_grants.c.license_key == keys[0])
    duplicate = {c.name: getattr(row, c.name) for c in t.benefit_grants.c}
    with pytest.raises(IntegrityError):  # the database, too, refuses a key given twice
        async with runtime.engine.begin() as c:
            await c.execute(insert(t.benefit_grants).values({**duplicate, "id": new_id("grant")}))


async def test_a_product_without_benefits_grants_nothing(
    runtime: Runtime, world: dict[str, Any]
) -> None:
    bare = await catalog.create_product(runtime, name="Bare", prices=[PRICE])
    assert await _grant(runtime, world["seat_id"], world["ann_id"], bare.id) == []
    assert await _rows(runtime.engine, t.benefit_grants) == []
    assert await _events(runtime.engine, "benefit_grant.created") == []


async def test_grants_and_their_events_vanish_when_the_claim_rolls_back(
    runtime: Runtime, world: dict[str, Any]
) -> None:
    async with runtime.transaction() as uow:
        granted = await grants.grant_benefits(
            uow,
            runtime,
            seat_id=world["seat_id"],
            member_id=world["ann_id"],
            product_id=world["product"].id,
        )
        assert len(granted) == 4
    assert await _rows(runtime.engine, t.benefit_grants) == []
    assert await _rows(runtime.engine, t.outbox, t.outbox.c.type.like("benefit_grant.%")) == []


# -- revoking -----------------------------------------------------------------------------------


async def test_revoking_a_seat_revokes_its_grants_once(
    runtime: Runtime, world: dict[str, Any], clock: FixedClock
) -> None:
    granted = await _granted(runtime, world)
    clock.advance(timedelta(days=3))
    revoked = await _revoke(runtime, world["seat_id"])

    assert [g.id for g in revoked] == sorted(g.id for g in granted)
    by_id = {g.id: g for g in granted}
    for grant in revoked:
        assert (grant.status, grant.revoked_at) == ("revoked", clock.now())
        assert grant.benefit_type == by_id[grant.id].benefit_type
        assert grant.properties == by_id[grant.id].properties
        assert grant.granted_at == by_id[grant.id].granted_at
    rows = await _rows(runtime.engine, t.benefit_grants)
    assert {(row.status, row.revoked_at) for row in rows} == {("revoked", clock.now())}
    events = await _events(runtime.engine, "benefit_grant.revoked")
    assert [(e["id"], e["type"], e["status"]) for e in events] == [
        (g.id, g.benefit_type, "revoked") for g in revoked
    ]
    assert events[0]["revoked_at"] == format_timestamp(clock.now())

    clock.advance(timedelta(days=1))
    assert await _revoke(runtime, world["seat_id"]) == []
    assert len(await _events(runtime.engine, "benefit_grant.revoked")) == 4
    rows = await _rows(runtime.engine, t.benefit_grants)
    assert {row.revoked_at for row in rows} == {clock.now() - timedelta(days=1)}


async def test_revoking_touches_only_that_seat(runtime: Runtime, world: dict[str, Any]) -> None:
    await _granted(runtime, world)
    boss_seat = await _seat(
        runtime.engine,
        world["company_id"],
        world["subscription_id"],
        world["boss_id"],
        "boss@acme.test",
    )
    await _grant(runtime, boss_seat, world["boss_id"], world["product"].id)
    assert len(await _revoke(runtime, boss_seat)) == 4
    anns = await _rows(
        runtime.engine, t.benefit_grants, t.benefit_grants.c.member_id == world["ann_id"]
    )
    assert {row.status for row in anns} == {"granted"}


async def test_revoke_events_vanish_when_the_revocation_rolls_back(
    runtime: Runtime, world: dict[str, Any]
) -> None:
    await _granted(runtime, world)
    async with runtime.transaction() as uow:
        assert len(await grants.revoke_benefits(uow, runtime, seat_id=world["seat_id"])) == 4
    rows = await _rows(runtime.engine, t.benefit_grants)
    assert {row.status for row in rows} == {"granted"}
    assert await _events(runtime.engine, "benefit_grant.revoked") == []


# -- what a member holds ------------------------------------------------------------------------


async def test_member_entitlements_group_live_grants_by_product(
    runtime: Runtime, world: dict[str, Any], clock: FixedClock
) -> None:
    granted = await _granted(runtime, world)
    # A perpetual seat of a second product (through an order), with no benefits at all.
    perpetual = await catalog.create_product(runtime, name="Add-on", prices=[ONE_TIME])
    order_id = await _pool(runtime.engine, world["company_id"], perpetual.prices[0].id, order=True)
    order_seat = await _seat(
        runtime.engine, world["company_id"], order_id, world["ann_id"], "ann@acme.test"
    )

    held = await grants.member_entitlements(runtime, world["ann_id"])

    assert (held.member_id, held.company_id) == (world["ann_id"], world["company_id"])
    team, addon = held.products
    assert (team.product_id, team.name, team.seat_ids) == (
        world["product"].id,
        "Team plan",
        (world["seat_id"],),
    )
    assert (addon.product_id, addon.name, addon.seat_ids, addon.benefits) == (
        perpetual.id,
        "Add-on",
        (order_seat,),
        (),
    )
    assert [g.id for g in team.benefits] == sorted(g.id for g in granted)
    by_type = {g.benefit_type: g for g in team.benefits}
    assert by_type["license_key"].properties == granted[1].properties
    assert by_type["custom"].properties == {"note": "Hello!"}
    download = by_type["file_download"].properties
    expires_at = clock.now() + timedelta(hours=1)
    assert download["download_expires_at"] == expires_at.isoformat()
    link = _link(download["download_url"])
    assert download["download_url"].startswith(
        f"{runtime.settings.public_url}/v1/files/{world['file'].id}/download?"
    )
    assert link["file_id"] == world["file"].id
    assert link["grant_id"] == by_type["file_download"].id
    assert link["expires"] == str(int(expires_at.timestamp()))
    assert re.fullmatch(r"[0-9a-f]{64}", link["signature"])


async def test_member_entitlements_leave_out_revoked_seats_and_grants(
    runtime: Runtime, world: dict[str, Any]
) -> None:
    await _granted(runtime, world)
    await _revoke(runtime, world["seat_id"])
    async with runtime.engine.begin() as c:
        await c.execute(update(t.seats).values(status="revoked"))
    held = await grants.member_entitlements(runtime, world["ann_id"])
    assert held.products == ()
    boss = await grants.member_entitlements(runtime, world["boss_id"])
    assert (boss.member_id, boss.products) == (world["boss_id"], ())


async def test_member_entitlements_of_unknown_or_removed_members_are_not_found(
    runtime: Runtime, world: dict[str, Any], clock: FixedClock
) -> None:
    with pytest.raises(NotFound) as caught:
        await grants.member_entitlements(runtime, "mem_missing")
    assert caught.value.detail == "No such member."
    async with runtime.engine.begin() as c:
        await c.execute(
            update(t.members)
            .where(t.members.c.id == world["ann_id"])
            .values(removed_at=clock.now())
        )
    with pytest.raises(NotFound):
        await grants.member_entitlements(runtime, world["ann_id"])


# -- signed download links ----------------------------------------------------------------------


async def test_a_signed_link_downloads_the_file(runtime: Runtime, world: dict[str, Any]) -> None:
    await _granted(runtime, world)
    link = await _download_link(runtime, world["ann_id"])
    stored, content = await grants.download_file(runtime, **link)
    assert stored == world["file"]
    assert content == INSTALLER
    as_int: dict[str, Any] = {**link, "expires": int(link["expires"])}
    assert (await grants.download_file(runtime, **as_int))[1] == INSTALLER


@pytest.mark.parametrize(
    "tamper",
    [
        {"signature": "0" * 64},
        {"signature": ""},
        {"signature": "é" * 64},
        {"expires": "99999999999"},
        {"expires": "-1"},
        {"expires": "soon"},
        {"expires": True},
        {"grant_id": "grant_other"},
        {"file_id": "file_other"},
    ],
)
async def test_a_tampered_link_is_dead(
    runtime: Runtime, world: dict[str, Any], tamper: dict[str, Any]
) -> None:
    await _granted(runtime, world)
    link = await _download_link(runtime, world["ann_id"])
    with pytest.raises(NotFound) as caught:
        await grants.download_file(runtime, **{**link, **tamper})
    assert caught.value.detail == "No such file."


async def test_a_link_dies_after_an_hour(
    runtime: Runtime, world: dict[str, Any], clock: FixedClock
) -> None:
    await _granted(runtime, world)
    link = await _download_link(runtime, world["ann_id"])
    clock.advance(timedelta(minutes=59, seconds=59))
    await grants.download_file(runtime, **link)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(NotFound):
        await grants.download_file(runtime, **link)


async def test_a_link_dies_with_its_grant(runtime: Runtime, world: dict[str, Any]) -> None:
    await _granted(runtime, world)
    link = await _download_link(runtime, world["ann_id"])
    await _revoke(runtime, world["seat_id"])
    with pytest.raises(NotFound):
        await grants.download_file(runtime, **link)


async def test_a_link_to_another_grants_file_is_dead(
    runtime: Runtime, world: dict[str, Any]
) -> None:
    """A valid signature over a grant that does not give this file opens nothing."""
    file_grant, key_grant, _, _ = await _granted(runtime, world)
    key = await secret_key(runtime)
    url = grants.download_url(
        runtime, key, file_id=world["file"].id, grant_id=key_grant.id, expires=2**40
    )
    with pytest.raises(NotFound):
        await grants.download_file(runtime, **_link(url))
    url = grants.download_url(
        runtime, key, file_id=world["file"].id, grant_id=file_grant.id, expires=2**40
    )
    assert (await grants.download_file(runtime, **_link(url)))[1] == INSTALLER


async def test_links_verify_in_every_process_of_the_instance(
    runtime: Runtime, world: dict[str, Any], database_url: str, clock: FixedClock
) -> None:
    await _granted(runtime, world)
    link = await _download_link(runtime, world["ann_id"])
    other_engine = create_engine(database_url)  # another process: its own engine, no cache
    try:
        other = Runtime(other_engine, clock, runtime.settings, runtime.gateway)
        assert await secret_key(other) == await secret_key(runtime)
        assert (await grants.download_file(other, **link))[1] == INSTALLER
    finally:
        await other_engine.dispose()


async def test_a_configured_secret_key_signs_instead(
    runtime: Runtime, world: dict[str, Any], settings: Settings, clock: FixedClock
) -> None:
    await _granted(runtime, world)
    keyed = Runtime(
        runtime.engine,
        clock,
        Settings(database_url=settings.database_url, secret_key="k" * 64),
        runtime.gateway,
    )
    assert await secret_key(keyed) == "k" * 64
    link = await _download_link(keyed, world["ann_id"])
    assert (await grants.download_file(keyed, **link))[1] == INSTALLER
    with pytest.raises(NotFound):  # the instance's stored key does not sign the same
        await grants.download_file(runtime, **link)
    assert "k" * 64 not in repr(keyed.settings)


async def test_a_lost_stored_key_is_replaced_once(runtime: Runtime) -> None:
    async with runtime.engine.begin() as c:
        await c.execute(delete(t.instance_secrets))
    forget_cached_keys()
    key = await secret_key(runtime)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    forget_cached_keys()
    assert await secret_key(runtime) == key
    assert len(await _rows(runtime.engine, t.instance_secrets)) == 1


def test_the_migration_generates_a_secret_per_instance(tmp_path: Path) -> None:
    keys = []
    for name in ("one", "two"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        migrations.upgrade(url)
        engine = create_sync_engine(sync_database_url(url))
        with engine.connect() as c:
            keys.append(c.execute(text("SELECT secret_key FROM instance_secrets")).scalars().all())
        engine.dispose()
    assert all(len(rows) == 1 and re.fullmatch(r"[0-9a-f]{64}", rows[0]) for rows in keys)
    assert keys[0] != keys[1]
