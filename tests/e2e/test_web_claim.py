"""The claim page and the seat holder's portal, without a browser (SPEC §5, §11): looking is
read-only, the button claims and signs the holder in, dead links get a plain page, and the
portal's token leaves the address at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from seatledger.domain.clock import FixedClock
from tests.e2e.api import Api, row_counts
from tests.e2e.web_forms import csrf_token, post_form


async def _invitation(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A seat of a product with a license key and a file, assigned to ann: (seat, company)."""
    key = await api.post(
        "/v1/benefits",
        {
            "type": "license_key",
            "description": "Desktop app license",
            "properties": {"prefix": "TEAM"},
        },
    )
    upload = await api.call(
        "POST",
        "/v1/files",
        201,
        files={"file": ("handbook.pdf", b"%PDF-1.4 handbook", "application/pdf")},
    )
    handbook = await api.post(
        "/v1/benefits",
        {
            "type": "file_download",
            "description": "The team handbook",
            "properties": {"file_id": upload.json()["id"]},
        },
    )
    product = await api.product({"benefit_ids": [key["id"], handbook["id"]]})
    company = await api.company(name="Acme & Co")
    done = await api.buy(product["prices"][0]["id"], company["id"])
    seat = await api.assign({"subscription_id": done["subscription_id"]}, "ann@acme.test")
    return seat, company


