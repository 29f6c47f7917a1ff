"""Listing on a seller's behalf: the seller's consent, and the "listed with help" marker.

Staff (province staff, or a county officer or support organisation for their own sellers) may
create and change a seller's listings once the seller has consented: the staff member asks, a
one-time code (:mod:`app.accounts.codes`, purpose :func:`consent_purpose`) is texted to the
seller's number (:func:`consent_number`), the seller reads it out and the staff member types it
(:func:`confirm_consent`). The consent is a :class:`~app.catalog.models.ListingConsent` row; it
holds until the seller revokes it (:func:`revoke`) or :data:`CONSENT_DAYS` pass, whichever
comes first; then staff ask again.

The listing services take the helper's id (``helper_id``) and, inside their own transaction,
check the consent (:func:`require_consent`), mark the listing (:func:`mark`) and write the audit
row with the helper as actor and the seller as target (``assisted: true`` in its data). The
seller sees the marker and may take the listing over (:func:`take_over`), which clears it.

Texting the code is the caller's (the staff blueprint, through the SMS channel): the catalogue
sits below the notifications.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.accounts import codes
from app.accounts.models import User
from app.audit import log as audit
from app.catalog.models import ListingConsent, Product, Seller
from app.core.db import transaction
from app.core.errors import NotAllowed, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import is_mobile, normalise_mobile
from app.core.timeutil import utcnow

SMS_CODE = "sms_code"  # the one way consent is given now: a texted code read out to staff
CONSENT_DAYS = 180  # a consent not revoked ends after this many days; staff ask again


class NoConsent(NotAllowed):
    """The seller has not consented (never, revoked or expired): nothing is changed."""


def consent_purpose(seller: Seller, staff: User) -> str:
    """The purpose of the code that records ``seller``'s consent for ``staff``: a code read out
    to one staff member never records a consent for another, nor for another seller."""
    return f"assist:{seller.id}:{staff.id}"


def consent_number(seller: Seller) -> str | None:
    """Where the consent code goes: the seller's verified mobile number, else the shop's phone
    when it is a mobile number; None when the seller has neither."""
    user = seller.user
    if user.mobile and user.mobile_verified_at is not None:
        return user.mobile
    phone = normalise_mobile(seller.phone or "")
    return phone if is_mobile(phone) else None


def _live(seller_id: int, now: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        ListingConsent.seller_id == seller_id,
        ListingConsent.revoked_at.is_(None),
        ListingConsent.granted_at > now - timedelta(days=CONSENT_DAYS),
    ]


def active_consent(seller_id: int) -> ListingConsent | None:
    """The seller's live consent (the newest one), with the staff member who asked for it."""
    return db.session.scalar(
        sa.select(ListingConsent)
        .where(*_live(seller_id, utcnow()))
        .options(joinedload(ListingConsent.staff))
        .order_by(ListingConsent.granted_at.desc(), ListingConsent.id.desc())
        .limit(1)
    )


