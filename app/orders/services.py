"""Order life after checkout: checked status moves, cancellation, and the moves a payment's
outcome makes (paid, expired, refunded).

Every move is a conditional UPDATE on the old status, allowed by the one status table
(:mod:`app.orders.models`) for the actor who asks, plus a recorded ``OrderStatusChange``. Stock
an order holds is given back exactly once, by whoever first wins the conditional UPDATE of its
``stock_released`` flag (:mod:`app.orders.stock` moves the stock). The "order moved" log line is
written once the transaction that made the move has committed (never for a move rolled back).

The order service knows nothing of payments: what a payment must do when people move its orders
(a cash payment follows them; a paid order that was cancelled is refunded) is done through hooks
that ``create_app`` registers (:func:`on_order_moved`, :func:`on_paid_order_cancelled`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction, selectinload

from app.accounts.models import User
from app.catalog.models import Seller
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import stock
from app.orders.errors import OutOfStock
from app.orders.models import Actor, Order, OrderStatus, OrderStatusChange, may_move

log = logging.getLogger(__name__)

# A cash checkout is open while any of its orders is in one of these.
OPEN_CASH = (OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)

# ---- hooks other services register at app start ----------------------------------------------

# Called after a cancellation of an order that had been paid committed, with the order's id:
# gives the money back (True when it recorded a refund, False when none was due or possible).
# Payments registers it; the order service does not know how money moves.
RefundHook = Callable[[int], bool]
_refund_cancelled: list[RefundHook] = []

# Called inside the transaction of a move a person made (customer, seller, staff), with the
# order's payment id, so the payment can follow its orders (a cash payment is settled by them).
MovedHook = Callable[[int], None]
_order_moved: list[MovedHook] = []


def on_paid_order_cancelled(hook: RefundHook) -> None:
    """Register the one function that refunds a cancelled, paid order (replaces an earlier one)."""
    _refund_cancelled[:] = [hook]


def on_order_moved(hook: MovedHook) -> None:
    """Register the one function told, inside the move's transaction, the payment id of an
    order a person moved (replaces an earlier one)."""
    _order_moved[:] = [hook]


def _moved(payment_id: int) -> None:
    for hook in _order_moved:
        hook(payment_id)


# ---- the "order moved" log line, after the commit ---------------------------------------------

_MOVES_TO_LOG = "bazarche_orders_moved"


def install(session_class: object) -> None:
    """Log each committed move once its transaction commits (listeners on the app's session
    class; idempotent)."""
    for name, listener in (
        ("after_commit", _log_committed_moves),
        ("after_transaction_end", _forget_moves),
    ):
        if not sa.event.contains(session_class, name, listener):
            sa.event.listen(session_class, name, listener)


def _log_committed_moves(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction may still roll back
    for args in session.info.pop(_MOVES_TO_LOG, ()):
        log.info("order %s moved %s -> %s by %s %s", *args)


def _forget_moves(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction ended without a commit: nothing moved
        session.info.pop(_MOVES_TO_LOG, None)


# ---- moves ------------------------------------------------------------------------------------


def _release(order: Order) -> bool:
    """Give the order's stock back once. True when this call did it."""
    won = db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(False))
        .values(stock_released=True)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", won).rowcount != 1:
        return False
    stock.give_back((line.product_id, line.variant_id, line.quantity) for line in order.lines)
    return True


