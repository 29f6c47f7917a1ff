"""Order messages to customers and sellers, by e-mail and SMS as each recipient chose
(:mod:`app.notifications.preferences`; both on by default), each in the recipient's own
language. A text goes to the recipient's verified mobile number, else to the number the customer
gave for the delivery (a seller: their shop's phone).

Callers send after their transaction has committed (a refused or rolled-back change sends
nothing): the shop and seller blueprints call :func:`send_order_event`; the payment side sends
:data:`app.payments.signals.order_event`, which :mod:`app.notifications.receivers` passes here.

Who hears of what: the customer of every step; the seller of the steps they did not take
themselves (a new order, a payment, a cancellation, a refund) and of delivery, from which the
order counts as a sale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.catalog.models import Seller
from app.core.extensions import db
from app.core.formatting import persian_digits
from app.core.inputs import is_mobile, normalise_mobile
from app.core.links import site_url_for
from app.notifications import events, mail, sms
from app.orders.models import Order, OrderStatus
from app.payments.models import Payment
from app.web.messages import reason_text

log = logging.getLogger(__name__)

Subject = Callable[[int, str], str]  # (number of orders, their numbers) -> subject
Intro = Callable[[], str]

CUSTOMER: dict[str, tuple[Subject, Intro]] = {
    "placed": (
        lambda n, numbers: ngettext(
            "Your order %(numbers)s is placed",
            "Your orders %(numbers)s are placed",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "Thank you for your order. The seller will confirm it soon; you pay in cash on delivery."
        ),
    ),
    "paid": (
        lambda n, numbers: ngettext(
            "Payment received for order %(numbers)s",
            "Payment received for orders %(numbers)s",
            n,
            numbers=numbers,
        ),
        lambda: _("We received your payment. The seller is now preparing your order."),
    ),
    "confirmed": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s is confirmed", "Orders %(numbers)s are confirmed", n, numbers=numbers
        ),
        lambda: _("The seller confirmed your order and is preparing it."),
    ),
    "shipped": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s is on its way",
            "Orders %(numbers)s are on their way",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "The seller handed your order to the carrier. You can follow it with the tracking code."
        ),
    ),
    "delivered": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was delivered",
            "Orders %(numbers)s were delivered",
            n,
            numbers=numbers,
        ),
        lambda: _("Your order was delivered. Thank you for buying from home businesses."),
    ),
    "completed": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s is complete",
            "Orders %(numbers)s are complete",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "Your order is complete. If something is wrong with it, you can still write to the "
            "seller from the order's page."
        ),
    ),
    "cancelled": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was cancelled",
            "Orders %(numbers)s were cancelled",
            n,
            numbers=numbers,
        ),
        lambda: _("The order was cancelled."),
    ),
    "refunded": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was refunded", "Orders %(numbers)s were refunded", n, numbers=numbers
        ),
        lambda: _("Your payment was refunded. It can take a few days to reach your account."),
    ),
    "expired": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was cancelled: no payment",
            "Orders %(numbers)s were cancelled: no payment",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "We did not receive the payment in time, so the order was cancelled. You were not charged."
        ),
    ),
    "late_payment_refunded": (
        lambda n, numbers: ngettext(
            "Your payment for order %(numbers)s is being refunded",
            "Your payment for orders %(numbers)s is being refunded",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "Your payment arrived after the order had expired and the items were no longer available, "
            "so the whole amount is being refunded."
        ),
    ),
}

SELLER: dict[str, tuple[Subject, Intro]] = {
    "placed": (
        lambda n, numbers: ngettext(
            "New order %(numbers)s: please confirm it",
            "New orders %(numbers)s: please confirm them",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "A customer ordered from your shop, to pay in cash on delivery. Please confirm the order and send it."
        ),
    ),
    "paid": (
        lambda n, numbers: ngettext(
            "New paid order %(numbers)s: please send it",
            "New paid orders %(numbers)s: please send them",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "A customer paid for an order from your shop. Please send it and enter the tracking code."
        ),
    ),
    "delivered": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was delivered",
            "Orders %(numbers)s were delivered",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "The order was delivered. It counts towards your sales once the customer confirms receipt "
            "or the time to confirm runs out."
        ),
    ),
    "completed": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s is complete: the sale is final",
            "Orders %(numbers)s are complete: the sales are final",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "The order is complete and counts towards your sales. Its amount, less the market's "
            "commission, is in your balance for the next payout."
        ),
    ),
    "cancelled": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was cancelled",
            "Orders %(numbers)s were cancelled",
            n,
            numbers=numbers,
        ),
        lambda: _("The order was cancelled. Its items are back in your stock; do not send it."),
    ),
    "refunded": (
        lambda n, numbers: ngettext(
            "Order %(numbers)s was refunded", "Orders %(numbers)s were refunded", n, numbers=numbers
        ),
        lambda: _("The customer's payment for this order was refunded."),
    ),
    "late_payment_refunded": (
        lambda n, numbers: ngettext(
            "A late payment for order %(numbers)s was refunded",
            "A late payment for orders %(numbers)s was refunded",
            n,
            numbers=numbers,
        ),
        lambda: _(
            "The customer paid after the order had expired and its items were sold to someone else, so the payment was refunded. There is nothing to send."
        ),
    ),
}

KINDS = frozenset(CUSTOMER) | frozenset(SELLER)


@dataclass
class OrderMail:
    """One order as an e-mail shows it."""

    order: Order
    link: str
    provider: str
    reason: str


Letter = tuple[str, User, list[Order]]  # audience, recipient, their orders


def send_order_event(kind: str, order_ids: list[int]) -> None:
    """Tell the customers and sellers of ``order_ids`` that ``kind`` happened to their orders,
    by the channels each gets ``order.<kind>`` by (:mod:`app.notifications.events`).

    ``kind`` is one of :data:`KINDS`. Call after commit. Never raises: failures are logged.
    """
    events.dispatch(
        kind,
        partial(_write, kind, list(order_ids)),
        f"prepare the {kind!r} messages of orders {order_ids}",
    )


def _write(kind: str, order_ids: list[int], batch: events.Batch) -> None:
    """Each recipient's messages of ``kind`` (the orders read once for every channel)."""
    letters = _letters(kind, order_ids)
    providers = _providers([o for _, _, their in letters for o in their])
    for audience, recipient, their in letters:
        batch.add(
            f"order.{kind}",
            audience,
            recipient,
            email=partial(_compose, audience, kind, recipient, their, providers),
            text=partial(_compose_text, audience, kind, recipient, their),
            notice=partial(_notice, audience, kind, recipient, their),
            number=number_of(audience, recipient, their[0]),
        )


