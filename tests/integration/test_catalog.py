"""Products, price versions, benefits and files (SPEC §1, §2, §6), on both databases."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import NotFound, SeatledgerError, ValidationFailed
from seatledger.pricing import InvalidPrice, SeatPrice
from seatledger.services import catalog
from seatledger.services.runtime import Runtime

MONTHLY: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers_mode": "graduated",
    "tiers": [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
}
ONE_TIME: dict[str, Any] = {
    "currency": "jpy",
    "interval": None,
    "tiers": [{"up_to": None, "unit_amount": 1000}],
}


async def _rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def _events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    rows = await _rows(engine, t.outbox, t.outbox.c.type == kind)
    return [row.payload for row in sorted(rows, key=lambda row: row.id)]


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows in every table the catalog writes (the outbox included)."""
    tables = (t.products, t.prices, t.product_benefits, t.benefits, t.files, t.outbox)
    async with engine.connect() as c:
        return {
            table.name: int((await c.execute(select(func.count()).select_from(table))).scalar_one())
            for table in tables
        }


def _fields(error: SeatledgerError) -> list[str]:
    return [field for field, _ in error.errors]


async def _custom(runtime: Runtime, note: str = "Welcome aboard") -> str:
    benefit = await catalog.create_benefit(
        runtime, type="custom", description="A note", properties={"note": note}
    )
    return benefit.id


# -- products -----------------------------------------------------------------------------------


async def test_create_product_stores_price_versions_and_benefits_in_order(
    runtime: Runtime, clock: FixedClock
) -> None:
    first, second = await _custom(runtime, "one"), await _custom(runtime, "two")
    product = await catalog.create_product(
        runtime,
        name="Team plan",
        description="For teams",
        prices=[MONTHLY, ONE_TIME],
        benefit_ids=[second, first],
    )

    assert product.id.startswith("prod_")
    assert (product.name, product.description) == ("Team plan", "For teams")
    assert [p.version for p in product.prices] == [1, 2]
    assert [p.seat_price for p in product.prices] == [
        SeatPrice.from_mapping(MONTHLY),
        SeatPrice.from_mapping(ONE_TIME),
    ]
    assert all(p.product_id == product.id and p.archived_at is None for p in product.prices)
    assert product.benefit_ids == (second, first)
    assert (product.proration_increase, product.proration_decrease) == ("invoice", "prorate")
    assert product.created_at == clock.now()
    assert await catalog.get_product(runtime, product.id) == product

    rows = sorted(await _rows(runtime.engine, t.prices), key=lambda row: row.version)
    assert [row.definition for row in rows] == [
        SeatPrice.from_mapping(MONTHLY).to_mapping(),
        SeatPrice.from_mapping(ONE_TIME).to_mapping(),
    ]
    assert [(row.currency, row.interval, row.seat_sync) for row in rows] == [
        ("usd", "month", "manual"),
        ("jpy", None, "manual"),
    ]
    [event] = await _events(runtime.engine, "product.created")
    assert event["id"] == product.id
    assert [p["id"] for p in event["prices"]] == [p.id for p in product.prices]
    assert event["prices"][0]["tiers_mode"] == "graduated"
    assert event["benefit_ids"] == [second, first]
    assert event["proration_defaults"] == {
        "increase": "invoice",
        "decrease": "prorate",
        "true_up_interval": None,
    }


