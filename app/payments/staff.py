"""Online payments that need a person: amounts held for review, and refunds still owed; and the
list of bank-gateway payments with their references.

A payment goes to review when Stripe reports an amount or currency other than ours; its orders
keep their stock and wait. Staff look at it in Stripe's dashboard and either accept it (the
orders are paid, as a matching payment would have paid them) or refund it in full (the orders
are cancelled and their stock goes back). A refund that Stripe refused or could not be reached
for stays owed; staff can retry it here instead of waiting for ``flask payments reconcile``.
Every decision is written to the audit log in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.audit import log as audit
from app.core.db import transaction
from app.core.extensions import db
from app.core.pagination import Page, paginate
from app.orders.models import Order
from app.payments import events, online, state
from app.payments import stripe_provider as provider
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from app.payments.providers.base import ProviderFailure

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Attention:
    """What the staff payments page lists."""

    in_review: list[Payment]
    refunds_owed: list[Payment]
    customers: dict[int, User]

    @property
    def total(self) -> int:
        return len(self.in_review) + len(self.refunds_owed)


def needing_attention(limit: int = 200) -> Attention:
    """Payments held for review and payments that still owe a refund, oldest first."""
    load = (selectinload(Payment.orders).joinedload(Order.seller),)
    in_review = db.session.scalars(
        sa.select(Payment)
        .where(Payment.status == PaymentStatus.IN_REVIEW)
        .options(*load)
        .order_by(Payment.created_at, Payment.id)
        .limit(limit)
    ).all()
    owed_ids = events.refunds_owed()[:limit]
    owed = (
        db.session.scalars(
            sa.select(Payment).where(Payment.id.in_(owed_ids)).options(*load).order_by(Payment.id)
        ).all()
        if owed_ids
        else []
    )
    ids = {p.customer_id for p in [*in_review, *owed]}
    customers = (
        {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
        if ids
        else {}
    )
    return Attention(list(in_review), list(owed), customers)


def count_needing_attention() -> int:
    in_review = db.session.scalar(
        sa.select(sa.func.count(Payment.id)).where(Payment.status == PaymentStatus.IN_REVIEW)
    )
    return int(in_review or 0) + len(events.refunds_owed())


def accept(payment_id: int, actor_id: int, reason: str) -> str:
    """Accept a payment held for review: its orders are paid.

    Returns "paid"; "not_in_review" when it is no longer held (someone decided meanwhile);
    "not_verified" for a bank-gateway payment the bank never verified (its money goes back to
    the customer by itself: refund it here instead); "needs_refund" when its orders were cancelled and their stock sold meanwhile (then nothing
    changes: refund it instead).
    """
    try:
        with transaction():
            payment = _lock_in_review(payment_id)
            if payment.provider == Provider.IPG and payment.gateway_ref_id is None:
                raise _Refused("not_verified")  # the bank never settled it: no money to accept
            result = state.mark_payment_paid(payment)
            if result != "paid":
                raise _Refused("needs_refund" if result == "needs_refund" else "not_in_review")
            audit.record(actor_id, "payment.accept", "payment", payment_id, reason=reason)
            order_ids = [o.id for o in payment.orders]
    except _Refused as refused:
        return refused.result
    events.notify(events.NOTICE_PAID, order_ids)
    return "paid"


def refund(payment_id: int, actor_id: int, reason: str) -> str:
    """Refund a payment held for review in full.

    The refund is recorded as owed (with an audit row) before Stripe is asked, so a failure on
    the way leaves it owed and listed, never forgotten. Returns "refunded", "owed" (Stripe could
    not do it now) or "not_in_review".
    """
    try:
        with transaction():
            _record_refund_due(payment_id, actor_id, reason)
    except _Refused as refused:
        return refused.result
    return _issue(payment_id)


def _record_refund_due(payment_id: int, actor_id: int, reason: str) -> None:
    """Inside the decision's transaction: the payment's refund recorded as owed, and why."""
    payment = _lock_in_review(payment_id)
    key = f"refund-due:{payment_id}"
    known = db.session.scalar(
        sa.select(PaymentEvent.id).where(
            PaymentEvent.provider == payment.provider, PaymentEvent.event_id == key
        )
    )
    if known is None:
        db.session.add(
            PaymentEvent(
                provider=payment.provider,
                event_id=key,
                type=events.REFUND_DUE,
                payment_id=payment_id,
                payload={"payment_intent": None, "reason": "staff_review"},
            )
        )
    audit.record(actor_id, "payment.refund", "payment", payment_id, reason=reason)


def retry_refund(payment_id: int, actor_id: int) -> str:
    """Ask Stripe again for a refund that is owed. Returns "refunded", "owed" or "not_owed"."""
    try:
        with transaction():
            if payment_id not in events.refunds_owed():
                raise _Refused("not_owed")
            audit.record(actor_id, "payment.retry_refund", "payment", payment_id)
    except _Refused as refused:
        return refused.result
    return _issue(payment_id)


def _issue(payment_id: int) -> str:
    try:
        done = online.issue_refund(payment_id)
    except (provider.ProviderError, ProviderFailure):
        # issue_refund holds no transaction across the call to Stripe: nothing to roll back.
        log.exception("refund of payment %s failed; it stays owed", payment_id)
        return "owed"
    if done:
        return "refunded"
    status = db.session.scalar(sa.select(Payment.status).where(Payment.id == payment_id))
    return "refunded" if status == PaymentStatus.REFUNDED else "owed"


class _Refused(Exception):
    """A decision that cannot be made (``result`` says why): its transaction rolls back."""

    def __init__(self, result: str) -> None:
        super().__init__(result)
        self.result = result


def _lock_in_review(payment_id: int) -> Payment:
    """The payment, locked for this transaction, if it is held for review (else _Refused)."""
    payment = db.session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None or payment.status != PaymentStatus.IN_REVIEW:
        raise _Refused("not_in_review")
    return payment


def gateway_payments(page: int, per_page: int = 50) -> Page:
    """Bank-gateway (IPG) payments, newest first, with their orders: the staff list that shows
    each one's authority, bank reference and masked card."""
    stmt = (
        sa.select(Payment)
        .where(Payment.provider == Provider.IPG)
        .options(selectinload(Payment.orders).joinedload(Order.seller))
    )
    return paginate(
        stmt, Payment.id, (Payment.created_at.desc(), Payment.id.desc()), page, per_page
    )
