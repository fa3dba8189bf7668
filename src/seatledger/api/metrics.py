"""``GET /metrics``: Prometheus' text format, without a credential (as ``/healthz``), and left
out of ``/openapi.json`` (it is for the scraper, not for API clients).

The counters and histograms are the processes' own (``seatledger.observability.metrics``; all
server processes' in multi-process mode); the backlog gauges are read from the database at each
scrape (``seatledger.services.backlog``), so every process answers the same figures. When the
database does not answer, the counters are still served, with
``seatledger_backlog_up 0`` instead of the gauges.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from seatledger.api.common import RuntimeDep
from seatledger.api.json_body import JsonRoute
from seatledger.observability import logs, metrics
from seatledger.services.backlog import BacklogAges, backlog

router = APIRouter(tags=["operations"], route_class=JsonRoute)
log = logs.get_logger("seatledger.metrics")


class _Backlog(Collector):
    def __init__(self, found: BacklogAges | None) -> None:
        self.found = found

    def collect(self) -> Iterator[Metric]:
        found = self.found
        yield GaugeMetricFamily(
            "seatledger_backlog_up", "Whether the backlog could be read.", found is not None
        )
        if found is None:
            return
        for name, text, value in (
            ("outbox_undelivered", "Events waiting in the outbox.", found.undelivered),
            (
                "outbox_oldest_undelivered_age_seconds",
                "Age of the oldest event not yet delivered (0 when none waits).",
                found.oldest_undelivered_seconds,
            ),
            (
                "webhook_endpoints_failing",
                "Enabled webhook endpoints whose every delivery has failed lately.",
                found.failing_endpoints,
            ),
            (
                "webhook_endpoint_failing_seconds",
                "How long the longest-failing enabled endpoint has failed (0 when none).",
                found.longest_failing_seconds,
            ),
        ):
            yield GaugeMetricFamily(f"seatledger_{name}", text, value)


@router.get("/metrics", include_in_schema=False)
async def read_metrics(rt: RuntimeDep) -> Response:
    try:
        found: BacklogAges | None = await backlog(rt)
    except (SQLAlchemyError, OSError) as error:
        log.warning("metrics: the backlog could not be read", error=str(error))
        found = None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Backlog(found))
    return Response(
        metrics.exposition() + generate_latest(registry), media_type=metrics.CONTENT_TYPE
    )
