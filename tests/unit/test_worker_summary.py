"""What ``seatledger worker --once`` says about a round."""

from __future__ import annotations

from seatledger.services.delivery import DeliveryRound
from seatledger.services.renewals import DueRun
from seatledger.worker.loop import summary


def test_a_round_is_told_in_one_line() -> None:
    assert summary(DueRun()) == "nothing due"
    assert summary(DueRun(renewed=["sub_1"])) == ("1 renewal, 0 payment retries, 0 cancellations")
    assert summary(DueRun(renewed=["a", "b"], retried=1, canceled=["c"], declined=2)) == (
        "2 renewals, 1 payment retry, 1 cancellation (2 payments declined)"
    )


def test_the_delivery_of_a_round_follows_its_renewals() -> None:
    quiet = DeliveryRound(sent=(("emails", 0), ("webhooks", 0)))
    assert summary(DueRun(), quiet) == "nothing due"
    assert summary(DueRun(), DeliveryRound(delivered=1)) == "1 event delivered"
    assert summary(DueRun(retried=1), DeliveryRound(delivered=3, failed=1)) == (
        "0 renewals, 1 payment retry, 0 cancellations; 3 events delivered,"
        " 1 left for the next round"
    )
    assert summary(DueRun(), DeliveryRound(sent=(("emails", 2), ("webhooks", 0)))) == (
        "0 events delivered, sends attempted: emails 2"
    )
