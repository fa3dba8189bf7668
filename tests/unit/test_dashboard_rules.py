"""The dashboard's pure rules: login throttling, session lifetimes, the charts' series, the
tier editor's form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from starlette.datastructures import FormData

from seatledger.adapters.db.metrics import PoolFacts, SeatSpan, SubscriptionChange
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
from seatledger.services.dashboard_charts import chart_data, month_ends, monthly_amount
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


def _pool(
    price: SeatPrice, seats: int, start: datetime, end: datetime | None = None, name: str = "p"
) -> PoolFacts:
    return PoolFacts(name, "prod", "Team", price, seats, 1, start, end, price.interval is not None)


# The ends of the months the charts show at NOW (Jan 16, 2031), with points=6.
ENDS = month_ends(NOW, 6)


def test_the_points_are_month_ends_and_now() -> None:
    assert [f"{end:%Y-%m-%d %H:%M:%S.%f}" for end in ENDS] == [
        "2030-08-31 23:59:59.999999",
        "2030-09-30 23:59:59.999999",
        "2030-10-31 23:59:59.999999",
        "2030-11-30 23:59:59.999999",
        "2030-12-31 23:59:59.999999",
        "2031-01-16 12:00:00.000000",
    ]
    assert month_ends(datetime(2031, 3, 31, tzinfo=UTC), 2)[0].day == 28


def test_mrr_is_monthly_per_currency_summed_exactly_and_rounded_once() -> None:
    month = _pool(_price("month", 1000), 3, NOW - timedelta(days=100))
    years = [_pool(_price("year", 1001), 1, NOW - timedelta(days=10)) for _ in range(2)]
    euros = _pool(_price("month", 500, "eur"), 2, NOW - timedelta(days=10))
    order = _pool(_price(None, 9999), 5, NOW - timedelta(days=10))
    ended = _pool(_price("month", 1000), 4, ENDS[0] - timedelta(days=1), ENDS[2])
    assert monthly_amount(years[0].price, 1) == Fraction(1001, 12)
    assert monthly_amount(order.price, 5) == 0
    charts = chart_data([month, *years, euros, order, ended], [], [], NOW, points=6)
    assert charts.mrr["usd"][-1] == 3000 + 167  # 2002 / 12 = 166.83…, not 83 + 83
    assert charts.mrr["eur"][-1] == 1000
    # The ended one runs until Oct's last instant (excluded); the first starts on Oct 8.
    assert charts.mrr["usd"][:4] == (4000, 4000, 3000, 3000)
    assert charts.bought[-1] == 3 + 1 + 1 + 2 + 5
    assert charts.bought[0] == 4


def test_a_subscriptions_recorded_states_set_its_seats_and_price_at_each_moment() -> None:
    monthly, yearly = _price("month", 1000), _price("year", 24000)
    pool = _pool(monthly, 9, ENDS[0] - timedelta(days=3), name="sub_1")
    changes = [
        SubscriptionChange("sub_1", ENDS[0] - timedelta(days=3), 2, monthly, live=True),
        SubscriptionChange("sub_1", ENDS[2] - timedelta(days=1), 4, monthly, live=True),
        SubscriptionChange("sub_1", ENDS[3] - timedelta(days=1), 4, yearly, live=True),
        SubscriptionChange("sub_1", ENDS[4] - timedelta(days=1), 4, yearly, live=False),
        SubscriptionChange("sub_2", ENDS[0], 50, monthly, live=True),  # no such pool
    ]
    charts = chart_data([pool], [], changes, NOW, points=6)
    assert charts.bought == (2, 2, 4, 4, 0, 0)
    assert charts.mrr["usd"] == (2000, 2000, 4000, 8000, 0, 0)
    # Without a recorded state, a pool counts from its start with its seats as they are now.
    assert chart_data([pool], [], [], NOW, points=6).bought == (9,) * 6


def test_a_subscription_in_its_trial_counts_its_seats_but_brings_no_mrr() -> None:
    monthly = _price("month", 1000)
    pool = _pool(monthly, 3, ENDS[2] - timedelta(days=5), name="sub_1")
    changes = [
        SubscriptionChange("sub_1", ENDS[2] - timedelta(days=5), 3, monthly, True, trialing=True),
        SubscriptionChange("sub_1", ENDS[3] - timedelta(days=20), 3, monthly, live=True),
    ]
    charts = chart_data([pool], [], changes, NOW, points=6)
    assert charts.bought == (0, 0, 3, 3, 3, 3)
    assert charts.mrr["usd"] == (0, 0, 0, 3000, 3000, 3000)


def test_assigned_seats_are_those_held_at_each_moment() -> None:
    spans = [
        SeatSpan(ENDS[1], None),
        SeatSpan(ENDS[1], ENDS[3]),
        SeatSpan(NOW - timedelta(days=1), None),
    ]
    assert chart_data([], spans, [], NOW, points=6).assigned == (0, 2, 2, 1, 1, 2)


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
