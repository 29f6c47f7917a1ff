"""Review notices, in each recipient's language: the seller hears of a new review of a listing,
the customer of the seller's answer to theirs and of staff hiding it (with the reason), by the
channels of ``review.<kind>`` (:mod:`app.notifications.events`).

The shop, seller and staff blueprints call :func:`send_review_event` after the change has
committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.catalog.models import Seller
from app.core.extensions import db
from app.core.links import site_url_for
from app.notifications import events, mail, sms
from app.reviews.models import Review

log = logging.getLogger(__name__)

Titled = Callable[[str], str]  # (the product's title) -> subject
Intro = Callable[[], str]

# kind -> who hears of it, the subject, the opening paragraph.
REVIEW: dict[str, tuple[str, Titled, Intro]] = {
    "new": (
        events.SELLER,
        lambda title: _("A customer reviewed “%(title)s”", title=title),
        lambda: _(
            "A customer who bought this listing wrote a review. Read it in your shop's reviews; "
            "you can answer it once, under the review, for every visitor to see."
        ),
    ),
    "answered": (
        events.CUSTOMER,
        lambda title: _("The seller answered your review of “%(title)s”", title=title),
        lambda: _("The seller's answer is shown under your review on the product's page."),
    ),
    "hidden": (
        events.CUSTOMER,
        lambda title: _("Your review of “%(title)s” was hidden by programme staff", title=title),
        lambda: _(
            "Programme staff hid your review from the product's page for the reason below. "
            "If you think this is a mistake, contact them."
        ),
    ),
}


def send_review_event(kind: str, review_id: int) -> None:
    """Tell the party ``kind`` concerns. Call after commit. Never raises: failures are logged."""
    if kind not in REVIEW:
        log.warning("no notice for review event %r", kind)
        return
    events.dispatch(
        kind, partial(_write, kind, review_id), f"write the {kind!r} notice of review {review_id}"
    )


def _write(kind: str, review_id: int, batch: events.Batch) -> None:
    review = db.session.scalar(
        sa.select(Review)
        .where(Review.id == review_id)
        .options(
            joinedload(Review.product),
            joinedload(Review.seller).joinedload(Seller.user),
            joinedload(Review.customer),
        )
    )
    if review is None:
        return
    audience = REVIEW[kind][0]
    recipient: User = review.seller.user if audience == events.SELLER else review.customer
    batch.add(
        f"review.{kind}",
        audience,
        recipient,
        email=partial(_message, kind, review, recipient),
        text=partial(_text, kind, review, recipient),
        notice=partial(_notice, kind, review, recipient),
    )


def _endpoint(kind: str, review: Review) -> tuple[str, dict[str, Any]]:
    if kind == "new":
        return "sellers.reviews_list", {}
    return "shop.product_reviews", {"product_id": review.product_id}


def _subject(kind: str, review: Review) -> str:
    return " ".join(REVIEW[kind][1](review.product.title).split())


def _message(kind: str, review: Review, recipient: User) -> mail.Outgoing:
    locale = mail.recipient_locale(recipient)
    endpoint, args = _endpoint(kind, review)
    with force_locale(locale), mail.link_context():
        subject = _subject(kind, review)
        context = {
            "kind": f"review_{kind}",
            "recipient": recipient,
            "subject": subject,
            "intro": REVIEW[kind][2](),
            "changes": [],
            "site_link": site_url_for("shop.home"),
            "action_link": site_url_for(endpoint, **args),
            "action_text": _("Read the review"),
            "note": review.hidden_reason if kind == "hidden" else None,
        }
        return mail.compose(recipient, locale, subject, "account_notice", context)


def _text(kind: str, review: Review, recipient: User, number: str) -> sms.Outgoing:
    locale = mail.recipient_locale(recipient)
    endpoint, args = _endpoint(kind, review)
    with force_locale(locale), mail.link_context():
        context = {"subject": _subject(kind, review), "link": site_url_for(endpoint, **args)}
        return sms.compose(recipient.id, number, locale, "notice", context)


def _notice(kind: str, review: Review, recipient: User) -> tuple[str, str]:
    locale = mail.recipient_locale(recipient)
    endpoint, args = _endpoint(kind, review)
    with force_locale(locale), mail.link_context():
        return _subject(kind, review), url_for(endpoint, **args)