async def test_create_product_takes_proration_defaults(runtime: Runtime) -> None:
    product = await catalog.create_product(
        runtime,
        name="Team plan",
        prices=[MONTHLY],
        proration_defaults={"decrease": "next_period"},
    )
    assert (product.proration_increase, product.proration_decrease) == ("invoice", "next_period")
    product = await catalog.create_product(
        runtime,
        name="Team plan",
        prices=[MONTHLY],
        proration_defaults={"increase": "prorate", "decrease": "invoice"},
    )
    stored = await catalog.get_product(runtime, product.id)
    assert (stored.proration_increase, stored.proration_decrease) == ("prorate", "invoice")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": None}, "name"),
        ({"description": ""}, "description"),
        ({"prices": []}, "prices"),
        ({"prices": MONTHLY}, "prices"),
        ({"benefit_ids": "ben_1"}, "benefit_ids"),
        ({"proration_defaults": {"increase": "later"}}, "proration_defaults.increase"),
        ({"proration_defaults": {"sideways": "invoice"}}, "proration_defaults.sideways"),
        ({"proration_defaults": ["invoice"]}, "proration_defaults"),
    ],
)
async def test_create_product_rejects_bad_input_and_writes_nothing(
    runtime: Runtime, changes: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"name": "Team plan", "prices": [MONTHLY], **changes}
    with pytest.raises(ValidationFailed) as caught:
        await catalog.create_product(runtime, **arguments)
    assert _fields(caught.value) == [field]
    assert set((await _counts(runtime.engine)).values()) == {0}


async def test_create_product_reports_every_price_problem_at_once(runtime: Runtime) -> None:
    bad_currency = {**MONTHLY, "currency": "usx"}
    bad_tier = {**ONE_TIME, "tiers": [{"up_to": None, "unit_amount": -5}]}
    prices: list[Any] = [MONTHLY, bad_currency, bad_tier, "monthly"]
    with pytest.raises(InvalidPrice) as caught:
        await catalog.create_product(runtime, name="Team plan", prices=prices)
    assert _fields(caught.value) == [
        "prices[1].currency",
        "prices[2].tiers[0].unit_amount",
        "prices[3]",
    ]
    assert caught.value.code == "validation_error"
    assert set((await _counts(runtime.engine)).values()) == {0}


async def test_create_product_rejects_a_one_time_price_following_members(runtime: Runtime) -> None:
    with pytest.raises(InvalidPrice) as caught:
        await catalog.create_product(
            runtime, name="Team plan", prices=[{**ONE_TIME, "seat_sync": "members"}]
        )
    assert _fields(caught.value) == ["prices[0].seat_sync"]


async def test_create_product_names_the_unknown_benefit(runtime: Runtime) -> None:
    known = await _custom(runtime)
    before = await _counts(runtime.engine)
    with pytest.raises(NotFound) as caught:
        await catalog.create_product(
            runtime, name="Team plan", prices=[MONTHLY], benefit_ids=[known, "ben_missing"]
        )
    assert _fields(caught.value) == ["benefit_ids[1]"]
    not_an_id: Any = 42
    with pytest.raises(NotFound) as caught:
        await catalog.create_product(
            runtime, name="Team plan", prices=[MONTHLY], benefit_ids=[known, not_an_id]
        )
    assert _fields(caught.value) == ["benefit_ids[1]"]
    with pytest.raises(ValidationFailed) as duplicate:
        await catalog.create_product(
            runtime, name="Team plan", prices=[MONTHLY], benefit_ids=[known, known]
        )
    assert _fields(duplicate.value) == ["benefit_ids[1]"]
    assert await _counts(runtime.engine) == before


async def test_get_product_of_an_unknown_id_is_not_found(runtime: Runtime) -> None:
    for product_id in ("prod_missing", "", "x" * 500):
        with pytest.raises(NotFound) as caught:
            await catalog.get_product(runtime, product_id)
        assert caught.value.errors == ()


async def test_list_products_pages_oldest_first_with_every_price(runtime: Runtime) -> None:
    created = [
        await catalog.create_product(runtime, name=f"Plan {i}", prices=[MONTHLY]) for i in range(3)
    ]
    archived = await catalog.archive_price(runtime, created[0].prices[0].id)
    second = await catalog.add_price(runtime, created[0].id, ONE_TIME)

    page = await catalog.list_products(runtime, limit=2)
    assert [p.id for p in page.data] == [p.id for p in created[:2]]
    assert page.has_more
    assert page.next_cursor == created[1].id
    assert page.data[0].prices == (archived, second)

    rest = await catalog.list_products(runtime, limit=2, cursor=page.next_cursor)
    assert rest.data == (created[2],)
    assert (rest.has_more, rest.next_cursor) == (False, None)

    everything = await catalog.list_products(runtime)
    assert len(everything.data) == 3
    assert not everything.has_more
    with pytest.raises(ValidationFailed) as caught:
        await catalog.list_products(runtime, limit=101)
    assert _fields(caught.value) == ["limit"]


