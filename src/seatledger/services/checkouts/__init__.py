"""Checkouts: buying seats (SPEC §3, §4, §6).

    open ──confirm (paid)──▶ completed   (a subscription or an order, with its paid invoice)
      │ ├─declined card──▶ open          (nothing else changes; try another card)
      │ └─card needs the buyer (3-D Secure)──▶ open, with ``payment_url``
      │        └─provider reports it paid──▶ completed   (failed: open, link dropped)
      └──24 h pass──▶ expired

A checkout names a price, a seat count and a buyer: a company, or only an email (the purchase
is then owner-scoped until a company is created with that billing manager email).

Confirming charges ``amount_due`` *outside* any transaction (no database lock is held while the
provider answers), with the idempotency key ``checkout:{id}:{payment_method}``: a crash after
the charge and a retry with the same card find the same answer and never charge twice; a
declined card and then another card is a new attempt. A declined attempt is recorded in the
``payments`` table in a small transaction of its own and creates nothing else. A successful one
creates the purchase, its first invoice (paid), the payment row and completes the checkout in
one transaction, guarded by a conditional ``UPDATE … WHERE status = 'open'``: of two concurrent
confirms, one creates the purchase and the other is ``checkout_not_open``.

One card is charged per checkout: before charging, a confirmation takes the checkout's charge
lease (``checkouts.charging_method``, a conditional update in the database) for its method. A
concurrent confirmation with another card is ``checkout_not_open`` ("a payment with another
method is under way") and charges nothing; the same card again passes (its provider key dedups
it). A decline, or a provider that decided nothing, gives the lease back; a crash after the
charge keeps it, so only a retry with the same card (which finds the charge) completes the
checkout. A checkout being charged cannot be resized. A charge that waits for the buyer
(3-D Secure) keeps the lease and the link where they finish it; the provider's report settles
it (``confirmation.settle_waiting_charge``): paid, the checkout completes as a confirm would;
failed, the lease and the link go. Money such a charge takes after the checkout was completed
otherwise becomes the company's credit.

A price with a free trial (``trial_days``) owes nothing at checkout (``amount_due`` 0;
``amount_after_trial`` is what its end will bill at this seat count). Its confirm checks the
card with the provider without charging it (``CardSetup``; a refused card is ``PaymentFailed``
and the checkout stays open), then creates a ``trialing`` subscription whose first period is
the trial, invoiced at 0 (``fulfilment``). A provider that cannot check a card that way makes
such a checkout ``trial_not_supported``.

In ``billing`` mode the completed checkout also records that the provider's subscription is
to be started (``seatledger.services.provider_starts``).

Modules: ``checkout`` (an open checkout's life), ``confirmation`` (the charge and the
purchase's transaction), ``fulfilment`` (the subscription or order it creates).
"""

from seatledger.services.checkouts.checkout import (
    create_checkout,
    get_checkout,
    list_checkouts,
    update_checkout,
)
from seatledger.services.checkouts.confirmation import confirm_checkout

__all__ = [
    "confirm_checkout",
    "create_checkout",
    "get_checkout",
    "list_checkouts",
    "update_checkout",
]
