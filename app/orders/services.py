"""Checkout and order life: stock reservation, one order per seller, checked status moves.

Stock is taken by one conditional UPDATE per line in product-id order inside the checkout
transaction (never read-check-write); it is given back exactly once, by whoever first wins the
conditional UPDATE of the order's ``stock_released`` flag.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.core.db import begin_write
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.inputs import POSTAL_CODE, is_mobile, normalise_mobile, normalise_postal_code
from app.core.timeutil import utcnow
from app.orders import cart as carts
from app.orders import stock
from app.orders.errors import (
    CartAlreadyCheckedOut,
    CartChanged,
    CartProblem,
    OutOfStock,
    TooManyCashOrders,
    Unavailable,
)
from app.orders.models import (
    Actor,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    may_move,
)
from app.payments.models import Payment, PaymentStatus, Provider

log = logging.getLogger(__name__)

OPEN_CASH = (OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
# A card checkout holds its stock at least this long: the provider's payment page needs it.
MIN_CARD_HOLD_MINUTES = 30

# ---- hooks other services register at app start ----------------------------------------------

# Called after a cancellation of an order that had been paid committed, with the order's id:
# gives the money back (True when it recorded a refund, False when none was due or possible).
# Payments registers it; the order service does not know how money moves.
RefundHook = Callable[[int], bool]
_refund_cancelled: list[RefundHook] = []


def on_paid_order_cancelled(hook: RefundHook) -> None:
    """Register the one function that refunds a cancelled, paid order (replaces an earlier one)."""
    _refund_cancelled[:] = [hook]


def card_hold_minutes(configured: int) -> int:
    """How long a card checkout holds its stock: the setting, never under the provider's need."""
    return max(MIN_CARD_HOLD_MINUTES, int(configured))


def open_cash_checkouts(customer: User) -> int:
    """How many of the customer's cash-on-delivery checkouts are still open (one checkout is one
    payment, however many sellers' orders it made; open while any of them is not yet delivered
    or cancelled)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Order.payment_id)))
            .join(Payment, Payment.id == Order.payment_id)
            .where(
                Order.customer_id == customer.id,
                Payment.provider == Provider.CASH,
                Order.status.in_(OPEN_CASH),
            )
        )
        or 0
    )


@dataclass
class Address:
    recipient_name: str
    mobile: str
    province: str
    city: str
    address: str
    postal_code: str

    def cleaned(self) -> Address:
        """Trimmed, digits made ASCII; raises ValidationFailed naming each bad field."""
        mobile = normalise_mobile(self.mobile)
        postal = normalise_postal_code(self.postal_code)
        out = Address(
            recipient_name=" ".join(self.recipient_name.split())[:120],
            mobile=mobile,
            province=" ".join(self.province.split())[:100],
            city=" ".join(self.city.split())[:100],
            address=self.address.strip()[:1000],
            postal_code=postal,
        )
        errors: dict[str, list[str]] = {}
        for name in ("recipient_name", "province", "city", "address"):
            if not getattr(out, name):
                errors[name] = ["required"]
        if not is_mobile(out.mobile):
            errors["mobile"] = ["mobile_invalid"]
        if not POSTAL_CODE.match(out.postal_code):
            errors["postal_code"] = ["postal_code_invalid"]
        if errors:
            raise ValidationFailed(errors)
        return out


def _reserve(lines: list[tuple[int, int]]) -> None:
    """Take stock for (product_id, quantity) pairs, all or none (the caller rolls back)."""
    stock.take(lines, published_only=True)


def _release(order: Order) -> bool:
    """Give the order's stock back once. True when this call did it."""
    won = db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(False))
        .values(stock_released=True)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        return False
    stock.give_back((line.product_id, line.quantity) for line in order.lines)
    return True


def find_checkout(token: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.checkout_token == token))


class Checkout(NamedTuple):
    """What :func:`place_checkout` made or found: the payment, and whether this call made it."""

    payment: Payment
    created: bool


