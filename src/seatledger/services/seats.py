"""Seats: assign, look up an invitation, claim, resend, revoke, list (SPEC §5).

Capacity is enforced by one conditional update of the pool's counter
(``assigned_seats = assigned_seats + 1 WHERE assigned_seats < seats``): concurrent assignments
queue on the pool's row and each sees the count its predecessor left, so N simultaneous
assignments to a pool with k free seats succeed exactly k times. The database's CHECK
``assigned_seats <= seats`` stands behind it. The diagnostic read that names *why* an
assignment failed runs only on the failure path, so the hot path is two statements and the
outbox insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.constraints import translated_violations
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import (
    CompanyRequired,
    CorruptData,
    InvalidToken,
    NoSeatsAvailable,
    NotFound,
    OrderNotPaid,
    SeatNotPending,
    SubscriptionNotActive,
    ValidationFailed,
)
from seatledger.domain.grant import BenefitGrant
from seatledger.domain.ids import new_id
from seatledger.domain.json_value import MAX_DEPTH, json_depth
from seatledger.domain.seat import Invitation, Seat, check_metadata, hash_token, new_token
from seatledger.services import customer_sessions, grants
from seatledger.services.customer_sessions import NewSession
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime

_LIVE = ("pending", "claimed")


@dataclass(frozen=True, slots=True)
class Pool:
    """The subscription or order a seat belongs to."""

    table: Table
    id: str
    field: str  # "subscription_id" | "order_id"

    @property
    def noun(self) -> str:
        return "subscription" if self.field == "subscription_id" else "order"

    @property
    def seat_column(self) -> Any:
        return t.seats.c.subscription_id if self.field == "subscription_id" else t.seats.c.order_id


def pool_of(subscription_id: str | None, order_id: str | None) -> Pool:
    if (subscription_id is None) == (order_id is None):
        raise ValidationFailed.field(
            "subscription_id", "give exactly one of subscription_id or order_id"
        )
    if subscription_id is not None:
        return Pool(t.subscriptions, subscription_id, "subscription_id")
    assert order_id is not None
    return Pool(t.orders, order_id, "order_id")


def _pool_of_seat(row: Any) -> Pool:
    return pool_of(row.subscription_id, row.order_id)


def seat_from_row(row: Any, invitation: Invitation | None = None) -> Seat:
    return Seat(
        id=row.id,
        company_id=row.company_id,
        subscription_id=row.subscription_id,
        order_id=row.order_id,
        member_id=row.member_id,
        email=row.email,
        status=row.status,
        metadata=dict(row.metadata),
        created_at=row.created_at,
        claimed_at=row.claimed_at,
        revoked_at=row.revoked_at,
        invitation=invitation,
    )


def _assignable(pool: Pool) -> Any:
    table = pool.table
    condition = and_(
        table.c.id == pool.id,
        table.c.company_id.is_not(None),
        table.c.assigned_seats < table.c.seats,
    )
    if pool.table is t.subscriptions:
        return and_(condition, table.c.status != "canceled")
    return and_(condition, table.c.status == "paid")


async def _why_not_assignable(
    connection: AsyncConnection, pool: Pool, scope_company_id: str | None
) -> Exception:
    row = (await connection.execute(select(pool.table).where(pool.table.c.id == pool.id))).first()
    if row is None or (scope_company_id is not None and row.company_id != scope_company_id):
        return NotFound(pool.noun, field=pool.field)
    if row.company_id is None:
        return CompanyRequired(f"This {pool.noun} is not attached to a company yet.")
    if pool.table is t.subscriptions and row.status == "canceled":
        return SubscriptionNotActive()
    if pool.table is t.orders and row.status != "paid":
        return OrderNotPaid()
    return NoSeatsAvailable(f"Every seat of this {pool.noun} is assigned.")


def _invitation(rt: Runtime, now: datetime) -> tuple[str, str, Invitation]:
    token = new_token()
    expires_at = now + rt.settings.invitation_ttl
    url = f"{rt.settings.public_url}/claim/{token}"
    return token, hash_token(token), Invitation(url=url, token=token, expires_at=expires_at)


def _emit_invitation_email(uow: UnitOfWork, seat: Seat, invitation: Invitation) -> None:
    # The outbox row carries the link until the mail leaves; delivery scrubs it afterwards.
    uow.emit(
        "invitation.email",
        {
            "seat_id": seat.id,
            "to": seat.email,
            "url": invitation.url,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )


def _seat_event(seat: Seat) -> dict[str, Any]:
    return {
        "seat_id": seat.id,
        "company_id": seat.company_id,
        "subscription_id": seat.subscription_id,
        "order_id": seat.order_id,
        "member_id": seat.member_id,
        "email": seat.email,
        "status": seat.status,
    }


async def assign_seat(
    rt: Runtime,
    *,
    subscription_id: str | None = None,
    order_id: str | None = None,
    email: str | None = None,
    member_id: str | None = None,
    immediate_claim: bool = False,
    send_email: bool = True,
    metadata: dict[str, Any] | None = None,
    scope_company_id: str | None = None,
) -> Seat:
    """Assign a free seat of a pool to an email or a member.

    Answers the seat with its invitation (the only time the plain token is shown), or, with
    ``immediate_claim``, a claimed seat whose benefits are granted at once.
    """
    pool = pool_of(subscription_id, order_id)
    if email is None and member_id is None:
        raise ValidationFailed.field("email", "give an email or a member_id")
    address = normalize_email(email) if email is not None else None
    checked_metadata = check_metadata(metadata)
    now = rt.clock.now()

    async with rt.transaction() as uow:
        connection = uow.connection
        scope = _assignable(pool)
        if scope_company_id is not None:
            scope = and_(scope, pool.table.c.company_id == scope_company_id)
        taken = (
            await connection.execute(
                update(pool.table)
                .where(scope)
                .values(assigned_seats=pool.table.c.assigned_seats + 1)
                .returning(pool.table.c.company_id, pool.table.c.price_id)
            )
        ).first()
        if taken is None:
            refusal = await _why_not_assignable(connection, pool, scope_company_id)
            if pool.table is not t.subscriptions or not isinstance(refusal, NoSeatsAvailable):
                raise refusal
            from seatledger.services import seat_sync  # builds on subscription changes

            # A full pool that follows members grows by one seat (or refuses, naming why).
            taken = await seat_sync.grow(uow, rt, pool.id)
        company_id = taken.company_id

        seat_id = new_id("seat")
        invitation: Invitation | None = None
        token_hash: str | None = None
        if not immediate_claim:
            _, token_hash, invitation = _invitation(rt, now)
        values: dict[str, Any] = {
            "id": seat_id,
            "company_id": company_id,
            "subscription_id": subscription_id,
            "order_id": order_id,
            "status": "pending",
            "token_hash": token_hash,
            "token_expires_at": invitation.expires_at if invitation else None,
            "metadata": checked_metadata,
            "created_at": now,
        }
        live_member = and_(t.members.c.company_id == company_id, t.members.c.removed_at.is_(None))
        if member_id is not None:
            # The member's own address is the seat's email: one person, one live seat per pool.
            source = select(
                *[literal(v, type_=t.seats.c[k].type).label(k) for k, v in values.items()],
                t.members.c.id.label("member_id"),
                t.members.c.email.label("email"),
            ).where(live_member, t.members.c.id == member_id)
            if address is not None:
                source = source.where(t.members.c.email == address)
            columns = [*values, "member_id", "email"]
            statement: Any = insert(t.seats).from_select(columns, source)
        else:
            known = select(t.members.c.id).where(live_member, t.members.c.email == address)
            statement = insert(t.seats).values(
                **values, email=address, member_id=known.scalar_subquery()
            )
        with translated_violations():  # the person holds a live seat of this pool already
            row = (await connection.execute(statement.returning(*t.seats.c))).first()
        if row is None:
            raise NotFound("member", field="member_id")
        seat = seat_from_row(row, invitation)
        uow.emit("seat.assigned", _seat_event(seat))
        if immediate_claim:
            seat, _ = await _claim(uow, rt, row, taken.price_id, now)
        elif send_email and invitation is not None:
            _emit_invitation_email(uow, seat, invitation)
        await uow.commit()
    return seat


@dataclass(frozen=True, slots=True)
class InvitationView:
    """What the holder of an invitation link may see before claiming."""

    seat: Seat
    company_name: str
    product_id: str
    product_name: str
    expires_at: datetime


async def _pending_by_token(connection: AsyncConnection, token: str, now: datetime) -> Any:
    if not isinstance(token, str) or not 0 < len(token) <= 200:
        raise InvalidToken()
    row = (
        await connection.execute(
            select(t.seats).where(
                t.seats.c.token_hash == hash_token(token),
                t.seats.c.status == "pending",
                t.seats.c.token_expires_at > now,
            )
        )
    ).first()
    if row is None:
        raise InvalidToken()
    return row


async def _product_of_price(connection: AsyncConnection, price_id: str) -> Any:
    return (
        await connection.execute(
            select(t.products.c.id, t.products.c.name)
            .join(t.prices, t.prices.c.product_id == t.products.c.id)
            .where(t.prices.c.id == price_id)
        )
    ).one()


async def _price_of_pool(connection: AsyncConnection, pool: Pool) -> str:
    return str(
        (
            await connection.execute(
                select(pool.table.c.price_id).where(pool.table.c.id == pool.id)
            )
        ).scalar_one()
    )


async def lookup_invitation(rt: Runtime, token: str) -> InvitationView:
    """Read-only: mail scanners prefetch links, so looking never uses the token up."""
    async with rt.reading() as uow:
        connection = uow.connection
        row = await _pending_by_token(connection, token, rt.clock.now())
        product = await _product_of_price(
            connection, await _price_of_pool(connection, _pool_of_seat(row))
        )
        company = (
            await connection.execute(
                select(t.companies.c.name).where(t.companies.c.id == row.company_id)
            )
        ).scalar_one()
    return InvitationView(
        seat=seat_from_row(row),
        company_name=company,
        product_id=product.id,
        product_name=product.name,
        expires_at=row.token_expires_at,
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
    if not isinstance(token, str) or not 0 < len(token) <= 200:
        raise InvalidToken()
    async with rt.transaction() as uow:
        connection = uow.connection
        # The token dies in the same statement that claims: a second claim, or a revoke racing
        # this one, finds no pending seat behind it.
        row = (
            await connection.execute(
                update(t.seats)
                .where(
                    t.seats.c.token_hash == hash_token(token),
                    t.seats.c.status == "pending",
                    t.seats.c.token_expires_at > now,
                )
                .values(token_hash=None, token_expires_at=None)
                .returning(*t.seats.c)
            )
        ).first()
        if row is None:
            raise InvalidToken()
        price_id = await _price_of_pool(connection, _pool_of_seat(row))
        seat, granted = await _claim(uow, rt, row, price_id, now)
        _check_answerable(granted)
        session = None
        if open_session:
            assert seat.member_id is not None  # a claimed seat has its holder
            session = await customer_sessions.open_session(uow, rt, seat.member_id)
        await uow.commit()
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
    """The company's member with this email, created as a plain member when there is none."""
    connection = uow.connection
    existing = (
        await connection.execute(
            select(t.members.c.id).where(
                t.members.c.company_id == company_id,
                t.members.c.email == email,
                t.members.c.removed_at.is_(None),
            )
        )
    ).scalar()
    if existing is not None:
        return str(existing)
    member_id = new_id("mem")
    await connection.execute(
        insert(t.members).values(
            id=member_id,
            company_id=company_id,
            email=email,
            role="member",
            created_at=rt.clock.now(),
        )
    )
    uow.emit("member.added", {"member_id": member_id, "company_id": company_id, "email": email})
    return member_id


