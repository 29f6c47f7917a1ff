"""Listing moderation notices to sellers, in the seller's own language: staff hid a listing (with
their reason) or released it after checking the seller's changes (with their note).

The staff moderation routes call :func:`send_listing_event` after the change has committed.
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

from app.catalog.models import Product, Seller
from app.core.extensions import db
from app.core.links import site_url_for
from app.notifications import events, mail, sms

log = logging.getLogger(__name__)

Titled = Callable[[str], str]  # (listing title) -> subject
Intro = Callable[[], str]

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
    """Tell the seller of ``product_id`` that staff hid (``hidden``) or released
    (``released_published`` / ``released_draft``) it, with staff's ``reason`` or note, by the
    channels of ``listing.<kind>``.

    Call after commit. Never raises: failures are logged.
    """
    if kind not in LISTING:
        log.warning("no notice for listing event %r", kind)
        return
    events.dispatch(
        kind,
        partial(_write, kind, product_id, reason),
        f"write the {kind!r} notice of listing {product_id}",
    )


def _write(kind: str, product_id: int, reason: str | None, batch: events.Batch) -> None:
    product = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.seller).joinedload(Seller.user))
    )
    if product is None:
        return
    recipient = product.seller.user
    batch.add(
        f"listing.{kind}",
        events.SELLER,
        recipient,
        email=partial(_listing_message, kind, product, reason),
        text=partial(_listing_text, kind, product),
        notice=partial(_listing_notice, kind, product),
    )


def _subject(kind: str, product: Product) -> str:
    subject_of, _intro = LISTING[kind]
    return " ".join(subject_of(product.title).split())


def _listing_message(kind: str, product: Product, reason: str | None) -> mail.Outgoing:
    recipient = product.seller.user
    locale = mail.recipient_locale(recipient)
    _subject_of, intro_of = LISTING[kind]
    with force_locale(locale), mail.link_context():
        subject = _subject(kind, product)
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
        return mail.compose(recipient, locale, subject, "listing_event", context)


def _listing_text(kind: str, product: Product, number: str) -> sms.Outgoing:
    recipient = product.seller.user
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        context = {
            "subject": _subject(kind, product),
            "link": site_url_for("sellers.edit_listing", product_id=product.id),
        }
        return sms.compose(recipient.id, number, locale, "notice", context)


def _listing_notice(kind: str, product: Product) -> tuple[str, str]:
    locale = mail.recipient_locale(product.seller.user)
    with force_locale(locale), mail.link_context():
        return _subject(kind, product), url_for("sellers.edit_listing", product_id=product.id)
