"""True-up over HTTP: the product's defaults, a change's preview and answer, the renewal and the
quarterly invoices the sandbox clock bills on its way, the refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from seatledger.pricing import div_round_half_even
from tests.e2e.api import PRICE, Api, problem
from tests.e2e.portal import Shop, Visitor
from tests.e2e.test_portal_manager_changes import expected_rows, preview_rows

YEARLY: dict[str, Any] = {
    **PRICE,
    "interval": "year",
    "tiers": [{"up_to": None, "unit_amount": 12000}],
}


def held(amount: int, start: datetime, end: datetime, period: tuple[datetime, datetime]) -> int:
    share = Fraction(
        int((end - start).total_seconds()), int((period[1] - period[0]).total_seconds())
    )
    exact = amount * share
    return div_round_half_even(exact.numerator, exact.denominator)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def subscribe(api: Api, price: dict[str, Any], seats: int, **defaults: Any) -> str:
    product = await api.post(
        "/v1/products",
        {
            "name": "Team plan",
            "prices": [price],
            "proration_defaults": {"increase": "true_up", **defaults},
        },
    )
    assert product["proration_defaults"] == {
        "increase": "true_up",
        "decrease": "next_period",
        "true_up_interval": defaults.get("true_up_interval"),
    }
    company = await api.company()
    done = await api.buy(product["prices"][0]["id"], company["id"], seats)
    return str(done["subscription_id"])


async def move(api: Api, now: str) -> list[str]:
    moved = await api.post("/v1/sandbox/clock", {"now": now}, 200)
    return list(moved["renewed"])


async def patch(api: Api, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.call("PATCH", f"/v1/subscriptions/{subscription_id}", 200, json=body)
    answer: dict[str, Any] = response.json()
    return answer


async def invoices(api: Api, subscription_id: str) -> list[dict[str, Any]]:
    page = await api.get(f"/v1/invoices?subscription_id={subscription_id}&limit=100")
    return sorted(page["data"], key=lambda i: i["number"])


def lines(invoice: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    return [
        (x["description"], x["quantity"], x["unit_amount"], x["amount"]) for x in invoice["lines"]
    ]


JANUARY = (utc(2027, 1, 1), utc(2027, 2, 1))


async def test_3_6_4_7_is_billed_at_the_peak_on_the_renewal(api: Api) -> None:
    sub_id = await subscribe(api, PRICE, 3)
    await move(api, "2027-01-16T12:00:00Z")
    preview = await api.post(f"/v1/subscriptions/{sub_id}/preview", {"seats": 6}, 200)
    assert (preview["proration_behavior"], preview["invoice_now"], preview["amount_due_now"]) == (
        "true_up",
        False,
        0,
    )
    assert [(x["description"], x["quantity"], x["amount"]) for x in preview["lines"]] == [
        ("Seats 3 → 6, Jan 16 – Feb 1", 3, 1500)
    ]
    assert (await patch(api, sub_id, {"seats": 6}))["seats"] == 6
    await move(api, "2027-01-20T00:00:00Z")
    down = await patch(api, sub_id, {"seats": 4})
    assert (down["seats"], down["pending_change"]["seats"]) == (6, 4)
    await move(api, "2027-01-24T00:00:00Z")
    up = await patch(api, sub_id, {"seats": 7})
    assert (up["seats"], up["pending_change"]) == (7, None)
    assert len(await invoices(api, sub_id)) == 1  # nothing billed at the changes

    assert await move(api, "2027-02-01T00:00:00Z") == [sub_id]
    renewal = (await invoices(api, sub_id))[-1]
    first = held(3000, utc(2027, 1, 16, 12), JANUARY[1], JANUARY)
    second = held(1000, utc(2027, 1, 24), JANUARY[1], JANUARY)
    assert lines(renewal) == [
        ("Seats 1–7 (tier 1)", 7, 1000, 7000),
        ("Seats 3 → 6, Jan 16 – Feb 1", 3, 500, first),
        ("Seats 6 → 7, Jan 24 – Feb 1", 1, 258, second),
    ]
    assert (renewal["total"], renewal["status"]) == (8758, "paid")


async def test_annual_true_up_is_invoiced_each_quarter_the_clock_crosses(api: Api) -> None:
    sub_id = await subscribe(api, YEARLY, 5, true_up_interval="quarter")
    year = (utc(2027, 1, 1), utc(2028, 1, 1))
    await move(api, "2027-02-15T00:00:00Z")
    await patch(api, sub_id, {"seats": 8})
    await move(api, "2027-05-01T00:00:00Z")
    await patch(api, sub_id, {"seats": 9})
    await move(api, "2027-05-10T00:00:00Z")
    await patch(api, sub_id, {"seats": 10})
    # One move across two quarter ends: each bills its own quarter, once.
    assert await move(api, "2027-12-31T00:00:00Z") == []
    found = await invoices(api, sub_id)
    q1 = held(3 * 12000, utc(2027, 2, 15), year[1], year)
    q2a = held(12000, utc(2027, 5, 1), year[1], year)
    q2b = held(12000, utc(2027, 5, 10), year[1], year)
    assert [(i["reason"], i["total"], i["period_end"]) for i in found[1:]] == [
        ("subscription_update", q1, "2027-04-01T00:00:00Z"),
        ("subscription_update", q2a + q2b, "2027-07-01T00:00:00Z"),
    ]
    assert lines(found[2]) == [
        ("Seats 8 → 9, May 1, 2027 – Jan 1, 2028", 1, q2a, q2a),
        ("Seats 9 → 10, May 10, 2027 – Jan 1, 2028", 1, q2b, q2b),
    ]
    assert await move(api, "2028-01-01T00:00:00Z") == [sub_id]
    renewal = (await invoices(api, sub_id))[-1]
    assert (renewal["reason"], renewal["total"]) == ("subscription_cycle", 120000)


async def test_cancel_now_bills_the_true_up_to_now(api: Api) -> None:
    sub_id = await subscribe(api, PRICE, 3)
    await move(api, "2027-01-16T12:00:00Z")
    await patch(api, sub_id, {"seats": 6})
    await move(api, "2027-01-24T00:00:00Z")
    await api.post(f"/v1/subscriptions/{sub_id}/cancel", {"at_period_end": False}, 200)
    final = (await invoices(api, sub_id))[-1]
    assert final["reason"] == "subscription_cancel"
    assert lines(final) == [("Seats 3 → 6, Jan 16 – Jan 24", 3, 242, 726)]


async def test_refusals_name_their_field(api: Api) -> None:
    cases: list[tuple[dict[str, Any], list[dict[str, Any]], str]] = [
        ({"increase": "true_up", "decrease": "prorate"}, [PRICE], "proration_defaults.decrease"),
        (
            {"increase": "true_up", "true_up_interval": "quarter"},
            [PRICE],
            "proration_defaults.true_up_interval",
        ),
        (
            {"increase": "invoice", "true_up_interval": "quarter"},
            [YEARLY],
            "proration_defaults.true_up_interval",
        ),
        ({"true_up_interval": "month"}, [YEARLY], "proration_defaults.true_up_interval"),
        ({"decrease": "true_up"}, [PRICE], "proration_defaults.decrease"),
    ]
    for defaults, prices, field in cases:
        response = await api.call(
            "POST",
            "/v1/products",
            json={"name": "Team plan", "prices": prices, "proration_defaults": defaults},
        )
        problem(response, 422, "validation_error", field)

    sub_id = await subscribe(api, PRICE, 3)
    other = await api.price()
    response = await api.call(
        "PATCH",
        f"/v1/subscriptions/{sub_id}",
        json={"price_id": other, "proration_behavior": "true_up"},
    )
    problem(response, 422, "validation_error", "proration_behavior")


async def test_the_portal_preview_says_a_true_up_is_billed_later(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/subscriptions/{acme.subscription_id}"
    api_preview = await api.post(
        f"/v1/subscriptions/{acme.subscription_id}/preview",
        {"seats": 8, "proration_behavior": "true_up"},
        200,
    )
    assert api_preview["proration_behavior"] == "true_up"
    page = await manager.get(f"{path}/change?seats=8&proration_behavior=true_up")
    assert page.status_code == 200
    assert "Billed later (true-up), for the time the seats are held" in page.text
    assert preview_rows(page.text) == expected_rows(api_preview)
