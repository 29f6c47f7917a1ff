"""Notices about problems customers report on orders, in each recipient's own language: the
seller hears of a new report, of a request for the market's decision and of the decision; the
customer hears of the seller's answer and of the decision.

:func:`send_problem_event` is the receiver's work (:mod:`app.notifications.receivers`), called
after the change committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.catalog.models import Seller
from app.core.extensions import db
from app.core.formatting import format_digits
from app.core.links import site_url_for
from app.disputes.models import OrderProblem
from app.notifications import events, mail, sms
from app.notifications.orders import number_of
from app.orders.models import Order

log = logging.getLogger(__name__)

Subject = Callable[[int, str], str]  # (order id, the reader's locale) -> subject
Intro = Callable[[], str]

# kind -> who hears of it ("seller", "customer") and what they read.
PROBLEM: dict[str, tuple[tuple[str, ...], Subject, Intro]] = {
    "reported": (
        ("seller",),
        lambda order_id, locale: _(
            "A customer reported a problem with order %(number)s",
            number=format_digits(order_id, locale),
        ),
        lambda: _(
            "Please read the report and answer the customer from the order's page: say what you "
            "will do. If you cannot agree, the market decides."
        ),
    ),
    "answered": (
        ("customer",),
        lambda order_id, locale: _(
            "The seller answered your report on order %(number)s",
            number=format_digits(order_id, locale),
        ),
        lambda: _(
            "Read the seller's answer on the order's page. If it does not solve the problem, you "
            "can ask the market to decide."
        ),
    ),
    "escalated": (
        ("seller", "customer"),
        lambda order_id, locale: _(
            "The market will decide the problem with order %(number)s",
            number=format_digits(order_id, locale),
        ),
        lambda: _("Programme staff will read the report and the answer, and decide."),
    ),
    "decided": (
        ("seller", "customer"),
        lambda order_id, locale: _(
            "The problem with order %(number)s is decided", number=format_digits(order_id, locale)
        ),
        lambda: _("The market decided the problem; the decision is on the order's page."),
    ),
}


def send_problem_event(kind: str, problem_id: int) -> None:
    """Tell the people ``kind`` concerns, by the channels of ``problem.<kind>``. Never raises:
    failures are logged."""
    if kind not in PROBLEM:
        return  # a withdrawn report needs no notice
    events.dispatch(
        kind,
        partial(_write, kind, problem_id),
        f"write the {kind!r} notices of problem {problem_id}",
    )


def _write(kind: str, problem_id: int, batch: events.Batch) -> None:
    problem = db.session.scalar(
        sa.select(OrderProblem)
        .where(OrderProblem.id == problem_id)
        .options(
            joinedload(OrderProblem.order).joinedload(Order.seller).joinedload(Seller.user),
            joinedload(OrderProblem.order).joinedload(Order.customer),
        )
    )
    if problem is None:
        return
    order = problem.order
    audiences, _subject_of, _intro_of = PROBLEM[kind]
    for audience in audiences:
        recipient: User = order.seller.user if audience == "seller" else order.customer
        batch.add(
            f"problem.{kind}",
            audience,
            recipient,
            email=partial(_message, kind, problem, audience, recipient),
            text=partial(_text, kind, order, audience, recipient),
            notice=partial(_notice, kind, order, audience, recipient),
            number=number_of(audience, recipient, order),
        )


def _endpoint(audience: str) -> str:
    return "sellers.order_detail" if audience == "seller" else "shop.order_detail"


def _subject(kind: str, order: Order, locale: str) -> str:
    _audiences, subject_of, _intro = PROBLEM[kind]
    return " ".join(subject_of(order.id, locale).split())


def _message(kind: str, problem: OrderProblem, audience: str, recipient: User) -> mail.Outgoing:
    order = problem.order
    _audiences, _subject_of, intro_of = PROBLEM[kind]
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        subject = _subject(kind, order, locale)
        context = {
            "recipient": recipient,
            "subject": subject,
            "intro": intro_of(),
            "problem": problem,
            "link": site_url_for(_endpoint(audience), order_id=order.id),
            "site_link": site_url_for("shop.home"),
            "audience": audience,
        }
        return mail.compose(recipient, locale, subject, "problem_event", context)


def _text(kind: str, order: Order, audience: str, recipient: User, number: str) -> sms.Outgoing:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        context = {
            "subject": _subject(kind, order, locale),
            "link": site_url_for(_endpoint(audience), order_id=order.id),
        }
        return sms.compose(recipient.id, number, locale, "notice", context)


def _notice(kind: str, order: Order, audience: str, recipient: User) -> tuple[str, str]:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        return _subject(kind, order, locale), url_for(_endpoint(audience), order_id=order.id)
