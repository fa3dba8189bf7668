"""Outgoing webhooks' rules, without a database: which events an endpoint hears, the retry
schedule, when an endpoint is disabled, and which addresses are never called."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from seatledger.domain.webhook import (
    DISABLE_AFTER,
    RETRY_DELAYS,
    after_failure,
    forbidden_address,
    hears,
    should_disable,
)
from seatledger.services.webhook_sender import sign

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
