"""What ``seatledger worker --once`` says about a round."""

from __future__ import annotations

from seatledger.services.renewals import DueRun
from seatledger.worker.loop import summary


def test_a_round_is_told_in_one_line() -> None:
    assert summary(DueRun()) == "nothing due"
    assert summary(DueRun(renewed=["sub_1"])) == ("1 renewal, 0 payment retries, 0 cancellations")
    assert summary(DueRun(renewed=["a", "b"], retried=1, canceled=["c"], declined=2)) == (
        "2 renewals, 1 payment retry, 1 cancellation (2 payments declined)"
    )
