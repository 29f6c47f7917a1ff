"""Money going back to a customer for a problem: a refund of part or all of one order through
the payment provider that took it."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.db import transaction
from app.core.extensions import db
from app.orders.models import Order
from app.payments import stripe_provider
from app.payments.models import Payment, PaymentEvent, Provider


class RefundNotMade(Exception):
    """The provider refused the refund or could not be reached; nothing was recorded."""


def _stripe_intent(payment_id: int) -> str | None:
    """The PaymentIntent of a Stripe payment, as its events named it."""
    return db.session.scalar(
        sa.select(PaymentEvent.payload["payment_intent"].as_string()).where(
            PaymentEvent.payment_id == payment_id,
            PaymentEvent.payload["payment_intent"].as_string().is_not(None),
        )
    )


def refund_online(order_id: int, amount: int, *, key: str) -> str:
    """Give ``amount`` of ``order_id`` back through its payment's provider; the provider's
    refund id. ``key`` makes a repeated call return the same refund. Raises RefundNotMade."""
    with transaction(write=False):  # none is held open across the network
        order = db.session.get(Order, order_id)
        payment = db.session.get(Payment, order.payment_id) if order is not None else None
        if payment is None or payment.provider != Provider.STRIPE:
            raise RefundNotMade("not an online payment")
        intent, session_id = _stripe_intent(payment.id), payment.provider_reference
    try:
        if not intent and session_id:
            found = stripe_provider.retrieve_session(session_id).get("payment_intent")
            intent = found.get("id") if isinstance(found, dict) else found
        if not intent:
            raise RefundNotMade("the payment's PaymentIntent is unknown")
        refund = stripe_provider.refund_amount(str(intent), amount, key=key)
    except stripe_provider.ProviderError as exc:
        raise RefundNotMade(str(exc)) from exc
    if refund.get("status") in ("failed", "canceled"):
        raise RefundNotMade(f"refund {refund.get('status')}")
    return str(refund.get("id") or "")
