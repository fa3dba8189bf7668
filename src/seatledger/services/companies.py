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

from seatledger.adapters.db.paging import paginating
from seatledger.adapters.db.unit_of_work import UnitOfWork
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
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.purchases import attach_pending_purchases
from seatledger.services.runtime import Runtime
from seatledger.services.seats import revoke_member_seats


async def _company(uow: UnitOfWork, company_id: object, *, lock: bool = False) -> Company:
    if isinstance(company_id, str):
        company = await uow.companies.get(company_id, lock=lock)
        if company is not None:
            return company
    raise NotFound("company")


async def _current_member(uow: UnitOfWork, company_id: str, member_id: object) -> Member | None:
    if not isinstance(member_id, str):
        return None
    return await uow.members.current(company_id, member_id)


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
        companies = uow.companies
        if external is not None and await companies.external_id_taken(external):
            raise ExternalIdTaken()
        await companies.add(company)
        await uow.members.add(manager)
        uow.emit(EventType.COMPANY_CREATED, company)
        uow.emit(EventType.MEMBER_ADDED, manager)
        await attach_pending_purchases(uow, rt, company_id=company.id, email=email)
        await uow.commit()
    return company


async def get_company(rt: Runtime, company_id: str) -> Company:
    async with rt.reading() as uow:
        return await _company(uow, company_id)


async def list_companies(
    rt: Runtime,
    *,
    external_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> Page[Company]:
    """Companies, newest first: the one with ``external_id``, those where a current member has
    ``email`` (case-insensitively), those whose name contains ``name`` (case-insensitively);
    with ``scope_company_id``, that company alone."""
    size = check_limit(limit)
    address = None if email is None else normalize_email(email)
    if name is not None:
        name = check_name(name)
    async with rt.reading() as uow:
        companies = await uow.companies.page(
            paginating(cursor, size, newest_first=True),
            external_id=external_id,
            email=address,
            company_id=scope_company_id,
            name=name,
        )
    return page_of(companies, [company.id for company in companies], size)


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
        companies = uow.companies
        # The lock queues concurrent handovers: each sees the manager its predecessor left.
        company = await _company(uow, company_id, lock=True)
        handover = (
            billing_manager_member_id is not None
            and billing_manager_member_id != company.billing_manager_member_id
        )
        if handover and await _current_member(uow, company.id, billing_manager_member_id) is None:
            raise NotFound("member", field="billing_manager_member_id")
        changed: dict[str, Any] = {}
        if new_name is not None and new_name != company.name:
            await companies.rename(company.id, new_name)
            changed["name"] = new_name
        if handover:
            assert billing_manager_member_id is not None
            previous = company.billing_manager_member_id
            if not await companies.hand_over(company.id, previous, billing_manager_member_id):
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
        updated = await _company(uow, company.id)
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
        members = uow.members
        company = await _company(uow, company_id)
        if await members.has_email(company.id, address):
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
        await members.add(member)
        # Seats assigned to this address before the member existed are theirs: removing the
        # member later revokes them too.
        await members.adopt_seats(member)
        uow.emit(EventType.MEMBER_ADDED, member)
        await uow.commit()
    return member


async def get_member(rt: Runtime, member_id: str, *, company_id: str | None = None) -> Member:
    """A current member; with ``company_id``, only one of that company's. Removed: NotFound."""
    if isinstance(member_id, str):
        async with rt.reading() as uow:
            member = await uow.members.get(member_id, company_id=company_id)
        if member is not None:
            return member
    raise NotFound("member")


async def list_members(
    rt: Runtime, company_id: str, limit: int | None = None, cursor: str | None = None
) -> Page[Member]:
    """The company's current members (removed ones excluded), oldest first."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        company = await _company(uow, company_id)
        members = await uow.members.page(company.id, paginating(cursor, size))
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
        if not isinstance(company_id, str) or not isinstance(member_id, str):
            raise NotFound("member")
        member = await uow.members.remove(company_id, member_id, now)
        if member is None:
            if await _current_member(uow, company_id, member_id) is None:
                raise NotFound("member")
            raise BillingManagerRequired()
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
    "member_seats",
    "remove_member",
    "update_company",
]
