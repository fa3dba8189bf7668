"""The access log's redaction: no token, session or signature reaches a log line."""

from __future__ import annotations

import pytest

from seatledger.api.access_log import redact


@pytest.mark.parametrize(
    ("path", "query", "logged"),
    [
        ("/v1/products", "", "/v1/products"),
        ("/v1/seats", "subscription_id=sub_1&limit=5", "/v1/seats?subscription_id=sub_1&limit=5"),
        ("/v1/claims/tok123", "", "/v1/claims/[redacted]"),
        ("/v1/claims/tok123/", "", "/v1/claims/[redacted]/"),
        ("/claim/tok123", "", "/claim/[redacted]"),
        (
            "/v1/files/fil_1/download",
            "grant=gr_1&expires=1700000000&signature=abc",
            "/v1/files/fil_1/download?grant=gr_1&expires=1700000000&signature=[redacted]",
        ),
        ("/portal", "session=cs_secret", "/portal?session=[redacted]"),
        (
            "/x",
            "token=a&access_token=b&Token=c&a=1",
            "/x?token=[redacted]&access_token=[redacted]&Token=[redacted]&a=1",
        ),
        ("/x", "%74oken=a", "/x?%74oken=[redacted]"),  # an encoded name is still a token
        ("/x", "flag&token", "/x?flag&token"),  # no value, nothing to hide
    ],
)
def test_secrets_are_redacted(path: str, query: str, logged: str) -> None:
    assert redact(path, query) == logged
