"""``seatledger serve`` as operators run it: metrics merged across ``--workers 2``, and a
100 MB body refused without the server reading it (its memory stays flat, other requests stay
fast)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.processes import clean_environment, migrate, serving

BIG = 100 * 1024 * 1024


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    env = clean_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'ops.sqlite3'}", SANDBOX="1")
    env["TMPDIR"] = str(tmp_path)  # where serve makes its metrics folder
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    migrate(env)
    return env


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "seatledger_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": "/healthz",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_two_server_processes_answer_the_same_merged_metrics(
    env: dict[str, str], tmp_path: Path
) -> None:
    with serving(env, tmp_path, "--workers", "2", "--no-delivery") as server:
        for _ in range(40):  # new connections: both processes take some
            assert httpx.get(f"{server.base}/healthz").status_code == 200
        scrapes = [httpx.get(f"{server.base}/metrics").text for _ in range(6)]
        folders = list(tmp_path.glob("seatledger-metrics-*"))
        assert len(folders) == 1
        assert len({path.name for path in folders[0].iterdir()}) >= 2  # a file per process
    assert [healthz_count(text) for text in scrapes] == [40.0] * 6
    assert not list(tmp_path.glob("seatledger-metrics-*"))  # removed when the server stops


def _rss_kb(pid: int) -> int:
    total = 0
    for child in [pid, *_children(pid)]:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _send_big_body(base: str, answers: list[bytes], *, declared: bool) -> None:
    """POST 100 MB to /v1/companies without a credential, as fast as the server takes it."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        length = f"Content-Length: {BIG}\r\n" if declared else "Transfer-Encoding: chunked\r\n"
        sock.sendall(
            f"POST /v1/companies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"{length}\r\n".encode()
        )
        chunk = b"[" * (1024 * 1024)
        try:
            for _ in range(BIG // len(chunk)):
                data = chunk if declared else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                sock.sendall(data)
        except OSError:
            pass  # the server answered and closed: the rest is never read
        sock.settimeout(10)
        try:
            answers.append(sock.recv(4096))
        except OSError:
            answers.append(b"")


def test_a_100_mb_body_is_refused_unread_and_slows_nobody(
    env: dict[str, str], tmp_path: Path
) -> None:
    with serving(env, tmp_path, "--no-delivery") as server:
        httpx.get(f"{server.base}/v1/products")
        before = _rss_kb(server.process.pid)
        answers: list[bytes] = []
        senders = [
            threading.Thread(target=_send_big_body, args=(server.base, answers), kwargs=kw)
            for kw in ({"declared": True}, {"declared": False}, {"declared": False})
        ]
        for sender in senders:
            sender.start()
        latencies = []
        while any(sender.is_alive() for sender in senders) or len(latencies) < 20:
            started = time.perf_counter()
            assert httpx.get(f"{server.base}/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            if len(latencies) > 2000:
                break
        for sender in senders:
            sender.join(60)
        after = _rss_kb(server.process.pid)
    statuses = sorted(answer.split(b" ", 2)[1] for answer in answers if answer)
    assert statuses == [b"401", b"401", b"413"], answers
    grown_mb = (after - before) / 1024
    slowest, middle = max(latencies), sorted(latencies)[len(latencies) // 2]
    print(  # the figures, for the README
        f"\nRSS {before / 1024:.0f} MB -> {after / 1024:.0f} MB; /healthz meanwhile:"
        f" median {middle * 1000:.1f} ms, slowest {slowest * 1000:.1f} ms ({len(latencies)})"
    )
    assert grown_mb < 20, grown_mb
    assert slowest < 0.5, latencies
