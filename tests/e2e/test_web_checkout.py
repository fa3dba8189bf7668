"""The hosted checkout and its confirmation, without a browser (SPEC §11): the page shows the
API's own quote, changes go through the API's services, bad input gets a page with the error
and changes nothing, and only the browser that paid enters the portal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seatledger.domain.clock import FixedClock
from tests.e2e.api import Api, row_counts
from tests.e2e.web_forms import csrf_token, post_form

VOLUME: dict[str, Any] = {
    "tiers_mode": "volume",
    "tiers": [{"up_to": 5, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
    "maximum_seats": 50,
}


async def _open_checkout(api: Api, seats: int = 3) -> tuple[dict[str, Any], dict[str, Any]]:
    """A checkout of a volume-tiered product with a license key: (checkout, company)."""
    benefit = await api.post(
        "/v1/benefits",
        {"type": "license_key", "description": "Desktop app license", "properties": {}},
    )
    product = await api.product(
        {"description": "For the whole team", "benefit_ids": [benefit["id"]]}, **VOLUME
    )
    company = await api.company()
    checkout = await api.checkout(product["prices"][0]["id"], seats, company_id=company["id"])
    return checkout, company


async def _checkout(api: Api, checkout_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(f"/v1/checkouts/{checkout_id}")
    return found


async def test_the_page_shows_the_product_and_the_quote(
    api: Api, client: httpx.AsyncClient
) -> None:
    checkout, _ = await _open_checkout(api)
    before = await row_counts(api.runtime)
    page = await client.get(f"/checkout/{checkout['id']}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for text in ("Team plan", "For the whole team", "Desktop app license", "$30.00"):
        assert text in page.text
    assert "Seats 1–3 (tier 1)" in page.text
    assert 'min="1" max="50"' in page.text
    assert "pm_card_declined" in page.text
    assert await row_counts(api.runtime) == before  # a GET changes nothing
    assert checkout["url"].endswith(f"/checkout/{checkout['id']}")


async def test_update_total_without_javascript(api: Api, client: httpx.AsyncClient) -> None:
    checkout, _ = await _open_checkout(api)
    page = f"/checkout/{checkout['id']}"
    answer = await post_form(client, page, f"{page}/seats", {"seats": "8"})
    assert answer.status_code == 303
    assert answer.headers["location"] == page
    assert (await _checkout(api, checkout["id"]))["amount_due"] == 6400
    shown = await client.get(page)
    assert "$64.00" in shown.text
    assert "Seats 1–8 (tier 2)" in shown.text


async def test_htmx_gets_the_total_alone(api: Api, client: httpx.AsyncClient) -> None:
    checkout, _ = await _open_checkout(api)
    page = f"/checkout/{checkout['id']}"
    token = csrf_token((await client.get(page)).text)
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    answer = await client.post(f"{page}/seats", data={"seats": "8"}, headers=headers)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith("{#") or answer.text.lstrip().startswith("<div")
    assert '<div id="quote"' in answer.text
    assert "$64.00" in answer.text
    assert "<html" not in answer.text
    refused = await client.post(f"{page}/seats", data={"seats": "51"}, headers=headers)
    assert refused.status_code == 422
    assert "must be at most 50" in refused.text
    assert (await _checkout(api, checkout["id"]))["seats"] == 8


@pytest.mark.parametrize(
    "seats", ["0", "51", "abc", "", "3.5", "-1", "1e3", "٣", "9" * 40, "\x00", " 4 4"]
)
async def test_a_bad_seat_count_is_shown_and_changes_nothing(
    api: Api, client: httpx.AsyncClient, seats: str
) -> None:
    checkout, _ = await _open_checkout(api)
    page = f"/checkout/{checkout['id']}"
    before = await row_counts(api.runtime)
    answer = await post_form(client, page, f"{page}/seats", {"seats": seats})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert 'aria-invalid="true"' in answer.text
    assert "Seats:" in answer.text
    assert await row_counts(api.runtime) == before
    assert (await _checkout(api, checkout["id"]))["seats"] == 3


async def test_a_post_without_the_csrf_token_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    checkout, _ = await _open_checkout(api)
    page = f"/checkout/{checkout['id']}"
    await client.get(page)  # the visitor has the cookie, but the form does not carry the token
    before = await row_counts(api.runtime)
    for action, data in (("seats", {"seats": "8"}), ("pay", {"payment_method": "pm_card_ok"})):
        answer = await client.post(f"{page}/{action}", data=data)
        assert answer.status_code == 403, action
        assert "Nothing was changed" in answer.text
    answer = await client.post(f"{page}/pay", data={"csrf_token": "forged", "seats": "8"})
    assert answer.status_code == 403
    assert await row_counts(api.runtime) == before
    assert (await _checkout(api, checkout["id"]))["status"] == "open"


async def test_a_declined_card_leaves_the_checkout_open(
    api: Api, client: httpx.AsyncClient
) -> None:
    checkout, _ = await _open_checkout(api)
    page = f"/checkout/{checkout['id']}"
    data = {"seats": "3", "payment_method": "pm_card_declined"}
    answer = await post_form(client, page, f"{page}/pay", data)
    assert answer.status_code == 402
    assert "Payment declined" in answer.text
    assert "still open" in answer.text
    assert "sl_portal" not in answer.cookies
    assert (await _checkout(api, checkout["id"]))["status"] == "open"
    unknown = await post_form(client, page, f"{page}/pay", {"payment_method": "pm_nope"})
    assert unknown.status_code == 422
    assert 'aria-invalid="true"' in unknown.text
    missing = await post_form(client, page, f"{page}/pay", {})
    assert missing.status_code == 422


async def _pay(client: httpx.AsyncClient, checkout_id: str, seats: str = "3") -> httpx.Response:
    page = f"/checkout/{checkout_id}"
    data = {"seats": seats, "payment_method": "pm_card_ok"}
    return await post_form(client, page, f"{page}/pay", data)


async def test_paying_lands_the_buyer_in_the_portal(api: Api, client: httpx.AsyncClient) -> None:
    checkout, company = await _open_checkout(api)
    paid = await _pay(client, checkout["id"], seats="4")
    assert paid.status_code == 303
    assert paid.headers["location"] == f"/checkout/{checkout['id']}/done"
    cookie = paid.headers["set-cookie"]
    assert cookie.startswith("sl_portal=cs_")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    found = await _checkout(api, checkout["id"])
    assert (found["status"], found["seats"], found["amount_due"]) == ("completed", 4, 4000)
    done = await client.get(paid.headers["location"])
    assert done.status_code == 200
    assert "Thank you" in done.text
    assert "INV-" in done.text
    assert "$40.00" in done.text
    assert "Invite your team" in done.text
    assert "4 of 4 seats are free" in done.text
    # Paying again, or opening the checkout page again, is a plain page, not a charge.
    assert (await client.get(f"/checkout/{checkout['id']}")).status_code == 200
    again = await client.post(
        f"/checkout/{checkout['id']}/pay",
        data={"csrf_token": csrf_token(done.text), "payment_method": "pm_card_ok"},
    )
    assert again.status_code == 200
    assert "This checkout is paid" in again.text
    invoices = await api.get(f"/v1/invoices?company_id={company['id']}")
    assert len(invoices["data"]) == 1


async def test_a_stranger_sees_the_confirmation_and_no_portal(
    api: Api, client: httpx.AsyncClient, app: FastAPI
) -> None:
    checkout, _ = await _open_checkout(api)
    await _pay(client, checkout["id"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as other:
        done = await other.get(f"/checkout/{checkout['id']}/done")
        assert done.status_code == 200
        assert "Thank you" in done.text
        assert "Invite your team" not in done.text
        before = await row_counts(api.runtime)
        token = csrf_token(done.text)
        answer = await other.post(
            f"/checkout/{checkout['id']}/invite", data={"csrf_token": token, "emails": "x@y.test"}
        )
        assert answer.status_code == 401
        assert await row_counts(api.runtime) == before


async def test_the_invite_form_assigns_seats(api: Api, client: httpx.AsyncClient) -> None:
    checkout, _ = await _open_checkout(api)
    await _pay(client, checkout["id"], seats="5")
    done = f"/checkout/{checkout['id']}/done"
    emails = "Ann@Acme.test, ben@acme.test\ncy@acme.test\n"
    answer = await post_form(client, done, f"/checkout/{checkout['id']}/invite", {"emails": emails})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{done}?invited=3"
    seats = await api.get(
        f"/v1/seats?subscription_id={(await _checkout(api, checkout['id']))['subscription_id']}"
    )
    assert sorted(seat["email"] for seat in seats["data"]) == [
        "ann@acme.test",
        "ben@acme.test",
        "cy@acme.test",
    ]
    assert all(seat["status"] == "pending" for seat in seats["data"])
    shown = await client.get(answer.headers["location"])
    assert "Invitations sent: 3." in shown.text
    assert "cy@acme.test" in shown.text
    # One address already holds a seat: the list is refused whole, that address named, the
    # list kept as typed to fix and send again; nobody else is invited.
    before = await row_counts(api.runtime)
    again = await post_form(
        client,
        done,
        f"/checkout/{checkout['id']}/invite",
        {"emails": "dee@acme.test\nANN@acme.test"},
    )
    assert again.status_code == 409
    assert "Nobody was invited: correct or remove this address" in again.text
    problems = again.text[again.text.index('<ul id="emails-problems"') :].split("</ul>")[0]
    assert "<li>ann@acme.test already holds a seat of this subscription</li>" in problems
    assert "dee@acme.test" not in problems
    assert ">dee@acme.test\nANN@acme.test</textarea>" in again.text  # kept to fix
    assert 'aria-invalid="true"' in again.text
    assert await row_counts(api.runtime) == before
    # The first list sent twice (a resubmitted form) invites nobody twice.
    twice = await post_form(client, done, f"/checkout/{checkout['id']}/invite", {"emails": emails})
    assert twice.status_code == 409
    assert "correct or remove these 3 addresses" in twice.text
    assert await row_counts(api.runtime) == before


@pytest.mark.parametrize(
    ("emails", "status", "text"),
    [
        ("ann@acme.test, not-an-address", 422, "<li>&#39;not-an-address&#39; is not an email"),
        ("no-at-sign\nann@acme.test\nb@", 422, "correct or remove these 2 addresses"),
        ("", 422, "at least one"),
        (" ,\n ", 422, "at least one"),
        ("a@x.test b@x.test c@x.test d@x.test", 409, "3 of 3 seats are free"),
        ("x" * 5000, 422, "is not an email address"),
    ],
)
async def test_a_bad_list_invites_nobody(
    api: Api, client: httpx.AsyncClient, emails: str, status: int, text: str
) -> None:
    checkout, _ = await _open_checkout(api)
    await _pay(client, checkout["id"])
    done = f"/checkout/{checkout['id']}/done"
    before = await row_counts(api.runtime)
    answer = await post_form(client, done, f"/checkout/{checkout['id']}/invite", {"emails": emails})
    assert answer.status_code == status, answer.text
    assert text in answer.text
    assert await row_counts(api.runtime) == before
    if status == 422:
        assert 'aria-invalid="true"' in answer.text


async def test_closed_and_unknown_checkouts_get_plain_pages(
    api: Api, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    for path in (
        "/checkout/chk_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "/checkout/nope",
        "/checkout/%00",
        "/checkout/nope/done",
        "/checkout/" + "x" * 3000,
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert "No such checkout" in answer.text
    checkout, _ = await _open_checkout(api)
    page = f"/checkout/{checkout['id']}"
    token = csrf_token((await client.get(page)).text)
    clock.advance(timedelta(hours=25))
    for answer in (
        await client.get(page),
        await client.get(f"{page}/done"),
        await client.post(
            f"{page}/pay", data={"csrf_token": token, "payment_method": "pm_card_ok"}
        ),
        await client.post(f"{page}/seats", data={"csrf_token": token, "seats": "4"}),
    ):
        assert answer.status_code == 410
        assert "expired" in answer.text


async def test_an_open_checkout_has_no_confirmation_yet(
    api: Api, client: httpx.AsyncClient
) -> None:
    checkout, _ = await _open_checkout(api)
    answer = await client.get(f"/checkout/{checkout['id']}/done")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/checkout/{checkout['id']}"


async def test_inviting_without_the_csrf_token_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    checkout, _ = await _open_checkout(api)
    await _pay(client, checkout["id"])
    before = await row_counts(api.runtime)
    answer = await client.post(f"/checkout/{checkout['id']}/invite", data={"emails": "a@x.test"})
    assert answer.status_code == 403
    assert await row_counts(api.runtime) == before
