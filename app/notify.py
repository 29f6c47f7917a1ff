"""Order e-mails to customers and sellers, and listing moderation e-mails to sellers, each in the
recipient's own language.

Callers send after their transaction has committed (a refused or rolled-back change sends
nothing). Mail is a side effect the order must not depend on: a failure is logged, never raised.
In development and tests the file backend writes each message under ``MAIL_DIR``; ``/dev/mail``
shows them when the app runs in debug mode.

Who hears of what: the customer of every step; the seller of the steps they did not take
themselves (a new order, a payment, a cancellation, a refund) and of delivery, from which the
order counts as a sale.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    has_request_context,
    render_template,
    request,
)
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_mailman import EmailMultiAlternatives
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.catalog.models import Product, Seller
from app.core.db import end_read, write_intent
from app.core.extensions import db, mail
from app.core.formatting import persian_digits
from app.core.links import site_url, site_url_for
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
        lambda: _("The order was delivered and now counts towards your sales."),
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
    """E-mail the customers and sellers of ``order_ids`` that ``kind`` happened to their orders.

    ``kind`` is one of :data:`KINDS`. Call after commit. Never raises: failures are logged.
    """
    messages: list[tuple[int, EmailMultiAlternatives]] = []
    try:
        with write_intent(False):  # reads only: no write lock while the mail goes out
            letters = _letters(kind, list(order_ids))
            providers = _providers([o for _, _, their in letters for o in their])
            for audience, recipient, their in letters:
                # One recipient's failure is not another's.
                try:
                    messages.append(
                        (recipient.id, _compose(audience, kind, recipient, their, providers))
                    )
                except Exception:
                    log.exception("could not write the %r e-mail to user %s", kind, recipient.id)
    except Exception:
        log.exception("could not prepare the %r e-mails of orders %s", kind, order_ids)
        return
    _send(messages, kind)


def _send(messages: list[tuple[int, EmailMultiAlternatives]], kind: str) -> None:
    """Hand written messages to the mail backend, having ended the session's reading
    transaction first (a slow mail server must not keep the database's writers waiting)."""
    end_read()
    for recipient_id, message in messages:
        try:
            message.send()
        except Exception:
            log.exception("could not send the %r e-mail to user %s", kind, recipient_id)


def _providers(orders: list[Order]) -> dict[int, object]:
    if not orders:
        return {}
    return dict(
        db.session.execute(
            sa.select(Payment.id, Payment.provider).where(
                Payment.id.in_({o.payment_id for o in orders})
            )
        ).all()
    )


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


def recipient_locale(user: User) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def order_numbers(orders: list[Order], locale: str) -> str:
    separator = "، " if locale == "fa" else ", "
    return separator.join(persian_digits(o.id) if locale == "fa" else str(o.id) for o in orders)


def _compose(
    audience: str, kind: str, recipient: User, orders: list[Order], providers: dict[int, object]
) -> EmailMultiAlternatives:
    locale = recipient_locale(recipient)
    subject_of, intro_of = (CUSTOMER if audience == "customer" else SELLER)[kind]
    endpoint = "shop.order_detail" if audience == "customer" else "sellers.order_detail"
    with force_locale(locale), _link_context():
        subject = " ".join(subject_of(len(orders), order_numbers(orders, locale)).split())
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
        html = render_template("emails/order_event.html", **context)
        text = render_template("emails/order_event_text.html", **context)
    return _message(recipient.email, locale, subject, text, html)


def _message(to: str, locale: str, subject: str, text: str, html: str) -> EmailMultiAlternatives:
    """One e-mail in ``locale``: plain text with an HTML alternative, from the market."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=current_app.config["MAIL_FROM"],
        to=[to],
        headers={"Content-Language": locale},
        connection=mail.get_connection(),
    )
    message.attach_alternative(html, "text/html")
    return message


def _latest_reason(order: Order) -> str:
    for change in reversed(order.status_changes):
        if change.to_status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and change.reason:
            return reason_text(change.reason)
    return ""


def _link_context():  # type: ignore[no-untyped-def]
    """Templates render in a request: the current one, or one on the site address outside
    requests (CLI, jobs). Links in messages never come from it: they are built by
    :func:`app.links.site_url_for` from ``SITE_URL`` alone (a request's host is the client's)."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=site_url() + "/")


# ---- listing moderation -----------------------------------------------------------------------

Titled = Callable[[str], str]  # (listing title) -> subject

LISTING: dict[str, tuple[Titled, Intro]] = {
    "hidden": (
        lambda title: _("Your listing “%(title)s” was hidden by programme staff", title=title),
        lambda: _(
            "Programme staff took this listing off the shop for the reason below. Please fix it "
            "and save it as a draft: that sends it back to staff, who check it and release it."
        ),
    ),
    "released_published": (
        lambda title: _("Your listing “%(title)s” is back in the shop", title=title),
        lambda: _(
            "Programme staff checked your changes and released the listing. It is published again."
        ),
    ),
    "released_draft": (
        lambda title: _("Your listing “%(title)s” was released", title=title),
        lambda: _(
            "Programme staff checked your changes and released the listing. It is a draft now: "
            "publish it when it is ready."
        ),
    ),
}


def send_listing_event(kind: str, product_id: int, reason: str | None = None) -> None:
    """E-mail the seller of ``product_id`` that staff hid (``hidden``) or released
    (``released_published`` / ``released_draft``) it, with staff's ``reason`` or note.

    Call after commit. Never raises: failures are logged.
    """
    if kind not in LISTING:
        log.warning("no e-mail for listing event %r", kind)
        return
    try:
        with write_intent(False):
            message = _listing_message(kind, product_id, reason)
    except Exception:
        log.exception("could not write the %r e-mail of listing %s", kind, product_id)
        return
    if message is not None:
        _send([message], kind)


def _listing_message(
    kind: str, product_id: int, reason: str | None
) -> tuple[int, EmailMultiAlternatives] | None:
    product = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.seller).joinedload(Seller.user))
    )
    if product is None:
        return None
    recipient = product.seller.user
    locale = recipient_locale(recipient)
    subject_of, intro_of = LISTING[kind]
    with force_locale(locale), _link_context():
        subject = " ".join(subject_of(product.title).split())
        context = {
            "kind": kind,
            "recipient": recipient,
            "product": product,
            "subject": subject,
            "intro": intro_of(),
            "reason": reason or "",
            "link": site_url_for("sellers.edit_listing", product_id=product.id),
            "site_link": site_url_for("shop.home"),
        }
        html = render_template("emails/listing_event.html", **context)
        text = render_template("emails/listing_event_text.html", **context)
    return recipient.id, _message(recipient.email, locale, subject, text, html)


