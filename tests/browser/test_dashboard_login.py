"""The dashboard in a real browser: a login made by the real ``seatledger users create``
command, a wrong password, the throttle, signing out."""

from __future__ import annotations

import subprocess
import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.integration.processes import SEATLEDGER, assert_fails_in_one_line

PASSWORD = "a long enough passphrase"


def users_create(live: LiveServer, email: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEATLEDGER), "users", "create", "--email", email, "--password-stdin"],
        input=password + "\n",
        env=live.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def new_login(live: LiveServer) -> str:
    email = f"ops-{uuid.uuid4().hex[:8]}@merchant.test"
    made = users_create(live, email, PASSWORD)
    assert made.returncode == 0, made.stderr
    (line,) = made.stdout.strip().splitlines()
    assert line.startswith("created dashboard user usr_")
    assert email in line
    return email


def sign_in(page: Page, live: LiveServer, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{live.base}/dashboard/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_users_create_then_sign_in_and_out(live_server: LiveServer, page: Page) -> None:
    email = new_login(live_server)
    page.goto(f"{live_server.base}/dashboard/products")
    expect(page).to_have_url(f"{live_server.base}/dashboard/login")
    sign_in(page, live_server, email)
    expect(page).to_have_url(f"{live_server.base}/dashboard")
    expect(page.get_by_role("heading", name="Seats bought and assigned")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sl_dashboard"]["httpOnly"]
    assert cookies["sl_dashboard"]["sameSite"] == "Lax"
    page.get_by_role("button", name=f"Sign out {email}").click()
    expect(page).to_have_url(f"{live_server.base}/dashboard/login")
    page.goto(f"{live_server.base}/dashboard")
    expect(page).to_have_url(f"{live_server.base}/dashboard/login")


def test_users_create_refuses_in_one_line(live_server: LiveServer) -> None:
    email = new_login(live_server)
    assert_fails_in_one_line(users_create(live_server, email, PASSWORD), "exists")
    assert_fails_in_one_line(users_create(live_server, "x@merchant.test", "short"), "12")
    assert_fails_in_one_line(users_create(live_server, "not an email", PASSWORD), "--email")


def test_a_wrong_password_then_the_throttle(live_server: LiveServer, page: Page) -> None:
    email = new_login(live_server)
    sign_in(page, live_server, email, "not the right one")
    expect(page.get_by_role("alert")).to_have_text("The email or password is not right.")
    sign_in(page, live_server, "nobody-" + email, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("The email or password is not right.")
    for _ in range(4):
        sign_in(page, live_server, email, "not the right one")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        sign_in(page, live_server, email)  # the right password, the sixth attempt
    assert answer.value.status == 429
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
