"""The SMTP sender (``SEATLEDGER_SMTP_URL``), with ``aiosmtplib``.

aiosmtplib's exceptions stop here: each answer becomes a ``SendOutcome`` (``seatledger.domain
.mail``). A 4xx reply, a refused or broken connection and a timeout are temporary; a 5xx reply
is permanent.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from seatledger.config import SmtpServer
from seatledger.domain.mail import EVENT_ID_HEADER, OutgoingEmail, SendOutcome

TIMEOUT = 30.0  # seconds for each step of the conversation
MAX_ERROR = 500  # ``emails.last_error`` holds this much


def _outcome_of_code(code: int, message: str) -> SendOutcome:
    detail = f"{code} {message}".strip()[:MAX_ERROR]
    return SendOutcome("permanent" if 500 <= code < 600 else "temporary", detail)


def _refused(error: aiosmtplib.SMTPRecipientsRefused) -> SendOutcome:
    # One recipient per message: its refusal is the answer.
    first = error.recipients[0] if error.recipients else None
    if first is None:
        return SendOutcome("temporary", "recipient refused")
    return _outcome_of_code(first.code, first.message)


class SmtpMailer:
    """Sends each email in a connection of its own: a loop sends a few at a time, and a new
    connection recovers by itself from whatever the last one met."""

    def __init__(self, server: SmtpServer, sender: str, *, timeout: float = TIMEOUT) -> None:
        self.server = server
        self.sender = sender
        self.timeout = timeout

    def message(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain="seatledger")
        message[EVENT_ID_HEADER] = email.event_id
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    async def send(self, email: OutgoingEmail) -> SendOutcome:
        server = self.server
        try:
            await aiosmtplib.send(
                self.message(email),
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.tls,
                start_tls=server.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            return _refused(error)
        except aiosmtplib.SMTPResponseException as error:
            return _outcome_of_code(error.code, error.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # Connection refused or dropped, timeouts, TLS trouble: the network, not the mail.
            return SendOutcome("temporary", f"{type(error).__name__}: {error}"[:MAX_ERROR])
        return SendOutcome.sent()


__all__ = ["SmtpMailer"]
