"""Changing a subscription: its seats, its price, a scheduled cancellation (SPEC §2, §3).

``change_subscription`` (``PATCH``) and ``preview_change`` (``POST …/preview``) load where the
subscription stands and ask ``seatledger.domain.billing.plan_change`` what the change does; the
preview answers that plan, the change writes it. ``apply_plan`` is also how the ``members``
mode grows and shrinks a pool (``seatledger.services.seat_sync``).

A change whose invoice has something to collect (``invoice``, a charge) is paid first: the
plan is made in one transaction, the card charged with no transaction open, and the change
written in a second transaction after planning again at the same instant. Under an
``Idempotency-Key`` that instant is the request's recovery point: a retry after a crash plans at
the first run's instant, so the charge goes out under the same provider key. A declined card
changes nothing and leaves no invoice (``PaymentFailed``). Should the subscription have moved
in between (a concurrent change), the money taken goes to the credit balance and the change is
refused (``subscription_changed``), so nothing is billed for a plan that no longer holds.

A price of another product is allowed (a plan change, e.g. "Team" → "Business"): the seats and
their holders stay, and claimed seats' grants follow the new product's benefits. The defaults
used are those of the product the subscription moves to.
"""

from seatledger.services.subscriptions.changes import (
    ChangePreview,
    change_subscription,
    preview_change,
)
from seatledger.services.subscriptions.plan import apply_plan
from seatledger.services.subscriptions.standing import (
    load_standing,
    subscription_of,
    true_up_lines_of,
    waiting_lines,
)

__all__ = [
    "ChangePreview",
    "apply_plan",
    "change_subscription",
    "load_standing",
    "preview_change",
    "subscription_of",
    "true_up_lines_of",
    "waiting_lines",
]
