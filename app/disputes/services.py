"""Problems reported on orders: a customer reports, the seller answers, the market decides.

The rules, all here:

- A customer may report one problem per order, on an order that was shipped (or delivered) and
  not yet completed, within ``RECEIPT_WINDOW_DAYS`` of its shipping: not received, damaged, or not
  as described, with a description and up to :data:`MAX_PHOTOS` photos.
- The seller answers once. The customer (once the seller has answered, or after
  ``PROBLEM_ANSWER_DAYS`` without an answer) or the seller may ask the market to decide.
- Staff decide: a refund of all or part of the order (through its payment provider; for a cash
  order, a refund the seller made in cash is recorded), or close the problem with no refund.
  The customer may withdraw a report before it is decided.
- While a problem is open its order does not complete by itself (:func:`blocks_completion`).

A refund through the provider is made in three steps, so that money never moves twice and a
failure is never lost: the decision is recorded (status ``refunding``), the provider is asked with
an idempotency key of the problem, and the outcome is recorded. A provider that cannot be reached
leaves the problem ``refunding``; staff retry it from its page and the same key makes the retry
safe. Each step is a transaction of its own; photos are decoded before any transaction begins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.audit import log as audit
from app.catalog import photos as photo_files
from app.catalog.models import Seller
from app.catalog.scope import PROVINCE, Scope
from app.core.db import transaction
from app.core.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, paginate
from app.core.timeutil import as_utc, utcnow
from app.disputes import money
from app.disputes.models import (
    OPEN_STATUSES,
    OrderProblem,
    ProblemKind,
    ProblemPhoto,
    ProblemStatus,
    Resolution,
)
from app.disputes.signals import problem_event
from app.orders import completion
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.payments.models import Payment, Provider
from app.payouts import ledger

log = logging.getLogger(__name__)

MAX_PHOTOS = 4
PHOTO_WIDTHS = (320, 1280)
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 2000
REPLY_MAX = 2000
# Orders a problem may be reported on: sent, not yet completed or refunded.
REPORTABLE = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})
# Reasons recorded on the order's moves a decision makes (translated on the pages).
COMPLETED_BY_DECISION = "problem decided"
REFUNDED_BY_DECISION = "refunded after a reported problem"


class ProblemClosed(DomainError):
    """The problem is already decided or withdrawn; nothing was changed."""


class RefundFailed(DomainError):
    """The payment provider did not make the refund; the problem stays ``refunding``."""


# ---- reading -----------------------------------------------------------------------------------


def report_deadline(order: Order) -> datetime | None:
    """Until when a problem may be reported on ``order``: the end of its receipt window, the
    same deadline after which it completes by itself (None: not sent, or already completed)."""
    return completion.receipt_deadline(order)


def problem_of(order_id: int) -> OrderProblem | None:
    return db.session.scalar(
        sa.select(OrderProblem)
        .where(OrderProblem.order_id == order_id)
        .options(selectinload(OrderProblem.photos))
    )


def may_report(order: Order, now: datetime | None = None) -> bool:
    """True when the customer can report a problem on ``order`` now."""
    if order.status not in REPORTABLE or problem_of(order.id) is not None:
        return False
    deadline = report_deadline(order)
    return deadline is not None and (now or utcnow()) < deadline


def blocks_completion(order_id: int) -> bool:
    """True while an open problem holds the order (it must not complete by itself)."""
    return (
        db.session.scalar(
            sa.select(OrderProblem.id).where(
                OrderProblem.order_id == order_id, OrderProblem.status.in_(OPEN_STATUSES)
            )
        )
        is not None
    )


def holds_order(order: Order) -> bool:
    """:func:`blocks_completion` of ``order``: the hold ``create_app`` registers with
    :func:`app.orders.completion.on_completion_hold`."""
    return blocks_completion(order.id)


def customer_may_escalate(problem: OrderProblem, now: datetime | None = None) -> bool:
    if problem.status == ProblemStatus.ANSWERED:
        return True
    waited = (now or utcnow()) - as_utc(problem.created_at)
    answer_days = int(current_app.config["PROBLEM_ANSWER_DAYS"])
    return problem.status == ProblemStatus.OPEN and waited >= timedelta(days=answer_days)


def refundable_amount(order: Order) -> int:
    """The most a refund of the order may be: what the customer paid for it, less what was
    given back already."""
    return int(order.total_amount) - int(order.refunded_amount or 0)


def is_cash(order: Order) -> bool:
    provider = db.session.scalar(sa.select(Payment.provider).where(Payment.id == order.payment_id))
    return provider == Provider.CASH


@dataclass(frozen=True)
class StaffFilters:
    status: ProblemStatus | None = None  # None: every problem that needs the market
    page: int = 1
    # Whose sellers' problems the staff member may see (a county officer: their county's).
    scope: Scope = PROVINCE


def staff_page(filters: StaffFilters, per_page: int = 20) -> Page:
    """Problems for staff, those asking for a decision first (oldest first), then the rest
    newest first."""
    stmt = sa.select(OrderProblem).options(joinedload(OrderProblem.order).joinedload(Order.seller))
    if not filters.scope.is_province:
        stmt = stmt.where(OrderProblem.seller_id.in_(filters.scope.seller_ids()))
    if filters.status is None:
        stmt = stmt.where(
            OrderProblem.status.in_((ProblemStatus.ESCALATED, ProblemStatus.REFUNDING))
        )
        order: tuple[Any, ...] = (OrderProblem.escalated_at, OrderProblem.id)
    else:
        stmt = stmt.where(OrderProblem.status == filters.status)
        order = (OrderProblem.created_at.desc(), OrderProblem.id.desc())
    return paginate(stmt, OrderProblem.id, order, filters.page, per_page)


def counts_by_status(scope: Scope = PROVINCE) -> dict[ProblemStatus, int]:
    stmt = sa.select(OrderProblem.status, sa.func.count())
    if not scope.is_province:
        stmt = stmt.where(OrderProblem.seller_id.in_(scope.seller_ids()))
    rows = db.session.execute(stmt.group_by(OrderProblem.status)).all()
    return {status: int(n) for status, n in rows}


def load(problem_id: int, scope: Scope = PROVINCE) -> OrderProblem | None:
    """The problem (``None`` outside ``scope``) with its photos and its order's lines."""
    stmt = sa.select(OrderProblem).where(OrderProblem.id == problem_id)
    if not scope.is_province:
        stmt = stmt.where(OrderProblem.seller_id.in_(scope.seller_ids()))
    return db.session.scalar(
        stmt.options(
            selectinload(OrderProblem.photos),
            joinedload(OrderProblem.order).selectinload(Order.lines),
        )
    )


