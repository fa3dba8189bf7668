"""Named crash points, a test aid: the crash tests kill a real process at a chosen step.

``SEATLEDGER_FAULT=<point>`` makes the process exit at once (``os._exit(1)``: no cleanup, no
rollback sent, no answer, as a power cut or a killed container would) the first time it reaches
that point; ``<point>@<n>`` the ``n``-th time (a renewal run's 37th charge, say). Unset
(always, outside those tests), ``reached`` does nothing. Points:

* ``charged``: a payment provider has taken a charge; nothing about it is recorded yet;
* ``recorded``: a keyed request's work and its answer are written, not yet committed;
* ``committed``: they are committed; the answer has not been sent;
* ``renewal_invoiced``: a renewal batch's invoices are written; its periods have not moved
  and nothing is committed;
* ``renewal_committed``: a renewal batch (invoices, periods moved, collection leases) is
  committed; none of its charges has been sent;
* ``payments_recorded``: the outcomes of a run's charges are written, not yet committed;
* ``true_up_quarter_invoiced``: a quarter's true-up invoice is written, its rises not yet
  marked billed and nothing committed;
* ``true_up_quarter_committed``: a quarter's invoice and its collection lease are committed;
  its charge has not been sent.
"""

from __future__ import annotations

import os
from collections import Counter

VARIABLE = "SEATLEDGER_FAULT"
POINTS = (
    "charged",
    "recorded",
    "committed",
    "renewal_invoiced",
    "renewal_committed",
    "payments_recorded",
    "true_up_quarter_invoiced",
    "true_up_quarter_committed",
)
_arrivals: Counter[str] = Counter()


def reached(point: str) -> None:
    """Exit the process now if ``SEATLEDGER_FAULT`` names ``point`` (and, with ``@n``, this is
    its ``n``-th arrival); otherwise nothing."""
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != point:
        return
    _arrivals[point] += 1
    if _arrivals[point] >= (int(nth) if nth.isdigit() else 1):
        os._exit(1)


__all__ = ["POINTS", "VARIABLE", "reached"]