def require_consent(seller_id: int) -> ListingConsent:
    """The seller's live consent, its row locked (a revocation waits for the change that checked
    it, or the change sees the revocation); :class:`NoConsent` otherwise. Call inside the
    change's transaction."""
    row = db.session.scalar(
        sa.select(ListingConsent)
        .where(*_live(seller_id, utcnow()))
        .order_by(ListingConsent.granted_at.desc(), ListingConsent.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None:
        raise NoConsent(f"seller {seller_id}")
    return row


def ask_consent(seller: Seller, staff: User) -> codes.Issued:
    """A consent code for ``seller``'s number (the caller texts it). ValidationFailed
    (``mobile: no_mobile``) when the seller has no mobile number; codes.SendRefused while the
    number must wait."""
    number = consent_number(seller)
    if number is None:
        raise ValidationFailed({"mobile": ["no_mobile"]})
    return codes.issue(number, consent_purpose(seller, staff))


def confirm_consent(seller: Seller, staff: User, typed_code: str) -> ListingConsent:
    """Record ``seller``'s consent once ``typed_code`` is the code texted for it (used up by
    this), audited with the staff member as actor. ValidationFailed as
    :func:`app.accounts.codes.check` (``code_wrong``, ``code_expired``; tries are limited there)
    or ``mobile: no_mobile``."""
    number = consent_number(seller)
    if number is None:
        raise ValidationFailed({"mobile": ["no_mobile"]})
    code = (typed_code or "")[:20]
    codes.check(number, consent_purpose(seller, staff), code)
    with transaction():
        row = ListingConsent(seller_id=seller.id, staff_id=staff.id, method=SMS_CODE, mobile=number)
        db.session.add(row)
        db.session.flush()
        audit.record(
            staff.id,
            "listing_consent.grant",
            "seller",
            seller.id,
            data={"consent_id": row.id, "method": SMS_CODE, "mobile": number, "assisted": True},
        )
    return row


def revoke(seller: Seller, actor: User) -> int:
    """End every live consent of ``seller`` (the seller's button), audited; returns how many
    ended (0: there was none)."""
    now = utcnow()
    with transaction():
        ended = list(
            db.session.scalars(
                sa.select(ListingConsent).where(*_live(seller.id, now)).with_for_update()
            )
        )
        for row in ended:
            row.revoked_at = now
            row.revoked_by_id = actor.id
        if ended:
            audit.record(
                actor.id,
                "listing_consent.revoke",
                "seller",
                seller.id,
                data={"consent_ids": [row.id for row in ended]},
            )
    return len(ended)


def consents_of(seller_id: int, limit: int = 10) -> list[ListingConsent]:
    """The seller's consents, newest first, with the staff who asked."""
    return list(
        db.session.scalars(
            sa.select(ListingConsent)
            .where(ListingConsent.seller_id == seller_id)
            .options(joinedload(ListingConsent.staff))
            .order_by(ListingConsent.granted_at.desc(), ListingConsent.id.desc())
            .limit(limit)
        )
    )


def is_live(consent: ListingConsent) -> bool:
    return consent.revoked_at is None and consent.granted_at > utcnow() - timedelta(
        days=CONSENT_DAYS
    )


def expires_at(consent: ListingConsent) -> datetime:
    return consent.granted_at + timedelta(days=CONSENT_DAYS)


def mark(product: Product, helper_id: int, action: str, **data: object) -> None:
    """Mark ``product`` as listed with help by ``helper_id`` and audit ``action`` with the
    helper as actor and the seller as target. Inside the change's transaction, after
    :func:`require_consent`."""
    if product.id is None:
        db.session.flush()
    product.assisted_by_id = helper_id
    product.assisted_at = utcnow()
    audit.record(
        helper_id,
        action,
        "seller",
        product.seller_id,
        data={"assisted": True, "product_id": product.id, "title": product.title, **data},
    )


def helped_listings(seller_id: int, limit: int = 20) -> list[Product]:
    """The seller's listings marked as listed with help, last helped first, with the helper."""
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.seller_id == seller_id, Product.assisted_by_id.is_not(None))
            .options(joinedload(Product.assisted_by))
            .order_by(Product.assisted_at.desc(), Product.id.desc())
            .limit(limit)
        )
    )


def take_over(product: Product, seller_user: User) -> None:
    """The seller takes the listing over: the marker is cleared (audited with the seller as
    actor). A listing without the marker is left as it is."""
    product_id = product.id
    with transaction():
        row = db.session.scalar(
            sa.select(Product).where(Product.id == product_id).with_for_update()
        )
        if row is None:
            raise NotFound(f"product {product_id}")
        if row.assisted_by_id is None:
            return
        helper_id = row.assisted_by_id
        row.assisted_by_id = None
        row.assisted_at = None
        audit.record(
            seller_user.id,
            "listing.take_over",
            "product",
            row.id,
            data={"seller_id": row.seller_id, "helper_id": helper_id, "title": row.title},
        )
