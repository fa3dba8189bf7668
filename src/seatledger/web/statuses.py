"""The one table of error kind → HTTP status, for the API's problem documents and every page.

An error class answers the status of its nearest kind in ``STATUS_OF`` (every ``Conflict`` is
409); a class the table does not reach is a fault, answered 500. ``api.problems`` builds its
problem documents from this table and the pages (checkout, claim, portal, dashboard) answer
their errors with the same statuses, each with its own wording.

It lives at the web layer because the layers contract puts ``web`` below ``api``: both may
import it here, and HTTP statuses stay at the edges (``api`` and ``web``), never in services.
"""

from __future__ import annotations

from seatledger.domain.errors import (
    Conflict,
    Forbidden,
    InvalidProviderEvent,
    InvalidToken,
    NotFound,
    NotReady,
    PaymentFailed,
    PaymentProviderUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from seatledger.errors import SeatledgerError
from seatledger.pricing import PricingError

STATUS_OF: dict[type[SeatledgerError], int] = {
    InvalidToken: 400,
    InvalidProviderEvent: 400,
    Unauthenticated: 401,
    PaymentFailed: 402,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    ValidationFailed: 422,
    PricingError: 422,
    NotReady: 503,
    PaymentProviderUnavailable: 503,
}
UNMAPPED = 500  # an error class without a status is a fault, not an answer


def status_of(kind: type[SeatledgerError]) -> int | None:
    """The status of ``kind``'s nearest ancestor in ``STATUS_OF``; None for an unmapped one."""
    for ancestor in kind.__mro__:
        if ancestor in STATUS_OF:
            return STATUS_OF[ancestor]
    return None


def status_for(error: SeatledgerError) -> int:
    """The status an answer to ``error`` carries, page or problem document alike."""
    status = status_of(type(error))
    return UNMAPPED if status is None else status


__all__ = ["STATUS_OF", "UNMAPPED", "status_for", "status_of"]