def place_checkout(  # noqa: C901 (checkout is one transaction whose steps share its lock; to be split into steps in #11)
    customer: User,
    address: Address,
    provider: Provider,
    token: str,
    *,
    currency: str,
    expiry_minutes: int,
    max_open_cash_orders: int,
    cart_version: int | None = None,
) -> Checkout:
    """Turn the customer's cart into one payment and one order per seller, at most once.

    Prices come from the database. Posting the same ``token`` again returns the first checkout
    with ``created`` false, so only the post that made it sends the "placed" messages.

    The cart is locked for the transaction (:func:`app.orders.cart.lock`), so concurrent
    checkouts of one cart, whatever their tokens, run one after the other: the first turns it
    into orders, the others find it taken and raise CartAlreadyCheckedOut naming the checkout
    that was made. ``cart_version`` is the version the checkout page showed; when the cart
    changed since (another tab), CartChanged is raised. Staff cannot buy (NotABuyer), sellers
    not their own products (OwnProducts). At most ``max_open_cash_orders`` cash checkouts may
    be open at once (TooManyCashOrders). A card checkout holds its stock ``expiry_minutes``,
    never under :data:`MIN_CARD_HOLD_MINUTES`.
    Raises those, CartProblem, Unavailable, OutOfStock or ValidationFailed; then nothing is
    created and no stock is taken.
    """
    address = address.cleaned()
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token or ""):
        raise ValidationFailed({"token": ["invalid"]})
    begin_write()
    try:
        existing = find_checkout(token)
        if existing is not None:
            if existing.customer_id != customer.id:
                raise NotAllowed("token of another customer")
            db.session.rollback()
            return Checkout(existing, created=False)
        state = carts.lock(customer)
        existing = find_checkout(token)  # a post of the same form that held the lock before us
        if existing is not None:
            if existing.customer_id != customer.id:
                raise NotAllowed("token of another customer")
            db.session.rollback()
            return Checkout(existing, created=False)
        lines = carts.raw_lines(customer, None)
        taken = (
            state.checkout_payment_id
            if state.checked_out_version is not None
            and (
                # the page showed the cart a checkout took, or the cart is still as it left it
                cart_version == state.checked_out_version
                or (not lines and state.version == state.checked_out_version + 1)
            )
            else None
        )
        if taken is not None:
            raise CartAlreadyCheckedOut(taken)
        if cart_version is not None and cart_version != state.version:
            raise CartChanged("the cart changed after the checkout page was shown")
        if not lines:
            raise CartProblem("empty")
        carts.check_buyer(customer, [pid for pid, _, _ in lines])
        for _, qty, _ in lines:
            carts.check_quantity(qty)
        ids = [pid for pid, _, _ in lines]
        products = {
            p.id: p
            for p in db.session.scalars(
                sa.select(Product)
                .join(Seller, Seller.id == Product.seller_id)
                .where(
                    Product.id.in_(ids),
                    Product.status == ProductStatus.PUBLISHED,
                    Seller.status == SellerStatus.APPROVED,
                )
            )
        }
        for pid, _, seen in lines:
            product = products.get(pid)
            if product is None:
                raise Unavailable(pid)
            if product.price_amount != seen:
                raise CartProblem("price_changed")
        if provider == Provider.CASH:
            # Counted under the cart lock: concurrent checkouts of one customer cannot both pass.
            open_cash = open_cash_checkouts(customer)
            if open_cash + 1 > max_open_cash_orders:
                raise TooManyCashOrders(open_cash, max_open_cash_orders)
        _reserve([(pid, qty) for pid, qty, _ in lines])

        now = utcnow()
        payment = Payment(
            customer_id=customer.id,
            provider=provider,
            status=PaymentStatus.PENDING,
            amount=0,
            currency=currency,
            checkout_token=token,
            expires_at=now + timedelta(minutes=card_hold_minutes(expiry_minutes))
            if provider == Provider.STRIPE
            else None,
        )
        db.session.add(payment)
        db.session.flush()
        first = OrderStatus.AWAITING_PAYMENT if provider == Provider.STRIPE else OrderStatus.PLACED
        by_seller: dict[int, Order] = {}
        for pid, qty, _ in sorted(lines):
            product = products[pid]
            order = by_seller.get(product.seller_id)
            if order is None:
                order = Order(
                    payment_id=payment.id,
                    customer_id=customer.id,
                    seller_id=product.seller_id,
                    status=first,
                    currency=currency,
                    subtotal_amount=0,
                    shipping_amount=0,
                    total_amount=0,
                    **address.__dict__,
                )
                by_seller[product.seller_id] = order
                db.session.add(order)
            line_total = product.price_amount * qty
            order.lines.append(
                OrderLine(
                    product_id=pid,
                    product_title=product.title,
                    seller_name=product.seller.display_name,
                    category_id=product.category_id,
                    unit_price_amount=product.price_amount,
                    quantity=qty,
                    line_total_amount=line_total,
                )
            )
            order.subtotal_amount += line_total
            order.total_amount += line_total
        payment.amount = sum(o.total_amount for o in by_seller.values())
        db.session.flush()
        for order in by_seller.values():
            db.session.add(
                OrderStatusChange(order_id=order.id, to_status=first, actor_id=customer.id)
            )
        carts.clear(customer)
        state.checked_out_version = state.version
        state.checkout_payment_id = payment.id
        state.version += 1
        placed = (payment.id, sorted(o.id for o in by_seller.values()), payment.amount)
        db.session.commit()
    except sa.exc.IntegrityError:
        # A concurrent post of the same token won the unique constraint: return its checkout.
        db.session.rollback()
        existing = find_checkout(token)
        if existing is None or existing.customer_id != customer.id:
            raise
        return Checkout(existing, created=False)
    except Exception:
        db.session.rollback()
        raise
    log.info(
        "checkout placed: payment %s, orders %s, provider %s, amount %s %s",
        placed[0],
        placed[1],
        provider.value,
        placed[2],
        currency,
    )
    return Checkout(payment, created=True)


