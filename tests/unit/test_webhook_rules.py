"""Outgoing webhooks' rules, without a database: which events an endpoint hears, the retry
schedule, when an endpoint is disabled, and which addresses are never called."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from seatledger.domain.webhook import (
    DISABLE_AFTER,
    RETRY_DELAYS,
    IpAddress,
    after_failure,
    forbidden_address,
    hears,
    should_disable,
)
from seatledger.services.webhook_sender import (
    RefusedDestination,
    Resolver,
    Sent,
    WebhookSender,
    sign,
)

NOW = datetime(2031, 1, 16, 12, tzinfo=UTC)


def test_an_endpoint_hears_its_types_or_every_catalogued_one() -> None:
    assert hears(["seat.claimed"], "seat.claimed")
    assert not hears(["seat.claimed"], "seat.revoked")
    assert hears(["*"], "invoice.paid")
    assert not hears(["*"], "invitation.email")  # the outbox's own records are never sent


def test_the_retry_schedule_then_failed() -> None:
    assert [delay.total_seconds() for delay in RETRY_DELAYS] == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
    ]
    for attempts, delay in enumerate(RETRY_DELAYS, start=1):
        assert after_failure(attempts, NOW) == ("pending", NOW + delay)
    assert after_failure(len(RETRY_DELAYS) + 1, NOW) == ("failed", None)


def test_five_days_of_failures_disable() -> None:
    assert not should_disable(None, NOW)
    assert not should_disable(NOW - DISABLE_AFTER + timedelta(seconds=1), NOW)
    assert should_disable(NOW - DISABLE_AFTER, NOW)


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("::ffff:93.184.216.34", False),
    ],
)
def test_private_addresses_are_forbidden(address: str, forbidden: bool) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is forbidden


def test_a_signature_per_secret() -> None:
    one = sign(["whsec_" + "A" * 32], "evt_1", NOW, "{}")
    two = sign(["whsec_" + "A" * 32, "whsec_" + "B" * 32], "evt_1", NOW, "{}")
    assert one.startswith("v1,")
    assert " " not in one
    assert two.split(" ")[0] == one
    assert two.split(" ")[1].startswith("v1,")


def _resolver(answers: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[IpAddress]:
        if host not in answers:
            raise RefusedDestination(f"the host {host} does not resolve")
        return [ipaddress.ip_address(address) for address in answers[host]]

    return resolve


async def test_a_webhook_goes_to_the_address_that_was_checked() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sender = WebhookSender(
        resolver=_resolver({"hooks.example.test": ["93.184.216.34"]}),
        transport=httpx.MockTransport(answer),
    )
    secret = "whsec_" + "A" * 32
    sent = await sender.send(
        "https://hooks.example.test:8443/in?x=1",
        event_id="evt_1",
        body='{"id":"evt_1"}',
        secrets=[secret],
        pinned=True,
    )
    await sender.aclose()
    assert sent == Sent(ok=True, status=204)
    [request] = seen
    assert (request.url.host, request.url.port, request.url.raw_path) == (
        "93.184.216.34",
        8443,
        b"/in?x=1",
    )
    assert request.headers["host"] == "hooks.example.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.test"
    headers = dict(request.headers)
    assert Webhook(secret).verify(request.content, headers) == {"id": "evt_1"}


async def test_a_host_that_turned_private_is_not_called() -> None:
    seen: list[httpx.Request] = []
    sender = WebhookSender(
        resolver=_resolver({"hooks.example.test": ["93.184.216.34", "10.0.0.7"]}),
        transport=httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200)),
    )
    for url in ("https://hooks.example.test/in", "https://gone.example.test/in"):
        sent = await sender.send(
            url, event_id="evt_1", body="{}", secrets=["whsec_AA"], pinned=True
        )
        assert not sent.ok
        assert sent.status is None
        assert sent.error is not None
        assert sent.error.startswith("not sent: the host")
    await sender.aclose()
    assert seen == []
