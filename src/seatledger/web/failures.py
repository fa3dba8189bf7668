"""Business errors on the pages: the fields to mark.

A page catches the service's ``SeatledgerError`` and renders itself again with the error's
message (never a problem document), with the API's status for the same error
(``web.statuses.status_for``).
"""

from __future__ import annotations

from seatledger.errors import SeatledgerError


def invalid_fields(error: SeatledgerError) -> dict[str, str]:
    """The fields the error names, with their messages (``aria-invalid`` and the hint)."""
    return {field: message for field, message in error.errors}


__all__ = ["invalid_fields"]