# ---- reporting -----------------------------------------------------------------------------------


def _check_report(kind: str, description: str, uploads: Sequence[object]) -> ProblemKind:
    errors: dict[str, list[str]] = {}
    try:
        problem_kind = ProblemKind(kind)
    except ValueError:
        errors["kind"] = ["problem_kind_required"]
        problem_kind = ProblemKind.DAMAGED
    text = description.strip()
    if len(text) < DESCRIPTION_MIN:
        errors["description"] = ["problem_description_short"]
    elif len(text) > DESCRIPTION_MAX:
        errors["description"] = ["too_long"]
    if len(uploads) > MAX_PHOTOS:
        errors["photos"] = ["too_many_problem_photos"]
    if errors:
        raise ValidationFailed(errors)
    return problem_kind


def _store_photos(uploads: Sequence[photo_files.Upload]) -> tuple[list[tuple[str, str]], list[str]]:
    """(small, large) storage keys of each photo and the files written for them; nothing is
    kept if one is refused."""
    pictures, written = photo_files.store_pictures(uploads, widths=PHOTO_WIDTHS)
    return [(p.smallest.key, p.largest.key) for p in pictures], written


def report(
    order_id: int,
    customer: User,
    kind: str,
    description: str,
    uploads: Sequence[photo_files.Upload] = (),
) -> OrderProblem:
    """Record the customer's problem on their order and tell the seller.

    Raises NotAllowed (not their order), InvalidTransition (the order cannot take a report now:
    not shipped, completed, past the window, or already reported) or ValidationFailed; then
    nothing is stored, photos included.
    """
    problem_kind = _check_report(kind, description, uploads)
    keys, written = _store_photos(uploads)  # decoded before any database lock is taken
    try:
        with transaction():
            order = db.session.get(Order, order_id, with_for_update=True, populate_existing=True)
            if order is None or order.customer_id != customer.id:
                raise NotAllowed("not the customer's order")
            if not may_report(order):
                raise InvalidTransition(order.status, "problem")
            problem = OrderProblem(
                order_id=order.id,
                customer_id=customer.id,
                seller_id=order.seller_id,
                kind=problem_kind,
                description=description.strip(),
                status=ProblemStatus.OPEN,
                photos=[
                    ProblemPhoto(position=i, small_key=small, large_key=large)
                    for i, (small, large) in enumerate(keys)
                ],
            )
            db.session.add(problem)
            db.session.flush()
            audit.record(customer.id, "problem.reported", "order", order.id, data={"kind": kind})
            problem_id = problem.id
    except BaseException:
        photo_files.discard_written(written)
        raise
    log.info("problem %s reported on order %s (%s)", problem_id, order_id, problem_kind.value)
    _tell("reported", problem_id)
    return problem


