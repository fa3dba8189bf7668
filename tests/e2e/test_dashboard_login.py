"""Signing in to the dashboard (SPEC §11): one message for a wrong email or password, the
sixth attempt after five failures refused even with the right password (429, Retry-After),
sessions that end when idle, at their absolute end and at logout; pages without a session
redirect to the login page; a form without its CSRF token is refused and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from seatledger.adapters.db import tables as t
from seatledger.domain.dashboard_user import (
    SESSION_ABSOLUTE,
    SESSION_IDLE,
    THROTTLE_CLIENT_FAILURES,
    THROTTLE_WINDOW,
    LoginFailed,
    LoginThrottled,
)
from seatledger.services import dashboard_users
from seatledger.services.runtime import Runtime
from tests.e2e.dashboard import PASSWORD, Dashboard, new_user

PAGES = [
    "/dashboard",
    "/dashboard/products",
    "/dashboard/products/new",
    "/dashboard/companies",
    "/dashboard/subscriptions",
    "/dashboard/orders",
    "/dashboard/invoices",
    "/dashboard/webhooks",
    "/dashboard/emails",
    "/dashboard/events",
    "/dashboard/clock",
]


async def test_pages_without_a_session_redirect_to_the_login(client: httpx.AsyncClient) -> None:
    for path in [*PAGES, "/dashboard/products/prod_x", "/dashboard/invoices/inv_x/pdf"]:
        answer = await client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/dashboard/login"


async def test_a_session_opens_every_page_and_logout_ends_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email = await new_user(runtime)
    board = Dashboard(client)
    signed_in = await board.login(email)
    cookie = signed_in.headers["set-cookie"]
    assert "sl_dashboard=ds_" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    for path in PAGES:
        page = await board.get(path)
        assert "text/html" in page.headers["content-type"]
        assert f"Sign out {email}" in page.text
    await board.post("/dashboard/logout")
    assert (await client.get("/dashboard")).status_code == 303
    async with runtime.reading() as uow:
        left = await uow.connection.scalar(select(func.count()).select_from(t.dashboard_sessions))
    assert left == 0


async def test_a_wrong_password_and_an_unknown_email_get_the_same_message(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email = await new_user(runtime)
    board = Dashboard(client)
    wrong = await board.login(email, "not the password at all", expect=401)
    unknown = await board.login("nobody@merchant.test", PASSWORD, expect=401)
    message = "The email or password is not right."
    assert message in wrong.text
    assert message in unknown.text
    assert 'aria-invalid="true"' in wrong.text
    assert "sl_dashboard" not in wrong.headers.get("set-cookie", "")


async def test_the_sixth_attempt_is_throttled_even_with_the_right_password(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email = await new_user(runtime)
    board = Dashboard(client)
    for _ in range(5):
        await board.login(email, "wrong password number", expect=401)
    refused = await board.login(email, PASSWORD, expect=429)
    assert 1 <= int(refused.headers["retry-after"]) <= THROTTLE_WINDOW.total_seconds()
    assert "Too many failed sign-ins" in refused.text
    assert "sl_dashboard" not in refused.headers.get("set-cookie", "")
    # Another process sees the same failures: they are in the database.
    later = dashboard_users.wall_now() + THROTTLE_WINDOW + timedelta(seconds=1)
    session, _token = await dashboard_users.login(
        runtime, email=email, password=PASSWORD, client="127.0.0.1", now=later
    )
    assert session.user.email == email


async def test_throttling_counts_failures_per_client_address_too(runtime: Runtime) -> None:
    email = await new_user(runtime)
    now = dashboard_users.wall_now()
    for n in range(THROTTLE_CLIENT_FAILURES):
        with pytest.raises(LoginFailed):
            await dashboard_users.login(
                runtime, email=f"guess{n}@merchant.test", password="x", client="10.0.0.9", now=now
            )
    with pytest.raises(LoginThrottled) as refused:
        await dashboard_users.login(
            runtime, email=email, password=PASSWORD, client="10.0.0.9", now=now
        )
    assert refused.value.retry_after > 0
    session, _ = await dashboard_users.login(
        runtime, email=email, password=PASSWORD, client="10.0.0.10", now=now
    )
    assert session.user.email == email


async def test_sessions_end_when_idle_and_at_their_absolute_end(runtime: Runtime) -> None:
    email = await new_user(runtime)
    now = dashboard_users.wall_now()
    _session, token = await dashboard_users.login(
        runtime, email=email, password=PASSWORD, client="c", now=now
    )
    assert await dashboard_users.authenticate(runtime, token, now=now) is not None
    idle = now + SESSION_IDLE
    assert await dashboard_users.authenticate(runtime, token, now=idle) is None
    # Used every hour it stays, until its absolute end.
    moment = now
    while moment + timedelta(hours=1) < now + SESSION_ABSOLUTE:
        moment += timedelta(hours=1)
        assert await dashboard_users.authenticate(runtime, token, now=moment) is not None
    assert await dashboard_users.authenticate(runtime, token, now=now + SESSION_ABSOLUTE) is None


async def test_an_expired_session_cookie_leads_to_the_login(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email = await new_user(runtime)
    board = Dashboard(client)
    await board.login(email)
    await board.get("/dashboard")
    async with runtime.transaction() as uow:
        await uow.connection.execute(
            update(t.dashboard_sessions).values(
                last_seen_at=dashboard_users.wall_now() - SESSION_IDLE - timedelta(minutes=1)
            )
        )
        await uow.commit()
    answer = await client.get("/dashboard")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/login"


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    email = await new_user(runtime)
    board = Dashboard(client)
    refused = await board.post(
        "/dashboard/login", {"email": email, "password": PASSWORD}, 403, token=False
    )
    assert "sl_dashboard" not in refused.headers.get("set-cookie", "")
    await board.login(email)
    for path in (
        "/dashboard/logout",
        "/dashboard/products/new",
        "/dashboard/clock",
        "/dashboard/companies/co_x/billing-manager",
    ):
        await board.post(path, {"action": "create", "name": "X", "days": "3"}, 403, token=False)
    async with runtime.reading() as uow:
        products = await uow.connection.scalar(select(func.count()).select_from(t.products))
    assert products == 0
    await board.get("/dashboard")  # still signed in: the logout without a token did nothing
