"""Companies and their members (SPEC §1, §3, §5).

A company is created with its billing manager, and in that same transaction every owner-scoped
purchase bought with the manager's email (case-insensitively) attaches to it. Exactly one
current member is the billing manager (a partial unique index stands behind it); handing the
role over demotes the old one before promoting the new one, under a lock on the company's row.
Removing a member revokes every seat they hold, in the same transaction; the billing manager
cannot be removed (``billing_manager_required``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.constraints import translated_violations
from seatledger.domain.company import (
    Company,
    Member,
    check_external_id,
    check_name,
    check_optional_name,
)
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import (
    AlreadyMember,
    BillingManagerRequired,
    ExternalIdTaken,
    NotFound,
)
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.seat import Seat
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.purchases import attach_pending_purchases
from seatledger.services.runtime import Runtime
from seatledger.services.seats import revoke_member_seats


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


# Companies with their billing manager's id.
_companies = select(t.companies, t.members.c.id.label("billing_manager_member_id")).join(
    t.members,
    (t.members.c.company_id == t.companies.c.id) & (t.members.c.role == "billing_manager"),
)


async def _company(
    connection: AsyncConnection, company_id: object, *, lock: bool = False
) -> Company:
    if isinstance(company_id, str):
        if lock:
            # Lock alone first: a locking join would recheck only the company's row after the
            # wait and answer a stale manager; the read below sees the committed one.
            await connection.execute(
                select(t.companies.c.id).where(t.companies.c.id == company_id).with_for_update()
            )
        query = _companies.where(t.companies.c.id == company_id)
        row = (await connection.execute(query)).first()
        if row is not None:
            return _company_from_row(row)
    raise NotFound("company")


def _company_from_row(row: Any) -> Company:
    return Company(
        id=row.id,
        name=row.name,
        external_id=row.external_id,
        billing_manager_member_id=row.billing_manager_member_id,
        created_at=row.created_at,
    )


async def _current_member(
    connection: AsyncConnection, company_id: str, member_id: object
) -> Any | None:
    if not isinstance(member_id, str):
        return None
    return (
        await connection.execute(
            select(t.members).where(
                t.members.c.id == member_id,
                t.members.c.company_id == company_id,
                t.members.c.removed_at.is_(None),
            )
        )
    ).first()


# -- companies ------------------------------------------------------------------------------------


async def create_company(
    rt: Runtime,
    *,
    name: str,
    external_id: str | None = None,
    billing_manager_email: str,
    billing_manager_name: str | None = None,
) -> Company:
    """Create a company with its billing manager; pending purchases of that email attach."""
    company_name = check_name(name)
    external = check_external_id(external_id)
    email = normalize_email(billing_manager_email, field="billing_manager.email")
    manager_name = check_optional_name(billing_manager_name, field="billing_manager.name")
    now = rt.clock.now()
    company = Company(
        id=new_id("co"),
        name=company_name,
        external_id=external,
        billing_manager_member_id=new_id("mem"),
        created_at=now,
    )
    manager = Member(
        id=company.billing_manager_member_id,
        company_id=company.id,
        email=email,
        name=manager_name,
        external_id=None,
        role="billing_manager",
        created_at=now,
    )
    async with rt.transaction() as uow:
        connection = uow.connection
        if external is not None:
            taken = (
                await connection.execute(
                    select(t.companies.c.id).where(t.companies.c.external_id == external)
                )
            ).first()
            if taken is not None:
                raise ExternalIdTaken()
        with translated_violations():  # a concurrent create may have taken the external id
            await connection.execute(
                insert(t.companies).values(
                    id=company.id, name=company.name, external_id=external, created_at=now
                )
            )
        await connection.execute(
            insert(t.members).values(
                id=manager.id,
                company_id=company.id,
                email=email,
                name=manager_name,
                role="billing_manager",
                created_at=now,
            )
        )
        uow.emit(EventType.COMPANY_CREATED, company)
        uow.emit(EventType.MEMBER_ADDED, manager)
        await attach_pending_purchases(uow, rt, company_id=company.id, email=email)
        await uow.commit()
    return company


async def get_company(rt: Runtime, company_id: str) -> Company:
    async with rt.reading() as uow:
        return await _company(uow.connection, company_id)


async def list_companies(
    rt: Runtime,
    *,
    external_id: str | None = None,
    email: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> Page[Company]:
    """Companies, newest first: the one with ``external_id``, those where a current member has
    ``email`` (case-insensitively); with ``scope_company_id``, that company alone."""
    size = check_limit(limit)
    query = _companies
    if external_id is not None:
        query = query.where(t.companies.c.external_id == external_id)
    if email is not None:
        member = t.members.alias("member")
        query = query.where(
            select(member.c.id)
            .where(
                member.c.company_id == t.companies.c.id,
                member.c.email == normalize_email(email),
                member.c.removed_at.is_(None),
            )
            .exists()
        )
    if scope_company_id is not None:
        query = query.where(t.companies.c.id == scope_company_id)
    async with rt.reading() as uow:
        page = paginate(query, t.companies.c.id, cursor, size, newest_first=True)
        rows = (await uow.connection.execute(page)).all()
    return page_of([_company_from_row(row) for row in rows], [row.id for row in rows], size)


async def update_company(
    rt: Runtime,
    company_id: str,
    *,
    name: str | None = None,
    billing_manager_member_id: str | None = None,
) -> Company:
    """Rename the company and/or hand the billing manager role to another current member."""
    new_name = None if name is None else check_name(name)
    async with rt.transaction() as uow:
        connection = uow.connection
        # The lock queues concurrent handovers: each sees the manager its predecessor left.
        company = await _company(connection, company_id, lock=True)
        handover = (
            billing_manager_member_id is not None
            and billing_manager_member_id != company.billing_manager_member_id
        )
        if (
            handover
            and await _current_member(connection, company.id, billing_manager_member_id) is None
        ):
            raise NotFound("member", field="billing_manager_member_id")
        changed: dict[str, Any] = {}
        if new_name is not None and new_name != company.name:
            await connection.execute(
                update(t.companies).where(t.companies.c.id == company.id).values(name=new_name)
            )
            changed["name"] = new_name
        if handover:
            previous = company.billing_manager_member_id
            await connection.execute(
                update(t.members).where(t.members.c.id == previous).values(role="member")
            )
            promoted = await connection.execute(
                update(t.members)
                .where(
                    t.members.c.id == billing_manager_member_id,
                    t.members.c.company_id == company.id,
                    t.members.c.removed_at.is_(None),
                )
                .values(role="billing_manager")
            )
            if promoted.rowcount != 1:  # removed meanwhile; the rollback restores the manager
                raise NotFound("member", field="billing_manager_member_id")
            changed["billing_manager_member_id"] = billing_manager_member_id
            uow.emit(
                "company.billing_manager_changed",
                {
                    "company_id": company.id,
                    "previous_member_id": previous,
                    "member_id": billing_manager_member_id,
                },
            )
        if not changed:
            return company
        updated = await _company(connection, company.id)
        uow.emit(EventType.COMPANY_UPDATED, updated)
        await uow.commit()
    return updated


# -- members --------------------------------------------------------------------------------------


async def add_member(
    rt: Runtime,
    company_id: str,
    *,
    email: str,
    name: str | None = None,
    external_id: str | None = None,
) -> Member:
    """Add a plain member. Seats already assigned to that email in the company become theirs."""
    address = normalize_email(email)
    member_name = check_optional_name(name)
    external = check_external_id(external_id)
    now = rt.clock.now()
    async with rt.transaction() as uow:
        connection = uow.connection
        company = await _company(connection, company_id)
        existing = (
            await connection.execute(
                select(t.members.c.id).where(
                    t.members.c.company_id == company.id,
                    t.members.c.email == address,
                    t.members.c.removed_at.is_(None),
                )
            )
        ).first()
        if existing is not None:
            raise AlreadyMember()
        member = Member(
            id=new_id("mem"),
            company_id=company.id,
            email=address,
            name=member_name,
            external_id=external,
            role="member",
            created_at=now,
        )
        with translated_violations():  # a concurrent add of the same email may have won
            await connection.execute(
                insert(t.members).values(
                    id=member.id,
                    company_id=company.id,
                    email=address,
                    name=member_name,
                    external_id=external,
                    role="member",
                    created_at=now,
                )
            )
        # Seats assigned to this address before the member existed are theirs: removing the
        # member later revokes them too.
        await connection.execute(
            update(t.seats)
            .where(
                t.seats.c.company_id == company.id,
                t.seats.c.email == address,
                t.seats.c.member_id.is_(None),
                t.seats.c.status != "revoked",
            )
            .values(member_id=member.id)
        )
        uow.emit(EventType.MEMBER_ADDED, member)
        await uow.commit()
    return member


async def get_member(rt: Runtime, member_id: str, *, company_id: str | None = None) -> Member:
    """A current member; with ``company_id``, only one of that company's. Removed: NotFound."""
    if isinstance(member_id, str):
        query = select(t.members).where(
            t.members.c.id == member_id, t.members.c.removed_at.is_(None)
        )
        if company_id is not None:
            query = query.where(t.members.c.company_id == company_id)
        async with rt.reading() as uow:
            row = (await uow.connection.execute(query)).first()
        if row is not None:
            return member_from_row(row)
    raise NotFound("member")


