"""The dashboard's first page: the charts (``seatledger.services.dashboard_charts``)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seatledger.services import dashboard_charts
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller
from seatledger.web.dashboard.svg import bar_chart, line_chart
from seatledger.web.templating import money, render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)


@router.get("/dashboard")
async def overview(request: Request, who: DashboardCaller) -> Response:
    data = await dashboard_charts.charts(runtime(request))
    labels = list(data.labels)
    seats = line_chart(
        [("Seats bought", "bought", data.bought), ("Seats assigned", "assigned", data.assigned)],
        labels,
    )
    mrr = {
        currency: (
            line_chart(
                [(f"MRR ({currency.upper()})", "mrr", values)],
                labels,
                partial(money, currency=currency),
            ),
            values,
        )
        for currency, values in data.mrr.items()
    }
    bars = bar_chart(
        [(u.product, u.percent, f"{u.assigned} of {u.seats} seats") for u in data.utilisation]
    )
    context = {
        "who": who,
        "data": data,
        "labels": labels,
        "seats": seats,
        "mrr": mrr,
        "bars": bars,
    }
    return await render(request, "dashboard/overview.html", context)