# ---- status moves ---------------------------------------------------------------------------


def _move(
    order: Order,
    new: OrderStatus,
    actor: Actor,
    actor_id: int | None,
    reason: str | None = None,
) -> None:
    """Move ``order`` to ``new`` if the table lets ``actor`` make that move and nobody moved the
    order meanwhile; otherwise InvalidTransition and nothing changes."""
    current = order.status
    if not may_move(current, new, actor):
        raise InvalidTransition(current, new)
    values: dict[str, object] = {"status": new, "updated_at": utcnow()}
    if new == OrderStatus.PAID or (new == OrderStatus.DELIVERED and order.paid_at is None):
        values["paid_at"] = utcnow()
    moved = db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id, Order.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        raise InvalidTransition(current, new)
    db.session.add(
        OrderStatusChange(
            order_id=order.id, from_status=current, to_status=new, actor_id=actor_id, reason=reason
        )
    )
    for key, value in values.items():
        setattr(order, key, value)
    log.info(
        "order %s moved %s -> %s by %s %s",
        order.id,
        current.value,
        new.value,
        getattr(actor, "value", actor),
        actor_id if actor_id is not None else "-",
    )
    if new in (OrderStatus.CANCELLED,):
        _release(order)


def load_order(order_id: int) -> Order | None:
    return db.session.scalar(
        sa.select(Order).where(Order.id == order_id).options(selectinload(Order.lines))
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
    once, a cash payment updated, and, after the commit, an order that had been paid refunded
    through the registered refund hook. Raises InvalidTransition (nothing changes)."""
    begin_write()
    db.session.refresh(order)
    was_paid = order.paid_at is not None
    _move(order, OrderStatus.CANCELLED, actor, actor_user.id if actor_user else None, reason)
    _sync_payment(order.payment_id)
    order_id = order.id
    db.session.commit()
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
        db.session.rollback()
        log.exception("refund of cancelled order %s failed", order_id)
        return "failed"


def cancel_by_customer(order: Order, customer: User, reason: str | None = None) -> Cancelled:
    """A customer cancels their own order while the status table lets them (before it ships,
    and never once it is paid); stock goes back once. Raises NotAllowed or InvalidTransition."""
    if order.customer_id != customer.id:
        raise NotAllowed("not your order")
    return cancel_order(order, Actor.CUSTOMER, customer, (reason or "").strip() or None)


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
    Raises NotAllowed, ValidationFailed or InvalidTransition; then nothing changes."""
    if order.seller_id != seller.id:
        raise NotAllowed("not your order")
    if new == OrderStatus.CANCELLED and not (reason or "").strip():
        raise ValidationFailed({"reason": ["reason_required"]})
    if new == OrderStatus.SHIPPED:
        carrier = (carrier or "").strip()[:80]
        tracking_code = (tracking_code or "").strip()[:80]
        errors = {}
        if not carrier:
            errors["carrier"] = ["required"]
        if not tracking_code:
            errors["tracking_code"] = ["required"]
        if errors:
            raise ValidationFailed(errors)
    if new == OrderStatus.CANCELLED:
        return cancel_order(order, Actor.SELLER, actor, (reason or "").strip())
    begin_write()
    db.session.refresh(order)
    _move(order, new, Actor.SELLER, actor.id, (reason or "").strip() or None)
    if new == OrderStatus.SHIPPED:
        order.carrier = carrier
        order.tracking_code = tracking_code
    _sync_payment(order.payment_id)
    db.session.commit()
    return None


def _sync_payment(payment_id: int) -> None:
    """Cash payments follow their orders: succeeded when all are delivered, failed when none is left."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.provider != Provider.CASH:
        return
    statuses = set(
        db.session.scalars(sa.select(Order.status).where(Order.payment_id == payment_id))
    )
    if statuses <= {OrderStatus.CANCELLED}:
        payment.status = PaymentStatus.FAILED
    elif statuses <= {OrderStatus.DELIVERED, OrderStatus.CANCELLED}:
        payment.status = PaymentStatus.SUCCEEDED


# ---- card payment outcomes (called by the payment provider's event handling) -----------------


def mark_payment_paid(payment: Payment) -> str:
    """The provider confirmed the money. Returns "paid", "already" or "needs_refund".

    Orders still awaiting payment become paid. Orders that were cancelled meanwhile (the checkout
    expired and released its stock) take their stock again if it is still there, all or nothing;
    otherwise the payment must be refunded and nothing changes here. A refunded payment is never
    paid again. Runs inside the caller's transaction (the caller commits).
    """
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return "already"
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.payment_id == payment.id)
            .options(selectinload(Order.lines))
        )
    )
    released = [o for o in orders if o.status == OrderStatus.CANCELLED and o.stock_released]
    if released:
        # Only the released orders take stock again: the others still hold theirs.
        wanted = [(line.product_id, line.quantity) for o in released for line in o.lines]
        if any(product_id is None for product_id, _ in wanted):
            return "needs_refund"
        try:
            with db.session.begin_nested():
                _reserve(
                    [(product_id, qty) for product_id, qty in wanted if product_id is not None]
                )
        except OutOfStock:
            return "needs_refund"
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
    for order in orders:
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(order, OrderStatus.PAID, Actor.SYSTEM, None)
    payment.status = PaymentStatus.SUCCEEDED
    return "paid"


def expire_payment(payment: Payment, reason: str = "expired") -> bool:
    """An unpaid card checkout ran out of time or failed: cancel its orders, release stock once."""
    if payment.status != PaymentStatus.PENDING:
        return False
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.payment_id == payment.id)
            .options(selectinload(Order.lines))
        )
    )
    for order in orders:
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(order, OrderStatus.CANCELLED, Actor.SYSTEM, None, reason)
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
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.payment_id == payment.id)
            .options(selectinload(Order.lines))
        )
    )
    for order in orders:
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(
                order,
                OrderStatus.CANCELLED,
                Actor.SYSTEM,
                None,
                "refunded by the payment provider",
            )
        if order.status != OrderStatus.REFUNDED and may_move(
            order.status, OrderStatus.REFUNDED, Actor.SYSTEM
        ):
            was_holding = order.status == OrderStatus.PAID
            _move(
                order, OrderStatus.REFUNDED, Actor.SYSTEM, None, "refunded by the payment provider"
            )
            if was_holding:
                _release(order)
    payment.status = PaymentStatus.REFUNDED
    return True


def expire_unpaid(
    now: datetime | None = None,
    limit: int = 500,
    on_expired: Callable[[list[int]], None] | None = None,
) -> int:
    """``flask orders expire``: cancel card checkouts unpaid past their time; returns how many.

    ``on_expired`` gets the order ids of each expired checkout after its commit (to tell the
    customer).
    """
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            sa.select(Payment.id)
            .where(
                Payment.provider == Provider.STRIPE,
                Payment.status == PaymentStatus.PENDING,
                Payment.expires_at < now,
            )
            .order_by(Payment.id)
            .limit(limit)
        )
    )
    # End the reading transaction: each expiry below must start as a write transaction.
    db.session.commit()
    done = 0
    for payment_id in ids:
        begin_write()
        try:
            payment = db.session.get(
                Payment, payment_id, populate_existing=True, with_for_update=True
            )
            expired = payment is not None and expire_payment(payment)
            order_ids = (
                list(
                    db.session.scalars(
                        sa.select(Order.id).where(Order.payment_id == payment_id).order_by(Order.id)
                    )
                )
                if expired
                else []
            )
            db.session.commit()
        except InvalidTransition:
            # An order moved meanwhile (the payment landed): leave this one to its event.
            db.session.rollback()
            continue
        if expired:
            done += 1
            if on_expired is not None:
                on_expired(order_ids)
    return done


def refund_order(order: Order) -> None:
    """Record that one cancelled, paid order's money went back (the caller commits)."""
    if order.status == OrderStatus.CANCELLED:
        _move(order, OrderStatus.REFUNDED, Actor.SYSTEM, None, "refunded after cancellation")
