"""Orders: one-time purchases of perpetual seats (SPEC §4, §6)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends

from seatledger.api.auth import MerchantWriter, Reader
from seatledger.api.common import (
    AttachIn,
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    cursor_of,
    idempotency_key_header,
    list_of,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.ids import check_id
from seatledger.domain.purchase import Order
from seatledger.services import purchases

router = APIRouter(tags=["orders"], route_class=JsonRoute)


class OrderOut(OutModel):
    id: str
    company_id: str | None
    price_id: str
    seats: int
    amount: int
    currency: str
    status: Literal["pending", "paid"]
    assigned_seats: int
    available_seats: int


def order_out(order: Order) -> OrderOut:
    return OrderOut.model_validate(order, from_attributes=True)


@router.get(
    "/v1/orders",
    summary="List orders",
    responses=responses(401, 403, 404, 422),
)
async def list_orders(
    rt: RuntimeDep,
    who: Reader,
    company_id: str | None = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[OrderOut]:
    """A company's orders, oldest first; a customer session's defaults to its own company. An
    API key that names no company lists every order, newest first."""
    company_id = who.listed_company(company_id)
    page = await purchases.list_orders(
        rt, company_id=company_id, limit=limit, cursor=cursor_of(cursor)
    )
    return ListOut[OrderOut](**list_of(page, order_out))


@router.get(
    "/v1/orders/{order_id}",
    summary="Get an order",
    responses=responses(401, 403, 404),
)
async def get_order(order_id: str, rt: RuntimeDep, who: Reader) -> OrderOut:
    order = await purchases.get_order(
        rt, check_id(order_id, "order"), scope_company_id=who.company_scope
    )
    who.require_manager()
    return order_out(order)


@router.post(
    "/v1/orders/{order_id}/attach",
    summary="Attach an owner-scoped order to a company",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def attach_order(
    order_id: str, body: AttachIn, rt: RuntimeDep, _: MerchantWriter
) -> OrderOut:
    """For an order bought with only an email. Attaching again to the same company changes
    nothing; 409 `already_attached` when it belongs to another."""
    order = await purchases.attach_order(
        rt,
        check_id(order_id, "order"),
        company_id=check_id(body.company_id, "company", field="company_id"),
    )
    return order_out(order)