async def _claim(
    uow: UnitOfWork, rt: Runtime, row: Any, price_id: str, now: datetime
) -> tuple[Seat, list[BenefitGrant]]:
    member_id = row.member_id or await _member_for(uow, rt, row.company_id, row.email)
    claimed = (
        await uow.connection.execute(
            update(t.seats)
            .where(t.seats.c.id == row.id)
            .values(
                status="claimed",
                claimed_at=now,
                member_id=member_id,
                token_hash=None,
                token_expires_at=None,
            )
            .returning(*t.seats.c)
        )
    ).one()
    seat = seat_from_row(claimed)
    uow.emit("seat.claimed", _seat_event(seat))
    product = await _product_of_price(uow.connection, price_id)
    granted = await grants.grant_benefits(
        uow, rt, seat_id=seat.id, member_id=member_id, product_id=product.id
    )
    return seat, granted


async def hold_billing_manager_seat(
    uow: UnitOfWork, rt: Runtime, *, subscription_id: str
) -> Seat | None:
    """In ``members`` mode the billing manager holds a claimed seat from purchase (SPEC §5):
    inside the purchase's or the attachment's unit of work, once the subscription belongs to a
    company, the manager gets a claimed seat of it, with the product's benefits. Answers None
    (and does nothing) for a manual pool, an owner-scoped one, or a manager who holds a seat."""
    connection = uow.connection
    pool = (
        await connection.execute(
            select(
                t.subscriptions.c.company_id,
                t.subscriptions.c.price_id,
                t.prices.c.seat_sync,
                t.prices.c.product_id,
            )
            .join(t.prices, t.prices.c.id == t.subscriptions.c.price_id)
            .where(t.subscriptions.c.id == subscription_id)
        )
    ).one()
    if pool.seat_sync != "members" or pool.company_id is None:
        return None
    manager = (
        await connection.execute(
            select(t.members.c.id, t.members.c.email).where(
                t.members.c.company_id == pool.company_id,
                t.members.c.role == "billing_manager",
            )
        )
    ).one()
    held = (
        await connection.execute(
            select(t.seats.c.id).where(
                t.seats.c.subscription_id == subscription_id,
                t.seats.c.status.in_(_LIVE),
                (t.seats.c.member_id == manager.id) | (t.seats.c.email == manager.email),
            )
        )
    ).first()
    if held is not None:
        return None
    taken = (
        await connection.execute(
            update(t.subscriptions)
            .where(
                t.subscriptions.c.id == subscription_id,
                t.subscriptions.c.assigned_seats < t.subscriptions.c.seats,
            )
            .values(assigned_seats=t.subscriptions.c.assigned_seats + 1)
            .returning(t.subscriptions.c.id)
        )
    ).first()
    if taken is None:  # pragma: no cover - a pool has no seat assigned before it has a company
        return None
    now = rt.clock.now()
    row = (
        await connection.execute(
            insert(t.seats)
            .values(
                id=new_id("seat"),
                company_id=pool.company_id,
                subscription_id=subscription_id,
                member_id=manager.id,
                email=manager.email,
                status="claimed",
                metadata={},
                created_at=now,
                claimed_at=now,
            )
            .returning(*t.seats.c)
        )
    ).one()
    seat = seat_from_row(row)
    uow.emit("seat.assigned", _seat_event(seat))
    uow.emit("seat.claimed", _seat_event(seat))
    await grants.grant_benefits(
        uow, rt, seat_id=seat.id, member_id=manager.id, product_id=pool.product_id
    )
    return seat


