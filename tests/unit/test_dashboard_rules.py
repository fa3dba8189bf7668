"""The dashboard's pure rules: login throttling, session lifetimes, the charts' series, the
tier editor's form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.datastructures import FormData

from seatledger.adapters.db.metrics import PoolFacts, SeatSpan
from seatledger.domain.dashboard_user import (
    SESSION_ABSOLUTE,
    SESSION_IDLE,
    THROTTLE_CLIENT_FAILURES,
    THROTTLE_FAILURES,
    THROTTLE_WINDOW,
    DashboardSession,
    DashboardUser,
    Throttle,
)
from seatledger.pricing import SeatPrice
from seatledger.services.dashboard_charts import STEP, chart_data, monthly
from seatledger.web.dashboard.tier_form import PriceForm, preview

NOW = datetime(2031, 1, 16, 12, tzinfo=UTC)


def test_five_failures_for_one_email_wait_until_the_first_leaves_the_window() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (10, 8, 6, 4, 2)]
    assert Throttle(failures[1:], []).retry_after(NOW) is None
    wait = Throttle(failures, []).retry_after(NOW)
    assert wait == (THROTTLE_WINDOW - timedelta(minutes=10)).total_seconds()
    assert Throttle(failures, []).retry_after(NOW + timedelta(minutes=5, seconds=1)) is None
    assert len(failures) == THROTTLE_FAILURES


def test_one_address_may_fail_more_often_before_it_waits() -> None:
    failures = [NOW - timedelta(seconds=s) for s in range(THROTTLE_CLIENT_FAILURES)]
    assert Throttle([], failures[:-1]).retry_after(NOW) is None
    assert Throttle([], failures).retry_after(NOW) is not None
    old = [NOW - THROTTLE_WINDOW - timedelta(seconds=1)] * 100
    assert Throttle(old, old).retry_after(NOW) is None


def test_a_session_ends_when_idle_or_at_its_absolute_end() -> None:
    user = DashboardUser("usr_1", "ops@merchant.test", NOW)
    fresh = DashboardSession("s", user, NOW, NOW, NOW + SESSION_ABSOLUTE)
    assert fresh.live_at(NOW + SESSION_IDLE - timedelta(seconds=1))
    assert not fresh.live_at(NOW + SESSION_IDLE)
    late = NOW + SESSION_ABSOLUTE
    used = DashboardSession("s", user, NOW, late - timedelta(minutes=1), late)
    assert not used.live_at(late)


def _price(interval: str | None, unit: int, currency: str = "usd") -> SeatPrice:
    return SeatPrice.from_mapping(
        {
            "currency": currency,
            "interval": interval,
            "tiers": [{"up_to": None, "unit_amount": unit}],
        }
    )


def _pool(price: SeatPrice, seats: int, start: datetime, end: datetime | None = None) -> PoolFacts:
    return PoolFacts("prod", "Team", price, seats, 1, start, end, price.interval is not None)


def test_mrr_is_monthly_per_currency_and_never_adds_currencies() -> None:
    month = _pool(_price("month", 1000), 3, NOW - timedelta(days=100))
    year = _pool(_price("year", 12001), 1, NOW - timedelta(days=10))
    euros = _pool(_price("month", 500, "eur"), 2, NOW - timedelta(days=10))
    order = _pool(_price(None, 9999), 5, NOW - timedelta(days=10))
    ended = _pool(_price("month", 1000), 4, NOW - STEP * 5, NOW - STEP * 2)
    assert monthly(year) == 1000  # 12001 / 12, rounded half to even
    assert monthly(order) == 0
    charts = chart_data([month, year, euros, order, ended], [], NOW, points=6)
    assert charts.mrr["usd"][-1] == 3000 + 1000
    assert charts.mrr["eur"][-1] == 1000
    assert charts.mrr["usd"][-4] == 3000 + 4000  # the ended one ran then
    assert charts.mrr["usd"][-3] == 3000  # and ended at that moment
    assert charts.bought[-1] == 3 + 1 + 2 + 5
    assert charts.bought[0] == 4  # the ended one had just begun


def test_assigned_seats_are_those_held_at_each_moment() -> None:
    spans = [
        SeatSpan(NOW - STEP * 3, None),
        SeatSpan(NOW - STEP * 3, NOW - STEP),
        SeatSpan(NOW - timedelta(days=1), None),
    ]
    assert chart_data([], spans, NOW, points=5).assigned == (0, 2, 2, 1, 2)


def test_the_tier_form_reads_rows_and_previews_from_the_pricing_package() -> None:
    form = PriceForm.read(
        FormData(
            [
                ("currency", "USD"),
                ("interval", "one_time"),
                ("tiers_mode", "volume"),
                ("up_to", "10"),
                ("unit_amount", "1000"),
                ("flat_amount", ""),
                ("up_to", " "),
                ("unit_amount", "800"),
                ("flat_amount", "0"),
                ("preview_seats", "14"),
                ("quote_seats", "14"),
            ]
        )
    )
    assert form.mapping()["tiers"] == [
        {"up_to": 10, "unit_amount": 1000, "flat_amount": 0},
        {"up_to": None, "unit_amount": 800, "flat_amount": 0},
    ]
    assert form.mapping()["interval"] is None
    shown, invalid = preview(form)
    assert invalid == {}
    assert shown is not None
    assert (shown.rows[-1].volume, shown.rows[-1].graduated) == (11200, 13200)
    assert shown.quote_total == 11200
    assert len(form.with_action("add_row").tiers) == 3
    assert len(form.with_action("remove_row:1").tiers) == 1
    assert form.with_action("remove_row:7") == form
    broken = PriceForm.read(FormData([("currency", "usd"), ("unit_amount", "1.5")]))
    assert preview(broken) == (None, {"tiers[0].unit_amount": broken_message()})


def broken_message() -> str:
    return "must be an integer amount in the currency's minor unit"


def test_too_many_or_ragged_tier_rows_are_cut_not_refused() -> None:
    pairs = [("up_to", str(n)) for n in range(1, 80)] + [("unit_amount", "5")] * 3
    form = PriceForm.read(FormData([("currency", "usd"), *pairs]))
    assert len(form.tiers) == 50
    assert form.tiers[0].unit_amount == "5"
    assert form.tiers[3].unit_amount == ""
