"""Companies and their members in the database: ``companies`` rows read with their billing
manager's member id, ``members`` rows, as the domain's ``Company`` and ``Member``
(``seatledger.domain.company``).

Unique external ids and one current member per email are enforced by the database too: a
concurrent write that loses raises the domain's error (``translated_violations``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.constraints import translated_violations
from seatledger.domain.company import Company, Member

# How a list is paged: the query and its id column in, the page's query out
# (``seatledger.adapters.db.paging.paginating`` with the caller's cursor and size).
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]

# Companies with their billing manager's id.
_companies = select(t.companies, t.members.c.id.label("billing_manager_member_id")).join(
    t.members,
    (t.members.c.company_id == t.companies.c.id) & (t.members.c.role == "billing_manager"),
)


def member_from_row(row: Any) -> Member:
    return Member(
        id=row.id,
        company_id=row.company_id,
        email=row.email,
        name=row.name,
        external_id=row.external_id,
        role=row.role,
        created_at=row.created_at,
        removed_at=row.removed_at,
    )


def company_from_row(row: Any) -> Company:
    return Company(
        id=row.id,
        name=row.name,
        external_id=row.external_id,
        billing_manager_member_id=row.billing_manager_member_id,
        created_at=row.created_at,
    )


class Companies:
    """The companies of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, company_id: str, *, lock: bool = False) -> Company | None:
        """The company with its billing manager; ``lock`` locks its row for this transaction."""
        connection = self._connection
        if lock:
            # Lock alone first: a locking join would recheck only the company's row after the
            # wait and answer a stale manager; the read below sees the committed one.
            await connection.execute(
                select(t.companies.c.id).where(t.companies.c.id == company_id).with_for_update()
            )
        query = _companies.where(t.companies.c.id == company_id)
        row = (await connection.execute(query)).first()
        return None if row is None else company_from_row(row)

    async def name_of(self, company_id: str) -> str:
        name = await self._connection.execute(
            select(t.companies.c.name).where(t.companies.c.id == company_id)
        )
        return str(name.scalar_one())

    async def exists(self, company_id: str) -> bool:
        query = select(t.companies.c.id).where(t.companies.c.id == company_id)
        return (await self._connection.execute(query)).first() is not None

    async def external_id_taken(self, external_id: str) -> bool:
        query = select(t.companies.c.id).where(t.companies.c.external_id == external_id)
        return (await self._connection.execute(query)).first() is not None

    async def add(self, company: Company) -> None:
        """Write a new company (its billing manager is written next, by ``Members.add``)."""
        with translated_violations():  # a concurrent create may have taken the external id
            await self._connection.execute(
                insert(t.companies).values(
                    id=company.id,
                    name=company.name,
                    external_id=company.external_id,
                    created_at=company.created_at,
                )
            )

    async def page(
        self,
        paging: Paging,
        *,
        external_id: str | None = None,
        email: str | None = None,
        company_id: str | None = None,
        name: str | None = None,
    ) -> list[Company]:
        """One page of companies: the one with ``external_id``, those where a current member
        has ``email`` (normalised), those whose name contains ``name`` (case-insensitively),
        or ``company_id`` alone."""
        query = _companies
        if name is not None:
            # LIKE's wildcards in the search are searched for, not matched (escaped).
            pattern = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(t.companies.c.name).like(f"%{pattern}%", escape="\\"))
        if external_id is not None:
            query = query.where(t.companies.c.external_id == external_id)
        if email is not None:
            member = t.members.alias("member")
            query = query.where(
                select(member.c.id)
                .where(
                    member.c.company_id == t.companies.c.id,
                    member.c.email == email,
                    member.c.removed_at.is_(None),
                )
                .exists()
            )
        if company_id is not None:
            query = query.where(t.companies.c.id == company_id)
        rows = (await self._connection.execute(paging(query, t.companies.c.id))).all()
        return [company_from_row(row) for row in rows]

    async def rename(self, company_id: str, name: str) -> None:
        await self._connection.execute(
            update(t.companies).where(t.companies.c.id == company_id).values(name=name)
        )

    async def hand_over(self, company_id: str, previous: str, member_id: str) -> bool:
        """Demote the billing manager, then promote the current member ``member_id``; False
        when that member is gone (the caller's rollback restores the manager)."""
        await self._connection.execute(
            update(t.members).where(t.members.c.id == previous).values(role="member")
        )
        promoted = await self._connection.execute(
            update(t.members)
            .where(
                t.members.c.id == member_id,
                t.members.c.company_id == company_id,
                t.members.c.removed_at.is_(None),
            )
            .values(role="billing_manager")
        )
        return promoted.rowcount == 1


