"""What one seat holder holds, for the portal's "my seats" page (SPEC §11): each product they
hold through a claimed seat, with the benefits granted to them (``grants.member_entitlements``:
license keys, freshly signed download links, access grants, notes) and each benefit's
description from the catalog; and the seats assigned to them that they have not claimed yet."""

from __future__ import annotations

from dataclasses import dataclass

from seatledger.domain.catalog import Benefit
from seatledger.domain.company import Company, Member
from seatledger.domain.grant import ProductEntitlement
from seatledger.domain.seat import Seat
from seatledger.services import grants
from seatledger.services.companies import get_company, get_member, member_seats
from seatledger.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Holdings:
    member: Member
    company: Company
    products: tuple[ProductEntitlement, ...]
    benefits: dict[str, Benefit]  # by id: the descriptions of the benefits granted
    seats: tuple[Seat, ...]  # every live seat of the member (pending and claimed)


async def holdings(rt: Runtime, member_id: str) -> Holdings:
    """``NotFound("member")`` for an unknown or removed member."""
    held = await grants.member_entitlements(rt, member_id)
    member = await get_member(rt, member_id)
    company = await get_company(rt, held.company_id)
    live = await member_seats(rt, member_id)
    wanted = {grant.benefit_id for product in held.products for grant in product.benefits}
    async with rt.reading() as uow:
        found = [await uow.catalog.benefit(benefit_id) for benefit_id in sorted(wanted)]
    return Holdings(
        member=member,
        company=company,
        products=held.products,
        benefits={benefit.id: benefit for benefit in found if benefit is not None},
        seats=tuple(live),
    )


__all__ = ["Holdings", "holdings"]