def _move(
    order: Order,
    new: OrderStatus,
    actor: Actor,
    actor_id: int | None,
    reason: str | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    """Move ``order`` to ``new`` if the table lets ``actor`` make that move and nobody moved the
    order meanwhile; otherwise InvalidTransition (the caller's transaction rolls back). ``extra``
    columns are set by the same conditional UPDATE."""
    current = order.status
    if not may_move(current, new, actor):
        raise InvalidTransition(current, new)
    now = utcnow()
    values: dict[str, object] = {"status": new, "updated_at": now}
    # Sales volume counts a card order from its payment and a cash order from its completion.
    if new == OrderStatus.PAID or (new == OrderStatus.COMPLETED and order.paid_at is None):
        values["paid_at"] = now
    if new == OrderStatus.SHIPPED:
        values["shipped_at"] = now
    if new == OrderStatus.COMPLETED:
        values["completed_at"] = now
    values.update(extra or {})
    moved = db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id, Order.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", moved).rowcount != 1:
        raise InvalidTransition(current, new)
    db.session.add(
        OrderStatusChange(
            order_id=order.id, from_status=current, to_status=new, actor_id=actor_id, reason=reason
        )
    )
    for key, value in values.items():
        setattr(order, key, value)
    db.session.info.setdefault(_MOVES_TO_LOG, []).append(
        (
            order.id,
            current.value,
            new.value,
            getattr(actor, "value", actor),
            actor_id if actor_id is not None else "-",
        )
    )
    if new in (OrderStatus.CANCELLED,):
        _release(order)


def load_order(order_id: int) -> Order | None:
    return db.session.scalar(
        sa.select(Order).where(Order.id == order_id).options(selectinload(Order.lines))
    )


def awaiting_payment(customer_id: int, limit: int) -> list[int]:
    """Ids of the customer's newest ``limit`` orders still awaiting their card payment."""
    return list(
        db.session.scalars(
            sa.select(Order.id)
            .where(Order.customer_id == customer_id, Order.status == OrderStatus.AWAITING_PAYMENT)
            .order_by(Order.id.desc())
            .limit(limit)
        )
    )


def customer_may_cancel(order: Order) -> bool:
    """Whether the customer may cancel the order as it is now (the status table decides)."""
    return may_move(order.status, OrderStatus.CANCELLED, Actor.CUSTOMER)


class Cancelled(NamedTuple):
    """What a cancellation did besides cancelling: ``refund`` is None when no money had been
    paid, "sent" when the paid amount is being refunded, "failed" when the refund could not be
    sent now (the cancellation stands; staff complete the refund)."""

    refund: str | None


def cancel_order(
    order: Order, actor: Actor, actor_user: User | None, reason: str | None = None
) -> Cancelled:
    """The one cancellation: checked against the status table for ``actor``, stock given back
    once, the payment told (a cash payment follows its orders), and, after the commit, an order
    that had been paid refunded through the registered refund hook. Raises InvalidTransition;
    then nothing changes and the session is clean."""
    with transaction():
        db.session.refresh(order)
        was_paid = order.paid_at is not None
        _move(order, OrderStatus.CANCELLED, actor, actor_user.id if actor_user else None, reason)
        _moved(order.payment_id)
        order_id = order.id
    if not was_paid:
        return Cancelled(refund=None)
    return Cancelled(refund=_refund_after_cancel(order_id))


def _refund_after_cancel(order_id: int) -> str | None:
    if not _refund_cancelled:
        log.error("order %s was cancelled after payment and no refund hook is registered", order_id)
        return "failed"
    try:
        return "sent" if _refund_cancelled[0](order_id) else None
    except Exception:  # the cancellation stands; the refund is retried by staff or reconcile
        log.exception("refund of cancelled order %s failed", order_id)
        return "failed"


def cancel_by_customer(order: Order, customer: User, reason: str | None = None) -> Cancelled:
    """A customer cancels their own order while the status table lets them (before it ships,
    and never once it is paid); stock goes back once. Raises NotAllowed or InvalidTransition."""
    if order.customer_id != customer.id:
        raise NotAllowed("not your order")
    return cancel_order(order, Actor.CUSTOMER, customer, (reason or "").strip() or None)


def _shipping_details(carrier: str | None, tracking_code: str | None) -> tuple[str, str]:
    """Carrier and tracking code, trimmed; ValidationFailed naming each one missing."""
    carrier = (carrier or "").strip()[:80]
    tracking_code = (tracking_code or "").strip()[:80]
    errors = {}
    if not carrier:
        errors["carrier"] = ["required"]
    if not tracking_code:
        errors["tracking_code"] = ["required"]
    if errors:
        raise ValidationFailed(errors)
    return carrier, tracking_code


def seller_move(
    order: Order,
    seller: Seller,
    actor: User,
    new: OrderStatus,
    *,
    reason: str | None = None,
    carrier: str | None = None,
    tracking_code: str | None = None,
) -> Cancelled | None:
    """The seller confirms, ships (with carrier and tracking), delivers or cancels (with a
    reason), as the status table allows a seller: never an order still awaiting its card
    payment. A cancellation returns what :func:`cancel_order` did (a paid order is refunded).
    Raises NotAllowed, ValidationFailed or InvalidTransition; then nothing changes and the
    session is clean."""
    if order.seller_id != seller.id:
        raise NotAllowed("not your order")
    if new == OrderStatus.CANCELLED and not (reason or "").strip():
        raise ValidationFailed({"reason": ["reason_required"]})
    if new == OrderStatus.SHIPPED:
        carrier, tracking_code = _shipping_details(carrier, tracking_code)
    if new == OrderStatus.CANCELLED:
        return cancel_order(order, Actor.SELLER, actor, (reason or "").strip())
    with transaction():
        db.session.refresh(order)
        _move(order, new, Actor.SELLER, actor.id, (reason or "").strip() or None)
        if new == OrderStatus.SHIPPED:
            order.carrier = carrier
            order.tracking_code = tracking_code
        _moved(order.payment_id)
    return None


# ---- the orders of one payment (called by the payments package, inside its transaction) -------


def orders_of_payment(payment_id: int) -> list[Order]:
    """The payment's orders with their lines, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.payment_id == payment_id)
            .options(selectinload(Order.lines))
            .order_by(Order.id)
        )
    )


def order_ids_of_payment(payment_id: int) -> list[int]:
    """The ids of the payment's orders, in order."""
    return list(
        db.session.scalars(
            sa.select(Order.id).where(Order.payment_id == payment_id).order_by(Order.id)
        )
    )


def statuses_of_payment(payment_id: int) -> set[OrderStatus]:
    """The statuses the payment's orders are in now."""
    return set(db.session.scalars(sa.select(Order.status).where(Order.payment_id == payment_id)))


def pay_orders(payment_id: int) -> bool:
    """The money of ``payment_id`` arrived: its orders awaiting payment become paid.

    Orders that were cancelled meanwhile (the checkout expired and released its stock) take
    their stock again if it is still there, all or nothing; when it is not, False, and nothing
    changes (the payment must be refunded). Runs inside the caller's transaction.
    """
    orders = orders_of_payment(payment_id)
    released = [o for o in orders if o.status == OrderStatus.CANCELLED and o.stock_released]
    if released and not _take_again(released):
        return False
    for order in orders:
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(order, OrderStatus.PAID, Actor.SYSTEM, None)
    return True


def _take_again(released: list[Order]) -> bool:
    """Cancelled orders whose stock went back take it again and become paid, all or nothing;
    False (and nothing changed) when a product is gone or short of stock."""
    # Only the released orders take stock again: the others still hold theirs.
    wanted = [
        (line.product_id, line.variant_id, line.quantity) for o in released for line in o.lines
    ]
    if any(product_id is None for product_id, _, _ in wanted):
        return False
    try:
        with db.session.begin_nested():
            stock.take(
                [(pid, vid, qty) for pid, vid, qty in wanted if pid is not None],
                published_only=True,
            )
    except OutOfStock:
        return False
    now = utcnow()
    for order in released:
        db.session.execute(
            sa.update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.CANCELLED)
            .values(status=OrderStatus.PAID, stock_released=False, paid_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.add(
            OrderStatusChange(
                order_id=order.id,
                from_status=OrderStatus.CANCELLED,
                to_status=OrderStatus.PAID,
                reason="late payment: stock taken again",
            )
        )
        order.status, order.stock_released, order.paid_at = OrderStatus.PAID, False, now
    return True


def cancel_unpaid(payment_id: int, reason: str) -> None:
    """The card payment of ``payment_id`` failed or ran out of time: its orders still awaiting
    payment are cancelled and give their stock back once. Runs inside the caller's transaction;
    InvalidTransition when one moved meanwhile."""
    for order in orders_of_payment(payment_id):
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(order, OrderStatus.CANCELLED, Actor.SYSTEM, None, reason)


def refund_orders(payment_id: int) -> None:
    """The provider refunded the money of ``payment_id``: every order is refunded (never paid
    again). Paid orders give their stock back; orders still awaiting payment (the refund was
    reported before the payment) are cancelled first, which releases their stock once. Runs
    inside the caller's transaction."""
    reason = "refunded by the payment provider"
    for order in orders_of_payment(payment_id):
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(order, OrderStatus.CANCELLED, Actor.SYSTEM, None, reason)
        if order.status != OrderStatus.REFUNDED and may_move(
            order.status, OrderStatus.REFUNDED, Actor.SYSTEM
        ):
            was_holding = order.status == OrderStatus.PAID
            _move(order, OrderStatus.REFUNDED, Actor.SYSTEM, None, reason)
            if was_holding:
                _release(order)


def refund_order(order: Order) -> None:
    """Record that one cancelled, paid order's money went back (the caller commits)."""
    if order.status == OrderStatus.CANCELLED:
        _move(order, OrderStatus.REFUNDED, Actor.SYSTEM, None, "refunded after cancellation")


def refunded_in_full(order: Order, reason: str) -> None:
    """A completed order's money went back in full: it becomes refunded (and stops counting as
    sold). Runs inside the caller's transaction; nothing happens to an order not completed."""
    if order.status == OrderStatus.COMPLETED:
        _move(order, OrderStatus.REFUNDED, Actor.SYSTEM, None, reason)
