"""The root of every error the engine answers with: ``SeatledgerError``.

It sits below every layer (``pricing`` included) so that one hierarchy holds them all; the
catalogue itself, one class per stable ``code``, is drawn in ``seatledger.domain.errors``.
An error carries its ``code`` (a class attribute, stable, part of the API), a ``detail`` for
people and, when the input was at fault, ``errors``: ``(field, message)`` pairs. It carries no
HTTP status: the HTTP edge maps error classes to statuses, one table for the API and the pages
(``seatledger.web.statuses``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class SeatledgerError(Exception):
    """Abstract: only classes that set ``code`` are raised."""

    code: ClassVar[str]

    def __init__(self, detail: str, *, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: tuple[tuple[str, str], ...] = tuple(errors)
