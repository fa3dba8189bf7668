"""Invitations and claims: look an invitation up, claim a seat with its token (SPEC §5).

A claim spends the token in the statement that takes the pending seat (``Seats.take_token``),
then ``Seat.claim`` makes the seat the holder's (a member created for the address when the
company has none) and the product's benefits are granted to the holder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def _check_answerable(granted: list[BenefitGrant]) -> None:
    """The claim's answer shows its grants, so it is checked before the commit: properties
    nested deeper than free-form JSON may be (stored before that bound, or by hand) could not be
    answered, and the token would be spent on a claim its holder never saw."""
    for grant in granted:
        if json_depth(grant.properties) > MAX_DEPTH:
            raise CorruptData(
                f"benefit {grant.benefit_id}: properties nested deeper than {MAX_DEPTH} levels"
            )


async def _member_for(uow: UnitOfWork, rt: Runtime, company_id: str, email: str) -> str:
    """The company's member with this email, created as a plain member when there is none: one
    statement inserts it unless a live one exists (the common case: a seat is linked to the
    company's member of its address when it is assigned, so a claim that gets here usually
    makes one); only when another exists after all is it read."""
    member = Member(
        id=new_id("mem"),
        company_id=company_id,
        email=email,
        name=None,
        external_id=None,
        role="member",
        created_at=rt.clock.now(),
    )
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
