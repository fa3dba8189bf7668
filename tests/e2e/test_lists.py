"""Every object a merchant creates it can list (SPEC §6): companies (by external id or a member's
email), benefits, checkouts (by status), webhook endpoints, and every subscription, order and
invoice; cursor pages of `{data, has_more, next_cursor}`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from seatledger.domain.clock import FixedClock
from tests.e2e.api import ONE_TIME, Api, problem


def _newest_first(*objects: dict[str, Any]) -> list[str]:
    """Ids are time-ordered (to the millisecond; objects made within one are in id order)."""
    return sorted((item["id"] for item in objects), reverse=True)


async def _all(api: Api, path: str, limit: int = 2) -> list[str]:
    """The ids of every page of a list, following its cursors; pages hold ``limit`` items."""
    ids: list[str] = []
    separator = "&" if "?" in path else "?"
    cursor = None
    while True:
        page = await api.get(
            f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        )
        assert set(page) == {"data", "has_more", "next_cursor"}
        assert len(page["data"]) <= limit
        ids += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return ids
        assert page["next_cursor"] == page["data"][-1]["id"]
        cursor = page["next_cursor"]


async def test_companies_newest_first_by_external_id_or_a_members_email(api: Api) -> None:
    acme = await api.company("boss@acme.test", "Acme", external_id="crm-1")
    globex = await api.company("boss@globex.test", "Globex")
    initech = await api.company("peter@initech.test", "Initech", external_id="crm-3")
    ann = await api.post(f"/v1/companies/{acme['id']}/members", {"email": "ann@shared.test"})
    await api.post(f"/v1/companies/{globex['id']}/members", {"email": "Ann@Shared.test"})
    gone = await api.post(f"/v1/companies/{initech['id']}/members", {"email": "ann@shared.test"})
    await api.call("DELETE", f"/v1/companies/{initech['id']}/members/{gone['id']}", 204)

    newest_first = _newest_first(initech, globex, acme)
    assert await _all(api, "/v1/companies") == newest_first
    assert await _all(api, "/v1/companies", limit=1) == newest_first
    assert await _all(api, "/v1/companies?external_id=crm-1") == [acme["id"]]
    assert (await api.get("/v1/companies?external_id=crm-1"))["data"] == [acme]
    assert await _all(api, "/v1/companies?external_id=crm-9") == []
    # A current member's email, in any case: the removed member no longer counts.
    assert await _all(api, "/v1/companies?email=ANN@shared.test") == _newest_first(globex, acme)
    assert await _all(api, "/v1/companies?email=peter@initech.test") == [initech["id"]]
    both = "/v1/companies?email=ann@shared.test&external_id=crm-1"
    assert await _all(api, both) == [acme["id"]]
    assert ann["company_id"] == acme["id"]
    problem(
        await api.call("GET", "/v1/companies?email=not-an-email"), 422, "validation_error", "email"
    )
    problem(
        await api.call("GET", "/v1/companies?external_id=a%00b"),
        422,
        "validation_error",
        "external_id",
    )


async def test_benefits_and_webhook_endpoints_oldest_first(api: Api) -> None:
    benefits = [
        await api.post(
            "/v1/benefits",
            {"type": "custom", "description": f"Note {i}", "properties": {"note": f"Hi {i}"}},
        )
        for i in range(3)
    ]
    assert await _all(api, "/v1/benefits") == _newest_first(*benefits)[::-1]
    assert (await api.get("/v1/benefits"))["data"] == sorted(benefits, key=lambda b: b["id"])

    created = [
        await api.post("/v1/webhook-endpoints", {"url": f"https://example.test/hooks/{i}"})
        for i in range(3)
    ]
    assert all(endpoint["secret"].startswith("whsec_") for endpoint in created)
    assert await _all(api, "/v1/webhook-endpoints") == _newest_first(*created)[::-1]
    listed = (await api.get("/v1/webhook-endpoints"))["data"]
    in_order = sorted(created, key=lambda endpoint: endpoint["id"])
    assert listed == [{k: v for k, v in e.items() if k != "secret"} for e in in_order]


async def test_checkouts_newest_first_by_status(api: Api, clock: FixedClock) -> None:
    price_id = await api.price()
    company = await api.company()
    stale = await api.checkout(price_id, 1, customer_email="early@buyer.test")
    clock.advance(timedelta(hours=25))  # the first one expires unread
    done = await api.buy(price_id, company["id"], 2)
    declined = await api.checkout(price_id, 3, company_id=company["id"])
    failed = await api.call(
        "POST",
        f"/v1/checkouts/{declined['id']}/confirm",
        json={"payment_method": "pm_card_declined"},
    )
    problem(failed, 402, "payment_failed")
    fresh = await api.checkout(price_id, 4, customer_email="late@buyer.test")

    everything = _newest_first(fresh, declined, done, stale)
    assert await _all(api, "/v1/checkouts") == everything
    assert await _all(api, "/v1/checkouts?status=open") == _newest_first(fresh, declined)
    assert await _all(api, "/v1/checkouts?status=completed") == [done["id"]]
    assert await _all(api, "/v1/checkouts?status=expired") == [stale["id"]]
    [expired] = (await api.get("/v1/checkouts?status=expired"))["data"]
    assert expired["status"] == "expired"
    problem(await api.call("GET", "/v1/checkouts?status=paid"), 422, "validation_error", "status")


async def test_every_subscription_order_and_invoice_newest_first(api: Api) -> None:
    monthly = await api.price()
    once = await api.price(**ONE_TIME)
    acme = await api.company("boss@acme.test", "Acme")
    globex = await api.company("boss@globex.test", "Globex")
    bought: list[dict[str, Any]] = [
        await api.buy(monthly, acme["id"]),
        await api.buy(once, globex["id"]),
        await api.buy(monthly, globex["id"]),
        await api.buy(once, acme["id"]),
    ]
    owner_scoped = await api.checkout(monthly, 2, customer_email="first@later.test")
    bought.append(
        await api.post(
            f"/v1/checkouts/{owner_scoped['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
        )
    )
    subscriptions = [b["subscription_id"] for b in bought if b["subscription_id"]]
    orders = [b["order_id"] for b in bought if b["order_id"]]
    assert await _all(api, "/v1/subscriptions") == sorted(subscriptions, reverse=True)
    assert await _all(api, "/v1/orders") == sorted(orders, reverse=True)
    invoices = await _all(api, "/v1/invoices")
    assert len(invoices) == 5
    assert invoices == sorted(invoices, reverse=True)
    # With a filter, a company's own list, oldest first, as before.
    acme_subscriptions = await _all(api, f"/v1/subscriptions?company_id={acme['id']}")
    assert acme_subscriptions == [bought[0]["subscription_id"]]
    acme_invoices = await _all(api, f"/v1/invoices?company_id={acme['id']}")
    assert acme_invoices == sorted(set(invoices) & set(acme_invoices))
    assert len(acme_invoices) == 2
    problem(
        await api.call("GET", f"/v1/invoices?company_id={acme['id']}&order_id={orders[0]}"),
        422,
        "validation_error",
        "company_id",
    )


async def test_list_pages_are_bounded_and_cursors_checked(api: Api) -> None:
    for path in ("/v1/companies", "/v1/benefits", "/v1/checkouts", "/v1/webhook-endpoints"):
        problem(await api.call("GET", f"{path}?limit=0"), 422, "validation_error", "limit")
        problem(await api.call("GET", f"{path}?limit=101"), 422, "validation_error", "limit")
        problem(await api.call("GET", f"{path}?cursor=nope"), 422, "validation_error", "cursor")
        assert (await api.get(f"{path}?limit=100"))["data"] == []
