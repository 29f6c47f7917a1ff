"""Staff moderation of listings: the queue, hiding a listing with a reason, releasing a
resubmission.

Staff hide a listing with a reason (status hidden_by_staff, the reason kept in
``hidden_reason``); the seller fixes it and saves it as a draft, which keeps the reason: that
draft is a resubmission, waiting in the staff queue, and the seller cannot publish it. Staff
then either release it or hide it again with a new reason.

Release clears the reason and puts the listing back where the seller had it when staff first
hid it: a listing that was on sale is published again (if it still has a photo, a price and a
category; otherwise it stays a draft the seller can publish), a draft stays a draft. Where it
was is kept in the audit row of the hide (``data["restore"]``), carried over when a resubmission
is hidden again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.audit import log as audit
from app.catalog.listings import publish_problems
from app.catalog.models import Category, Product, ProductStatus, Seller
from app.catalog.queries import category_and_descendant_ids
from app.catalog.rules import fail, locked_product
from app.catalog.scope import PROVINCE, Scope
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotAllowed
from app.core.extensions import db
from app.core.pagination import contains_pattern
from app.core.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_REASON = 2000
REVIEW, HIDDEN, RESUBMITTED = "review", "hidden", "resubmitted"
LISTING_TABS = (REVIEW, "published", HIDDEN, "all")


class ListingChanged(InvalidTransition):
    """The listing is no longer as the staff member saw it (a stale form); nothing was done."""


def moderation_state(product: Product) -> str:
    """``hidden``, ``resubmitted`` (fixed by the seller, waiting for release), ``published`` or
    ``draft``."""
    if product.status == ProductStatus.HIDDEN_BY_STAFF:
        return HIDDEN
    if product.hidden_reason:
        return RESUBMITTED
    return ProductStatus(product.status).value


def awaiting_review() -> sa.ColumnElement[bool]:
    """SQL for "resubmitted": the seller saved a hidden listing again; staff have not released it."""
    return sa.and_(
        Product.status != ProductStatus.HIDDEN_BY_STAFF,
        Product.hidden_reason.is_not(None),
        Product.hidden_reason != "",
    )


@dataclass
class ListingFilters:
    tab: str = REVIEW
    text: str = ""
    county_id: int | None = None
    sector_id: int | None = None
    category_id: int | None = None
    # Whose listings the staff member may see (a county officer: their county's sellers').
    scope: Scope = PROVINCE


def _in_tab(stmt: sa.Select[tuple[Product]], tab: str) -> sa.Select[tuple[Product]]:
    if tab == REVIEW:
        # Oldest resubmission first: a queue.
        return stmt.where(awaiting_review()).order_by(Product.updated_at.asc(), Product.id)
    if tab == "published":
        return stmt.where(Product.status == ProductStatus.PUBLISHED).order_by(
            Product.published_at.desc(), Product.id.desc()
        )
    if tab == HIDDEN:
        return stmt.where(Product.status == ProductStatus.HIDDEN_BY_STAFF).order_by(
            Product.updated_at.desc(), Product.id.desc()
        )
    return stmt.order_by(Product.updated_at.desc(), Product.id.desc())


def moderation_listings(filters: ListingFilters) -> sa.Select[tuple[Product]]:
    """The staff listing queue: one tab, searched by title or seller, filtered by place, sector
    and category (with its sub-categories), in the tab's order."""
    stmt = _in_tab(
        sa.select(Product)
        .join(Seller, Seller.id == Product.seller_id)
        .where(*filters.scope.sellers()),
        filters.tab,
    )
    text = filters.text.strip()
    if text:
        pattern = contains_pattern(text)
        stmt = stmt.where(
            sa.or_(
                Product.title.ilike(pattern, escape="\\"),
                Seller.display_name.ilike(pattern, escape="\\"),
                Seller.registration_code.ilike(pattern, escape="\\"),
            )
        )
    if filters.county_id is not None:
        stmt = stmt.where(Seller.county_id == filters.county_id)
    if filters.sector_id is not None:
        stmt = stmt.where(Seller.sector_id == filters.sector_id)
    if filters.category_id is not None:
        category = db.session.get(Category, filters.category_id)
        ids = category_and_descendant_ids(category) if category else []
        stmt = stmt.where(Product.category_id.in_(ids))
    return stmt


def moderation_counts(scope: Scope = PROVINCE) -> dict[str, int]:
    """How many listings (of ``scope``'s sellers) each tab of the queue holds (before search
    and filters)."""
    in_review = sa.case((awaiting_review(), 1), else_=0)
    stmt = sa.select(Product.status, in_review, sa.func.count(Product.id))
    if not scope.is_province:
        stmt = stmt.join(Seller, Seller.id == Product.seller_id).where(*scope.sellers())
    rows = db.session.execute(stmt.group_by(Product.status, in_review)).all()
    counts = dict.fromkeys(LISTING_TABS, 0)
    for status, review, n in rows:
        counts["all"] += n
        counts[REVIEW] += n if review else 0
        if status == ProductStatus.PUBLISHED:
            counts["published"] += n
        elif status == ProductStatus.HIDDEN_BY_STAFF:
            counts[HIDDEN] += n
    return counts


