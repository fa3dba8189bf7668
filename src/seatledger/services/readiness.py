"""Readiness, for orchestrators (``/readyz``): the database answers, and its schema is the one
this code was written for (the Alembic head). Liveness needs nothing: a process that answers is
alive."""

from __future__ import annotations

import logging

from seatledger.adapters.db import migrations
from seatledger.domain.errors import NotReady
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.readiness")


async def check_ready(rt: Runtime) -> str:
    """The schema revision, when the database answers and is at the head; else ``NotReady``
    saying what to do (the cause is logged, not told: the route is public)."""
    try:
        current = await migrations.current_revision(rt.engine)
    except migrations.UNREACHABLE as error:
        log.warning("readiness: the database does not answer: %s", error)
        raise NotReady("The database does not answer.") from None
    head = migrations.head_revision()
    if current == head:
        return head
    if current is None:
        raise NotReady("The database is not migrated: run `seatledger migrate`.")
    if current in migrations.known_revisions():
        raise NotReady(
            f"The database schema is at revision {current}, this server needs {head}: "
            "run `seatledger migrate`."
        )
    raise NotReady(
        f"The database schema is at revision {current}, which this server does not know "
        "(a newer version migrated it): run the matching version of seatledger."
    )


__all__ = ["check_ready"]
