"""Completion: the sale becomes final, by the customer's word ("I received it") or by the clock.

After an order ships, the customer has ``RECEIPT_WINDOW_DAYS`` to confirm receipt; an order not
confirmed by then is completed by ``flask orders complete-due`` (:func:`complete_due`). Either
way the move is the status table's SHIPPED/DELIVERED → COMPLETED, the market's commission is
fixed from the order's lines, a cash order starts counting as sold (``paid_at``), and the hooks
registered by ``create_app`` run inside the same transaction (the seller's ledger is credited, a
cash payment follows its orders). So the credit exists exactly when the completion committed.

Extension point: a function registered with :func:`on_completion_hold` is asked, for each order
the clock would complete, whether something holds it (a problem the customer reported, say);
a held order is left as it is and asked again on the next run.

Commission rounding: the lines are grouped by the rate of their category (a category without a
rate, or a line without a category, takes the market default ``COMMISSION_RATE_BP``); each
group's commission is ``floor(sum of its line totals × rate / 10000)`` rials (a line's total
counted before what a campaign paid by the market took off it, ``market_discount_amount``: the
market's discount does not shrink the commission), and the order's is
the sum of the groups'. Rounding down never charges a seller a fraction of a rial more than the
rate; shipping carries no commission.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import User
from app.catalog.models import Category
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotAllowed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import services
from app.orders.models import Actor, Order, OrderStatus, may_move
from app.orders.signals import orders_completed

log = logging.getLogger(__name__)

COMPLETABLE = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)

# Called inside the completion's transaction with the completed order (its commission set).
CompletedHook = Callable[[Order], None]
_completed: list[CompletedHook] = []

# Asked, inside the transaction that would complete it by the clock, whether an order is held.
HoldHook = Callable[[Order], bool]
_holds: list[HoldHook] = []


def on_order_completed(hook: CompletedHook) -> None:
    """Register the one function told, inside the completion's transaction, of a completed order
    (replaces an earlier one)."""
    _completed[:] = [hook]


def on_completion_hold(hook: HoldHook) -> None:
    """Add a check that may hold an order back from completion by the clock (idempotent)."""
    if hook not in _holds:
        _holds.append(hook)


def is_held(order: Order) -> bool:
    """Whether a registered check holds ``order`` back from completion by the clock."""
    return any(hook(order) for hook in _holds)


# ---- commission -------------------------------------------------------------------------------


def commission_of(lines: Iterable[tuple[int | None, int]], rates: dict[int, int | None],
                  default_bp: int) -> int:  # fmt: skip
    """The commission in rials of ``lines`` ((category id, line total) pairs) at the categories'
    ``rates`` (basis points; missing or None: ``default_bp``), rounded down per rate."""
    per_rate: dict[int, int] = defaultdict(int)
    for category_id, amount in lines:
        rate = rates.get(category_id) if category_id is not None else None
        per_rate[default_bp if rate is None else rate] += amount
    return sum(total * rate // 10_000 for rate, total in per_rate.items())


def order_commission(order: Order) -> int:
    """The commission of ``order`` at today's rates (see the module's rounding rule)."""
    # A campaign the market pays does not shrink the commission: it counts the line before it.
    lines = [
        (line.category_id, line.line_total_amount + line.market_discount_amount)
        for line in order.lines
    ]
    ids = {c for c, _ in lines if c is not None}
    rates: dict[int, int | None] = {}
    if ids:
        rates = dict(
            db.session.execute(
                sa.select(Category.id, Category.commission_rate_bp).where(Category.id.in_(ids))
            )
            .tuples()
            .all()
        )
    return commission_of(lines, rates, int(current_app.config["COMMISSION_RATE_BP"]))


# ---- the completion ---------------------------------------------------------------------------


def receipt_deadline(order: Order) -> datetime | None:
    """When the order completes by itself unless a problem holds it (None before shipping or
    after completion)."""
    if order.status not in COMPLETABLE or order.shipped_at is None:
        return None
    return order.shipped_at + timedelta(days=int(current_app.config["RECEIPT_WINDOW_DAYS"]))


def customer_may_complete(order: Order) -> bool:
    """Whether the customer may confirm receipt of the order as it is now."""
    return may_move(order.status, OrderStatus.COMPLETED, Actor.CUSTOMER)


def _complete(order: Order, actor: Actor, actor_id: int | None, reason: str) -> None:
    """Complete ``order`` inside the caller's transaction: the move, the commission, the hooks."""
    commission = order_commission(order)
    services._move(
        order, OrderStatus.COMPLETED, actor, actor_id, reason,
        extra={"commission_amount": commission},
    )  # fmt: skip
    for hook in _completed:
        hook(order)
    services._moved(order.payment_id)


def complete_in_transaction(order: Order, reason: str) -> None:
    """Complete a shipped or delivered order inside the caller's transaction, as the system
    (staff deciding a reported problem, say): the same move, commission and hooks."""
    _complete(order, Actor.SYSTEM, None, reason)


def complete_by_customer(order: Order, customer: User) -> None:
    """The customer confirms receipt of their shipped or delivered order: it completes now.
    Raises NotAllowed (not theirs) or InvalidTransition (not completable, or moved meanwhile);
    then nothing changes and the session is clean."""
    if order.customer_id != customer.id:
        raise NotAllowed("not your order")
    with transaction():
        db.session.refresh(order)
        _complete(order, Actor.CUSTOMER, customer.id, "received by the customer")
    orders_completed.send(order_ids=[order.id])


def due_order_ids(now: datetime, window_days: int, limit: int) -> list[int]:
    """Ids of shipped or delivered orders whose receipt window ran out by ``now``, oldest first."""
    with transaction(write=False):
        return list(
            db.session.scalars(
                sa.select(Order.id)
                .where(
                    Order.status.in_(COMPLETABLE),
                    Order.shipped_at.is_not(None),
                    Order.shipped_at <= now - timedelta(days=window_days),
                )
                .order_by(Order.shipped_at, Order.id)
                .limit(limit)
            )
        )


def complete_due(now: datetime | None = None, window_days: int | None = None,
                 limit: int = 500) -> int:  # fmt: skip
    """``flask orders complete-due``: complete every order whose receipt window ran out and that
    nothing holds; returns how many this call completed.

    Each order completes in a transaction of its own (one failure never undoes another). Safe to
    run again or twice at once: the move is a conditional UPDATE on the old status, so an order
    another run completed meanwhile is skipped, and its ledger entries are keyed by the order.
    """
    now = now or utcnow()
    if window_days is None:
        window_days = int(current_app.config["RECEIPT_WINDOW_DAYS"])
    done: list[int] = []
    for order_id in due_order_ids(now, window_days, limit):
        try:
            if _complete_one(order_id, now, window_days):
                done.append(order_id)
        except InvalidTransition:
            continue  # completed or moved by someone else meanwhile
        except sa.exc.IntegrityError:
            continue  # a concurrent run wrote its ledger entries first
    if done:
        log.info("completed %s orders whose receipt window ran out", len(done))
        orders_completed.send(order_ids=done)
    return len(done)


def _complete_one(order_id: int, now: datetime, window_days: int) -> bool:
    with transaction():
        order = db.session.get(Order, order_id, populate_existing=True)
        if (
            order is None
            or order.status not in COMPLETABLE
            or order.shipped_at is None
            or order.shipped_at > now - timedelta(days=window_days)
            or is_held(order)
        ):
            return False
        _complete(order, Actor.SYSTEM, None, "receipt window ended")
        return True
