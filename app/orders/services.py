"""Checkout and order life: stock reservation, one order per seller, checked status moves.

Stock is taken by one conditional UPDATE per line in product-id order inside the checkout
transaction (never read-check-write); it is given back exactly once, by whoever first wins the
conditional UPDATE of the order's ``stock_released`` flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.catalog.changes import mark_catalog_changed
from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.db import begin_write
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.extensions import db
from app.inputs import POSTAL_CODE, is_mobile, normalise_mobile, normalise_postal_code
from app.orders import cart as carts
from app.orders.errors import CartProblem, OutOfStock, TooManyCashOrders, Unavailable
from app.orders.models import ALLOWED_MOVES, Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, PaymentStatus, Provider
from app.timeutil import utcnow

OPEN_CASH = (OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)


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
    for product_id, quantity in sorted(lines):  # one lock order for every checkout
        taken = db.session.execute(
            sa.update(Product)
            .where(
                Product.id == product_id,
                Product.stock >= quantity,
                Product.status == ProductStatus.PUBLISHED,
            )
            .values(stock=Product.stock - quantity, search_dirty=True)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            title = db.session.scalar(sa.select(Product.title).where(Product.id == product_id))
            raise OutOfStock(product_id, title or "")


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
    for line in order.lines:
        if line.product_id is not None:
            db.session.execute(
                sa.update(Product)
                .where(Product.id == line.product_id)
                .values(stock=Product.stock + line.quantity, search_dirty=True)
                .execution_options(synchronize_session=False)
            )
    mark_catalog_changed(db.session)
    return True


def find_checkout(token: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.checkout_token == token))


class Checkout(NamedTuple):
    """What :func:`place_checkout` made or found: the payment, and whether this call made it."""

    payment: Payment
    created: bool


def place_checkout(
    customer: User,
    address: Address,
    provider: Provider,
    token: str,
    *,
    currency: str,
    expiry_minutes: int,
    max_open_cash_orders: int,
) -> Checkout:
    """Turn the customer's cart into one payment and one order per seller.

    Prices come from the database. Posting the same ``token`` again returns the first checkout
    with ``created`` false, so only the post that made it sends the "placed" messages.
    Raises CartProblem, Unavailable, OutOfStock, TooManyCashOrders or ValidationFailed; then
    nothing is created and no stock is taken.
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
        lines = carts.raw_lines(customer, None)
        if not lines:
            raise CartProblem("empty")
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
            open_cash = (
                db.session.scalar(
                    sa.select(sa.func.count(Order.id))
                    .join(Payment, Payment.id == Order.payment_id)
                    .where(
                        Order.customer_id == customer.id,
                        Payment.provider == Provider.CASH,
                        Order.status.in_(OPEN_CASH),
                    )
                )
                or 0
            )
            sellers = {products[pid].seller_id for pid, _, _ in lines}
            if open_cash + len(sellers) > max_open_cash_orders:
                raise TooManyCashOrders()
        _reserve([(pid, qty) for pid, qty, _ in lines])

        now = utcnow()
        payment = Payment(
            customer_id=customer.id,
            provider=provider,
            status=PaymentStatus.PENDING,
            amount=0,
            currency=currency,
            checkout_token=token,
            expires_at=now + timedelta(minutes=expiry_minutes)
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
        mark_catalog_changed(db.session)
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
    return Checkout(payment, created=True)


# ---- status moves ---------------------------------------------------------------------------


def _move(order: Order, new: OrderStatus, actor_id: int | None, reason: str | None = None) -> None:
    """Move ``order`` to ``new`` if the table allows it and nobody moved it meanwhile."""
    current = order.status
    if new not in ALLOWED_MOVES[current]:
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
    if new in (OrderStatus.CANCELLED,):
        _release(order)


def load_order(order_id: int) -> Order | None:
    return db.session.scalar(
        sa.select(Order).where(Order.id == order_id).options(selectinload(Order.lines))
    )


def cancel_by_customer(order: Order, customer: User, reason: str | None = None) -> None:
    """A customer cancels before shipping; stock goes back once."""
    if order.customer_id != customer.id:
        raise NotAllowed("not your order")
    if order.status not in (
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.PLACED,
        OrderStatus.CONFIRMED,
    ):
        raise InvalidTransition(order.status, OrderStatus.CANCELLED)
    begin_write()
    db.session.refresh(order)
    _move(order, OrderStatus.CANCELLED, customer.id, reason or None)
    _sync_payment(order.payment_id)
    db.session.commit()


def seller_move(
    order: Order,
    seller: Seller,
    actor: User,
    new: OrderStatus,
    *,
    reason: str | None = None,
    carrier: str | None = None,
    tracking_code: str | None = None,
) -> None:
    """The seller confirms, ships (with carrier and tracking), delivers or cancels (with a reason)."""
    if order.seller_id != seller.id:
        raise NotAllowed("not your order")
    if new not in (
        OrderStatus.CONFIRMED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.CANCELLED,
    ):
        raise InvalidTransition(order.status, new)
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
    begin_write()
    db.session.refresh(order)
    if new == OrderStatus.CANCELLED and order.status == OrderStatus.PAID:
        # A paid card order cancelled by the seller is refunded by the payment provider.
        _move(order, OrderStatus.CANCELLED, actor.id, reason)
    else:
        _move(order, new, actor.id, (reason or "").strip() or None)
    if new == OrderStatus.SHIPPED:
        order.carrier = carrier
        order.tracking_code = tracking_code
    _sync_payment(order.payment_id)
    db.session.commit()


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
        mark_catalog_changed(db.session)
    for order in orders:
        if order.status == OrderStatus.AWAITING_PAYMENT:
            _move(order, OrderStatus.PAID, None)
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
            _move(order, OrderStatus.CANCELLED, None, reason)
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
            _move(order, OrderStatus.CANCELLED, None, "refunded by the payment provider")
        if (
            order.status != OrderStatus.REFUNDED
            and OrderStatus.REFUNDED in ALLOWED_MOVES[order.status]
        ):
            was_holding = order.status == OrderStatus.PAID
            _move(order, OrderStatus.REFUNDED, None, "refunded by the payment provider")
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
        _move(order, OrderStatus.REFUNDED, None, "refunded after the seller cancelled")