async def _seat(api: Api, seat_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get(f"/v1/seats/{seat_id}")
    return found


async def test_looking_changes_nothing(api: Api, client: httpx.AsyncClient) -> None:
    seat, _ = await _invitation(api)
    path = f"/claim/{seat['invitation']['token']}"
    assert seat["invitation"]["url"].endswith(path)
    before = await row_counts(api.runtime)
    for _ in range(2):  # a mail scanner, then the person
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        for text in (
            "Acme &amp; Co",
            "Team plan",
            "ann@acme.test",
            "boss@acme.test",
            "Claim my seat",
        ):
            assert text in page.text
    assert await row_counts(api.runtime) == before
    assert (await _seat(api, seat["id"]))["status"] == "pending"
    looked = await api.get(f"/v1/claims/{seat['invitation']['token']}")
    assert looked["seat"]["status"] == "pending"  # the token still works


async def test_a_claim_without_the_csrf_token_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    seat, _ = await _invitation(api)
    path = f"/claim/{seat['invitation']['token']}"
    await client.get(path)
    before = await row_counts(api.runtime)
    assert (await client.post(path)).status_code == 403
    assert (await client.post(path, data={"csrf_token": "x"})).status_code == 403
    assert await row_counts(api.runtime) == before
    assert (await _seat(api, seat["id"]))["status"] == "pending"


async def test_claiming_lands_the_holder_on_their_seats(
    api: Api, client: httpx.AsyncClient
) -> None:
    seat, _ = await _invitation(api)
    path = f"/claim/{seat['invitation']['token']}"
    claimed = await post_form(client, path, path, {})
    assert claimed.status_code == 303
    assert claimed.headers["location"] == "/portal/seats"
    assert claimed.headers["set-cookie"].startswith("sl_portal=cs_")
    assert (await _seat(api, seat["id"]))["status"] == "claimed"
    before = await row_counts(api.runtime)
    page = await client.get("/portal/seats")
    assert page.status_code == 200
    assert await row_counts(api.runtime) == before  # reading one's seats changes nothing
    assert "Your seats at Acme &amp; Co" in page.text
    assert "Desktop app license" in page.text
    assert "License key: <code" in page.text
    assert ">TEAM-" in page.text
    assert "Copy the license key" in page.text
    assert "Download handbook.pdf" in page.text
    link = page.text.split('<a href="')[-1].split('"')[0].replace("&amp;", "&")
    address = httpx.URL(link)
    assert address.path.startswith("/v1/files/")
    assert "signature" in address.params
    download = await client.get(address.raw_path.decode())
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 handbook"
    # The link is spent: the same page for a used token, and nothing changes.
    before = await row_counts(api.runtime)
    again = await client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 400
    assert "does not work" in again.text
    assert (await client.get(path)).status_code == 400
    assert await row_counts(api.runtime) == before


@pytest.mark.parametrize("token", ["nope", "x" * 300, "%00", "%C3%A9t%C3%A9", "a%2Fb", "a.b", " "])
async def test_an_unknown_token_gets_a_plain_page(client: httpx.AsyncClient, token: str) -> None:
    page = await client.get(f"/claim/{token}")
    assert page.status_code in (400, 404), token
    if page.status_code == 400:
        assert "does not work" in page.text
        posted = await client.post(f"/claim/{token}", data={"csrf_token": csrf_token(page.text)})
        assert posted.status_code == 400


async def test_expired_and_revoked_tokens_get_the_plain_page(
    api: Api, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    seat, _ = await _invitation(api)
    revoked = await api.assign({"subscription_id": seat["subscription_id"]}, "ben@acme.test")
    await api.call("DELETE", f"/v1/seats/{revoked['id']}", 200)
    assert (await client.get(f"/claim/{revoked['invitation']['token']}")).status_code == 400
    clock.advance(timedelta(days=8))
    assert (await client.get(f"/claim/{seat['invitation']['token']}")).status_code == 400


async def test_the_portal_link_is_exchanged_for_a_cookie(
    api: Api, client: httpx.AsyncClient, app: FastAPI
) -> None:
    seat, _ = await _invitation(api)
    path = f"/claim/{seat['invitation']['token']}"
    await post_form(client, path, path, {})
    session = await api.post(
        "/v1/customer-sessions", {"member_id": (await _seat(api, seat["id"]))["member_id"]}
    )
    assert session["portal_url"].endswith(f"/portal?session={quote(session['token'], safe='')}")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as fresh:
        entered = await fresh.get(f"/portal?session={session['token']}")
        assert entered.status_code == 303
        assert entered.headers["location"] == "/portal"  # the token is gone from the address
        assert entered.headers["referrer-policy"] == "no-referrer"
        cookie = entered.headers["set-cookie"]
        assert cookie.startswith(f"sl_portal={session['token']};")
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # plain HTTP on the loopback
        member = await fresh.get("/portal")
        assert member.status_code == 303
        assert member.headers["location"] == "/portal/seats"
        assert (await fresh.get("/portal/seats")).status_code == 200


@pytest.mark.parametrize("token", ["cs_unknown", "", "sl_not_a_session", "cs_" + "x" * 500])
async def test_a_dead_portal_link_gets_the_signed_out_page(
    client: httpx.AsyncClient, token: str
) -> None:
    page = await client.get("/portal", params={"session": token})
    assert page.status_code == 401
    assert "sl_portal" not in page.headers.get("set-cookie", "")
    assert "portal link has expired" in page.text


async def test_an_expired_session_is_signed_out(
    api: Api, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    seat, _ = await _invitation(api)
    path = f"/claim/{seat['invitation']['token']}"
    await post_form(client, path, path, {})
    assert (await client.get("/portal/seats")).status_code == 200
    clock.advance(timedelta(hours=25))
    assert (await client.get("/portal/seats")).status_code == 401
    assert (await client.get("/portal")).status_code == 401


async def test_without_a_cookie_the_portal_says_how_to_get_in(client: httpx.AsyncClient) -> None:
    for path in ("/portal", "/portal/seats"):
        page = await client.get(path)
        assert page.status_code == 401
        assert "Portal links work for a limited time" in page.text


async def test_the_billing_manager_goes_to_the_managers_pages(
    api: Api, client: httpx.AsyncClient
) -> None:
    _, company = await _invitation(api)
    token = await api.session(company["billing_manager_member_id"])
    await client.get(f"/portal?session={token}")
    answer = await client.get("/portal")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/manage"
    mine = await client.get("/portal/seats")  # a manager holding no seat
    assert mine.status_code == 200
    assert "You hold no seat at Acme &amp; Co yet" in mine.text


async def test_wrong_methods_on_the_pages_are_405_with_allow(client: httpx.AsyncClient) -> None:
    for method, path, allow in (
        ("PUT", "/checkout/chk_x", "GET"),
        ("GET", "/checkout/chk_x/pay", "POST"),
        ("DELETE", "/claim/abc", "GET, POST"),
        ("POST", "/portal", "GET"),
        ("POST", "/portal/seats", "GET"),
        ("POST", "/", "GET"),
    ):
        answer = await client.request(method, path)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allow, (method, path)