# ---- the file backend's outbox (development) --------------------------------------------------

_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
_FILE_NAME = re.compile(r"^[\w.-]+\.log$")


@dataclass
class SentMail:
    name: str
    index: int
    written_at: datetime
    subject: str
    to: str
    language: str
    text: str
    html: str


def sent_mail(directory: str | os.PathLike[str] | None = None) -> list[SentMail]:
    """The messages the file backend wrote, newest first."""
    root = Path(directory or current_app.config["MAIL_FILE_PATH"])
    if not root.is_dir():
        return []
    files = [p for p in root.iterdir() if p.is_file() and _FILE_NAME.match(p.name)]
    files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    out: list[SentMail] = []
    for path in files:
        out.extend(reversed(list(_read(path))))
    return out


def _read(path: Path) -> Iterator[SentMail]:
    written_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    chunks = [c for c in path.read_bytes().split(_SEPARATOR) if c.strip()]
    for index, chunk in enumerate(chunks):
        parsed = email.message_from_bytes(chunk, policy=email.policy.default)
        assert isinstance(parsed, ParsedMessage)
        yield SentMail(
            name=path.name,
            index=index,
            written_at=written_at,
            subject=str(parsed.get("Subject", "")),
            to=str(parsed.get("To", "")),
            language=str(parsed.get("Content-Language", "")),
            text=_part(parsed, "plain"),
            html=_part(parsed, "html"),
        )


def _part(parsed: ParsedMessage, subtype: str) -> str:
    body = parsed.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""


