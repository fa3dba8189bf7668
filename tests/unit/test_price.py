"""SPEC §2: seat prices, tiers, bounds, and the examples the spec gives."""

from __future__ import annotations

import pytest

from seatledger.pricing import MAX_SEATS, InvalidPrice, SeatPrice, SeatsOutOfRange, Tier


def price(**overrides: object) -> SeatPrice:
    data: dict[str, object] = {
        "currency": "usd",
        "interval": "month",
        "tiers_mode": "volume",
        "tiers": [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
    }
    data.update(overrides)
    return SeatPrice.from_mapping(data)


def fields_of(error: pytest.ExceptionInfo[InvalidPrice]) -> list[str]:
    return [field for field, _ in error.value.errors]


def test_spec_example_volume_14_seats() -> None:
    assert price().period_amount(14) == 11200


def test_spec_example_graduated_14_seats() -> None:
    assert price(tiers_mode="graduated").period_amount(14) == 13200


def test_spec_example_base_fee_with_included_seats() -> None:
    p = price(base_amount=2900, included_seats=5, tiers=[{"up_to": None, "unit_amount": 1500}])
    assert p.period_amount(8) == 7400


def test_tier_bounds_count_billable_seats_not_all_seats() -> None:
    # 5 included seats: a tier up_to 10 covers seats 6-15.
    p = price(
        included_seats=5,
        tiers=[{"up_to": 10, "unit_amount": 100}, {"up_to": None, "unit_amount": 50}],
    )
    assert p.period_amount(15) == 10 * 100
    assert p.period_amount(16) == 11 * 50


def test_no_billable_seats_cost_no_flat_amount() -> None:
    p = price(
        base_amount=500,
        included_seats=3,
        tiers=[{"up_to": None, "unit_amount": 100, "flat_amount": 9999}],
    )
    assert p.period_amount(3) == 500
    assert p.period_amount(4) == 500 + 100 + 9999


def test_volume_flat_amount_of_the_containing_tier_only() -> None:
    p = price(
        tiers=[
            {"up_to": 5, "unit_amount": 1000, "flat_amount": 100},
            {"up_to": None, "unit_amount": 800, "flat_amount": 200},
        ]
    )
    assert p.period_amount(5) == 5100
    assert p.period_amount(6) == 6 * 800 + 200


def test_graduated_flat_amounts_of_every_tier_reached() -> None:
    p = price(
        tiers_mode="graduated",
        tiers=[
            {"up_to": 5, "unit_amount": 1000, "flat_amount": 100},
            {"up_to": 10, "unit_amount": 800, "flat_amount": 200},
            {"up_to": None, "unit_amount": 500, "flat_amount": 300},
        ],
    )
    assert p.period_amount(5) == 5000 + 100
    assert p.period_amount(6) == 5000 + 100 + 800 + 200
    assert p.period_amount(12) == 5000 + 100 + 4000 + 200 + 1000 + 300


def test_lines_of_a_graduated_price_add_up_and_name_the_seats() -> None:
    p = price(
        tiers_mode="graduated",
        base_amount=2900,
        included_seats=2,
        tiers=[
            {"up_to": 10, "unit_amount": 1000, "flat_amount": 0},
            {"up_to": None, "unit_amount": 800, "flat_amount": 250},
        ],
    )
    lines = p.lines(16)
    assert [(x.kind, x.quantity, x.unit_amount, x.amount) for x in lines] == [
        ("base", 1, 2900, 2900),
        ("seats", 10, 1000, 10000),
        ("seats", 4, 800, 3200),
        ("seats", 1, 250, 250),
    ]
    assert [x.description for x in lines] == [
        "Base fee (includes 2 seats)",
        "Seats 3–12 (tier 1)",
        "Seats 13–16 (tier 2)",
        "Tier 2 flat fee",
    ]
    assert sum(x.amount for x in lines) == p.period_amount(16)


def test_lines_of_a_volume_price_are_one_seat_line() -> None:
    lines = price().lines(14)
    assert [(x.kind, x.quantity, x.unit_amount, x.amount) for x in lines] == [
        ("seats", 14, 800, 11200)
    ]
    assert lines[0].description == "Seats 1–14 (tier 2)"


def test_lines_when_every_seat_is_included() -> None:
    p = price(base_amount=2900, included_seats=5)
    assert [x.amount for x in p.lines(3)] == [2900]


def test_one_time_price_has_no_interval() -> None:
    assert price(interval=None).interval is None


def test_round_trip_through_its_json_shape() -> None:
    p = price(base_amount=10, included_seats=1, maximum_seats=50, tiers_mode="graduated")
    assert SeatPrice.from_mapping(p.to_mapping()) == p


# -- seat bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "message"),
    [
        (0, "must be at least 2"),
        (-3, "must be at least 2"),
        (1, "must be at least 2"),
        (21, "must be at most 20"),
        (10**30, "must be at most 20"),
        (True, "must be a whole number of seats"),
        ("5", "must be a whole number of seats"),
        (2.0, "must be a whole number of seats"),
    ],
)
def test_seat_counts_outside_the_price_bounds(seats: object, message: str) -> None:
    p = price(minimum_seats=2, maximum_seats=20)
    with pytest.raises(SeatsOutOfRange) as error:
        p.check_seats(seats, field="seats")
    assert error.value.code == "seats_out_of_range"
    assert error.value.errors == (("seats", message),)


