"""Listing moderation e-mails to sellers, in the seller's own language: staff hid a listing (with
their reason) or released it after checking the seller's changes (with their note).

The staff moderation routes call :func:`send_listing_event` after the change has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.catalog.models import Product, Seller
from app.core.extensions import db
from app.core.links import site_url_for
from app.notifications import mail

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
    """E-mail the seller of ``product_id`` that staff hid (``hidden``) or released
    (``released_published`` / ``released_draft``) it, with staff's ``reason`` or note.

    Call after commit. Never raises: failures are logged.
    """
    if kind not in LISTING:
        log.warning("no e-mail for listing event %r", kind)
        return
    mail.write_and_send(
        kind,
        lambda: _listing_message(kind, product_id, reason),
        f"write the {kind!r} e-mail of listing {product_id}",
    )


def _listing_message(kind: str, product_id: int, reason: str | None) -> list[mail.Outgoing]:
    product = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.seller).joinedload(Seller.user))
    )
    if product is None:
        return []
    recipient = product.seller.user
    if mail.address_of(recipient) is None:
        return []
    locale = mail.recipient_locale(recipient)
    subject_of, intro_of = LISTING[kind]
    with force_locale(locale), mail.link_context():
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
        return [mail.compose(recipient, locale, subject, "listing_event", context)]
