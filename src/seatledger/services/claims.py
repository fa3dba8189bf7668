"""Invitations and claims: look an invitation up, claim a seat with its token (SPEC §5).

A claim spends the token in the statement that takes the pending seat (``Seats.take_token``),
then ``Seat.claim`` makes the seat the holder's (a member created for the address when the
company has none) and the product's benefits are granted to the holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seatledger.adapters.db.claiming import MEMBER_COLUMNS, ClaimRows
from seatledger.adapters.db.grants import grant_row
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.company import Member
from seatledger.domain.errors import CorruptData, InvalidToken
from seatledger.domain.events import EventType
from seatledger.domain.grant import BenefitGrant
from seatledger.domain.ids import new_id
from seatledger.domain.json_value import MAX_DEPTH, json_depth
from seatledger.domain.seat import Seat, hash_token
from seatledger.observability import metrics
from seatledger.services import customer_sessions, grants
from seatledger.services.customer_sessions import NewSession
from seatledger.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class InvitationView:
    """What the holder of an invitation link may see before claiming."""

    seat: Seat
    company_name: str
    product_id: str
    product_name: str
    expires_at: datetime
    # Who invited them: the company's billing manager (the page says whose team it is).
    manager_email: str = ""
    manager_name: str | None = None


def _token_hash(token: object) -> str:
    if not isinstance(token, str) or not 0 < len(token) <= 200:
        raise InvalidToken()
    return hash_token(token)


async def lookup_invitation(rt: Runtime, token: str) -> InvitationView:
    """Read-only: mail scanners prefetch links, so looking never uses the token up."""
    token_hash = _token_hash(token)
    async with rt.reading() as uow:
        found = await uow.seats.pending_by_token(token_hash, rt.clock.now())
        if found is None:
            raise InvalidToken()
        seat, expires_at, price_id = found
        product_id, product_name = await uow.catalog.product_of_price(price_id)
        company = await uow.companies.name_of(seat.company_id)
        manager_email, manager_name = await uow.members.billing_manager(seat.company_id)
    return InvitationView(
        seat=seat,
        company_name=company,
        product_id=product_id,
        product_name=product_name,
        expires_at=expires_at,
        manager_email=manager_email,
        manager_name=manager_name,
    )


@dataclass(frozen=True, slots=True)
class Claim:
    seat: Seat
    grants: tuple[BenefitGrant, ...]
    session: NewSession | None = None


async def claim_seat(rt: Runtime, token: str, *, open_session: bool = False) -> Claim:
    """Claim with an invitation token: the seat becomes the holder's, benefits are granted.

    With ``open_session`` the claimer's customer session is opened in the same transaction.
    """
    now = rt.clock.now()
    token_hash = _token_hash(token)
    if rt.engine.dialect.name == "postgresql":
        claimed = await _claim_at_once(rt, token_hash, now, open_session)
        if claimed is not None:
            metrics.seats_claimed()
            return claimed
    async with rt.transaction() as uow:
        found = await uow.seats.take_token(token_hash, now)
        if found is None:
            raise InvalidToken()
        pending, product_id = found
        seat, granted = await claim_in(uow, rt, pending, product_id, now)
        _check_answerable(granted)
        session = None
        if open_session:
            assert seat.member_id is not None  # a claimed seat has its holder
            session = await customer_sessions.open_session(
                uow, rt, seat.member_id, company_id=seat.company_id
            )
        await uow.commit()
    metrics.seats_claimed()
    return Claim(seat=seat, grants=tuple(granted), session=session)


async def _claim_at_once(
    rt: Runtime, token_hash: str, now: datetime, open_session: bool
) -> Claim | None:
    """PostgreSQL: the claim in two statements (``seatledger.adapters.db.claiming``): what it
    needs is read, the claim is made here as the step-by-step path makes it (the same rows and
    the same events, in the same order), and one statement writes it all if the token is still
    good. An unknown, used or expired token is refused at once; None when the write found the
    seat taken meanwhile (nothing written): the caller claims step by step, which names why."""
    async with rt.statement() as alone:
        plan = await alone.claims.plan(token_hash, now)
        if plan is None:
            raise InvalidToken()
        pending = plan.seat
        member_id = pending.member_id or plan.live_member_id
        events: list[dict[str, Any]] = []
        member_row = None
        if member_id is None:
            member = _new_member(rt, pending.company_id, pending.email)
            member_id = member.id
            member_row = _member_row(member)
            events.append(alone.event_row(EventType.MEMBER_ADDED, member))
        seat = pending.claim(member_id, now)
        events.append(alone.event_row(EventType.SEAT_CLAIMED, seat))
        granted_now = rt.clock.now()
        granted = [
            grants.new_grant(benefit, seat_id=seat.id, member_id=member_id, now=granted_now)
            for benefit in plan.benefits
        ]
        _check_answerable(granted)
        events += [alone.event_row(EventType.BENEFIT_GRANT_CREATED, grant) for grant in granted]
        session = session_row = None
        if open_session:
            session, session_row, payload = customer_sessions.drafted_session(
                rt, member_id, seat.company_id, rt.clock.now()
            )
            events.append(alone.event_row("customer_session.created", payload))
        rows = ClaimRows(
            member=member_row,
            grants=[grant_row(grant) for grant in granted],
            session=session_row,
            events=events,
        )
        if not await alone.claims.claim(seat, token_hash, now, rows):
            return None
        await alone.commit()
    return Claim(seat=seat, grants=tuple(granted), session=session)


def _check_answerable(granted: list[BenefitGrant]) -> None:
    """The claim's answer shows its grants, so it is checked before the commit: properties
    nested deeper than free-form JSON may be (stored before that bound, or by hand) could not be
    answered, and the token would be spent on a claim its holder never saw."""
    for grant in granted:
        if json_depth(grant.properties) > MAX_DEPTH:
            raise CorruptData(
                f"benefit {grant.benefit_id}: properties nested deeper than {MAX_DEPTH} levels"
            )


def _new_member(rt: Runtime, company_id: str, email: str) -> Member:
    """The plain member a claim makes for an address the company has no member of."""
    return Member(
        id=new_id("mem"),
        company_id=company_id,
        email=email,
        name=None,
        external_id=None,
        role="member",
        created_at=rt.clock.now(),
    )


def _member_row(member: Member) -> dict[str, Any]:
    return {name: getattr(member, name) for name in MEMBER_COLUMNS}


async def _member_for(uow: UnitOfWork, rt: Runtime, company_id: str, email: str) -> str:
    """The company's member with this email, created as a plain member when there is none: one
    statement inserts it unless a live one exists (the common case: a seat is linked to the
    company's member of its address when it is assigned, so a claim that gets here usually
    makes one); only when another exists after all is it read."""
    member = _new_member(rt, company_id, email)
    existing = await uow.members.add_unless_present(member)
    if existing is not None:
        return existing
    uow.emit(EventType.MEMBER_ADDED, member)
    return member.id


async def claim_in(
    uow: UnitOfWork, rt: Runtime, pending: Seat, product_id: str, now: datetime
) -> tuple[Seat, list[BenefitGrant]]:
    """``Seat.claim`` for the holder (``_member_for``), and the product's benefits granted."""
    member_id = pending.member_id or await _member_for(uow, rt, pending.company_id, pending.email)
    seat = await uow.seats.mark_claimed(pending.claim(member_id, now))
    uow.emit(EventType.SEAT_CLAIMED, seat)
    granted = await grants.grant_benefits(
        uow, rt, seat_id=seat.id, member_id=member_id, product_id=product_id
    )
    return seat, granted


async def product_of_price(uow: UnitOfWork, price_id: str) -> str:
    """The product of a price (whose benefits a claim grants)."""
    product_id, _ = await uow.catalog.product_of_price(price_id)
    return product_id


__all__ = [
    "Claim",
    "InvitationView",
    "claim_in",
    "claim_seat",
    "lookup_invitation",
    "product_of_price",
]
