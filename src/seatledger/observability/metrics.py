"""Every Prometheus series the engine exports, defined once (SPEC §8).

Services, the delivery loop and the HTTP edge report what happened through the functions
below; only this module knows ``prometheus_client``, so a use case reads ``metrics.
seat_claimed()`` and no label name or metric type leaks into it. Counters count in the process
that saw the outcome; ``/metrics`` adds the series read from the database when scraped
(``seatledger.services.backlog``: outbox backlog and the oldest undelivered event's age).

Several server processes (``seatledger serve --workers N``) share one exposition through
prometheus-client's multi-process mode: ``PROMETHEUS_MULTIPROC_DIR`` names a folder the serve
command makes (and empties) before the processes start; each process writes its own files there
and ``exposition()`` merges them. Without that variable, the process's own registry answers.

Series (all prefixed ``seatledger_``):

* ``http_requests_total{method,route,status}`` and ``http_request_duration_seconds{method,
  route}``: by route template (``/v1/seats/{seat_id}``), never the raw path, whose ids would
  make a series per object;
* ``seats_assigned_total``, ``seats_claimed_total``, ``seats_revoked_total``;
* ``renewals_total{outcome}``: ``renewed`` (a period advanced and was invoiced), ``canceled``
  (at period end or after the dunning grace), ``failed`` (an error; retried next round);
* ``renewal_payments_total{outcome}``: collections a renewal run made (renewals, retries,
  final invoices): ``paid``, ``declined``, ``error`` (the provider failed);
* ``payment_failures_total{gateway}``: every charge a payment provider declined;
* ``webhook_deliveries_total{outcome}`` and ``webhook_endpoints_disabled_total``;
* ``emails_total{outcome}``: ``sent``, ``temporary`` (retried), ``permanent`` (failed);
* ``delivery_failures_total{channel}``: events a channel failed to fan out (left in the outbox);
* ``drift_clamps_total``: payment-provider capacity clamped up to the pool's holders (§7);
* ``jobs_total{job,outcome}`` and ``job_duration_seconds{job}``: worker and delivery rounds.
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The text format every Prometheus reads (what ``generate_latest`` writes).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# Request latencies from sub-millisecond (an entitlement check) to a slow charge.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)

HTTP_REQUESTS = Counter(
    "seatledger_http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "seatledger_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
SEATS_ASSIGNED = Counter("seatledger_seats_assigned", "Seats assigned (pending or claimed).")
SEATS_CLAIMED = Counter("seatledger_seats_claimed", "Seats claimed, with a token or at once.")
SEATS_REVOKED = Counter("seatledger_seats_revoked", "Seats revoked (by a call or a cancellation).")
RENEWALS = Counter(
    "seatledger_renewals", "Renewal work done, by outcome: renewed, canceled, failed.", ["outcome"]
)
RENEWAL_PAYMENTS = Counter(
    "seatledger_renewal_payments",
    "Payments collected by renewal runs, by outcome: paid, declined, error.",
    ["outcome"],
)
PAYMENT_FAILURES = Counter(
    "seatledger_payment_failures", "Charges the payment provider declined.", ["gateway"]
)
WEBHOOK_DELIVERIES = Counter(
    "seatledger_webhook_deliveries",
    "Webhook sends, by outcome: succeeded, failed (the endpoint's answer or no answer).",
    ["outcome"],
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "seatledger_webhook_endpoints_disabled",
    "Webhook endpoints disabled after every delivery failed for 5 days.",
)
EMAILS = Counter(
    "seatledger_emails", "Email sends, by outcome: sent, temporary, permanent.", ["outcome"]
)
DELIVERY_FAILURES = Counter(
    "seatledger_delivery_failures",
    "Events a delivery channel failed to fan out (they stay in the outbox).",
    ["channel"],
)
DRIFT_CLAMPS = Counter(
    "seatledger_drift_clamps",
    "Payment-provider seat capacity clamped up to the seats the pool's holders have.",
)
JOBS = Counter("seatledger_jobs", "Background rounds run, by job and outcome.", ["job", "outcome"])
JOB_DURATION = Histogram(
    "seatledger_job_duration_seconds",
    "Time a background round took.",
    ["job"],
    buckets=_JOB_BUCKETS,
)

# Series with a closed set of labels exist at 0 from the start, so that ``rate()`` and the alert
# rules see them before the first event rather than a missing series.
for _outcome in ("renewed", "canceled", "failed"):
    RENEWALS.labels(_outcome)
for _outcome in ("paid", "declined", "error"):
    RENEWAL_PAYMENTS.labels(_outcome)
for _outcome in ("succeeded", "failed"):
    WEBHOOK_DELIVERIES.labels(_outcome)
for _outcome in ("sent", "temporary", "permanent"):
    EMAILS.labels(_outcome)
for _gateway in ("local", "stripe"):
    PAYMENT_FAILURES.labels(_gateway)


def request_answered(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def seats_assigned(count: int = 1) -> None:
    SEATS_ASSIGNED.inc(count)


def seats_claimed(count: int = 1) -> None:
    SEATS_CLAIMED.inc(count)


def seats_revoked(count: int = 1) -> None:
    if count:
        SEATS_REVOKED.inc(count)


def renewals(*, renewed: int = 0, canceled: int = 0, failed: int = 0) -> None:
    for outcome, count in (("renewed", renewed), ("canceled", canceled), ("failed", failed)):
        if count:
            RENEWALS.labels(outcome).inc(count)


def renewal_payments(*, paid: int = 0, declined: int = 0, error: int = 0) -> None:
    for outcome, count in (("paid", paid), ("declined", declined), ("error", error)):
        if count:
            RENEWAL_PAYMENTS.labels(outcome).inc(count)


def payment_declined(gateway: str) -> None:
    PAYMENT_FAILURES.labels(gateway).inc()


def webhook_sent(*, ok: bool) -> None:
    WEBHOOK_DELIVERIES.labels("succeeded" if ok else "failed").inc()


def webhook_endpoint_disabled() -> None:
    WEBHOOK_ENDPOINTS_DISABLED.inc()


def email_sent(outcome: str) -> None:
    """``outcome``: ``sent``, ``temporary`` or ``permanent`` (a mailer's ``SendOutcome``)."""
    EMAILS.labels(outcome).inc()


def delivery_failed(channel: str) -> None:
    DELIVERY_FAILURES.labels(channel).inc()


def drift_clamped() -> None:
    DRIFT_CLAMPS.inc()


def job_done(job: str, *, ok: bool, seconds: float) -> None:
    JOBS.labels(job, "ok" if ok else "failed").inc()
    JOB_DURATION.labels(job).observe(seconds)


def exposition() -> bytes:
    """The text format of every series counted so far: this process's, or in multi-process
    mode every process's, merged from ``PROMETHEUS_MULTIPROC_DIR``."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def serve_on(port: int, host: str = "127.0.0.1") -> None:
    """Serve this process's series on ``http://host:port/metrics`` from a thread: for
    ``seatledger worker``, which has no HTTP server of its own and whose renewals and deliveries
    are counted in its own process."""
    start_http_server(port, addr=host)
