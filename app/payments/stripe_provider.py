"""Stripe, behind a handful of functions. The only module of the market that imports ``stripe``.

Everything it returns is plain data (dicts and strings), so no Stripe type leaks into the rest of
the code. Calls that create something carry an idempotency key derived from our payment id: a
retry, a double click or two workers racing get the same Checkout Session or refund back.
The API address comes from ``STRIPE_API_BASE`` when set (the tests point it at a local fake).
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from flask import current_app

from app.core import metrics

# Connect and read timeouts (seconds): a worker must not hang on a slow network for long.
TIMEOUT = (5, 30)
# Connection failures, 409s and 5xx are retried by the library with the same idempotency key.
MAX_NETWORK_RETRIES = 2
# Stripe's own default: a signed event older than this is refused (replayed deliveries).
SIGNATURE_TOLERANCE_SECONDS = 300


class ProviderError(Exception):
    """Stripe refused the request or could not be reached."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class InvalidSignature(Exception):
    """A webhook delivery whose signature, timestamp or body does not check out."""


def _client() -> stripe.StripeClient:
    """One client per app and settings (its HTTP sessions are per thread inside the library)."""
    cfg = current_app.config
    key = (cfg["STRIPE_SECRET_KEY"], cfg.get("STRIPE_API_BASE") or "")
    clients: dict[tuple[str, str], stripe.StripeClient] = current_app.extensions.setdefault(
        "bazarche_stripe_clients", {}
    )
    client = clients.get(key)
    if client is None:
        client = stripe.StripeClient(
            key[0],
            base_addresses={"api": key[1]} if key[1] else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=TIMEOUT),
        )
        clients[key] = client
    return client


def _plain(obj: Any) -> dict[str, Any]:
    # str() of a Stripe object is its JSON; the round trip leaves only plain dicts and lists.
    return json.loads(str(obj))


def _call(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return _plain(fn(*args, **kwargs))
    except stripe.StripeError as exc:
        metrics.PAYMENT_ERRORS.labels("stripe").inc()
        raise ProviderError(
            exc.user_message or str(exc), code=exc.code, status=exc.http_status
        ) from exc


def create_checkout_session(
    *,
    payment_id: int,
    currency: str,
    items: list[tuple[str, int, int]],
    success_url: str,
    cancel_url: str,
    expires_at: int,
) -> dict[str, Any]:
    """A hosted Checkout Session for ``items`` — (name, unit amount in minor units, quantity).

    The payment id is the session's reference and is copied to the PaymentIntent, so every later
    event (session or charge) can be traced back to our payment.
    """
    reference = str(payment_id)
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": reference,
        "metadata": {"payment_id": reference},
        "payment_intent_data": {"metadata": {"payment_id": reference}},
        "line_items": [
            {
                "quantity": quantity,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": unit_amount,
                    "product_data": {"name": name[:250] or "-"},
                },
            }
            for name, unit_amount, quantity in items
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": expires_at,
    }
    return _call(
        _client().v1.checkout.sessions.create,
        params,
        {"idempotency_key": f"checkout-{payment_id}"},
    )


def retrieve_session(session_id: str) -> dict[str, Any]:
    return _call(_client().v1.checkout.sessions.retrieve, session_id)


def expire_session(session_id: str) -> dict[str, Any]:
    """Close an open session so the customer can no longer pay it (fails unless it is open)."""
    return _call(_client().v1.checkout.sessions.expire, session_id)


def find_session_for_intent(payment_intent: str) -> dict[str, Any] | None:
    found = _call(
        _client().v1.checkout.sessions.list, {"payment_intent": payment_intent, "limit": 1}
    )
    data = found.get("data") or []
    return data[0] if data else None


def refund(payment_intent: str, *, payment_id: int) -> dict[str, Any]:
    """Refund the whole payment; the key makes a repeated call return the same refund."""
    return _call(
        _client().v1.refunds.create,
        {"payment_intent": payment_intent, "metadata": {"payment_id": str(payment_id)}},
        {"idempotency_key": f"refund-{payment_id}"},
    )


def refund_amount(payment_intent: str, amount: int, *, key: str) -> dict[str, Any]:
    """Refund part of a payment (one seller's order of a checkout); ``key`` makes it idempotent."""
    return _call(
        _client().v1.refunds.create,
        {"payment_intent": payment_intent, "amount": amount},
        {"idempotency_key": key},
    )


def verify_webhook(payload: bytes, sig_header: str | None, secret: str) -> dict[str, Any]:
    """The event of a delivery whose ``Stripe-Signature`` checks out, as a plain dict.

    Raises InvalidSignature for a missing or malformed header, a wrong secret, an altered body or
    a timestamp outside the tolerance.
    """
    if not secret or not sig_header:
        raise InvalidSignature("missing signature or secret")
    try:
        text = payload.decode("utf-8")
        # The signature first, then our own parsing: the library's event constructor fails with
        # a TypeError on a signed body that is valid JSON but not an object (an array, say).
        stripe.WebhookSignature.verify_header(text, sig_header, secret, SIGNATURE_TOLERANCE_SECONDS)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidSignature(str(exc)) from exc
    if not isinstance(event, dict):
        raise InvalidSignature("not an event object")
    return event