def dev_outbox() -> str:
    """``/dev/mail`` (debug mode only): every message written, newest first."""
    return render_template("emails/outbox.html", messages=sent_mail(), shown=None)


def dev_outbox_message(name: str, part: str = "text") -> Response | str:
    """One written message: its text on the outbox page, or its HTML part as it is."""
    try:
        index = int(request.args.get("i", "0"))
    except ValueError:
        abort(404)
    found = next((m for m in sent_mail() if m.name == name and m.index == index), None)
    if found is None or part not in ("text", "html"):
        abort(404)
    if part == "html":
        response = Response(found.html, mimetype="text/html")
        # Our own message, shown as a mail client would: its inline styles, nothing active.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
        return response
    return render_template("emails/outbox.html", messages=sent_mail(), shown=found)


# ---- account security notices -----------------------------------------------------------------


def send_account_notice(
    kind: str,
    user_id: int,
    *,
    until: datetime | None = None,
    changes: list[tuple[str, object, object]] | None = None,
) -> None:
    """E-mail the owner of ``user_id`` about their account, in their language:

    * ``login_locked``: repeated wrong passwords locked logins to the account until ``until``;
    * ``password_changed``: the password was changed;
    * ``seller_profile_changed``: ``changes`` (field name, old value, new value) were saved.

    Call after commit. Never raises: failures are logged.
    """
    try:
        with write_intent(False):
            message = _account_message(kind, user_id, until, changes)
    except Exception:
        log.exception("could not write the %r notice to user %s", kind, user_id)
        return
    if message is not None:
        _send([message], kind)


def _account_message(
    kind: str,
    user_id: int,
    until: datetime | None,
    changes: list[tuple[str, object, object]] | None,
) -> tuple[int, EmailMultiAlternatives] | None:
    recipient = db.session.get(User, user_id)
    if recipient is None:
        return None
    locale = recipient_locale(recipient)
    with force_locale(locale), _link_context():
        from app.core.formatting import format_date
        from app.core.links import site_url_for

        subjects = {
            "login_locked": _("Logins to your Bazarche account are paused"),
            "password_changed": _("Your Bazarche password was changed"),
            "seller_profile_changed": _("Your shop's details were changed"),
        }
        intros = {
            "login_locked": _(
                "Someone typed a wrong password for your account several times, so we paused "
                "logins to it until %(time)s. If it was you, wait and try again. If not, your "
                "password kept the account safe; choose a long one that you use nowhere else.",
                time=format_date(until, locale, with_time=True) if until else "",
            ),
            "password_changed": _(
                "The password of your account was changed and your other logins were ended. "
                "If you did not do this, contact programme staff at once."
            ),
            "seller_profile_changed": _(
                "These details of your shop were changed. If you did not do this, change "
                "your password and contact programme staff at once."
            ),
        }
        if kind not in subjects:
            log.warning("no e-mail for account notice %r", kind)
            return None
        context = {
            "kind": kind,
            "recipient": recipient,
            "subject": subjects[kind],
            "intro": intros[kind],
            "changes": [
                (
                    _change_label(field),
                    _change_value(field, old, locale),
                    _change_value(field, new, locale),
                )
                for field, old, new in changes or []
            ],
            "site_link": site_url_for("shop.home"),
        }
        html = render_template("emails/account_notice.html", **context)
        text = render_template("emails/account_notice_text.html", **context)
    return recipient.id, _message(recipient.email, locale, subjects[kind], text, html)


def send_login_locked(user_id: int, until: datetime) -> None:
    """Tell the owner that logins to their account are locked until ``until`` (once per lock)."""
    send_account_notice("login_locked", user_id, until=until)


def _change_label(field: str) -> str:
    labels = {
        "county_id": _("County"),
        "phone": _("Mobile number"),
        "registration_code": _("Programme registration code"),
        "permit_number": _("Permit number"),
    }
    return labels.get(field, field)


def _change_value(field: str, value: object, locale: str) -> str:
    if value is None or value == "":
        return ""
    if field == "county_id":
        from app.reference.models import County

        county = db.session.get(County, value)
        return county.name(locale) if county is not None else str(value)
    if field == "phone" and locale == "fa":
        return persian_digits(value)
    return str(value)
