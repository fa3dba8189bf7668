"""The billing manager's portal pages over the ASGI app, on each database: what they show, who
may see them, and that bad input and forged posts change nothing."""

from __future__ import annotations

from fastapi import FastAPI

from tests.e2e.api import Api, row_counts
from tests.e2e.portal import Shop, Visitor


async def test_the_home_shows_the_company_its_pools_credit_and_invoices(
    manager: Visitor, acme: Shop
) -> None:
    page = await manager.get("/portal/manage")
    assert page.status_code == 200
    html = page.text
    assert "Acme" in html
    assert "Team plan (monthly)" in html
    assert f'/portal/subscriptions/{acme.subscription_id}"' in html
    assert f'/portal/orders/{acme.order_id}"' in html
    assert acme.other_subscription_id not in html
    assert "INV-000001" in html
    assert "$50.00" in html
    assert "No credit." in html


async def test_a_pool_page_lists_its_seats_with_their_status(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    pool = {"subscription_id": acme.subscription_id}
    await api.assign(pool, "ann@acme.test")
    claimed = await api.assign(pool, "bob@acme.test", immediate_claim=True)
    revoked = await api.assign(pool, "cy@acme.test")
    await api.call("DELETE", f"/v1/seats/{revoked['id']}", 200)
    html = (await manager.get(f"/portal/subscriptions/{acme.subscription_id}")).text
    assert "ann@acme.test" in html
    assert "Pending" in html
    assert "bob@acme.test" in html
    assert "Claimed" in html
    assert "cy@acme.test" in html
    assert "Revoked" in html
    assert '<dd id="seats-bought">5</dd>' in html
    assert '<dd id="seats-assigned">2</dd>' in html
    assert '<dd id="seats-available">3</dd>' in html
    assert f"/portal/seats/{claimed['id']}/revoke" in html
    assert "sandbox test card <code>pm_card_ok</code>" in html


async def test_inviting_a_list_invites_each_address_once(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    emails = "dee@acme.test,\n\nDEE@acme.test eve@acme.test"
    answer = await manager.post(f"/portal/orders/{acme.order_id}/invite", {"emails": emails})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/portal/orders/{acme.order_id}"
    listed = await api.get(f"/v1/seats?order_id={acme.order_id}")
    assert sorted(seat["email"] for seat in listed["data"]) == ["dee@acme.test", "eve@acme.test"]
    html = (await manager.get(answer.headers["location"])).text
    assert "Invited 2: dee@acme.test, eve@acme.test." in html
    again = (await manager.get(answer.headers["location"])).text
    assert "Invited 2" not in again  # shown once


async def test_a_list_with_a_bad_address_or_too_many_invites_nobody(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/orders/{acme.order_id}/invite"
    before = await row_counts(api.runtime)
    # The order has 2 seats: three addresses are too many; nobody is invited.
    full = await manager.post(path, {"emails": "dee@acme.test eve@acme.test fay@acme.test"})
    assert full.status_code == 409
    assert "2 of 2 seats are free, for 3 addresses" in full.text
    assert ">dee@acme.test eve@acme.test fay@acme.test</textarea>" in full.text
    # Each address that is not one is named; the good ones wait with the list.
    typed = "dee@acme.test\nnot-an-address\n@acme.test"
    bad = await manager.post(path, {"emails": typed})
    assert bad.status_code == 422
    assert "<li>&#39;not-an-address&#39; is not an email address</li>" in bad.text
    assert "<li>&#39;@acme.test&#39; is not an email address</li>" in bad.text
    assert "correct or remove these 2 addresses" in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert await row_counts(api.runtime) == before
    # Once invited, the same list sent again (a resubmitted form) is refused, not repeated.
    done = await manager.post(path, {"emails": "dee@acme.test"})
    assert done.status_code == 303
    twice = await manager.post(path, {"emails": "dee@acme.test"})
    assert twice.status_code == 409
    assert "<li>dee@acme.test already holds a seat of this order</li>" in twice.text
    listed = await api.get(f"/v1/seats?order_id={acme.order_id}")
    assert [seat["email"] for seat in listed["data"]] == ["dee@acme.test"]


async def test_an_empty_or_bad_invitation_is_shown_on_the_form(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/subscriptions/{acme.subscription_id}/invite"
    empty = await manager.post(path, {"emails": " ,\n "})
    assert empty.status_code == 422
    assert 'aria-invalid="true"' in empty.text
    assert "Give at least one email address" in empty.text
    bad = await manager.post(path, {"emails": "not-an-address"})
    assert bad.status_code == 422
    assert "<li>&#39;not-an-address&#39; is not an email address</li>" in bad.text
    listed = await api.get(f"/v1/seats?subscription_id={acme.subscription_id}")
    assert listed["data"] == []


async def test_resend_gives_a_new_link_and_the_old_one_stops_working(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    seat = await api.assign({"subscription_id": acme.subscription_id}, "ann@acme.test")
    old = seat["invitation"]["token"]
    answer = await manager.post(f"/portal/seats/{seat['id']}/resend")
    assert answer.status_code == 303
    assert (
        "A new invitation was sent to ann@acme.test"
        in (await manager.get(answer.headers["location"])).text
    )
    await api.call("GET", f"/v1/claims/{old}", 400)
    claimed = await api.assign(
        {"subscription_id": acme.subscription_id}, "bob@acme.test", immediate_claim=True
    )
    refused = await manager.post(f"/portal/seats/{claimed['id']}/resend")
    assert refused.status_code == 409
    assert "bob@acme.test:" in refused.text
    assert 'role="alert"' in refused.text


async def test_revoke_asks_first_then_frees_the_seat(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    seat = await api.assign({"subscription_id": acme.subscription_id}, "ann@acme.test")
    before = await row_counts(api.runtime)
    confirm = await manager.get(f"/portal/seats/{seat['id']}/revoke")
    assert confirm.status_code == 200
    assert "Revoke the seat of ann@acme.test?" in confirm.text
    assert await row_counts(api.runtime) == before
    assert (await api.get(f"/v1/seats/{seat['id']}"))["status"] == "pending"
    done = await manager.post(f"/portal/seats/{seat['id']}/revoke")
    assert done.status_code == 303
    assert (await api.get(f"/v1/seats/{seat['id']}"))["status"] == "revoked"
    again = await manager.post(f"/portal/seats/{seat['id']}/revoke")
    assert again.status_code == 303
    assert "already revoked" in (await manager.get(again.headers["location"])).text


async def test_an_invoice_downloads_as_pdf_for_its_billing_manager_only(
    app: FastAPI, api: Api, manager: Visitor, acme: Shop
) -> None:
    invoices = await api.get(f"/v1/invoices?subscription_id={acme.subscription_id}")
    invoice_id = invoices["data"][0]["id"]
    path = f"/portal/invoices/{invoice_id}/pdf"
    answer = await manager.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert 'filename="INV-000001.pdf"' in answer.headers["content-disposition"]
    member = Visitor(app, acme.member_token)
    stranger = Visitor(app, acme.other_token)
    try:
        assert (await member.get(path)).status_code == 403
        assert (await stranger.get(path)).status_code == 404
    finally:
        await member.aclose()
        await stranger.aclose()
