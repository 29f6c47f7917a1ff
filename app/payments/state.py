"""A payment's state, and its orders' with it: paid, expired or failed, refunded; a cash payment
settled by its orders; unpaid card checkouts expired by the clock.

Each function but :func:`expire_unpaid` runs inside the caller's transaction (a webhook's, a
staff decision's, a move's) and commits nothing; the orders move through the order service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import InvalidTransition
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.payments.models import Payment, PaymentStatus, Provider
from app.payouts import ledger


def mark_payment_paid(payment: Payment) -> str:
    """The provider confirmed the money. Returns "paid", "already" or "needs_refund".

    Orders still awaiting payment become paid. Orders that were cancelled meanwhile (the checkout
    expired and released its stock) take their stock again if it is still there, all or nothing;
    otherwise the payment must be refunded and nothing changes here. A refunded payment is never
    paid again. Runs inside the caller's transaction (the caller commits).
    """
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return "already"
    if not orders.pay_orders(payment.id):
        return "needs_refund"
    payment.status = PaymentStatus.SUCCEEDED
    return "paid"


def expire_payment(payment: Payment, reason: str = "expired") -> bool:
    """An unpaid card checkout ran out of time or failed: cancel its orders, release stock once."""
    if payment.status != PaymentStatus.PENDING:
        return False
    orders.cancel_unpaid(payment.id, reason)
    payment.status = PaymentStatus.EXPIRED if reason == "expired" else PaymentStatus.FAILED
    return True


def mark_payment_refunded(payment: Payment) -> bool:
    """The provider refunded the money: every order of the payment is refunded (never paid again).

    Paid orders give their stock back; orders still awaiting payment (the refund was reported
    before the payment) are cancelled first, which releases their stock once. Returns False when
    the payment was already refunded. Runs inside the caller's transaction (the caller commits).
    """
    if payment.status == PaymentStatus.REFUNDED:
        return False
    for order in orders.orders_of_payment(payment.id):
        if order.completed_at is not None:  # credited to the seller: reverse what is left
            ledger.record_refund(order, order.total_amount - order.refunded_amount, ref="provider")
    orders.refund_orders(payment.id)
    payment.status = PaymentStatus.REFUNDED
    return True


def sync_cash_payment(payment_id: int) -> None:
    """Cash payments follow their orders: succeeded when all are completed (the customer has the
    goods and the seller the money: delivery alone is not enough), failed when none is left.
    Called by the order service (a registered hook) inside the transaction of a move."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.provider != Provider.CASH:
        return
    statuses = orders.statuses_of_payment(payment_id)
    if statuses <= {OrderStatus.CANCELLED}:
        payment.status = PaymentStatus.FAILED
    elif statuses <= {OrderStatus.COMPLETED, OrderStatus.CANCELLED}:
        payment.status = PaymentStatus.SUCCEEDED


def order_completed(order: Order) -> None:
    """An order completed: the seller's ledger is credited (a cash order also records the cash
    the seller collected). Called by the order service (a registered hook) inside the
    completion's transaction."""
    payment = db.session.get(Payment, order.payment_id)
    ledger.record_completion(order, cash=payment is not None and payment.provider == Provider.CASH)


def expire_unpaid(
    now: datetime | None = None,
    limit: int = 500,
    on_expired: Callable[[list[int]], None] | None = None,
) -> int:
    """``flask orders expire``: cancel online checkouts (any provider but cash) unpaid past their
    time; returns how many.

    Each expires in a transaction of its own. ``on_expired`` gets the order ids of each expired
    checkout after its commit (to tell the customer).
    """
    now = now or utcnow()
    # A reading transaction of its own: each expiry below must start as a write transaction.
    with transaction(write=False):
        ids = list(
            db.session.scalars(
                sa.select(Payment.id)
                .where(
                    Payment.provider != Provider.CASH,
                    Payment.status == PaymentStatus.PENDING,
                    Payment.expires_at < now,
                )
                .order_by(Payment.id)
                .limit(limit)
            )
        )
    done = 0
    for payment_id in ids:
        try:
            order_ids = _expire_one(payment_id)
        except InvalidTransition:
            continue  # an order moved meanwhile (the payment landed): leave this to its event
        if order_ids is not None:
            done += 1
            if on_expired is not None:
                on_expired(order_ids)
    return done


def _expire_one(payment_id: int) -> list[int] | None:
    """Expire one unpaid card checkout; its order ids, or None when it was no longer pending."""
    with transaction():
        payment = db.session.get(Payment, payment_id, populate_existing=True, with_for_update=True)
        if payment is None or not expire_payment(payment):
            return None
        return orders.order_ids_of_payment(payment_id)
