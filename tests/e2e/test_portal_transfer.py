"""The manager's portal transfers a seat through the same service as the API
(``POST /portal/seats/{id}/transfer``)."""

from __future__ import annotations

from tests.e2e.api import Api, row_counts
from tests.e2e.portal import Shop, Visitor


async def test_a_transfer_asks_for_the_new_holder_then_moves_the_seat(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    pool = {"subscription_id": acme.subscription_id}
    seat = await api.assign(pool, "kim@acme.test", immediate_claim=True)
    listed = await manager.get(f"/portal/subscriptions/{acme.subscription_id}")
    assert f"/portal/seats/{seat['id']}/transfer" in listed.text
    before = await row_counts(api.runtime)
    form = await manager.get(f"/portal/seats/{seat['id']}/transfer")
    assert form.status_code == 200
    assert "Transfer the seat of kim@acme.test" in form.text
    assert '<label for="email">' in form.text
    assert await row_counts(api.runtime) == before

    done = await manager.post(f"/portal/seats/{seat['id']}/transfer", {"email": "Lee@acme.test"})
    assert done.status_code == 303
    landed = await manager.get(done.headers["location"])
    assert "now belongs to lee@acme.test" in landed.text
    assert (await api.get(f"/v1/seats/{seat['id']}"))["status"] == "revoked"
    seats = await api.get(f"/v1/seats?subscription_id={acme.subscription_id}")
    assert [(s["email"], s["status"]) for s in seats["data"]] == [("lee@acme.test", "pending")]


async def test_a_refused_transfer_shows_the_form_again_and_changes_nothing(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    pool = {"subscription_id": acme.subscription_id}
    seat = await api.assign(pool, "kim@acme.test")
    await api.assign(pool, "lee@acme.test")
    before = await row_counts(api.runtime)
    taken = await manager.post(f"/portal/seats/{seat['id']}/transfer", {"email": "lee@acme.test"})
    assert taken.status_code == 409
    assert 'role="alert"' in taken.text or "aria-invalid" in taken.text
    assert 'value="lee@acme.test"' in taken.text
    bad = await manager.post(f"/portal/seats/{seat['id']}/transfer", {"email": "nope"})
    assert bad.status_code == 422
    assert await row_counts(api.runtime) == before