def _providers(orders: list[Order]) -> dict[int, object]:
    if not orders:
        return {}
    rows = db.session.execute(
        sa.select(Payment.id, Payment.provider).where(
            Payment.id.in_({o.payment_id for o in orders})
        )
    ).all()
    return {payment_id: provider for payment_id, provider in rows}


def _letters(kind: str, order_ids: list[int]) -> list[Letter]:
    """Who gets a message about ``kind``: each customer once, each seller once."""
    if kind not in KINDS:
        log.warning("no e-mail for order event %r", kind)
        return []
    if not order_ids:
        return []
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.id.in_(order_ids))
            .options(
                selectinload(Order.lines),
                selectinload(Order.status_changes),
                joinedload(Order.customer),
                joinedload(Order.seller).joinedload(Seller.user),
            )
            .order_by(Order.id)
        )
    )
    if kind == "placed":
        # A card checkout is news once it is paid ("paid"), not while it waits for the money.
        orders = [o for o in orders if o.status != OrderStatus.AWAITING_PAYMENT]
    out: list[Letter] = []
    if kind in CUSTOMER:
        by_customer: dict[int, list[Order]] = {}
        for order in orders:
            by_customer.setdefault(order.customer_id, []).append(order)
        for their in by_customer.values():
            out.append(("customer", their[0].customer, their))
    if kind in SELLER:
        by_seller: dict[int, list[Order]] = {}
        for order in orders:
            if kind not in ("placed", "paid", "late_payment_refunded") and not _seller_knew(order):
                continue  # a card order that was never paid: the seller never heard of it
            by_seller.setdefault(order.seller_id, []).append(order)
        for their in by_seller.values():
            out.append(("seller", their[0].seller.user, their))
    return out