def _clean_reason(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise fail("reason", "reason_required")
    if len(text) > MAX_REASON:
        raise fail("reason", "too_long")
    return text or None


def _restore_status(product: Product) -> str:
    """Where a released listing goes back to: as the seller had it before staff first hid it."""
    data = audit.latest_data("product", product.id, "listing.hide") or {}
    restore = data.get("restore")
    if restore in (ProductStatus.PUBLISHED.value, ProductStatus.DRAFT.value):
        return restore
    # Hidden without an audit row (older data): on sale before if it was ever published.
    return ProductStatus.PUBLISHED.value if product.published_at else ProductStatus.DRAFT.value


def release_outcome(product: Product) -> ProductStatus:
    """The status releasing a resubmission gives it now (also what the staff page announces)."""
    if product.status == ProductStatus.PUBLISHED:
        return ProductStatus.PUBLISHED
    if _restore_status(product) == ProductStatus.PUBLISHED.value and not publish_problems(product):
        return ProductStatus.PUBLISHED
    return ProductStatus.DRAFT


def _check_staff(staff: User) -> None:
    if staff.role != Role.STAFF:
        raise NotAllowed("only staff moderate listings")


def _record(
    staff_id: int,
    action: str,
    product: Product,
    reason: str | None,
    was: str,
    now: str,
    **details: str | None,
) -> None:
    """The audit row of a staff move of ``product`` from state ``was`` to ``now``."""
    data: dict[str, object] = {"from": was, "to": now, **details}
    data.update(seller_id=product.seller_id, title=product.title)
    audit.record(staff_id, action, "product", product.id, reason=reason, data=data)


def hide_product(
    product: Product, staff: User, reason: str | None, *, expected: str | None = None
) -> Product:
    """Take a listing off the shop with a reason the seller sees.

    Any listing that is not already hidden may be hidden: a published one, a draft, or a
    resubmission staff find still wrong (with a new reason). ``expected`` is the
    :func:`moderation_state` the staff member saw; if the listing has moved since, nothing is done
    (``ListingChanged``). Search and cached pages follow through the catalogue change tracking.
    """
    _check_staff(staff)
    reason = _clean_reason(reason, required=True)
    product_id, staff_id = product.id, staff.id
    with transaction():
        product = locked_product(product_id)
        state = moderation_state(product)
        if state == HIDDEN:
            raise InvalidTransition(state, HIDDEN)
        if expected is not None and expected != state:
            raise ListingChanged(state, HIDDEN)
        # A published listing or a draft goes back to where the seller had it; hiding a
        # resubmission again keeps what the first hide recorded.
        restore = _restore_status(product) if state == RESUBMITTED else state
        product.status = ProductStatus.HIDDEN_BY_STAFF
        product.hidden_reason = reason
        _record(staff_id, "listing.hide", product, reason, state, HIDDEN, restore=restore)
    log.info("listing %s hidden (was %s) by staff %s", product_id, state, staff_id)
    return product


def release_product(
    product: Product,
    staff: User,
    note: str | None = None,
    *,
    seen_at: datetime | None = None,
) -> ProductStatus:
    """Clear a resubmitted listing after staff checked the seller's fix; returns its new status.

    Only a resubmission can be released (a hidden listing the seller has not touched cannot).
    ``seen_at`` is the listing's ``updated_at`` as the staff member saw it: if the seller changed
    the listing since, nothing is done (``ListingChanged``), so staff never release what they
    have not seen. ``note`` (optional) is told to the seller.
    """
    _check_staff(staff)
    note = _clean_reason(note, required=False)
    product_id, staff_id = product.id, staff.id
    with transaction():
        product = locked_product(product_id)
        state = moderation_state(product)
        if state != RESUBMITTED:
            raise InvalidTransition(state, "released")
        if seen_at is not None and product.updated_at != seen_at:
            raise ListingChanged(state, "released")
        old_reason = product.hidden_reason
        new = release_outcome(product)
        product.hidden_reason = None
        if new == ProductStatus.PUBLISHED and product.status != ProductStatus.PUBLISHED:
            product.status = ProductStatus.PUBLISHED
            product.published_at = product.published_at or utcnow()
        _record(
            staff_id, "listing.release", product, note, state, new.value, hidden_reason=old_reason
        )
    log.info("listing %s released as %s by staff %s", product_id, new.value, staff_id)
    return new