async def _seat_row(connection: AsyncConnection, seat_id: str, scope_company_id: str | None) -> Any:
    query = select(t.seats).where(t.seats.c.id == seat_id)
    if scope_company_id is not None:
        query = query.where(t.seats.c.company_id == scope_company_id)
    row = (await connection.execute(query)).first()
    if row is None:
        raise NotFound("seat")
    return row


async def get_seat(rt: Runtime, seat_id: str, *, scope_company_id: str | None = None) -> Seat:
    async with rt.reading() as uow:
        return seat_from_row(await _seat_row(uow.connection, seat_id, scope_company_id))


async def resend_invitation(
    rt: Runtime, seat_id: str, *, send_email: bool = True, scope_company_id: str | None = None
) -> Seat:
    """A new token and a new expiry for a pending seat; the old token stops working."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        _, token_hash, invitation = _invitation(rt, now)
        query = update(t.seats).where(t.seats.c.id == seat_id, t.seats.c.status == "pending")
        if scope_company_id is not None:
            query = query.where(t.seats.c.company_id == scope_company_id)
        row = (
            await uow.connection.execute(
                query.values(
                    token_hash=token_hash, token_expires_at=invitation.expires_at
                ).returning(*t.seats.c)
            )
        ).first()
        if row is None:
            await _seat_row(uow.connection, seat_id, scope_company_id)  # NotFound when absent
            raise SeatNotPending()
        seat = seat_from_row(row, invitation)
        uow.emit("invitation.resent", _seat_event(seat))
        if send_email:
            _emit_invitation_email(uow, seat, invitation)
        await uow.commit()
    return seat


def _seat_sync_of_subscription() -> Any:
    return (
        select(t.prices.c.seat_sync)
        .where(t.prices.c.id == t.subscriptions.c.price_id)
        .scalar_subquery()
        .label("seat_sync")
    )


async def revoke_in(
    uow: UnitOfWork, rt: Runtime, seat_id: str, *, follow_members: bool = True
) -> Seat | None:
    """Revoke one live seat inside ``uow``; None when it was already revoked.

    In ``members`` mode the subscription then shrinks by one seat (never below its minimum),
    unless ``follow_members`` is False (a cancellation revokes every seat and bills nothing).
    """
    connection = uow.connection
    row = (
        await connection.execute(
            update(t.seats)
            .where(t.seats.c.id == seat_id, t.seats.c.status.in_(_LIVE))
            .values(
                status="revoked",
                revoked_at=rt.clock.now(),
                token_hash=None,
                token_expires_at=None,
            )
            .returning(*t.seats.c)
        )
    ).first()
    if row is None:
        return None
    pool = _pool_of_seat(row)
    statement = (
        update(pool.table)
        .where(pool.table.c.id == pool.id)
        .values(assigned_seats=pool.table.c.assigned_seats - 1)
    )
    if pool.table is t.subscriptions:
        sync = (
            await connection.execute(statement.returning(_seat_sync_of_subscription()))
        ).scalar()
    else:
        await connection.execute(statement)
        sync = None
    seat = seat_from_row(row)
    uow.emit("seat.revoked", _seat_event(seat))
    await grants.revoke_benefits(uow, rt, seat_id=seat.id)
    if follow_members and sync == "members":
        from seatledger.services import seat_sync  # builds on subscription changes

        await seat_sync.shrink(uow, rt, pool.id)
    return seat


async def revoke_seat(rt: Runtime, seat_id: str, *, scope_company_id: str | None = None) -> Seat:
    """Revoke a seat: benefits revoked, the pool's seat free again. Revoking twice is a no-op
    that answers the seat as it is (with its first ``revoked_at``)."""
    async with rt.transaction() as uow:
        row = await _seat_row(uow.connection, seat_id, scope_company_id)
        seat = await revoke_in(uow, rt, row.id)
        if seat is None:
            return seat_from_row(await _seat_row(uow.connection, seat_id, scope_company_id))
        await uow.commit()
    return seat


async def revoke_member_seats(uow: UnitOfWork, rt: Runtime, *, member_id: str) -> list[Seat]:
    """Inside a caller's unit of work: revoke every live seat the member holds."""
    seat_ids = (
        await uow.connection.execute(
            select(t.seats.c.id).where(
                t.seats.c.member_id == member_id, t.seats.c.status.in_(_LIVE)
            )
        )
    ).scalars()
    revoked = [await revoke_in(uow, rt, seat_id) for seat_id in list(seat_ids)]
    return [seat for seat in revoked if seat is not None]


