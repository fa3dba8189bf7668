"""Outgoing webhooks (SPEC §10): endpoints, signed deliveries to a real receiver on 127.0.0.1,
retries by the runtime clock, disabling, the SSRF guard, and the deliveries' routes."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

from seatledger.domain.clock import FixedClock, format_timestamp
from seatledger.domain.ids import new_id
from seatledger.domain.webhook import RETRY_DELAYS
from seatledger.services.runtime import Runtime
from seatledger.services.webhook_deliveries import send_due
from seatledger.services.webhook_sender import WebhookSender
from tests.e2e.api import Api, problem, row_counts
from tests.e2e.webhooks import Answer, dispatch_undelivered, emit, receiver

HOOKS = "/v1/webhook-endpoints"


async def _endpoint(api: Api, url: str, **extra: Any) -> dict[str, Any]:
    endpoint: dict[str, Any] = await api.post(HOOKS, {"url": url, **extra})
    return endpoint


async def _deliveries(api: Api, endpoint_id: str, query: str = "") -> list[dict[str, Any]]:
    page = await api.get(f"{HOOKS}/{endpoint_id}/deliveries{query}")
    data: list[dict[str, Any]] = page["data"]
    return data


async def _deliver(runtime: Runtime) -> int:
    await dispatch_undelivered(runtime)
    return await send_due(runtime)


async def test_a_delivery_is_signed_and_carries_the_event(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        endpoint = await _endpoint(api, hook.url(), description="billing backend")
        assert endpoint["description"] == "billing backend"
        assert endpoint["enabled"] is True
        company = await api.company()
        assert await _deliver(runtime) == 2  # company.created, member.added
        assert await send_due(runtime) == 0  # each is sent once
    got = hook.received[0]
    assert got.path == "/hook"
    assert got.headers["content-type"] == "application/json"
    body = got.verify(endpoint["secret"])
    assert body["type"] == "company.created"
    assert company["id"] in json.dumps(body["data"])
    assert set(body) == {"id", "type", "created_at", "data"}
    assert got.headers["webhook-id"] == body["id"]
    assert body["created_at"] == format_timestamp(runtime.clock.now())
    # The wall clock, not the runtime's (2027 in these tests): receivers check it against theirs.
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert got.headers["webhook-signature"].startswith("v1,")
    assert not got.verifies("whsec_" + "A" * 32)
    listed = await _deliveries(api, endpoint["id"])
    assert {
        (d["event_type"], d["status"], d["attempts"], d["response_status"]) for d in listed
    } == {
        ("company.created", "succeeded", 1, 200),
        ("member.added", "succeeded", 1, 200),
    }
    assert {d["event_id"] for d in listed} == {r.headers["webhook-id"] for r in hook.received}
    assert all(d["next_attempt_at"] is None and d["last_error"] is None for d in listed)


async def test_a_rotated_secret_signs_beside_the_new_one_for_24_hours(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    async with receiver() as hook:
        endpoint = await _endpoint(api, hook.url())
        rotated = await api.post(f"{HOOKS}/{endpoint['id']}/rotate-secret", None, 200)
        assert rotated["secret"].startswith("whsec_")
        assert rotated["secret"] != endpoint["secret"]
        assert {k: v for k, v in rotated.items() if k != "secret"} == {
            k: v for k, v in endpoint.items() if k != "secret"
        }
        await emit(runtime, "seat.claimed")
        await _deliver(runtime)
        clock.advance(timedelta(hours=24))
        await emit(runtime, "seat.revoked")
        await _deliver(runtime)
    during, after = hook.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verifies(endpoint["secret"])
    assert during.verifies(rotated["secret"])
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.verifies(rotated["secret"])
    assert not after.verifies(endpoint["secret"])


async def test_a_failure_is_retried_when_the_sandbox_clock_moves(
    api: Api, runtime: Runtime
) -> None:
    async with receiver() as hook:
        hook.script = [Answer(500)]
        endpoint = await _endpoint(api, hook.url())
        event_id = await emit(runtime, "seat.claimed")
        assert await _deliver(runtime) == 1
        [delivery] = await _deliveries(api, endpoint["id"])
        now = runtime.clock.now()
        assert delivery == {
            "id": delivery["id"],
            "event_id": event_id,
            "event_type": "seat.claimed",
            "status": "pending",
            "attempts": 1,
            "response_status": 500,
            "last_error": "answered 500",
            "next_attempt_at": format_timestamp(now + timedelta(seconds=5)),
        }
        assert await send_due(runtime) == 0  # not due yet
        moved = format_timestamp(now + timedelta(seconds=5))
        await api.post("/v1/sandbox/clock", {"now": moved}, 200)
        assert await send_due(runtime) == 1
    [delivery] = await _deliveries(api, endpoint["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == (
        "succeeded",
        2,
        200,
    )
    assert [r.headers["webhook-id"] for r in hook.received] == [event_id, event_id]
    assert all(r.verifies(endpoint["secret"]) for r in hook.received)


async def test_the_retry_schedule_ends_in_failed(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    async with receiver() as hook:
        hook.script = [Answer(503) for _ in range(20)]
        endpoint = await _endpoint(api, hook.url())
        await emit(runtime, "order.paid")
        await dispatch_undelivered(runtime)
        for delay in RETRY_DELAYS:
            assert await send_due(runtime) == 1
            [delivery] = await _deliveries(api, endpoint["id"])
            assert delivery["status"] == "pending"
            assert delivery["next_attempt_at"] == format_timestamp(clock.now() + delay)
            clock.advance(delay - timedelta(seconds=1))
            assert await send_due(runtime) == 0  # a second early
            clock.advance(timedelta(seconds=1))
        assert await send_due(runtime) == 1
        [delivery] = await _deliveries(api, endpoint["id"])
        assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == (
            "failed",
            len(RETRY_DELAYS) + 1,
            None,
        )
        clock.advance(timedelta(days=3))
        assert await send_due(runtime) == 0
    assert len(hook.received) == len(RETRY_DELAYS) + 1
    assert await _deliveries(api, endpoint["id"], "?status=failed") == [delivery]
    assert await _deliveries(api, endpoint["id"], "?status=pending") == []


async def test_redirects_are_not_followed(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        hook.script = [Answer(307, headers={"location": hook.url("/elsewhere")})]
        endpoint = await _endpoint(api, hook.url())
        await emit(runtime, "seat.assigned")
        await _deliver(runtime)
    assert [r.path for r in hook.received] == ["/hook"]
    [delivery] = await _deliveries(api, endpoint["id"])
    assert (delivery["status"], delivery["response_status"]) == ("pending", 307)
    assert "not followed" in delivery["last_error"]


async def test_an_answer_too_late_is_a_failure(api: Api, runtime: Runtime) -> None:
    runtime.webhook_sender = WebhookSender(timeout=0.3)  # the 10 s of production, shortened
    try:
        async with receiver() as hook:
            hook.script = [Answer(200, delay=3)]
            endpoint = await _endpoint(api, hook.url())
            await emit(runtime, "seat.assigned")
            await _deliver(runtime)
    finally:
        await runtime.webhook_sender.aclose()
    [delivery] = await _deliveries(api, endpoint["id"])
    assert (delivery["status"], delivery["response_status"]) == ("pending", None)
    assert delivery["last_error"] == "no answer within 0.3 s"


async def test_a_slow_receiver_does_not_hold_up_the_others(api: Api, runtime: Runtime) -> None:
    # A timeout long enough for the fast receiver to answer on a busy machine, and far shorter
    # than the slow receiver's delay.
    runtime.webhook_sender = WebhookSender(timeout=2.0)
    try:
        async with receiver() as slow, receiver() as fast:
            slow.script = [Answer(200, delay=10) for _ in range(8)]
            slow_endpoint = await _endpoint(api, slow.url())
            fast_endpoint = await _endpoint(api, fast.url())
            for _ in range(8):
                await emit(runtime, "seat.assigned")
            started = time.monotonic()
            assert await _deliver(runtime) == 16
            elapsed = time.monotonic() - started
    finally:
        await runtime.webhook_sender.aclose()
    # 4 at a time to the slow one: two waves of 2 s, the fast one's 8 meanwhile (one by one
    # they would take 16 s; waiting for the slow answers, 10 s).
    assert elapsed < 9, elapsed
    assert {d["status"] for d in await _deliveries(api, fast_endpoint["id"])} == {"succeeded"}
    assert {d["status"] for d in await _deliveries(api, slow_endpoint["id"])} == {"pending"}


async def test_each_endpoint_hears_its_event_types(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        claimed = await _endpoint(api, hook.url("/claimed"), event_types=["seat.claimed"])
        every = await _endpoint(api, hook.url("/every"), event_types=["*"])
        both = await _endpoint(api, hook.url("/both"), event_types=["seat.claimed", "invoice.paid"])
        await emit(runtime, "seat.claimed")
        await emit(runtime, "invoice.paid")
        await emit(runtime, "company.updated")
        await emit(runtime, "invitation.email")  # the outbox's own: never a webhook
        assert await _deliver(runtime) == 6
    heard = sorted((r.path, json.loads(r.body)["type"]) for r in hook.received)
    assert heard == [
        ("/both", "invoice.paid"),
        ("/both", "seat.claimed"),
        ("/claimed", "seat.claimed"),
        ("/every", "company.updated"),
        ("/every", "invoice.paid"),
        ("/every", "seat.claimed"),
    ]
    assert len(await _deliveries(api, every["id"])) == 3
    assert len(await _deliveries(api, claimed["id"])) == 1
    assert len(await _deliveries(api, both["id"])) == 2
    await dispatch_undelivered(runtime)  # fanned out once only
    assert len(await _deliveries(api, every["id"])) == 3


async def test_five_days_of_failures_disable_and_patch_resumes(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    async with receiver() as hook:
        hook.script = [Answer(500) for _ in range(6)]
        endpoint = await _endpoint(api, hook.url())
        path = f"{HOOKS}/{endpoint['id']}"
        first = await emit(runtime, "seat.claimed")
        await _deliver(runtime)
        clock.advance(timedelta(days=4, hours=23))
        await emit(runtime, "seat.revoked")
        assert await _deliver(runtime) == 2  # both fail: 4 days and 23 hours of failures
        assert (await api.get(path))["enabled"] is True
        clock.advance(timedelta(hours=1))
        await emit(runtime, "seat.assigned")
        assert await _deliver(runtime) == 3  # all fail, 5 days after the first: disabled
        assert (await api.get(path))["enabled"] is False
        # While disabled: nothing is sent, and new events are not kept for it.
        await emit(runtime, "seat.claimed")
        clock.advance(timedelta(days=1))
        assert await _deliver(runtime) == 0
        assert len(hook.received) == 6
        assert len(await _deliveries(api, endpoint["id"])) == 3
        enabled = await api.call("PATCH", path, 200, json={"enabled": True})
        assert enabled.json()["enabled"] is True
        assert await send_due(runtime) == 3  # its pending deliveries, at once
    assert {d["status"] for d in await _deliveries(api, endpoint["id"])} == {"succeeded"}
    assert hook.received[0].headers["webhook-id"] == first
    assert len(hook.received) == 9


async def test_disabled_by_patch_sends_nothing(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        endpoint = await _endpoint(api, hook.url())
        path = f"{HOOKS}/{endpoint['id']}"
        await emit(runtime, "seat.claimed")
        await dispatch_undelivered(runtime)
        off = await api.call("PATCH", path, 200, json={"enabled": False, "description": "off"})
        assert (off.json()["enabled"], off.json()["description"]) == (False, "off")
        assert await send_due(runtime) == 0
        await api.call("PATCH", path, 200, json={"enabled": True, "description": None})
        assert (await api.get(path))["description"] is None
        assert await send_due(runtime) == 1
    assert len(hook.received) == 1


def _outside_the_sandbox(runtime: Runtime, **extra: Any) -> None:
    runtime.settings = runtime.settings.model_copy(update={"sandbox": False, **extra})


async def test_private_addresses_are_refused_outside_the_sandbox(
    api: Api, runtime: Runtime
) -> None:
    async with receiver() as hook:
        kept = await _endpoint(api, hook.url())  # in the sandbox, 127.0.0.1 is fine
        _outside_the_sandbox(runtime)
        counts = await row_counts(runtime)
        for url in (
            hook.url(),
            "https://localhost/hook",
            "https://127.0.0.2/hook",
            "https://10.1.2.3/hook",
            "https://192.168.0.10/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://[fe80::1]/hook",
            "https://[::ffff:10.0.0.1]/hook",
            "https://0.0.0.0/hook",
            "https://224.0.0.1/hook",
            "https://does-not-resolve.invalid/hook",
        ):
            response = await api.call("POST", HOOKS, json={"url": url})
            problem(response, 422, "validation_error", "url")
        response = await api.call("PATCH", f"{HOOKS}/{kept['id']}", json={"url": hook.url("/x")})
        problem(response, 422, "validation_error", "url")
        assert await row_counts(runtime) == counts
        # Checked again at send time: the endpoint made in the sandbox is not called.
        await emit(runtime, "seat.claimed")
        assert await _deliver(runtime) == 1
    assert hook.received == []
    [delivery] = await _deliveries(api, kept["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == (
        "pending",
        1,
        None,
    )
    assert "not sent" in delivery["last_error"]
    assert "127.0.0.1" in delivery["last_error"]


async def test_private_addresses_are_allowed_by_the_setting(api: Api, runtime: Runtime) -> None:
    _outside_the_sandbox(runtime, webhook_allow_private=True)
    async with receiver() as hook:
        endpoint = await _endpoint(api, hook.url())
        patched = await api.call(
            "PATCH", f"{HOOKS}/{endpoint['id']}", 200, json={"url": hook.url("/moved")}
        )
        assert patched.json()["url"] == hook.url("/moved")
        await emit(runtime, "seat.claimed")
        assert await _deliver(runtime) == 1
    assert [r.path for r in hook.received] == ["/moved"]
    assert hook.received[0].verifies(endpoint["secret"])


async def test_the_retry_route_sends_now(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        hook.script = [Answer(500) for _ in range(len(RETRY_DELAYS) + 2)]
        endpoint = await _endpoint(api, hook.url())
        await emit(runtime, "seat.claimed")
        await _deliver(runtime)
        [pending] = await _deliveries(api, endpoint["id"])
        retry = f"{HOOKS}/{endpoint['id']}/deliveries/{pending['id']}/retry"
        again = await api.post(retry, None, 200)  # not due yet: sent anyway
        assert (again["status"], again["attempts"]) == ("pending", 2)
        for _ in range(len(RETRY_DELAYS) - 1):
            again = await api.post(retry, None, 200)
        assert (again["status"], again["attempts"]) == ("failed", len(RETRY_DELAYS) + 1)
        hook.script = []  # the receiver is fixed
        done = await api.post(retry, None, 200, headers={"Idempotency-Key": "retry-1"})
        assert (done["status"], done["attempts"], done["response_status"]) == (
            "succeeded",
            len(RETRY_DELAYS) + 2,
            200,
        )
        assert done["last_error"] is None
        assert done["next_attempt_at"] is None
        replay = await api.call("POST", retry, 200, headers={"Idempotency-Key": "retry-1"})
        assert replay.json() == done
        problem(await api.call("POST", retry), 409, "delivery_not_retryable")
    assert len(hook.received) == len(RETRY_DELAYS) + 2


async def test_deliveries_are_listed_in_pages(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        hook.script = [Answer(200), Answer(500), Answer(200)]
        endpoint = await _endpoint(api, hook.url())
        for event_type in ("seat.claimed", "seat.revoked", "seat.assigned"):
            await emit(runtime, event_type)
            await _deliver(runtime)  # one at a time: the script answers in order
    path = f"{HOOKS}/{endpoint['id']}/deliveries"
    first = await api.get(f"{path}?limit=2")
    assert [d["event_type"] for d in first["data"]] == ["seat.assigned", "seat.revoked"]
    assert first["has_more"] is True
    rest = await api.get(f"{path}?limit=2&cursor={first['next_cursor']}")
    assert [d["event_type"] for d in rest["data"]] == ["seat.claimed"]
    assert rest["has_more"] is False
    pending = await api.get(f"{path}?status=pending")
    assert [d["event_type"] for d in pending["data"]] == ["seat.revoked"]


async def test_endpoints_are_read_changed_and_deleted(api: Api, runtime: Runtime) -> None:
    endpoint = await _endpoint(api, "https://hooks.example.test/a", event_types=["seat.claimed"])
    path = f"{HOOKS}/{endpoint['id']}"
    shown = await api.get(path)
    assert shown == {k: v for k, v in endpoint.items() if k != "secret"}
    changed = await api.call(
        "PATCH",
        path,
        200,
        json={"url": "https://hooks.example.test/b", "event_types": ["*"], "description": "b"},
    )
    assert {k: changed.json()[k] for k in ("url", "event_types", "description", "enabled")} == {
        "url": "https://hooks.example.test/b",
        "event_types": ["*"],
        "description": "b",
        "enabled": True,
    }
    assert "secret" not in changed.json()
    listed = (await api.get(HOOKS))["data"]
    assert listed == [changed.json()]
    await emit(runtime, "seat.claimed")
    await dispatch_undelivered(runtime)
    await api.call("DELETE", path, 204)
    await api.call("GET", path, 404)
    assert (await api.get(HOOKS))["data"] == []


async def test_a_secret_is_shown_once_even_to_a_replay(api: Api) -> None:
    headers = {"Idempotency-Key": "hook-1"}
    body = {"url": "https://hooks.example.test/a"}
    first = await api.call("POST", HOOKS, 201, json=body, headers=headers)
    replay = await api.call("POST", HOOKS, 201, json=body, headers=headers)
    assert first.json()["secret"].startswith("whsec_")
    assert replay.json() == {k: v for k, v in first.json().items() if k != "secret"}
    assert replay.headers["idempotent-withheld"] == "secret"


async def test_unknown_endpoints_and_deliveries_are_404(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        mine = await _endpoint(api, hook.url())
        other = await _endpoint(api, hook.url("/other"))
        await emit(runtime, "seat.claimed")
        await _deliver(runtime)
    [delivery] = await _deliveries(api, other["id"])
    unknown = new_id("we")
    for method, path in [
        ("GET", f"{HOOKS}/{unknown}"),
        ("PATCH", f"{HOOKS}/{unknown}"),
        ("DELETE", f"{HOOKS}/{unknown}"),
        ("POST", f"{HOOKS}/{unknown}/rotate-secret"),
        ("GET", f"{HOOKS}/{unknown}/deliveries"),
        ("GET", f"{HOOKS}/not-an-id/deliveries"),
        ("POST", f"{HOOKS}/{unknown}/deliveries/{delivery['id']}/retry"),
        ("POST", f"{HOOKS}/{mine['id']}/deliveries/{delivery['id']}/retry"),
        ("POST", f"{HOOKS}/{mine['id']}/deliveries/{new_id('whd')}/retry"),
        ("POST", f"{HOOKS}/{mine['id']}/deliveries/x%20y/retry"),
    ]:
        body = {"enabled": True} if method == "PATCH" else None
        problem(await api.call(method, path, json=body), 404, "not_found")


async def test_bad_input_is_422_naming_the_field(api: Api, runtime: Runtime) -> None:
    endpoint = await _endpoint(api, "https://hooks.example.test/a")
    path = f"{HOOKS}/{endpoint['id']}"
    counts = await row_counts(runtime)
    for body, field in [
        ({"url": "ftp://hooks.example.test/a"}, "url"),
        ({"url": "hooks.example.test"}, "url"),
        ({"event_types": ["seat.claimed", "seat.exploded"]}, "event_types[1]"),
        ({"event_types": []}, "event_types"),
        ({"description": "x" * 501}, "description"),
        ({"enabled": "yes"}, "enabled"),
    ]:
        problem(await api.call("PATCH", path, json=body), 422, "validation_error", field)
    problem(
        await api.call("POST", HOOKS, json={"url": "https://a.test", "description": 5}),
        422,
        "validation_error",
        "description",
    )
    for query, field in [("?status=sent", "status"), ("?limit=0", "limit")]:
        response = await api.call("GET", f"{path}/deliveries{query}")
        problem(response, 422, "validation_error", field)
    assert await row_counts(runtime) == counts


async def test_two_senders_never_send_one_delivery_twice(api: Api, runtime: Runtime) -> None:
    async with receiver() as hook:
        hook.script = [Answer(200, delay=0.2) for _ in range(6)]
        endpoint = await _endpoint(api, hook.url())
        for _ in range(6):
            await emit(runtime, "seat.assigned")
        await dispatch_undelivered(runtime)
        sent = await asyncio.gather(send_due(runtime), send_due(runtime), send_due(runtime))
    assert sum(sent) == 6
    assert len(hook.received) == 6
    assert len({r.headers["webhook-id"] for r in hook.received}) == 6
    assert {d["status"] for d in await _deliveries(api, endpoint["id"])} == {"succeeded"}
