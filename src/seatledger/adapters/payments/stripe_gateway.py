"""The ``stripe`` gateway, ``payments`` mode (SPEC §7): seatledger bills, Stripe collects.

* A seatledger customer (a company, or a buyer's email before the company exists) is one
  Stripe Customer, created on first need and kept in ``payment_customers``
  (``seatledger.adapters.db.payment_customers``); a purchase that attaches to a company keeps
  its customer, and the company takes it over.
* A checkout's hosted page is a Checkout Session (``mode=payment``) for the amount due that
  saves the card for off-session use; the checkout is completed from the
  ``checkout.session.completed`` event (``seatledger.services.provider_events``).
* A confirm by API charges on-session (the card is saved); renewals, ``invoice`` changes and
  final invoices charge off-session. Each PaymentIntent goes out under seatledger's own
  idempotency key, so a retry is answered the same PaymentIntent: never a second charge.
* A decline is a failed result with Stripe's message. A card that needs 3-D Secure off-session
  (``authentication_required``) is confirmed once more with a ``return_url``: Stripe then
  answers ``requires_action`` and the page where the customer authenticates, which becomes the
  invoice's ``payment_url``; ``payment_intent.succeeded`` settles it later.
* Stripe unreachable, 5xx, 429 after the retries (``stripe_client.call``):
  ``PaymentProviderUnavailable``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import stripe
from seatledger.adapters.db.payment_customers import PaymentCustomers
from seatledger.adapters.payments import stripe_amounts, stripe_events
from seatledger.adapters.payments.stripe_client import call, make_client
from seatledger.domain.errors import InvalidProviderEvent, ValidationFailed
from seatledger.domain.payments import (
    HostedPage,
    HostedPageRequest,
    PaymentRequest,
    PaymentResult,
    ProviderEvent,
)

WEBHOOK_TOLERANCE = 300  # seconds: an older signature is refused (SPEC §7)
PAYMENT_METHOD = re.compile(r"pm_[A-Za-z0-9_]{1,96}")
# Stripe keeps a Checkout Session open from 30 minutes to 24 hours.
SESSION_LIFETIME = (timedelta(minutes=31), timedelta(hours=23, minutes=59))
NEEDS_AUTHENTICATION = "The payment needs the customer's authentication (3-D Secure)."


def object_id(value: Any) -> str | None:
    """The id of an expandable field: the id itself, or the expanded object's."""
    if value is None or isinstance(value, str):
        return value
    return str(value.id)


def result_of(intent: Any) -> PaymentResult:
    """A PaymentIntent as the engine sees it."""
    method = object_id(intent.payment_method)
    if intent.status == "succeeded":
        return PaymentResult(True, reference=intent.id, payment_method=method)
    if intent.status == "requires_action":
        action = intent.next_action
        url = None
        if action is not None and action.type == "redirect_to_url":
            url = action.redirect_to_url.url
        return PaymentResult(
            False, reference=intent.id, failure_reason=NEEDS_AUTHENTICATION, action_url=url
        )
    error = intent.last_payment_error
    reason = (error.message if error is not None else None) or "The payment was declined."
    return PaymentResult(False, reference=intent.id, failure_reason=reason, payment_method=method)