async def test_list_products_when_there_are_none(runtime: Runtime) -> None:
    page = await catalog.list_products(runtime)
    assert (page.data, page.has_more, page.next_cursor) == ((), False, None)


# -- prices -------------------------------------------------------------------------------------


async def test_add_price_makes_the_next_version(runtime: Runtime, clock: FixedClock) -> None:
    product = await catalog.create_product(runtime, name="Team plan", prices=[MONTHLY])
    clock.advance(timedelta(days=1))
    yearly = await catalog.add_price(runtime, product.id, {**MONTHLY, "interval": "year"})
    assert (yearly.version, yearly.product_id, yearly.archived_at) == (2, product.id, None)
    assert yearly.seat_price.interval == "year"
    assert yearly.created_at == clock.now()
    third = await catalog.add_price(runtime, product.id, ONE_TIME)
    assert third.version == 3
    assert await catalog.get_price(runtime, yearly.id) == yearly
    stored = await catalog.get_product(runtime, product.id)
    assert [p.version for p in stored.prices] == [1, 2, 3]
    events = await _events(runtime.engine, "price.created")
    assert [(e["id"], e["version"]) for e in events] == [(yearly.id, 2), (third.id, 3)]


async def test_add_price_rejects_bad_prices_and_unknown_products(runtime: Runtime) -> None:
    product = await catalog.create_product(runtime, name="Team plan", prices=[MONTHLY])
    before = await _counts(runtime.engine)
    with pytest.raises(InvalidPrice) as caught:
        await catalog.add_price(
            runtime, product.id, {**MONTHLY, "minimum_seats": 0, "colour": "red"}
        )
    assert _fields(caught.value) == ["colour"]
    with pytest.raises(InvalidPrice) as caught:
        await catalog.add_price(runtime, product.id, {**MONTHLY, "minimum_seats": 0})
    assert _fields(caught.value) == ["minimum_seats"]
    with pytest.raises(NotFound) as missing:
        await catalog.add_price(runtime, "prod_missing", MONTHLY)
    assert str(missing.value) == "No such product."
    assert await _counts(runtime.engine) == before


async def test_concurrent_price_versions_are_numbered_apart(runtime: Runtime) -> None:
    product = await catalog.create_product(runtime, name="Team plan", prices=[MONTHLY])
    added = await asyncio.gather(
        *(catalog.add_price(runtime, product.id, MONTHLY) for _ in range(6))
    )
    assert sorted(price.version for price in added) == [2, 3, 4, 5, 6, 7]


async def test_archive_price_once_and_idempotently(runtime: Runtime, clock: FixedClock) -> None:
    product = await catalog.create_product(runtime, name="Team plan", prices=[MONTHLY])
    price = product.prices[0]
    clock.advance(timedelta(hours=1))
    archived = await catalog.archive_price(runtime, price.id)
    assert archived.archived_at == clock.now()
    assert archived.archived
    assert archived.seat_price == price.seat_price

    clock.advance(timedelta(hours=1))
    again = await catalog.archive_price(runtime, price.id)
    assert again == archived
    assert await catalog.get_price(runtime, price.id) == archived
    [event] = await _events(runtime.engine, "price.archived")
    assert event["id"] == price.id
    assert archived.archived_at is not None
    assert event["archived_at"] == archived.archived_at.isoformat()


async def test_archive_or_get_an_unknown_price_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await catalog.archive_price(runtime, "price_missing")
    with pytest.raises(NotFound):
        await catalog.get_price(runtime, "price_missing")
    assert (await _counts(runtime.engine))["outbox"] == 0


