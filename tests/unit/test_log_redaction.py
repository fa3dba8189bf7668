"""The one redaction processor: no secret the engine has reaches a log line, by field name or
inside any text, whoever logged it (structlog or the standard library)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from seatledger.observability import logs

KEY = "sl_" + "A1b2C3d4" * 5
SESSION = "cs_" + "Zz9_-yX8" * 5
INVITATION = "Qm3_" + "kP0-aB7c" * 5
WHSEC = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
STRIPE_LIVE = "sk_live_" + "51Habcdef" * 4
STRIPE_TEST = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
SIGNATURE = "3f9a0c" * 8
SECRETS = (KEY, SESSION, INVITATION, WHSEC, STRIPE_LIVE, STRIPE_TEST, SIGNATURE, "hunter2")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Authorization: Bearer {KEY}", "Bearer [redacted]"),
        (f"key {KEY} failed", "sl_[redacted]"),
        (f"session {SESSION}", "cs_[redacted]"),
        (f"GET /claim/{INVITATION} 200", "/claim/[redacted]"),
        (f"https://billing.example/claim/{INVITATION}?x=1", "/claim/[redacted]?x=1"),
        (f"POST /v1/claims/{INVITATION}/", "/v1/claims/[redacted]/"),
        (f"/v1/files/fil_1/download?grant=g&signature={SIGNATURE}", "signature=[redacted]"),
        (f"/portal?session={SESSION}", "session=[redacted]"),
        (f"/x?access_token={INVITATION}&a=1", "access_token=[redacted]&a=1"),
        (f"endpoint secret {WHSEC}", "whsec_[redacted]"),
        (f"stripe {STRIPE_LIVE} and {STRIPE_TEST}", "sk_live_[redacted] and sk_test_[redacted]"),
        ("smtp://mailer:hunter2@smtp.example:587", "smtp://mailer:[redacted]@smtp.example"),
        ("route /v1/claims/{token}", "/v1/claims/{token}"),  # a template is no secret
        ("cookies sl_csrf and sl_portal", "sl_csrf and sl_portal"),  # names, not values
    ],
)
def test_secrets_inside_text_are_redacted(text: str, kept: str) -> None:
    redacted = logs.redact_text(text)
    assert kept in redacted
    for secret in SECRETS:
        assert secret not in redacted


def test_fields_named_like_credentials_are_redacted_whole() -> None:
    event = logs.redact(
        None,
        "info",
        {
            "event": "x",
            "authorization": "Basic dXNlcjpwYXNz",
            "password": "hunter2",
            "webhook_secret": "anything",
            "session_token": "anything",
            "api_key": "anything",
            "headers": {"Cookie": "sl_portal=abc", "X-Other": f"Bearer {KEY}"},
            "links": [f"/claim/{INVITATION}"],
            "count": 3,
            "caller": "session",
        },
    )
    assert event["authorization"] == event["password"] == logs.REDACTED
    assert event["webhook_secret"] == event["session_token"] == event["api_key"] == logs.REDACTED
    assert event["headers"] == {"Cookie": logs.REDACTED, "X-Other": "Bearer [redacted]"}
    assert event["links"] == ["/claim/[redacted]"]
    assert (event["count"], event["caller"]) == (3, "session")


def test_every_logger_goes_through_the_one_processor_as_json() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    logs.configure_structlog()
    try:
        logging.getLogger("seatledger.delivery").info("sending to %s", f"/claim/{INVITATION}")
        logs.get_logger("seatledger.request").info("request", path=f"/portal?session={SESSION}")
        try:
            raise ValueError(f"bad key {KEY}")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("failed with %s", STRIPE_LIVE)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    # Only this test's three lines: anything else a lingering task logged meanwhile is not.
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    events = {line["event"]: line for line in lines}
    assert "sending to /claim/[redacted]" in events
    assert events["request"]["path"] == "/portal?session=[redacted]"
    failure = next(line for line in lines if line["event"].startswith("failed with"))
    assert "sl_[redacted]" in failure["exception"]
    for secret in SECRETS:
        assert secret not in stream.getvalue()


def test_the_format_follows_the_setting_then_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv(logs.FORMAT_ENV, raising=False)
    assert logs.resolve_format(stream=Tty()) == "console"
    assert logs.resolve_format(stream=io.StringIO()) == "json"
    monkeypatch.setenv(logs.FORMAT_ENV, "JSON")
    assert logs.resolve_format(stream=Tty()) == "json"
    monkeypatch.setenv(logs.FORMAT_ENV, "xml")
    with pytest.raises(ValueError, match="choose json or console"):
        logs.resolve_format()