# ---- the seller's answer, the escalation, the withdrawal ----------------------------------------


def _locked(problem_id: int) -> OrderProblem:
    problem = db.session.get(OrderProblem, problem_id, with_for_update=True, populate_existing=True)
    if problem is None:
        raise NotAllowed("no such problem")
    return problem


def answer(problem_id: int, seller: Seller, user: User, text: str) -> None:
    """The seller's one answer to an open problem of their order."""
    text = text.strip()
    if not text:
        raise ValidationFailed({"reply": ["required"]})
    if len(text) > REPLY_MAX:
        raise ValidationFailed({"reply": ["too_long"]})
    with transaction():
        problem = _locked(problem_id)
        if problem.seller_id != seller.id:
            raise NotAllowed("not the seller's order")
        if problem.status != ProblemStatus.OPEN:
            raise ProblemClosed(problem.status)
        problem.seller_reply = text
        problem.seller_replied_at = utcnow()
        problem.status = ProblemStatus.ANSWERED
        audit.record(user.id, "problem.answered", "order", problem.order_id)
    _tell("answered", problem_id)


def escalate(problem_id: int, user: User, *, seller: Seller | None = None) -> None:
    """Ask the market to decide: the seller of the order at any time before a decision, the
    customer once the seller answered or after ``PROBLEM_ANSWER_DAYS`` without an answer."""
    with transaction():
        problem = _locked(problem_id)
        if seller is not None:
            if problem.seller_id != seller.id:
                raise NotAllowed("not the seller's order")
            allowed = problem.status in (ProblemStatus.OPEN, ProblemStatus.ANSWERED)
        else:
            if problem.customer_id != user.id:
                raise NotAllowed("not the customer's order")
            allowed = customer_may_escalate(problem)
        if not allowed:
            raise ProblemClosed(problem.status)
        problem.status = ProblemStatus.ESCALATED
        problem.escalated_at = utcnow()
        audit.record(user.id, "problem.escalated", "order", problem.order_id)
    _tell("escalated", problem_id)


def withdraw(problem_id: int, customer: User) -> None:
    """The customer withdraws a report that was not decided yet (the order may complete)."""
    with transaction():
        problem = _locked(problem_id)
        if problem.customer_id != customer.id:
            raise NotAllowed("not the customer's order")
        if problem.status not in (
            ProblemStatus.OPEN,
            ProblemStatus.ANSWERED,
            ProblemStatus.ESCALATED,
        ):
            raise ProblemClosed(problem.status)
        _resolve(problem, Resolution.WITHDRAWN, ProblemStatus.CLOSED, customer.id, None)
    _tell("withdrawn", problem_id)


# ---- the market's decision -------------------------------------------------------------------


def _resolve(
    problem: OrderProblem,
    resolution: Resolution,
    status: ProblemStatus,
    actor_id: int | None,
    note: str | None,
) -> None:
    problem.resolution = resolution
    problem.status = status
    problem.resolved_at = utcnow()
    problem.decided_by_id = actor_id
    if note is not None:
        problem.decision_note = note
    audit.record(
        actor_id,
        f"problem.{resolution.value}",
        "order",
        problem.order_id,
        reason=note,
        data={"amount": problem.refund_amount} if problem.refund_amount else None,
    )


def _decision_errors(order: Order, resolution: Resolution, amount: int | None, note: str) -> None:
    errors: dict[str, list[str]] = {}
    if not note.strip():
        errors["note"] = ["required"]
    if resolution in (Resolution.REFUND, Resolution.CASH_REFUND):
        if amount is None or amount <= 0:
            errors["amount"] = ["refund_amount_required"]
        elif amount > refundable_amount(order):
            errors["amount"] = ["refund_amount_too_large"]
        elif (resolution == Resolution.CASH_REFUND) != is_cash(order):
            errors["resolution"] = ["refund_wrong_kind"]
    elif resolution != Resolution.CLOSED:
        errors["resolution"] = ["required"]
    if errors:
        raise ValidationFailed(errors)


