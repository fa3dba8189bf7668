"""What the hosted checkout page and its confirmation show: read-only views of a checkout.

The total is the checkout's own ``amount_due`` (the API's quote, recomputed by
``update_checkout`` whenever the seat count changes) and the lines are the price's invoice lines
for that count (``SeatPrice.lines``): the same lines the first invoice will carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from seatledger.domain.catalog import Benefit, Price, Product
from seatledger.domain.errors import NotFound
from seatledger.domain.ids import check_id
from seatledger.domain.invoice import Invoice
from seatledger.domain.purchase import Checkout
from seatledger.pricing import MAX_SEATS, Line
from seatledger.services.checkouts.checkout import checkout_of, price_of
from seatledger.services.invoicing import list_invoices
from seatledger.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class CheckoutView:
    checkout: Checkout
    price: Price
    product: Product
    benefits: tuple[Benefit, ...]

    @property
    def lines(self) -> tuple[Line, ...]:
        return self.price.seat_price.lines(self.checkout.seats)

    @property
    def minimum_seats(self) -> int:
        return max(1, self.price.seat_price.minimum_seats)

    @property
    def maximum_seats(self) -> int:
        highest = self.price.seat_price.maximum_seats
        return MAX_SEATS if highest is None else highest

    @property
    def one_time(self) -> bool:
        return self.price.seat_price.interval is None


async def view_checkout(rt: Runtime, checkout_id: str) -> CheckoutView:
    """The checkout (as it reads now: an open one past its expiry is ``expired``), its price,
    product and benefits, in one read. ``NotFound("checkout")`` for an unknown id."""
    checkout_id = check_id(checkout_id, "checkout")  # a malformed id is not found, not sent
    async with rt.reading() as uow:
        checkout = await checkout_of(uow, checkout_id, None)
        price = await price_of(uow, checkout.price_id)
        catalog = uow.catalog
        found = await catalog.products([price.product_id])
        if not found:
            raise NotFound("product")
        product = found[0]
        benefits = [await catalog.benefit(benefit_id) for benefit_id in product.benefit_ids]
    return CheckoutView(
        checkout=checkout.as_of(rt.clock.now()),
        price=price,
        product=product,
        benefits=tuple(benefit for benefit in benefits if benefit is not None),
    )


async def first_invoice(rt: Runtime, checkout: Checkout) -> Invoice | None:
    """The invoice a completed checkout paid: its purchase's first (None before completion)."""
    if checkout.subscription_id is None and checkout.order_id is None:
        return None
    page = await list_invoices(
        rt, subscription_id=checkout.subscription_id, order_id=checkout.order_id, limit=1
    )
    return page.data[0] if page.data else None


__all__ = ["CheckoutView", "first_invoice", "view_checkout"]