async def test_a_stored_price_is_never_edited(runtime: Runtime) -> None:
    product = await catalog.create_product(runtime, name="Team plan", prices=[MONTHLY])
    with pytest.raises(DBAPIError):
        async with runtime.engine.begin() as c:
            await c.execute(update(t.prices).values(definition={**MONTHLY, "currency": "eur"}))
    assert await catalog.get_price(runtime, product.prices[0].id) == product.prices[0]


# -- benefits -----------------------------------------------------------------------------------


async def test_create_benefits_of_every_type(runtime: Runtime, clock: FixedClock) -> None:
    stored = await catalog.upload_file(
        runtime, name="setup.zip", content_type="application/zip", content=b"PK"
    )
    download = await catalog.create_benefit(
        runtime,
        type="file_download",
        description="The installer",
        properties={"file_id": stored.id},
    )
    key = await catalog.create_benefit(
        runtime,
        type="license_key",
        description="Your licence",
        properties={"prefix": "ACME-PRO", "length": 20},
    )
    plain_key = await catalog.create_benefit(
        runtime, type="license_key", description="Your licence", properties=None
    )
    access = await catalog.create_benefit(
        runtime,
        type="access_grant",
        description="Workspace access",
        properties={"role": "editor", "projects": [1, 2], "limits": {"storage_gb": 10}},
    )
    note = await catalog.create_benefit(
        runtime, type="custom", description="Welcome", properties={"note": "Call us any time."}
    )

    assert download.properties == {"file_id": stored.id}
    assert key.properties == {"prefix": "ACME-PRO", "length": 20}
    assert plain_key.properties == {}
    assert access.properties == {
        "role": "editor",
        "projects": [1, 2],
        "limits": {"storage_gb": 10},
    }
    assert note.properties == {"note": "Call us any time."}
    for benefit in (download, key, plain_key, access, note):
        assert benefit.id.startswith("ben_")
        assert benefit.created_at == clock.now()
        assert await catalog.get_benefit(runtime, benefit.id) == benefit
    events = await _events(runtime.engine, "benefit.created")
    assert [(e["id"], e["type"], e["properties"]) for e in events] == [
        (b.id, b.type, b.properties) for b in (download, key, plain_key, access, note)
    ]


