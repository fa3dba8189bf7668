"""Webhook endpoints from the dashboard (SPEC §10, §11): added with the signing secret shown
once (the one that then signs), edited (url, events, enabled) and deleted after asking, through
the services the API uses, so the API sees each change; refused input is shown on the form
with the API's messages and status, and changes nothing."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, row_counts
from tests.e2e.dashboard import Dashboard, new_user
from tests.e2e.webhooks import dispatch_undelivered, emit, receiver


@pytest.fixture
async def board(client: httpx.AsyncClient, runtime: Runtime) -> Dashboard:
    signed_in = Dashboard(client)
    await signed_in.login(await new_user(runtime))
    return signed_in


def _secret(page: str) -> str:
    found = re.search(r'<input id="secret" readonly value="([^"]+)"', page)
    assert found is not None, page[:3000]
    return unescape(found.group(1))


async def test_an_endpoint_added_in_the_dashboard_is_signed_with_the_secret_shown_once(
    board: Dashboard, api: Api, runtime: Runtime
) -> None:
    async with receiver() as hook:
        await board.get("/dashboard/webhooks")
        added = await board.post(
            "/dashboard/webhooks",
            [
                ("url", hook.url()),
                ("event_types", "seat.claimed"),
                ("event_types", "seat.revoked"),
                ("description", "the CRM"),
            ],
            201,
        )
        assert added.headers["cache-control"] == "no-store"
        secret = _secret(added.text)
        assert secret.startswith("whsec_")
        (endpoint,) = (await api.get("/v1/webhook-endpoints"))["data"]
        assert endpoint["url"] == hook.url()
        assert endpoint["event_types"] == ["seat.claimed", "seat.revoked"]
        assert endpoint["description"] == "the CRM"
        assert endpoint["enabled"] is True
        assert "secret" not in endpoint
        # Shown once: neither the list nor the endpoint's page carries it again.
        for path in ("/dashboard/webhooks", f"/dashboard/webhooks/{endpoint['id']}"):
            assert secret not in (await board.get(path)).text
        await emit(runtime, "seat.claimed")
        await emit(runtime, "seat.assigned")  # not an event it hears
        await dispatch_undelivered(runtime)
        from seatledger.services.webhook_deliveries import send_due

        await send_due(runtime)
    (received,) = hook.received
    assert received.verify(secret)["type"] == "seat.claimed"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ([("url", "ftp://hooks.example/x"), ("event_types", "*")], "url", "https://"),
        ([("url", ""), ("event_types", "*")], "url", "must be a URL"),
        ([("url", "https://hooks.example/x")], "event_types", "must be a list of 1 to"),
        (
            [("url", "https://hooks.example/x"), ("event_types", "seat.exploded")],
            "event_types",
            "is not an event type of the catalogue",
        ),
        (
            [("url", "https://hooks.example/x"), ("event_types", "*"), ("description", "d" * 501)],
            "description",
            "at most 500 characters",
        ),
    ],
)
async def test_refused_input_is_shown_on_the_form_and_adds_nothing(
    board: Dashboard, runtime: Runtime, form: list[tuple[str, str]], field: str, message: str
) -> None:
    await board.get("/dashboard/webhooks")
    before = await row_counts(runtime)
    refused = await board.post("/dashboard/webhooks", form, 422)
    error = re.search(rf'<small id="{field}-error"[^>]*>([^<]+)</small>', refused.text)
    assert error is not None, refused.text[-4000:]
    assert message in unescape(error.group(1))
    assert f'aria-describedby="{field}-error"' in refused.text
    assert 'id="secret"' not in refused.text
    typed = dict(form).get("url", "")
    assert f'value="{typed}"' in refused.text  # kept to fix
    assert await row_counts(runtime) == before


async def test_an_endpoint_is_edited_disabled_enabled_and_deleted(
    board: Dashboard, api: Api, runtime: Runtime
) -> None:
    endpoint = await api.post(
        "/v1/webhook-endpoints", {"url": "https://hooks.example/a", "description": "old"}
    )
    path = f"/dashboard/webhooks/{endpoint['id']}"
    page = await board.get(path)
    assert 'value="https://hooks.example/a"' in page.text
    assert 'name="enabled" role="switch" checked' in page.text
    saved = await board.post(
        path,
        [
            ("url", "https://hooks.example/b"),
            ("event_types", "invoice.paid"),
            ("event_types", "order.paid"),
            ("description", ""),
        ],  # no "enabled": the box is unticked
    )
    assert saved.headers["location"] == f"{path}?saved=1"
    assert "The endpoint was saved." in (await board.get(saved.headers["location"])).text
    after = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}")
    assert (after["url"], after["event_types"], after["description"], after["enabled"]) == (
        "https://hooks.example/b",
        ["invoice.paid", "order.paid"],
        None,
        False,
    )
    await board.post(
        path, [("url", "https://hooks.example/b"), ("event_types", "*"), ("enabled", "on")]
    )
    again = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}")
    assert (again["event_types"], again["enabled"]) == (["*"], True)

    before = await row_counts(runtime)
    refused = await board.post(path, [("url", "nope"), ("event_types", "*")], 422)
    assert 'id="url-error"' in refused.text
    assert 'value="nope"' in refused.text
    assert await row_counts(runtime) == before

    asked = await board.get(f"{path}/delete")
    assert "Delete the endpoint https://hooks.example/b?" in asked.text
    assert await row_counts(runtime) == before  # asking changes nothing
    deleted = await board.post(f"{path}/delete")
    assert deleted.headers["location"] == "/dashboard/webhooks?deleted=1"
    assert "nothing more is sent to it" in (await board.get(deleted.headers["location"])).text
    await api.get(f"/v1/webhook-endpoints/{endpoint['id']}", 404)
    await board.get(path, 404)
    await board.post(f"{path}/delete", None, 404)
    await board.post(path, [("url", "https://hooks.example/c"), ("event_types", "*")], 404)


async def test_the_forms_need_their_csrf_token(
    board: Dashboard, api: Api, runtime: Runtime
) -> None:
    endpoint = await api.post("/v1/webhook-endpoints", {"url": "https://hooks.example/a"})
    before = await row_counts(runtime)
    form = {"url": "https://hooks.example/z", "event_types": "*"}
    for path in (
        "/dashboard/webhooks",
        f"/dashboard/webhooks/{endpoint['id']}",
        f"/dashboard/webhooks/{endpoint['id']}/delete",
    ):
        answer = await board.post(path, form, None, token=False)
        assert answer.status_code == 403, (path, answer.status_code)
    assert await row_counts(runtime) == before