class Members:
    """The members of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def current(self, company_id: str, member_id: str) -> Member | None:
        """The company's current (not removed) member with this id."""
        row = (
            await self._connection.execute(
                select(t.members).where(
                    t.members.c.id == member_id,
                    t.members.c.company_id == company_id,
                    t.members.c.removed_at.is_(None),
                )
            )
        ).first()
        return None if row is None else member_from_row(row)

    async def add_unless_present(self, member: Member) -> str | None:
        """Write ``member`` (a plain member) unless the company has a live member with its
        email, in one statement; answers the id of the one there, or None when it was written
        (a seat is usually linked to its member when assigned, so a claim that needs one
        usually makes it)."""
        live = and_(
            t.members.c.company_id == member.company_id,
            t.members.c.email == member.email,
            t.members.c.removed_at.is_(None),
        )
        values = {
            "id": member.id,
            "company_id": member.company_id,
            "email": member.email,
            "role": member.role,
            "created_at": member.created_at,
        }
        source = select(
            *[
                literal(value, type_=t.members.c[name].type).label(name)
                for name, value in values.items()
            ]
        ).where(~exists(select(t.members.c.id).where(live)))
        made = (
            await self._connection.execute(
                insert(t.members).from_select(list(values), source).returning(t.members.c.id)
            )
        ).first()
        if made is not None:
            return None
        existing = await self._connection.execute(select(t.members.c.id).where(live))
        return str(existing.scalar_one())

    async def billing_manager(self, company_id: str) -> tuple[str, str | None]:
        """The email and name of the company's billing manager (a company always has one)."""
        row = (
            await self._connection.execute(
                select(t.members.c.email, t.members.c.name).where(
                    t.members.c.company_id == company_id, t.members.c.role == "billing_manager"
                )
            )
        ).one()
        return str(row.email), row.name

    async def billing_manager_id(self, company_id: str) -> tuple[str, str]:
        """The id and email of the company's billing manager (a company always has one)."""
        row = (
            await self._connection.execute(
                select(t.members.c.id, t.members.c.email).where(
                    t.members.c.company_id == company_id, t.members.c.role == "billing_manager"
                )
            )
        ).one()
        return str(row.id), str(row.email)

    async def billing_manager_email(self, company_id: str) -> str:
        """The email of the company's billing manager (a company always has one)."""
        email = await self._connection.execute(
            select(t.members.c.email).where(
                t.members.c.company_id == company_id, t.members.c.role == "billing_manager"
            )
        )
        return str(email.scalar_one())

    async def has_email(self, company_id: str, email: str) -> bool:
        """Whether a current member of the company has this (normalised) email."""
        row = (
            await self._connection.execute(
                select(t.members.c.id).where(
                    t.members.c.company_id == company_id,
                    t.members.c.email == email,
                    t.members.c.removed_at.is_(None),
                )
            )
        ).first()
        return row is not None

    async def add(self, member: Member) -> None:
        with translated_violations():  # a concurrent add of the same email may have won
            await self._connection.execute(
                insert(t.members).values(
                    id=member.id,
                    company_id=member.company_id,
                    email=member.email,
                    name=member.name,
                    external_id=member.external_id,
                    role=member.role,
                    created_at=member.created_at,
                )
            )

    async def adopt_seats(self, member: Member) -> None:
        """The company's live seats assigned to the member's email before the member existed
        become the member's."""
        await self._connection.execute(
            update(t.seats)
            .where(
                t.seats.c.company_id == member.company_id,
                t.seats.c.email == member.email,
                t.seats.c.member_id.is_(None),
                t.seats.c.status != "revoked",
            )
            .values(member_id=member.id)
        )

    async def get(self, member_id: str, *, company_id: str | None = None) -> Member | None:
        """A current member (of ``company_id`` when given)."""
        query = select(t.members).where(
            t.members.c.id == member_id, t.members.c.removed_at.is_(None)
        )
        if company_id is not None:
            query = query.where(t.members.c.company_id == company_id)
        row = (await self._connection.execute(query)).first()
        return None if row is None else member_from_row(row)

    async def page(self, company_id: str, paging: Paging) -> list[Member]:
        """One page of the company's current members."""
        query = select(t.members).where(
            t.members.c.company_id == company_id, t.members.c.removed_at.is_(None)
        )
        rows = (await self._connection.execute(paging(query, t.members.c.id))).all()
        return [member_from_row(row) for row in rows]

    async def remove(self, company_id: str, member_id: str, now: datetime) -> Member | None:
        """Mark a current plain member removed; None when there is none (the billing manager
        is never removed here)."""
        row = (
            await self._connection.execute(
                update(t.members)
                .where(
                    t.members.c.id == member_id,
                    t.members.c.company_id == company_id,
                    t.members.c.removed_at.is_(None),
                    t.members.c.role == "member",
                )
                .values(removed_at=now)
                .returning(*t.members.c)
            )
        ).first()
        return None if row is None else member_from_row(row)


__all__ = ["Companies", "Members", "Paging", "company_from_row", "member_from_row"]