def _seller_knew(order: Order) -> bool:
    return any(c.to_status in (OrderStatus.PLACED, OrderStatus.PAID) for c in order.status_changes)


def order_numbers(orders: list[Order], locale: str) -> str:
    """The orders' numbers as a list in ``locale``'s digits and separator."""
    separator = "، " if locale == "fa" else ", "
    return separator.join(persian_digits(o.id) if locale == "fa" else str(o.id) for o in orders)


def _compose(
    audience: str, kind: str, recipient: User, orders: list[Order], providers: dict[int, object]
) -> mail.Outgoing:
    locale = mail.recipient_locale(recipient)
    _subject_of, intro_of = (CUSTOMER if audience == "customer" else SELLER)[kind]
    endpoint = _endpoint(audience)
    with force_locale(locale), mail.link_context():
        subject = _subject(audience, kind, orders, locale)
        context = {
            "audience": audience,
            "kind": kind,
            "recipient": recipient,
            "intro": intro_of(),
            "subject": subject,
            "orders": [
                OrderMail(
                    order=o,
                    link=site_url_for(endpoint, order_id=o.id),
                    provider=str(getattr(providers.get(o.payment_id), "value", "")),
                    reason=_latest_reason(o),
                )
                for o in orders
            ],
            "site_link": site_url_for("shop.home"),
        }
        return mail.compose(recipient, locale, subject, "order_event", context)


def number_of(audience: str, recipient: User, order: Order) -> str | None:
    """Where a text about ``order`` goes: the recipient's verified mobile, else the number the
    customer gave for the delivery (a seller: the shop's phone); None when there is none."""
    given = order.mobile if audience == "customer" else order.seller.phone
    return mobile_or_none(recipient.mobile) or mobile_or_none(given)


def mobile_or_none(number: str | None) -> str | None:
    """``number`` as a mobile number a text can go to, or None when it is not one."""
    if number and is_mobile(normalise_mobile(number)):
        return normalise_mobile(number)
    return None


def _subject(audience: str, kind: str, orders: list[Order], locale: str) -> str:
    subject_of, _intro = (CUSTOMER if audience == "customer" else SELLER)[kind]
    return " ".join(subject_of(len(orders), order_numbers(orders, locale)).split())


def _endpoint(audience: str) -> str:
    return "shop.order_detail" if audience == "customer" else "sellers.order_detail"


def _compose_text(
    audience: str, kind: str, recipient: User, orders: list[Order], number: str
) -> sms.Outgoing:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        context = {
            "kind": kind,
            "subject": _subject(audience, kind, orders, locale),
            "orders": orders,
            "link": site_url_for(_endpoint(audience), order_id=orders[0].id),
        }
        return sms.compose(recipient.id, number, locale, "order_event", context)


def _notice(audience: str, kind: str, recipient: User, orders: list[Order]) -> tuple[str, str]:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        if len(orders) == 1:
            link = url_for(_endpoint(audience), order_id=orders[0].id)
        else:
            link = url_for("shop.orders" if audience == "customer" else "sellers.orders_list")
        return _subject(audience, kind, orders, locale), link


def _latest_reason(order: Order) -> str:
    for change in reversed(order.status_changes):
        if change.to_status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and change.reason:
            return reason_text(change.reason)
    return ""
