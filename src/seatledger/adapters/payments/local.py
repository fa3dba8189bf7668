"""The built-in ``local`` gateway for development and the sandbox (SPEC §7).

Test payment methods:
* ``pm_card_ok`` always succeeds;
* ``pm_card_declined`` always fails;
* ``pm_card_fail_after_first`` succeeds for a customer's first charge, then fails.

Any other payment method is refused before anything happens (``check_payment_method``: a
``validation_error`` naming ``payment_method``); should one reach ``charge`` anyway (saved
before that rule), it is declined. A retried request (same idempotency key) gets the first
answer again (within the last ``ANSWERS_KEPT`` keys: the cache is bounded, so a
long-running sandbox does not grow without end). State is per process, which is what a
sandbox needs; a successful charge's reference is derived from its idempotency key, so a
retry under the same key after a restart (the process's memory gone) is answered the same
charge, as a provider that keeps its idempotency keys would answer it.

The gateway only runs with the sandbox on (``seatledger.bootstrap``).
"""

from __future__ import annotations

import hashlib

from cachetools import LRUCache

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.payments import CardSetupRequest, PaymentRequest, PaymentResult

OK = "pm_card_ok"
DECLINED = "pm_card_declined"
FAIL_AFTER_FIRST = "pm_card_fail_after_first"
METHODS = (OK, DECLINED, FAIL_AFTER_FIRST)
# The answers kept for retries, newest used last out; the customers who used a
# ``pm_card_fail_after_first`` card, likewise bounded (one forgotten is charged once more).
ANSWERS_KEPT = 100_000


class LocalGateway:
    name = "local"

    def __init__(self, *, answers_kept: int = ANSWERS_KEPT) -> None:
        self._answers: LRUCache[str, PaymentResult] = LRUCache(maxsize=answers_kept)
        self._charged_once: LRUCache[tuple[str, str], bool] = LRUCache(maxsize=answers_kept)

    def check_payment_method(self, payment_method: str) -> None:
        if payment_method not in METHODS:
            raise ValidationFailed.field(
                "payment_method",
                f"unknown payment method {payment_method!r}: use {', '.join(METHODS)}",
            )

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        if request.idempotency_key in self._answers:
            return self._answers[request.idempotency_key]
        result = self._decide(request)
        self._answers[request.idempotency_key] = result
        return result

    async def set_up_card(self, request: CardSetupRequest) -> PaymentResult:
        """A declined card is refused; the others are kept. Checking a card is not a charge:
        ``pm_card_fail_after_first`` still pays its first charge."""
        if request.payment_method in (OK, FAIL_AFTER_FIRST):
            return PaymentResult(True, reference=f"seti_{reference_for(request.idempotency_key)}")
        return PaymentResult(False, failure_reason="Your card was declined.")

    def _decide(self, request: PaymentRequest) -> PaymentResult:
        method = request.payment_method
        if method == OK:
            return _success(request)
        if method == FAIL_AFTER_FIRST:
            key = (request.customer, method)
            if key in self._charged_once:
                return PaymentResult(False, failure_reason="Your card was declined.")
            self._charged_once[key] = True
            return _success(request)
        if method == DECLINED:
            return PaymentResult(False, failure_reason="Your card was declined.")
        return PaymentResult(False, failure_reason=f"Unknown payment method {method!r}.")


def reference_for(idempotency_key: str) -> str:
    """The reference of the charge taken under ``idempotency_key``."""
    return f"py_local_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]}"


def _success(request: PaymentRequest) -> PaymentResult:
    return PaymentResult(True, reference=reference_for(request.idempotency_key))
