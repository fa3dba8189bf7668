"""A broken database constraint, translated by its name into the catalogue's error.

The schema's unique indexes state rules the engine also checks before it writes; when two
requests race past the check, the database refuses the second, and the name of what it refused
says which rule. PostgreSQL names the constraint (``diag.constraint_name``); SQLite names the
columns of a UNIQUE one (``UNIQUE constraint failed: seats.pool_id, seats.email``),
which the table definitions turn back into the index's name. A violation not listed here is a
fault, not an answer: it propagates as it came.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from seatledger.adapters.db import tables as t
from seatledger.domain.errors import AlreadyAssigned, AlreadyMember, ExternalIdTaken
from seatledger.errors import SeatledgerError

VIOLATIONS: Mapping[str, Callable[[], SeatledgerError]] = {
    "uq_companies_external_id": ExternalIdTaken,
    "uq_members_company_email": AlreadyMember,
    "uq_seats_pool_email": AlreadyAssigned,
    "uq_seats_pool_member": AlreadyAssigned,
}

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")


def _unique_by_columns() -> dict[tuple[str, ...], str]:
    names: dict[tuple[str, ...], str] = {}
    for table in t.metadata.sorted_tables:
        uniques: list[Index | UniqueConstraint] = [i for i in table.indexes if i.unique]
        uniques += [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        for unique in uniques:
            columns = tuple(f"{table.name}.{column.name}" for column in unique.columns)
            names[columns] = str(unique.name)
    return names


_UNIQUE_BY_COLUMNS = _unique_by_columns()


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the constraint or unique index ``error`` broke, when the driver tells."""
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if isinstance(name, str):
        return name
    found = _SQLITE_UNIQUE.match(str(error.orig))
    if found is None:
        return None
    return _UNIQUE_BY_COLUMNS.get(tuple(found.group(1).strip().split(", ")))


@contextmanager
def translated_violations() -> Iterator[None]:
    """Raise a listed violation inside the block as its catalogue error; others unchanged."""
    try:
        yield
    except IntegrityError as error:
        name = constraint_name(error)
        make = VIOLATIONS.get(name) if name is not None else None
        if make is None:
            raise
        raise make() from None