@pytest.mark.parametrize(
    ("benefit_type", "description", "properties", "field"),
    [
        ("coupon", "Ten percent off", {}, "type"),
        (None, "Ten percent off", {}, "type"),
        ("custom", "", {"note": "hi"}, "description"),
        ("custom", "x" * 501, {"note": "hi"}, "description"),
        ("custom", "Welcome", {}, "properties.note"),
        ("custom", "Welcome", {"note": ""}, "properties.note"),
        ("custom", "Welcome", {"note": "x" * 2001}, "properties.note"),
        ("custom", "Welcome", {"note": "hi", "colour": "red"}, "properties.colour"),
        ("custom", "Welcome", ["note"], "properties"),
        ("file_download", "Installer", {}, "properties.file_id"),
        ("license_key", "Key", {"prefix": "ACME_PRO"}, "properties.prefix"),
        ("license_key", "Key", {"prefix": "-ACME"}, "properties.prefix"),
        ("license_key", "Key", {"prefix": "A" * 21}, "properties.prefix"),
        ("license_key", "Key", {"prefix": 7}, "properties.prefix"),
        ("license_key", "Key", {"length": 10}, "properties.length"),
        ("license_key", "Key", {"length": 18}, "properties.length"),
        ("license_key", "Key", {"length": 36}, "properties.length"),
        ("license_key", "Key", {"length": True}, "properties.length"),
        ("license_key", "Key", {"seats": 3}, "properties.seats"),
        ("access_grant", "Access", {f"k{i}": i for i in range(21)}, "properties"),
        ("access_grant", "Access", {"big": "x" * 20_000}, "properties"),
        ("access_grant", "Access", {"when": object()}, "properties.when"),
        ("access_grant", "Access", {"ratio": float("nan")}, "properties.ratio"),
        ("access_grant", "Access", {1: "numeric key"}, "properties"),
    ],
)
async def test_create_benefit_rejects_bad_input_and_writes_nothing(
    runtime: Runtime, benefit_type: Any, description: str, properties: Any, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await catalog.create_benefit(
            runtime, type=benefit_type, description=description, properties=properties
        )
    assert _fields(caught.value) == [field]
    assert set((await _counts(runtime.engine)).values()) == {0}


async def test_a_file_download_must_name_an_uploaded_file(runtime: Runtime) -> None:
    for file_id in ("file_missing", 12):
        with pytest.raises(NotFound) as caught:
            await catalog.create_benefit(
                runtime,
                type="file_download",
                description="Installer",
                properties={"file_id": file_id},
            )
        assert _fields(caught.value) == ["properties.file_id"]
    assert set((await _counts(runtime.engine)).values()) == {0}


async def test_get_an_unknown_benefit_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await catalog.get_benefit(runtime, "ben_missing")


# -- files --------------------------------------------------------------------------------------


async def test_upload_file_stores_content_and_digest(runtime: Runtime, clock: FixedClock) -> None:
    content = bytes(range(256)) * 64
    stored = await catalog.upload_file(
        runtime, name="Manual (v2).pdf", content_type="application/pdf", content=content
    )
    assert stored.id.startswith("file_")
    assert (stored.name, stored.content_type, stored.size) == (
        "Manual (v2).pdf",
        "application/pdf",
        len(content),
    )
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.created_at == clock.now()
    [row] = await _rows(runtime.engine, t.files)
    assert bytes(row.content) == content
    assert await catalog.get_file(runtime, stored.id) == stored
    [event] = await _events(runtime.engine, "file.created")
    assert (event["id"], event["size"], event["sha256"]) == (stored.id, stored.size, stored.sha256)


async def test_upload_file_defaults_the_content_type(runtime: Runtime) -> None:
    stored = await catalog.upload_file(runtime, name="notes.txt", content_type="", content=b"")
    assert (stored.content_type, stored.size) == ("application/octet-stream", 0)


async def test_upload_file_accepts_exactly_25_mib(runtime: Runtime) -> None:
    stored = await catalog.upload_file(
        runtime,
        name="big.bin",
        content_type="application/octet-stream",
        content=b"\0" * (25 * 2**20),
    )
    assert stored.size == catalog.MAX_FILE_SIZE


@pytest.mark.parametrize(
    ("name", "content_type", "content", "field"),
    [
        ("big.bin", "application/octet-stream", "text, not bytes", "file"),
        ("", "text/plain", b"hi", "name"),
        ("   ", "text/plain", b"hi", "name"),
        ("../etc/passwd", "text/plain", b"hi", "name"),
        ("evil\r\nname.txt", "text/plain", b"hi", "name"),
        ("x" * 256, "text/plain", b"hi", "name"),
        ("notes.txt", "text", b"hi", "content_type"),
        ("notes.txt", "text/plain\r\nX-Evil: 1", b"hi", "content_type"),
    ],
)
async def test_upload_file_rejects_bad_input_and_writes_nothing(
    runtime: Runtime, name: str, content_type: str, content: Any, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await catalog.upload_file(runtime, name=name, content_type=content_type, content=content)
    assert _fields(caught.value) == [field]
    assert set((await _counts(runtime.engine)).values()) == {0}


async def test_upload_file_refuses_more_than_25_mib(runtime: Runtime) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await catalog.upload_file(
            runtime,
            name="big.bin",
            content_type="application/octet-stream",
            content=b"\0" * (catalog.MAX_FILE_SIZE + 1),
        )
    assert _fields(caught.value) == ["file"]
    assert set((await _counts(runtime.engine)).values()) == {0}


async def test_get_an_unknown_file_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await catalog.get_file(runtime, "file_missing")
