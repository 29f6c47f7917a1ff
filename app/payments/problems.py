"""Staff decide a problem a customer reported: money back in full or in part, or closed.

Money back on a card order goes through the payment provider (:func:`send_card_refund`); on a
cash order the seller gives the cash back and staff record it. Either way the order is completed
first if it was not (the sale happened; the refund reverses it in proportion), the seller's
ledger records the refund (:func:`app.payouts.ledger.record_refund`, keyed by the problem, so
once) and an order refunded in full becomes REFUNDED — all in one transaction with the decision,
which is a conditional UPDATE, so a decision posted twice acts once.
"""

from __future__ import annotations

import logging

from app.audit import log as audit
from app.core.db import transaction
from app.core.errors import DomainError, NotFound, ValidationFailed
from app.core.extensions import db
from app.orders import completion
from app.orders import problems as order_problems
from app.orders import services as orders
from app.orders.models import OrderStatus, ProblemReport, ProblemStatus
from app.payments.models import Payment, Provider
from app.payouts import ledger

log = logging.getLogger(__name__)


class CardRefundUnavailable(DomainError):
    """Refunding part of a card payment through the provider is not possible here (yet)."""


def send_card_refund(order_id: int, amount: int, *, reason: str) -> None:
    """Give ``amount`` of card order ``order_id`` back through the payment provider.

    The provider-neutral ``app.payments.refund_order(order_id, amount=None, *, reason)`` arrives
    with the payment-provider change; until it is merged this raises CardRefundUnavailable and
    the decision changes nothing (staff refund by hand, then record a cash-style refund or wait).
    Once it is there, this function calls it; if ``refund_order`` records the ledger refund
    itself, :func:`decide_refund` must not record it a second time for card orders.
    """
    raise CardRefundUnavailable(f"card refund of order {order_id} is not available")


def _problem(problem_id: int) -> ProblemReport:
    found = db.session.get(ProblemReport, problem_id)
    if found is None:
        raise NotFound("problem")
    return found


def is_card(problem: ProblemReport) -> bool:
    payment = db.session.get(Payment, problem.order.payment_id)
    return payment is not None and payment.provider != Provider.CASH


def decide_close(problem_id: int, staff_id: int, note: str | None) -> None:
    """Close an open problem without money back and commit; the order may complete again.
    Raises NotFound or InvalidTransition (decided already)."""
    with transaction():
        problem = _problem(problem_id)
        order_problems.close_in_transaction(
            problem, ProblemStatus.CLOSED, staff_id, (note or "").strip()[:2000] or None, None
        )
        audit.record(staff_id, "problem.close", "problem", problem_id)


def decide_refund(problem_id: int, staff_id: int, amount: int, note: str | None) -> None:
    """Give ``amount`` (rials, 1 … what is left of the order's total) back for an open problem
    and commit: card orders through the provider first, cash orders as cash the seller returned.
    Raises NotFound, ValidationFailed(amount), CardRefundUnavailable or InvalidTransition; then
    nothing changes in the database."""
    problem = _problem(problem_id)
    order = problem.order
    left = order.total_amount - order.refunded_amount
    if not 0 < amount <= left:
        raise ValidationFailed({"amount": ["refund_too_large" if amount > 0 else "required"]})
    card = is_card(problem)
    if card:
        send_card_refund(order.id, amount, reason=f"problem {problem.id}")
    with transaction():
        problem = _problem(problem_id)
        order_problems.close_in_transaction(
            problem, ProblemStatus.REFUNDED, staff_id, (note or "").strip()[:2000] or None, amount
        )
        order = problem.order
        db.session.refresh(order)
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            completion.complete_in_transaction(order, "problem decided")
        ledger.record_refund(order, amount, ref=f"problem:{problem_id}")
        if order.refunded_amount >= order.total_amount:
            orders.refunded_in_full(order, "refunded after a reported problem")
        audit.record(staff_id, "problem.refund", "problem", problem_id,
                     data={"amount": amount, "card": card})  # fmt: skip
    log.info("problem %s decided: %s back", problem_id, amount)