async def list_members(
    rt: Runtime, company_id: str, limit: int | None = None, cursor: str | None = None
) -> Page[Member]:
    """The company's current members (removed ones excluded), oldest first."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        connection = uow.connection
        company = await _company(connection, company_id)
        query = select(t.members).where(
            t.members.c.company_id == company.id, t.members.c.removed_at.is_(None)
        )
        rows = (await connection.execute(paginate(query, t.members.c.id, cursor, size))).all()
    members = [member_from_row(row) for row in rows]
    return page_of(members, [m.id for m in members], size)


async def member_seats(
    rt: Runtime,
    member_id: str,
    *,
    subscription_id: str | None = None,
    order_id: str | None = None,
    include_revoked: bool = False,
) -> list[Seat]:
    """The seats a member holds (with ``include_revoked``, held), in one pool or in every
    pool when neither is given, oldest first. Read-only; a member holds at most one live seat
    per pool, so there is no paging."""
    async with rt.reading() as uow:
        return await uow.seats.of_member(
            member_id, pool_id=subscription_id or order_id, include_revoked=include_revoked
        )


async def remove_member(rt: Runtime, company_id: str, member_id: str) -> Member:
    """Remove a member and revoke every seat they hold (and its benefits), in one transaction."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        connection = uow.connection
        if not isinstance(company_id, str) or not isinstance(member_id, str):
            raise NotFound("member")
        row = (
            await connection.execute(
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
        if row is None:
            if await _current_member(connection, company_id, member_id) is None:
                raise NotFound("member")
            raise BillingManagerRequired()
        member = member_from_row(row)
        # Each of the member's seats is revoked with its own ``seat.revoked`` event.
        await revoke_member_seats(uow, rt, member_id=member.id)
        uow.emit(EventType.MEMBER_REMOVED, member)
        await uow.commit()
    return member


__all__ = [
    "add_member",
    "create_company",
    "get_company",
    "get_member",
    "list_companies",
    "list_members",
    "member_from_row",
    "member_seats",
    "remove_member",
    "update_company",
]
