"""Products, prices, benefits and files through HTTP (SPEC §2, §5, §6)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime
from tests.e2e.api import ONE_TIME, PRICE, Api, problem, row_counts

TIERED: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers_mode": "graduated",
    "tiers": [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
    "base_amount": 2900,
    "included_seats": 5,
    "minimum_seats": 1,
    "maximum_seats": 50,
    "seat_sync": "manual",
}


async def test_a_product_answers_every_price_field(api: Api) -> None:
    product = await api.post(
        "/v1/products",
        {
            "name": "Team",
            "description": "For teams",
            "prices": [TIERED, ONE_TIME],
            "proration_defaults": {"increase": "prorate"},
        },
    )
    assert set(product) == {
        "id",
        "name",
        "description",
        "prices",
        "benefit_ids",
        "proration_defaults",
        "created_at",
    }
    monthly, one_time = product["prices"]
    assert {k: monthly[k] for k in TIERED} == {
        **TIERED,
        "tiers": [
            {"up_to": 10, "unit_amount": 1000, "flat_amount": 0},
            {"up_to": None, "unit_amount": 800, "flat_amount": 0},
        ],
    }
    assert (monthly["version"], one_time["version"], one_time["interval"]) == (1, 2, None)
    assert (monthly["archived"], monthly["archived_at"]) == (False, None)
    assert monthly["created_at"].endswith("Z")
    assert product["proration_defaults"] == {
        "increase": "prorate",
        "decrease": "prorate",
        "true_up_interval": None,
    }
    assert await api.get(f"/v1/products/{product['id']}") == product


async def test_products_are_listed_by_pages(api: Api) -> None:
    ids = [(await api.product())["id"] for _ in range(3)]
    first = await api.get("/v1/products?limit=2")
    assert ([p["id"] for p in first["data"]], first["has_more"]) == (ids[:2], True)
    second = await api.get(f"/v1/products?limit=2&cursor={first['next_cursor']}")
    assert (second["data"][0]["id"], second["has_more"], second["next_cursor"]) == (
        ids[2],
        False,
        None,
    )
    assert len((await api.get("/v1/products"))["data"]) == 3
    problem(await api.call("GET", "/v1/products?limit=101"), 422, "validation_error", "limit")
    problem(await api.call("GET", "/v1/products?cursor=nope"), 422, "validation_error", "cursor")


async def test_an_invalid_price_names_its_field_and_writes_nothing(
    api: Api, runtime: Runtime
) -> None:
    counts = await row_counts(runtime)
    for price, field in [
        (
            {**PRICE, "tiers": [{"up_to": 5, "unit_amount": 1}, {"up_to": 3, "unit_amount": 1}]},
            "prices[0].tiers[1].up_to",
        ),
        ({**PRICE, "tiers": [{"up_to": 5, "unit_amount": 1}]}, "prices[0].tiers[0].up_to"),
        ({**PRICE, "tiers": []}, "prices[0].tiers"),
        ({**PRICE, "currency": "xyz"}, "prices[0].currency"),
        ({**PRICE, "interval": "week"}, "prices[0].interval"),
        (
            {**PRICE, "tiers": [{"up_to": None, "unit_amount": -1}]},
            "prices[0].tiers[0].unit_amount",
        ),
        (
            {**PRICE, "tiers": [{"up_to": None, "unit_amount": 1.5}]},
            "prices[0].tiers[0].unit_amount",
        ),
        (
            {**PRICE, "tiers": [{"up_to": None, "unit_amount": "10"}]},
            "prices[0].tiers[0].unit_amount",
        ),
        ({**PRICE, "base_amount": 10**30}, "prices[0].base_amount"),
        ({**ONE_TIME, "seat_sync": "members"}, "prices[0].seat_sync"),
        ({**PRICE, "colour": "red"}, "prices[0].colour"),
        ({**PRICE, "tiers": [{"up_to": None, "unit_amount": 1, "x": 1}]}, "prices[0].tiers[0].x"),
    ]:
        response = await api.call("POST", "/v1/products", json={"name": "x", "prices": [price]})
        problem(response, 422, "validation_error", field)
    problem(
        await api.call("POST", "/v1/products", json={"name": "x", "prices": []}),
        422,
        "validation_error",
        "prices",
    )
    assert await row_counts(runtime) == counts


async def test_prices_are_added_as_versions_and_archived(api: Api) -> None:
    product = await api.product()
    added = await api.post(f"/v1/products/{product['id']}/prices", {**PRICE, "currency": "jpy"})
    assert (added["version"], added["currency"], added["product_id"]) == (2, "jpy", product["id"])
    archived = await api.post(f"/v1/prices/{added['id']}/archive", None, 200)
    assert archived["archived"] is True
    again = await api.post(f"/v1/prices/{added['id']}/archive", None, 200)
    assert again["archived_at"] == archived["archived_at"]
    company = await api.company()
    response = await api.call(
        "POST",
        "/v1/checkouts",
        json={"price_id": added["id"], "seats": 1, "company_id": company["id"]},
    )
    problem(response, 409, "price_archived")
    problem(
        await api.call("POST", f"/v1/products/{new_id('prod')}/prices", json=PRICE),
        404,
        "not_found",
    )
    problem(await api.call("POST", f"/v1/prices/{new_id('price')}/archive"), 404, "not_found")
    problem(await api.call("GET", f"/v1/products/{new_id('prod')}"), 404, "not_found")
    problem(await api.call("GET", "/v1/products/not-an-id"), 404, "not_found")


async def test_benefits_of_each_type(api: Api) -> None:
    for body in [
        {"type": "custom", "description": "Note", "properties": {"note": "Hi"}},
        {
            "type": "license_key",
            "description": "Key",
            "properties": {"prefix": "ACME", "length": 12},
        },
        {"type": "access_grant", "description": "Repo", "properties": {"repo": "acme/app"}},
    ]:
        benefit = await api.post("/v1/benefits", body)
        assert {k: benefit[k] for k in body} == body
        assert await api.get(f"/v1/benefits/{benefit['id']}") == benefit
    problem(await api.call("GET", f"/v1/benefits/{new_id('ben')}"), 404, "not_found")
    for body, status, code, field in [
        ({"type": "coupon", "description": "x"}, 422, "validation_error", "type"),
        (
            {"type": "custom", "description": "x", "properties": {"nope": 1}},
            422,
            "validation_error",
            "properties.nope",
        ),
        (
            {
                "type": "file_download",
                "description": "x",
                "properties": {"file_id": new_id("file")},
            },
            404,
            "not_found",
            "properties.file_id",
        ),
        (
            {"type": "file_download", "description": "x", "properties": {"file_id": "bad id"}},
            404,
            "not_found",
            "properties.file_id",
        ),
    ]:
        problem(await api.call("POST", "/v1/benefits", json=body), status, code, field)
    benefit = await api.post(
        "/v1/benefits", {"type": "custom", "description": "x", "properties": {"note": "n"}}
    )
    response = await api.call(
        "POST",
        "/v1/products",
        json={"name": "x", "prices": [PRICE], "benefit_ids": [benefit["id"], new_id("ben")]},
    )
    problem(response, 404, "not_found", "benefit_ids[1]")


async def test_a_file_is_uploaded_granted_and_downloaded_through_a_signed_link(api: Api) -> None:
    upload = await api.call(
        "POST",
        "/v1/files",
        201,
        files={"file": ("guide é.pdf", b"%PDF-1.7 guide", "application/pdf")},
    )
    stored = upload.json()
    assert (stored["name"], stored["size"], stored["content_type"]) == (
        "guide é.pdf",
        14,
        "application/pdf",
    )
    benefit = await api.post(
        "/v1/benefits",
        {"type": "file_download", "description": "Guide", "properties": {"file_id": stored["id"]}},
    )
    product = await api.product(extra={"benefit_ids": [benefit["id"]]})
    company = await api.company()
    done = await api.buy(product["prices"][0]["id"], company["id"], 2)
    seat = await api.assign(
        {"subscription_id": done["subscription_id"]}, "ann@acme.test", immediate_claim=True
    )
    assert (seat["status"], seat["invitation"]) == ("claimed", None)
    held = await api.get(f"/v1/members/{seat['member_id']}/entitlements")
    [grant] = held["products"][0]["benefits"]
    link = grant["properties"]["download_url"]
    parts = urlsplit(link)
    path = f"{parts.path}?{parts.query}"
    download = await api.client.get(path)  # public: the link is the credential
    assert download.status_code == 200, download.text
    assert download.content == b"%PDF-1.7 guide"
    assert download.headers["content-type"] == "application/pdf"
    assert "guide%20%C3%A9.pdf" in download.headers["content-disposition"]
    query = dict(parse_qsl(parts.query))
    signature = query["signature"]
    # Flip the signature's last character to another one, so the tampered link always differs.
    query["signature"] = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    problem(await api.client.get(f"{parts.path}?{urlencode(query)}"), 404, "not_found")
    problem(await api.client.get(parts.path), 404, "not_found")
    await api.call("DELETE", f"/v1/seats/{seat['id']}", 200)
    problem(await api.client.get(path), 404, "not_found")  # the link died with its grant


async def test_an_upload_needs_a_file(api: Api, runtime: Runtime) -> None:
    counts = await row_counts(runtime)
    problem(
        await api.call("POST", "/v1/files", data={"other": "x"}), 422, "validation_error", "file"
    )
    problem(
        await api.call("POST", "/v1/files", files={"file": ("a.txt", b"x", "not a type")}),
        422,
        "validation_error",
        "file",
    )
    assert await row_counts(runtime) == counts
