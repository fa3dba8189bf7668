"""The mail port: what the engine asks of a mail server, in neutral terms (SPEC §10).

A ``Mailer`` sends one ``OutgoingEmail`` and answers a ``SendOutcome``; it never raises for
what the server or the network did. The outcome says whether to try again:

* ``sent``: the server took the message;
* ``temporary``: a 4xx answer, a refused or broken connection, a timeout: worth retrying;
* ``permanent``: a 5xx answer: retrying would be refused the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

EVENT_ID_HEADER = "Seatledger-Event-Id"  # every email carries the event it was made for

Outcome = Literal["sent", "temporary", "permanent"]


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    event_id: str  # sent as ``Seatledger-Event-Id`` so receivers can drop duplicates
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class SendOutcome:
    outcome: Outcome
    detail: str | None = None  # the server's answer or the error, for ``last_error``

    @classmethod
    def sent(cls) -> SendOutcome:
        return cls("sent")


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> SendOutcome: ...


__all__ = ["EVENT_ID_HEADER", "Mailer", "Outcome", "OutgoingEmail", "SendOutcome"]
