"""`make run` on a fresh clone, as a newcomer runs it (CI; usage: python make_run_smoke.py CLONE).

It starts `make run PORT=<free port>` in CLONE with no SEATLEDGER_ variable set, waits until
the server answers, and goes from a product to a claimed seat with the API key `make run`
printed: product → company → checkout → confirm → assign → claim. The links point at the
served address; no token reaches the log. Stopped (its whole process group, nothing left
behind) and started again, it prints the same key, which still works; then the README's
walkthrough runs against it as written (``readme-walkthrough``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import httpx

STARTUP_TIMEOUT = 600.0  # the first start sets up .venv
KEY_LINE = re.compile(r"^(sl_[A-Za-z0-9_-]{20,})$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MakeRun:
    def __init__(self, clone: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATLEDGER_")}
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                ["make", "run", f"PORT={self.port}"],
                cwd=clone,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self) -> str:
        """The key it printed, once the server answers."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                fail(f"make run exited with {self.process.returncode}", self.output())
            if time.monotonic() > deadline:
                fail("make run did not answer in time", self.output())
            try:
                httpx.get(f"{self.base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        keys = KEY_LINE.findall(self.output())
        if len(keys) != 1:
            fail(f"make run printed {len(keys)} keys, not one", self.output())
        return str(keys[0])

    def stop(self) -> None:
        """Stop the whole process group; fail if anything of it is left."""
        group = self.process.pid
        os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while self.process.poll() is None or _alive(group):  # make itself reaped, then the rest
            if time.monotonic() > deadline:
                os.killpg(group, signal.SIGKILL)
                fail("make run left processes behind after SIGTERM", self.output())
            time.sleep(0.2)


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def fail(message: str, log: str = "") -> NoReturn:
    print(f"make run smoke: {message}", file=sys.stderr)
    if log:
        print("---- make run output (last lines) ----", file=sys.stderr)
        print("\n".join(log.splitlines()[-40:]), file=sys.stderr)
    raise SystemExit(1)


def check(condition: bool, message: str, log: str = "") -> None:
    if not condition:
        fail(message, log)


def call(method: str, url: str, key: str | None, body: Any = None, expect: int = 200) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.request(method, url, json=body, headers=headers, timeout=30)
    check(
        response.status_code == expect,
        f"{method} {url.split('/v1', 1)[-1]}: {response.status_code}, not {expect}: "
        + response.text[:300],
    )
    return response.json()


def flow(base: str, key: str) -> list[str]:
    """The README's walkthrough, product to claimed seat; answers the secrets it saw."""
    api = f"{base}/v1"
    product = call(
        "POST",
        f"{api}/products",
        key,
        {
            "name": "Team plan",
            "prices": [
                {
                    "currency": "usd",
                    "interval": "month",
                    "tiers_mode": "volume",
                    "tiers": [
                        {"up_to": 5, "unit_amount": 1000},
                        {"up_to": None, "unit_amount": 800},
                    ],
                }
            ],
        },
        201,
    )
    price_id = product["prices"][0]["id"]
    company = call(
        "POST",
        f"{api}/companies",
        key,
        {"name": "Acme", "billing_manager": {"email": "dana@acme.example"}},
        201,
    )
    checkout = call(
        "POST",
        f"{api}/checkouts",
        key,
        {"price_id": price_id, "seats": 3, "company_id": company["id"]},
        201,
    )
    check(checkout["amount_due"] == 3000, f"amount_due {checkout['amount_due']}, not 3000")
    check(checkout["url"].startswith(f"{base}/checkout/"), f"checkout url {checkout['url']}")
    done = call(
        "POST", f"{api}/checkouts/{checkout['id']}/confirm", key, {"payment_method": "pm_card_ok"}
    )
    check(done["status"] == "completed", f"checkout {done['status']}, not completed")
    subscription_id = done["subscription_id"]
    seat = call(
        "POST",
        f"{api}/seats",
        key,
        {"subscription_id": subscription_id, "email": "ann@acme.example"},
        201,
    )
    invitation = seat["invitation"]
    check(invitation["url"].startswith(f"{base}/claim/"), f"invitation url {invitation['url']}")
    token = invitation["token"]
    looked_up = call("GET", f"{api}/claims/{token}", None)
    check(looked_up["company_name"] == "Acme", f"claim lookup {looked_up}")
    claimed = call("POST", f"{api}/claims/{token}", None)
    check(claimed["seat"]["status"] == "claimed", f"seat {claimed['seat']['status']}")
    pool = call("GET", f"{api}/seats?subscription_id={subscription_id}", key)
    check(
        (pool["total_seats"], pool["assigned_seats"]) == (3, 1),
        f"pool {pool['total_seats']} seats, {pool['assigned_seats']} assigned",
    )
    return [token, claimed["session_token"]]


def main() -> None:
    clone = Path(sys.argv[1]).resolve()
    log = clone.parent / "make-run.log"

    first = MakeRun(clone, log)
    try:
        key = first.wait()
        secrets = flow(first.base, key)
    finally:
        first.stop()
    output = first.output()
    check(not any(secret in output for secret in secrets), "a token reached the log", output)
    check("kept in var/make-run.key" in output, "make run did not say where the key is", output)
    check((clone / "var" / "make-run.key").stat().st_mode & 0o077 == 0, "key file readable")

    again = MakeRun(clone, log)
    try:
        check(again.wait() == key, "make run printed another key the second time", again.output())
        products = call("GET", f"{again.base}/v1/products", key)
        check(len(products["data"]) == 1, "the product made before is not there")
        # And the README's own walkthrough, as written, with the amounts it states.
        walkthrough = Path(__file__).with_name("readme-walkthrough")
        ran = subprocess.run(
            [str(walkthrough), again.base, key], capture_output=True, text=True, check=False
        )
        check(ran.returncode == 0, f"README walkthrough failed: {ran.stderr[-2000:]}")
        print(ran.stdout.strip())
    finally:
        again.stop()
    print(f"make run smoke: served, product to claimed seat, key kept ({first.base}, {again.base})")


if __name__ == "__main__":
    main()