def decide(
    problem_id: int, staff: User, resolution: str, amount: int | None, note: str
) -> ProblemStatus:
    """Staff's decision on a problem not yet resolved; returns the problem's new status.

    ``refund`` (an online payment) records the decision, asks the provider and records the
    outcome (RefundFailed leaves it ``refunding``, to be retried); ``cash_refund`` (a cash
    order) records that the seller gave ``amount`` back; ``closed`` ends it with no refund.
    A refund completes the order and reverses its part in the seller's ledger (see
    :func:`_give_back`); after a closing the order completes as any other.
    """
    try:
        chosen = Resolution(resolution)
    except ValueError as exc:
        raise ValidationFailed({"resolution": ["required"]}) from exc
    with transaction():
        problem = _locked(problem_id)
        if problem.status not in (
            ProblemStatus.OPEN,
            ProblemStatus.ANSWERED,
            ProblemStatus.ESCALATED,
        ):
            raise ProblemClosed(problem.status)
        order = db.session.get(Order, problem.order_id, populate_existing=True)
        assert order is not None  # the problem's foreign key
        _decision_errors(order, chosen, amount, note)
        problem.decided_by_id = staff.id
        problem.decision_note = note.strip()
        if chosen == Resolution.REFUND:
            problem.refund_amount = amount
            problem.resolution = chosen
            problem.status = ProblemStatus.REFUNDING
            audit.record(staff.id, "problem.refund_decided", "order", order.id, reason=note)
        else:
            problem.refund_amount = amount if chosen == Resolution.CASH_REFUND else None
            status = (
                ProblemStatus.REFUNDED if chosen == Resolution.CASH_REFUND else ProblemStatus.CLOSED
            )
            _resolve(problem, chosen, status, staff.id, note.strip())
            if chosen == Resolution.CASH_REFUND:
                _give_back(order, int(amount or 0), problem.id)
    if chosen != Resolution.REFUND:
        _tell("decided", problem_id)
        return ProblemStatus.REFUNDED if chosen == Resolution.CASH_REFUND else ProblemStatus.CLOSED
    return retry_refund(problem_id, staff)


def retry_refund(problem_id: int, staff: User) -> ProblemStatus:
    """Ask the provider for the refund a problem is waiting for, and record it once.

    Safe to repeat and to run concurrently: the provider gets the same idempotency key each
    time, and only the first caller records the outcome. Raises RefundFailed when the provider
    refuses or cannot be reached (the problem stays ``refunding``).
    """
    with transaction(write=False):  # a read of its own: none is held open across the network
        problem = db.session.get(OrderProblem, problem_id, populate_existing=True)
        if problem is None:
            raise NotAllowed("no such problem")
        if problem.status != ProblemStatus.REFUNDING:
            return problem.status
        order_id, amount = problem.order_id, int(problem.refund_amount or 0)
    try:
        reference = money.refund_online(order_id, amount, key=f"problem-refund-{problem_id}")
    except money.RefundNotMade as exc:
        log.warning("refund of problem %s (order %s) not made: %s", problem_id, order_id, exc)
        raise RefundFailed(str(exc)) from exc
    with transaction():
        problem = _locked(problem_id)
        if problem.status != ProblemStatus.REFUNDING:
            return problem.status  # a concurrent retry recorded it
        problem.refund_reference = reference
        _resolve(problem, Resolution.REFUND, ProblemStatus.REFUNDED, staff.id, None)
        order = db.session.get(Order, order_id, populate_existing=True)
        assert order is not None
        _give_back(order, amount, problem_id)
    log.info("problem %s: %s refunded on order %s (%s)", problem_id, amount, order_id, reference)
    _tell("decided", problem_id)
    return ProblemStatus.REFUNDED


def _give_back(order: Order, amount: int, problem_id: int) -> None:
    """A refund decided on a problem, inside the decision's transaction: the order completes
    first if it had not (the sale happened: completing fixes its commission and credits the
    seller), the seller's ledger reverses the refunded part in proportion, once per problem, and
    an order refunded in full becomes refunded (its goods left the seller: no stock comes back)."""
    if order.status in REPORTABLE:
        completion.complete_in_transaction(order, COMPLETED_BY_DECISION)
    ledger.record_refund(order, amount, ref=f"problem:{problem_id}")
    if order.refunded_amount >= order.total_amount:
        orders.refunded_in_full(order, REFUNDED_BY_DECISION)


# ---- telling people ----------------------------------------------------------------------------


def _tell(kind: str, problem_id: int) -> None:
    """:data:`~app.disputes.signals.problem_event` after the commit; a failed notice is logged
    and changes nothing."""
    try:
        problem_event.send(kind=kind, problem_id=problem_id)
    except Exception:
        log.exception("notice %s of problem %s could not be sent", kind, problem_id)