class StripeGateway:
    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str,
        public_url: str,
        customers: PaymentCustomers,
    ) -> None:
        self.client, self._http = make_client(secret_key, api_base)
        self.webhook_secret = webhook_secret
        self.return_url = f"{public_url}/portal"
        self.customers = customers

    async def close(self) -> None:
        """Close the connections to Stripe."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # the SDK leaves it untyped

    # -- charges ----------------------------------------------------------------------------

    def check_payment_method(self, payment_method: str) -> None:
        if not PAYMENT_METHOD.fullmatch(payment_method):
            raise ValidationFailed.field(
                "payment_method", "must be a Stripe PaymentMethod id such as pm_card_visa"
            )

    def minimum_charge(self, currency: str) -> int:
        return stripe_amounts.minimum_charge(currency)

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        customer = await self.customer_for(request.customer)
        params: Any = {
            "amount": stripe_amounts.to_stripe(request.amount, request.currency),
            "currency": request.currency,
            "customer": customer,
            "payment_method": request.payment_method,
            "confirm": True,
            "description": request.description,
            "metadata": {"seatledger_key": request.idempotency_key[:500]},
        }
        if request.on_session:
            params.update(setup_future_usage="off_session", return_url=self.return_url)
        else:
            params["off_session"] = True
        options: Any = {"idempotency_key": request.idempotency_key}
        try:
            intent = await call(
                lambda: self.client.v1.payment_intents.create_async(params, options)
            )
        except stripe.CardError as error:
            return await self._declined(error, request)
        except stripe.InvalidRequestError as error:
            return PaymentResult(False, failure_reason=error.user_message or str(error))
        return result_of(intent)

    async def _declined(self, error: stripe.CardError, request: PaymentRequest) -> PaymentResult:
        intent = error.error.payment_intent if error.error is not None else None
        reason = error.user_message or "Your card was declined."
        if intent is None:
            return PaymentResult(False, failure_reason=reason)
        if error.code != "authentication_required" or request.on_session:
            return PaymentResult(False, reference=intent.id, failure_reason=reason)
        # Off-session, the customer is not there to authenticate: confirm once more with a
        # return URL, so that Stripe answers the page where they will.
        params: Any = {"payment_method": request.payment_method, "return_url": self.return_url}
        options: Any = {"idempotency_key": f"{request.idempotency_key}:authenticate"}
        try:
            confirmed = await call(
                lambda: self.client.v1.payment_intents.confirm_async(intent.id, params, options)
            )
        except stripe.StripeError:
            return PaymentResult(False, reference=intent.id, failure_reason=NEEDS_AUTHENTICATION)
        return result_of(confirmed)

    async def payment(self, reference: str) -> PaymentResult:
        """A PaymentIntent as it is now."""
        intent = await call(lambda: self.client.v1.payment_intents.retrieve_async(reference))
        return result_of(intent)

    async def customer_for(self, key: str) -> str:
        """The Stripe Customer of a seatledger customer, created on first need (under an
        idempotency key of the customer's, so two processes creating it at once get one)."""
        found = await self.customers.find(key)
        if found is not None:
            return found
        params: Any = {"metadata": {"seatledger_customer": key}}
        if "@" in key:
            params["email"] = key
        options: Any = {"idempotency_key": f"seatledger-customer:{key}"}
        created = await call(lambda: self.client.v1.customers.create_async(params, options))
        return await self.customers.remember(key, created.id)

    # -- hosted pages -----------------------------------------------------------------------

    async def open_hosted_page(self, request: HostedPageRequest) -> HostedPage:
        customer = await self.customer_for(request.customer)
        now = datetime.now(UTC)  # Stripe's clock, not the sandbox's
        expires = min(max(request.expires_at, now + SESSION_LIFETIME[0]), now + SESSION_LIFETIME[1])
        metadata = {"seatledger_checkout": request.checkout_id}
        params: Any = {
            "mode": "payment",
            "customer": customer,
            "client_reference_id": request.checkout_id,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(expires.timestamp()),
            "metadata": metadata,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": stripe_amounts.to_stripe(request.amount, request.currency),
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "payment_intent_data": {
                "setup_future_usage": "off_session",
                "description": request.description,
                "metadata": metadata,
            },
        }
        options: Any = {"idempotency_key": request.idempotency_key}
        session = await call(lambda: self.client.v1.checkout.sessions.create_async(params, options))
        return self._page(session)

    async def hosted_page(self, page_id: str) -> HostedPage:
        params: Any = {"expand": ["payment_intent"]}
        session = await call(
            lambda: self.client.v1.checkout.sessions.retrieve_async(page_id, params)
        )
        return self._page(session)

    @staticmethod
    def _page(session: Any) -> HostedPage:
        paid = session.status == "complete" and session.payment_status == "paid"
        status: Literal["open", "paid", "expired"] = (
            "paid" if paid else ("open" if session.status == "open" else "expired")
        )
        intent = session.payment_intent
        result = None
        if paid and intent is not None and not isinstance(intent, str):
            result = result_of(intent)
        currency = str(session.currency)
        metadata = session.metadata.to_dict() if session.metadata is not None else {}
        return HostedPage(
            id=session.id,
            status=status,
            url=session.url,
            checkout_id=metadata.get("seatledger_checkout"),
            amount=stripe_amounts.from_stripe(int(session.amount_total or 0), currency),
            currency=currency,
            result=result,
        )

    # -- events -----------------------------------------------------------------------------

    def verify_event(self, payload: bytes, signature: str | None) -> ProviderEvent:
        """The event, if Stripe signed it with the endpoint's secret within the tolerance."""
        if not signature:
            raise InvalidProviderEvent("The Stripe-Signature header is missing.")
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE
            )
            body = json.loads(payload)
        except stripe.SignatureVerificationError:
            raise InvalidProviderEvent(
                "The Stripe-Signature does not match this endpoint's secret, or is older than"
                f" {WEBHOOK_TOLERANCE} seconds."
            ) from None
        except (ValueError, TypeError, KeyError, AttributeError):
            raise InvalidProviderEvent("The body is not a Stripe event.") from None
        event_id, event_type = body.get("id"), body.get("type")
        if not (isinstance(event_id, str) and event_id.startswith("evt_")) or not isinstance(
            event_type, str
        ):
            raise InvalidProviderEvent("The body is not a Stripe event.")
        del event
        return ProviderEvent(id=event_id[:255], type=event_type[:100], payload=body)

    async def interpret(self, event: ProviderEvent) -> object | None:
        translate = stripe_events.TRANSLATORS.get(event.type)
        return None if translate is None else await translate(self, event.payload)


__all__ = ["StripeGateway", "object_id", "result_of"]
