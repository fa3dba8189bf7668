"""The sandbox clock in the dashboard: read it, move it forward by days or to a time;
renewals that fall due on the way run (``seatledger.services.sandbox``, as
``/v1/sandbox/clock`` does). Outside the sandbox these pages are not found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.errors import SeatledgerError
from seatledger.services import sandbox
from seatledger.web import csrf
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.forms import field, whole_number
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller, Merchant
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)
MAX_DAYS = 3660


def _require_sandbox(request: Request) -> None:
    if not runtime(request).settings.sandbox:
        raise NotFound("page")


def _moved(renewed: str) -> list[dict[str, object]]:
    count = whole_number(renewed)
    if not isinstance(count, int) or count < 0:
        return []
    return [{"text": f"The clock moved; renewals run: {count}."}]


async def _page(
    request: Request, who: Merchant, *, error: str | None = None, renewed: str = ""
) -> Response:
    now = await sandbox.read_clock(runtime(request))
    context = {"who": who, "now": now, "error": error, "flashes": _moved(renewed)}
    return await render(request, "dashboard/clock.html", context, status=422 if error else 200)


@router.get("/dashboard/clock")
async def show(request: Request, who: DashboardCaller) -> Response:
    _require_sandbox(request)
    return await _page(request, who, renewed=request.query_params.get("renewed", "")[:20])


def _target(now: datetime, days: str, moment: str) -> datetime:
    if moment.strip():
        try:
            parsed = datetime.fromisoformat(moment.strip())
        except ValueError:
            raise ValidationFailed.field("now", "must be a time such as 2031-02-01T00:00") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    count = whole_number(days)
    if not isinstance(count, int) or not 1 <= count <= MAX_DAYS:
        raise ValidationFailed.field("days", f"must be a whole number from 1 to {MAX_DAYS}")
    return now + timedelta(days=count)


@router.post("/dashboard/clock", dependencies=[Depends(csrf.require)])
async def advance(request: Request, who: DashboardCaller) -> Response:
    _require_sandbox(request)
    rt = runtime(request)
    form = await request.form()
    try:
        target = _target(await sandbox.read_clock(rt), field(form, "days"), field(form, "now"))
        _now, renewed = await sandbox.advance_clock(rt, target)
    except SeatledgerError as error:
        return await _page(request, who, error=error.detail)
    return RedirectResponse(f"/dashboard/clock?renewed={len(renewed)}", status_code=303)
