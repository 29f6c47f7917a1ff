"""Placing a checkout: one payment and one order per seller from the customer's cart, at most
once.

One transaction runs these steps in turn, each named below: lock the customer (their cart), read
the cart, validate it (who buys, what, at which price, the cash-order cap), reserve the stock,
create the payment, create the orders (``app.orders.placing`` makes the orders and reserves the
stock; this module makes the payment they belong to). The customer's row is locked before the
cart is read, so one cart becomes orders at most once however many tabs post it, and the same
lock makes the cash-order cap exact.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa

from app.accounts.models import User
from app.core.db import transaction
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import placing
from app.orders.errors import TooManyCashOrders
from app.orders.models import CartState, Order, OrderStatus
from app.orders.placing import Address
from app.orders.services import OPEN_CASH
from app.payments.models import Payment, PaymentStatus, Provider

log = logging.getLogger(__name__)

# A card checkout holds its stock at least this long: the provider's payment page needs it.
MIN_CARD_HOLD_MINUTES = 30
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


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


def find_checkout(token: str) -> Payment | None:
    """The checkout (its payment) that the checkout form with ``token`` made, if any."""
    return db.session.scalar(sa.select(Payment).where(Payment.checkout_token == token))


class Checkout(NamedTuple):
    """What :func:`place_checkout` made or found: the payment, and whether this call made it."""

    payment: Payment
    created: bool


class _Found(Exception):
    """Raised inside the checkout's transaction when ``token`` already made a checkout of this
    customer: the transaction rolls back and that checkout is returned."""

    def __init__(self, payment: Payment) -> None:
        super().__init__(payment.id)
        self.payment = payment


class _Wanted(NamedTuple):
    """One checkout as asked for (the arguments of :func:`place_checkout`)."""

    customer: User
    address: Address
    provider: Provider
    token: str
    currency: str
    expiry_minutes: int
    max_open_cash_orders: int
    cart_version: int | None
    shipping: dict[int, placing.ShippingWish]
    coupon: str


def place_checkout(
    customer: User,
    address: Address,
    provider: Provider,
    token: str,
    *,
    currency: str,
    expiry_minutes: int,
    max_open_cash_orders: int,
    cart_version: int | None = None,
    shipping: dict[int, placing.ShippingWish] | None = None,
    coupon: str = "",
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
    be open at once (TooManyCashOrders). ``shipping`` is each seller's chosen method and the
    cost the page showed (:func:`app.orders.placing.choose_shipping`; the cheapest method for
    a seller not named); the cost charged comes from the database for the address province
    and is in the payment's amount (SellerAway, ShippingChanged). ``coupon`` is the shop coupon
    code the customer typed (``app.orders.coupons``; ValidationFailed({"coupon": ...}) for one
    that cannot be used or is used up meanwhile). A card checkout holds its stock ``expiry_minutes``,
    never under :data:`MIN_CARD_HOLD_MINUTES`.
    Raises those, CartProblem, Unavailable, OutOfStock or ValidationFailed; then nothing is
    created, no stock is taken and the session is clean.
    """
    wanted = _Wanted(
        customer,
        address.cleaned(),
        provider,
        token,
        currency,
        expiry_minutes,
        max_open_cash_orders,
        cart_version,
        dict(shipping or {}),
        coupon[:64],
    )
    if not _TOKEN.fullmatch(token or ""):
        raise ValidationFailed({"token": ["invalid"]})
    try:
        with transaction():
            payment, placed = _place(wanted)
    except _Found as found:
        return Checkout(found.payment, created=False)
    except sa.exc.IntegrityError:
        # A concurrent post of the same token won the unique constraint: return its checkout.
        existing = find_checkout(token)
        if existing is None or existing.customer_id != customer.id:
            raise
        return Checkout(existing, created=False)
    log.info(
        "checkout placed: payment %s, orders %s, provider %s, amount %s %s",
        placed.payment_id,
        placed.order_ids,
        provider.value,
        placed.amount,
        currency,
    )
    return Checkout(payment, created=True)


class _Placed(NamedTuple):
    """What the log line says of a new checkout, read before the commit expires it."""

    payment_id: int
    order_ids: list[int]
    amount: int


def _place(wanted: _Wanted) -> tuple[Payment, _Placed]:
    """The checkout's steps, inside its transaction: the new payment, and what to log of it."""
    state = _lock_customer(wanted.customer, wanted.token)
    lines = placing.read_cart(wanted.customer, state, wanted.cart_version)
    products = placing.check_cart(wanted.customer, lines)
    options = placing.choose_shipping(lines, products, wanted.address.province, wanted.shipping)
    coupon = placing.find_coupon(wanted.coupon, products)
    _check_cash_cap(wanted)
    placing.reserve(lines)
    payment = _create_payment(wanted)
    orders = placing.create_orders(
        payment.id,
        wanted.customer,
        lines,
        products,
        wanted.address,
        first=(OrderStatus.AWAITING_PAYMENT if wanted.provider.online else OrderStatus.PLACED),
        currency=wanted.currency,
        shipping_options=options,
    )
    if coupon is not None:
        placing.apply_coupon(coupon, orders, wanted.customer)
    payment.amount = sum(o.total_amount for o in orders)
    placing.close_cart(wanted.customer, state, payment.id)
    return payment, _Placed(payment.id, sorted(o.id for o in orders), payment.amount)


def _existing(customer: User, token: str) -> None:
    """Raise _Found when ``token`` already made a checkout of this customer (NotAllowed when of
    another customer)."""
    existing = find_checkout(token)
    if existing is not None:
        if existing.customer_id != customer.id:
            raise NotAllowed("token of another customer")
        raise _Found(existing)


def _lock_customer(customer: User, token: str) -> CartState:
    """Hold the customer's cart for the transaction; its state. A checkout the same
    form made, before or while we waited for the lock, is returned instead (_Found)."""
    _existing(customer, token)
    state = placing.lock_cart(customer)
    _existing(customer, token)  # a post of the same form that held the lock before us
    return state


def _check_cash_cap(wanted: _Wanted) -> None:
    """At most ``max_open_cash_orders`` open cash checkouts (TooManyCashOrders)."""
    if wanted.provider != Provider.CASH:
        return
    # Counted under the cart lock: concurrent checkouts of one customer cannot both pass.
    open_cash = open_cash_checkouts(wanted.customer)
    if open_cash + 1 > wanted.max_open_cash_orders:
        raise TooManyCashOrders(open_cash, wanted.max_open_cash_orders)


def _create_payment(wanted: _Wanted) -> Payment:
    """The checkout's payment, pending (its amount is set once the orders are made); a card
    payment expires after :func:`card_hold_minutes`."""
    payment = Payment(
        customer_id=wanted.customer.id,
        provider=wanted.provider,
        status=PaymentStatus.PENDING,
        amount=0,
        currency=wanted.currency,
        checkout_token=wanted.token,
        expires_at=utcnow() + timedelta(minutes=card_hold_minutes(wanted.expiry_minutes))
        if wanted.provider.online
        else None,
    )
    db.session.add(payment)
    db.session.flush()
    return payment