@dataclass(frozen=True, slots=True)
class SeatList:
    page: Page[Seat]
    total_seats: int
    assigned_seats: int
    available_seats: int


async def list_seats(
    rt: Runtime,
    *,
    subscription_id: str | None = None,
    order_id: str | None = None,
    include_revoked: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> SeatList:
    pool = pool_of(subscription_id, order_id)
    size = check_limit(limit)
    async with rt.reading() as uow:
        connection = uow.connection
        counts = (
            await connection.execute(
                select(
                    pool.table.c.seats, pool.table.c.assigned_seats, pool.table.c.company_id
                ).where(pool.table.c.id == pool.id)
            )
        ).first()
        if counts is None or (
            scope_company_id is not None and counts.company_id != scope_company_id
        ):
            raise NotFound(pool.noun, field=pool.field)
        query = select(t.seats).where(pool.seat_column == pool.id)
        if not include_revoked:
            query = query.where(t.seats.c.status.in_(_LIVE))
        rows = (await connection.execute(paginate(query, t.seats.c.id, cursor, size))).all()
    seats = [seat_from_row(row) for row in rows]
    return SeatList(
        page=page_of(seats, [s.id for s in seats], size),
        total_seats=counts.seats,
        assigned_seats=counts.assigned_seats,
        available_seats=counts.seats - counts.assigned_seats,
    )


async def count_live_seats(connection: AsyncConnection, pool: Pool) -> int:
    """Recount from the seat rows (the counter's cross-check in tests and reconciliation)."""
    return int(
        (
            await connection.execute(
                select(func.count())
                .select_from(t.seats)
                .where(pool.seat_column == pool.id, t.seats.c.status.in_(_LIVE))
            )
        ).scalar_one()
    )


__all__ = [
    "Claim",
    "InvitationView",
    "Pool",
    "SeatList",
    "assign_seat",
    "claim_seat",
    "count_live_seats",
    "get_seat",
    "hold_billing_manager_seat",
    "list_seats",
    "lookup_invitation",
    "pool_of",
    "resend_invitation",
    "revoke_in",
    "revoke_member_seats",
    "revoke_seat",
]
