"""Who may use the manager's portal: the API's rules (a plain member 403, another company's
objects 404, no session 401), forms refused without their CSRF token, GETs that change nothing,
and no input that makes a page answer 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.e2e.api import Api, row_counts
from tests.e2e.portal import Shop, Visitor


async def _pages(api: Api, acme: Shop) -> list[str]:
    """Every GET page of the manager's portal, for this acme's objects."""
    seat = await api.assign({"subscription_id": acme.subscription_id}, "ann@acme.test")
    invoices = await api.get(f"/v1/invoices?subscription_id={acme.subscription_id}")
    sub = f"/portal/subscriptions/{acme.subscription_id}"
    return [
        "/portal/manage",
        "/portal/invoices",
        f"/portal/invoices/{invoices['data'][0]['id']}",
        sub,
        f"{sub}/change?seats=8",
        f"{sub}/change?price_id={acme.yearly_price_id}",
        f"{sub}/cancel?when=now",
        f"{sub}/cancel?when=period_end",
        f"/portal/orders/{acme.order_id}",
        f"/portal/seats/{seat['id']}/transfer",
        f"/portal/seats/{seat['id']}/revoke",
    ]


async def test_the_manager_gets_every_page_and_no_get_changes_anything(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    pages = await _pages(api, acme)
    before = await row_counts(api.runtime)
    for path in pages:
        answer = await manager.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html"), path
    assert await row_counts(api.runtime) == before


async def test_a_plain_member_gets_403_pages_and_another_companys_objects_404(
    app: FastAPI, api: Api, acme: Shop
) -> None:
    pages = await _pages(api, acme)
    member = Visitor(app, acme.member_token)
    try:
        for path in pages:
            answer = await member.get(path)
            assert answer.status_code == 403, path
            assert "billing manager" in answer.text
        other = f"/portal/subscriptions/{acme.other_subscription_id}"
        assert (await member.get(other)).status_code == 404
        posted = await member.post(
            f"/portal/subscriptions/{acme.subscription_id}/invite", {"emails": "x@acme.test"}
        )
        assert posted.status_code == 403
    finally:
        await member.aclose()
    listed = await api.get(f"/v1/seats?subscription_id={acme.subscription_id}")
    assert [seat["email"] for seat in listed["data"]] == ["ann@acme.test"]


async def test_another_companys_manager_finds_nothing_of_ours(
    app: FastAPI, api: Api, acme: Shop
) -> None:
    pages = await _pages(api, acme)
    stranger = Visitor(app, acme.other_token)
    try:
        for path in pages[2:]:  # the home and the list are the stranger's own
            answer = await stranger.get(path)
            assert answer.status_code == 404, path
            assert "belongs to another company" in answer.text
        own = (await stranger.get("/portal/manage")).text
        assert "Globex" in own
        assert acme.subscription_id not in own
        before = await row_counts(api.runtime)
        sub = f"/portal/subscriptions/{acme.subscription_id}"
        for path, data in [
            (f"{sub}/invite", {"emails": "x@globex.test"}),
            (f"{sub}/change", {"seats": "9"}),
            (f"{sub}/cancel", {"when": "now"}),
            (f"{sub}/resume", {}),
            (f"/portal/orders/{acme.order_id}/buy", {"seats": "3"}),
            (pages[-1].removesuffix("/revoke") + "/resend", {}),
            (pages[-2], {"email": "x@acme.test"}),
            (pages[-1], {}),
        ]:
            answer = await stranger.post(path, data)
            assert answer.status_code == 404, path
        assert await row_counts(api.runtime) == before
    finally:
        await stranger.aclose()


async def test_without_a_session_the_pages_say_the_link_expired(
    app: FastAPI, api: Api, acme: Shop
) -> None:
    nobody = Visitor(app, None)
    try:
        for path in await _pages(api, acme):
            assert (await nobody.get(path)).status_code == 401, path
    finally:
        await nobody.aclose()


@pytest.mark.parametrize("token", ["", "forged", None])
async def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    api: Api, manager: Visitor, acme: Shop, token: str | None
) -> None:
    pages = await _pages(api, acme)
    sub = f"/portal/subscriptions/{acme.subscription_id}"
    before = await row_counts(api.runtime)
    for path, data in [
        (f"{sub}/invite", {"emails": "x@acme.test"}),
        (f"{sub}/change", {"seats": "9"}),
        (f"{sub}/cancel", {"when": "now"}),
        (f"{sub}/resume", {}),
        (f"/portal/orders/{acme.order_id}/buy", {"seats": "3"}),
        (pages[-1].removesuffix("/revoke") + "/resend", {}),
        (pages[-2], {"email": "x@acme.test"}),
        (pages[-1], {}),
    ]:
        await manager.csrf()  # the visitor has its CSRF cookie; the form lacks the token
        body = data if token is None else {**data, "csrf_token": token}
        answer = await manager.client.post(path, data=body)
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
    assert await row_counts(api.runtime) == before


@pytest.mark.parametrize(
    "path",
    [
        "/portal/subscriptions/sub_" + "z" * 26,
        "/portal/subscriptions/" + "x" * 5000,
        "/portal/orders/%00",
        "/portal/invoices/inv_%E2%80%AE",
        "/portal/seats/seat_00000000000000000000000000/revoke",
        "/portal/invoices?cursor=%00",
        "/portal/invoices?cursor=" + "z" * 3000,
        "/portal/subscriptions/{sub}?cursor=%00%27",
        "/portal/subscriptions/{sub}/cancel?when=%00",
        "/portal/subscriptions/{sub}/change?seats=%00&price_id=%27",
    ],
)
async def test_malformed_addresses_get_pages_not_500(
    manager: Visitor, acme: Shop, path: str
) -> None:
    answer = await manager.get(path.replace("{sub}", acme.subscription_id))
    assert answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("text/html")


async def test_malformed_forms_get_pages_not_500(api: Api, manager: Visitor, acme: Shop) -> None:
    sub = f"/portal/subscriptions/{acme.subscription_id}"
    token = await manager.csrf()
    before = await row_counts(api.runtime)
    odd = ["", "\x00", "'; drop table seats; --", "é" * 300, "9" * 100, "-1", "1.5", "3 4"]
    for value in odd:
        for path, field in [
            (f"{sub}/invite", "emails"),
            (f"{sub}/change", "seats"),
            (f"{sub}/change", "price_id"),
            (f"{sub}/cancel", "when"),
            (f"/portal/orders/{acme.order_id}/buy", "seats"),
        ]:
            answer = await manager.post(path, {field: value}, token=token)
            assert answer.status_code < 500, (path, field, value, answer.text)
            if answer.status_code != 303:  # a refused invitation is reported after a redirect
                assert answer.headers["content-type"].startswith("text/html")
    assert await row_counts(api.runtime) == before


async def test_a_tampered_notice_is_not_shown(manager: Visitor, acme: Shop) -> None:
    manager.client.cookies.set("sl_notice", "W1siWW91IHdvbiEiLGZhbHNlXV0.0000")
    html = (await manager.get("/portal/manage")).text
    assert "You won!" not in html
