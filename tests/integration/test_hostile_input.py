"""The use cases refuse hostile input themselves, whatever calls them (the API, the CLI, the
web pages), and write nothing: on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from seatledger.adapters.db.tables import metadata
from seatledger.domain.errors import ValidationFailed
from seatledger.services import api_keys, catalog, companies
from seatledger.services.runtime import Runtime

PRICE: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers": [{"up_to": None, "unit_amount": 1000}],
}


async def _counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.engine.connect() as connection:
        return {
            table.name: int(
                (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for table in metadata.sorted_tables
        }


def _fields(error: ValidationFailed) -> list[str]:
    return [field for field, _ in error.errors]


@pytest.mark.parametrize("value", ["Acme\u202eexe.pdf", "\x1b[31mred", "a\u200bb", "two\nlines"])
async def test_names_and_descriptions_refuse_control_and_formatting_characters(
    runtime: Runtime, value: str
) -> None:
    multi_line = value == "two\nlines"
    counts = await _counts(runtime)
    calls: list[tuple[str, Any]] = [
        ("name", lambda: catalog.create_product(runtime, name=value, prices=[PRICE])),
        (
            "name",
            lambda: companies.create_company(runtime, name=value, billing_manager_email="b@a.test"),
        ),
        (
            "external_id",
            lambda: companies.create_company(
                runtime, name="Acme", external_id=value, billing_manager_email="b@a.test"
            ),
        ),
        (
            "billing_manager.name",
            lambda: companies.create_company(
                runtime,
                name="Acme",
                billing_manager_email="b@a.test",
                billing_manager_name=value,
            ),
        ),
        ("name", lambda: api_keys.create_api_key(runtime, name=value)),
    ]
    if not multi_line:
        calls += [
            (
                "description",
                lambda: catalog.create_product(
                    runtime, name="x", description=value, prices=[PRICE]
                ),
            ),
            (
                "description",
                lambda: catalog.create_benefit(runtime, type="custom", description=value),
            ),
            (
                "properties.note",
                lambda: catalog.create_benefit(
                    runtime, type="custom", description="x", properties={"note": value}
                ),
            ),
        ]
    for field, call in calls:
        with pytest.raises(ValidationFailed) as caught:
            await call()
        assert _fields(caught.value) == [field]
    assert await _counts(runtime) == counts


async def test_descriptions_and_notes_may_span_lines(runtime: Runtime) -> None:
    product = await catalog.create_product(
        runtime, name="Team", description="One.\r\nTwo.\n", prices=[PRICE]
    )
    benefit = await catalog.create_benefit(
        runtime, type="custom", description="A\nB", properties={"note": "Hello,\nworld"}
    )
    assert (product.description, benefit.description) == ("One.\r\nTwo.\n", "A\nB")
    assert benefit.properties == {"note": "Hello,\nworld"}


async def test_access_grant_properties_are_bounded_free_form_json(runtime: Runtime) -> None:
    deep: dict[str, Any] = {}
    for _ in range(899):
        deep = {"a": deep}
    counts = await _counts(runtime)
    for properties, field in [
        (deep, "properties"),
        ({"list": [1, 2, {"n": 2**60}]}, "properties.list[2].n"),
        ({"blob": "x" * 17_000}, "properties"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            await catalog.create_benefit(
                runtime, type="access_grant", description="Access", properties=properties
            )
        assert _fields(caught.value) == [field]
    assert await _counts(runtime) == counts
