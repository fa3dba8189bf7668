"""Pure pricing: money, seat prices, billing periods and proration (SPEC §2). No I/O.

Everything here is a function of its arguments; amounts are integers in the currency's minor
unit, fractions are exact, and rounding (half to even) happens once per line.
"""

from seatledger.pricing.errors import InvalidPrice, PricingError, SeatsOutOfRange
from seatledger.pricing.money import currency_exponent, div_round_half_even
from seatledger.pricing.periods import (
    Period,
    add_intervals,
    add_months,
    period_at,
    period_containing,
)
from seatledger.pricing.price import (
    MAX_AMOUNT,
    MAX_SEATS,
    MAX_TRIAL_DAYS,
    Interval,
    Line,
    SeatPrice,
    SeatSync,
    Tier,
    TiersMode,
)
from seatledger.pricing.proration import (
    IntervalSwitch,
    change_line,
    describe_day,
    describe_span,
    interval_switch,
    prorate,
    unused_fraction,
)
from seatledger.pricing.trials import trial_end, trial_line
from seatledger.pricing.true_up import (
    SeatStep,
    billed_at,
    peak_steps,
    quarter_ends,
    true_up_line,
    true_up_lines,
)

__all__ = [
    "MAX_AMOUNT",
    "MAX_SEATS",
    "MAX_TRIAL_DAYS",
    "Interval",
    "IntervalSwitch",
    "InvalidPrice",
    "Line",
    "Period",
    "PricingError",
    "SeatPrice",
    "SeatStep",
    "SeatSync",
    "SeatsOutOfRange",
    "Tier",
    "TiersMode",
    "add_intervals",
    "add_months",
    "billed_at",
    "change_line",
    "currency_exponent",
    "describe_day",
    "describe_span",
    "div_round_half_even",
    "interval_switch",
    "peak_steps",
    "period_at",
    "period_containing",
    "prorate",
    "quarter_ends",
    "trial_end",
    "trial_line",
    "true_up_line",
    "true_up_lines",
    "unused_fraction",
]
