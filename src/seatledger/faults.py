"""Named crash points, a test aid: the crash tests kill a real server at a chosen step.

``SEATLEDGER_FAULT=<point>`` makes the process exit at once (``os._exit(1)``: no cleanup, no
rollback sent, no answer, as a power cut or a killed container would) the first time it reaches
that point. Unset (always, outside those tests), ``reached`` does nothing. Points:

* ``charged``: a payment provider has taken a charge; nothing about it is recorded yet;
* ``recorded``: a keyed request's work and its answer are written, not yet committed;
* ``committed``: they are committed; the answer has not been sent.
"""

from __future__ import annotations

import os

VARIABLE = "SEATLEDGER_FAULT"
POINTS = ("charged", "recorded", "committed")


def reached(point: str) -> None:
    """Exit the process now if ``SEATLEDGER_FAULT`` names ``point``; otherwise nothing."""
    if os.environ.get(VARIABLE) == point:
        os._exit(1)


__all__ = ["POINTS", "VARIABLE", "reached"]
