"""Reads of payments for the pages that show them: one payment by id, and a customer's own
payment with its orders for the page a checkout returns to. Nothing here writes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.core.extensions import db
from app.orders.models import Order
from app.payments.models import Payment


def payment(payment_id: int) -> Payment | None:
    """The payment ``payment_id`` (from the session's identity map when it is loaded), or None."""
    return db.session.get(Payment, payment_id)


def customer_payment(payment_id: int, customer_id: int) -> Payment | None:
    """The payment if it is the customer's own (else None), with its orders and their sellers."""
    return db.session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id, Payment.customer_id == customer_id)
        .options(selectinload(Payment.orders).joinedload(Order.seller))
    )