def test_seat_counts_beyond_storage_are_out_of_range_even_when_unlimited() -> None:
    p = price()
    assert p.check_seats(MAX_SEATS) == MAX_SEATS
    with pytest.raises(SeatsOutOfRange):
        p.check_seats(10**30)
    with pytest.raises(SeatsOutOfRange):
        p.check_seats(0)


# -- validation names the field ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "zzz"}, "currency"),
        ({"currency": "USD"}, "currency"),
        ({"currency": 840}, "currency"),
        ({"currency": "xau"}, "currency"),  # ISO lists gold, but it has no minor unit
        ({"interval": "week"}, "interval"),
        ({"tiers_mode": "stairs"}, "tiers_mode"),
        ({"seat_sync": "auto"}, "seat_sync"),
        ({"interval": None, "seat_sync": "members"}, "seat_sync"),
        ({"base_amount": -1}, "base_amount"),
        ({"base_amount": 1.5}, "base_amount"),
        ({"base_amount": 10**30}, "base_amount"),
        ({"included_seats": -1}, "included_seats"),
        ({"minimum_seats": 0}, "minimum_seats"),
        ({"maximum_seats": 0}, "maximum_seats"),
        ({"minimum_seats": 5, "maximum_seats": 4}, "maximum_seats"),
        ({"tiers": []}, "tiers"),
        ({"tiers": "lots"}, "tiers"),
        ({"tiers": [{"up_to": 5, "unit_amount": 1}]}, "tiers[0].up_to"),
        (
            {"tiers": [{"up_to": None, "unit_amount": 1}, {"up_to": None, "unit_amount": 1}]},
            "tiers[0].up_to",
        ),
        (
            {
                "tiers": [
                    {"up_to": 5, "unit_amount": 1},
                    {"up_to": 5, "unit_amount": 1},
                    {"up_to": None, "unit_amount": 1},
                ]
            },
            "tiers[1].up_to",
        ),
        (
            {"tiers": [{"up_to": 0, "unit_amount": 1}, {"up_to": None, "unit_amount": 1}]},
            "tiers[0].up_to",
        ),
        ({"tiers": [{"up_to": None, "unit_amount": -5}]}, "tiers[0].unit_amount"),
        ({"tiers": [{"up_to": None, "unit_amount": "5"}]}, "tiers[0].unit_amount"),
        ({"tiers": [{"up_to": None, "unit_amount": 5, "flat_amount": -1}]}, "tiers[0].flat_amount"),
        ({"tiers": [{"up_to": None}]}, "tiers[0].unit_amount"),
        ({"tiers": [{"up_to": None, "unit_amount": 5, "extra": 1}]}, "tiers[0].extra"),
        ({"tiers": [7]}, "tiers[0]"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_prices_name_the_offending_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidPrice) as error:
        price(**overrides)
    assert error.value.code == "validation_error"
    assert field in fields_of(error)


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(InvalidPrice) as error:
        SeatPrice.from_mapping({})
    assert fields_of(error) == ["currency", "interval", "tiers"]


def test_field_names_carry_the_callers_prefix() -> None:
    with pytest.raises(InvalidPrice) as error:
        SeatPrice.from_mapping(
            {"currency": "usd", "interval": "month", "tiers": [{"up_to": 3, "unit_amount": 1}]},
            prefix="prices[2].",
        )
    assert fields_of(error) == ["prices[2].tiers[0].up_to"]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidPrice) as error:
        price(currency="zzz", base_amount=-1, tiers_mode="x")
    assert set(fields_of(error)) == {"currency", "base_amount", "tiers_mode"}


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidPrice):
        SeatPrice(currency="usd", interval="month", tiers=(Tier(5, 100),))
