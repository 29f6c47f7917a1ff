"""Catalogue operations: seller applications and their review, profiles, listings, photos.

Each public function is one unit of work: it validates, changes the session and commits, or rolls
back and raises a domain error. Callers (routes, commands) never commit.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.audit import log as audit
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Seller,
    SellerStatus,
    SellerStatusChange,
)
from app.catalog.signals import seller_details_changed
from app.catalog.slugs import is_valid_slug, slugify
from app.core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import is_mobile, normalise_code, normalise_mobile
from app.core.timeutil import utcnow
from app.media.images import process_image
from app.media.storage import Storage, WriteLog
from app.reference.models import County, Sector

log = logging.getLogger(__name__)

MAX_IMAGES = 8
MAX_PRICE_AMOUNT = 10**13  # a trillion toman: anything above is a typo
MAX_STOCK = 1_000_000
LOW_STOCK = 3

# Which review moves staff may make, and whether they need a reason.
SELLER_MOVES: dict[SellerStatus, dict[SellerStatus, bool]] = {
    SellerStatus.APPLIED: {SellerStatus.APPROVED: False, SellerStatus.REJECTED: True},
    SellerStatus.REJECTED: {SellerStatus.APPROVED: False},
    SellerStatus.APPROVED: {SellerStatus.SUSPENDED: True},
    SellerStatus.SUSPENDED: {SellerStatus.APPROVED: False},
}


@dataclass
class SellerProfile:
    display_name: str
    slug: str
    bio: str
    county_id: int
    sector_id: int
    phone: str
    registration_code: str | None = None
    training_completed_on: date | None = None
    training_provider: str | None = None
    permit_number: str | None = None


@dataclass
class ListingData:
    title: str
    description: str
    category_id: int | None
    price_amount: int | None
    stock: int
    status: ProductStatus = ProductStatus.DRAFT
    # What the seller's form showed when it was opened; ``None``: no check (a new listing).
    seen_price_amount: int | None = None
    seen_stock: int | None = None


@dataclass(frozen=True)
class ChangedWhileEditing:
    """A price or stock the save left alone: it changed (a sale, another tab) after the form was
    shown, and the seller's ``entered`` value would have overwritten ``current`` unseen."""

    field: str  # "price_amount" or "stock"
    current: int
    entered: int


def _fail(field: str, code: str) -> ValidationFailed:
    return ValidationFailed({field: [code]})


def suggest_slug(name: str) -> str:
    """A free storefront slug made from the business name."""
    base = slugify(name) or "shop"
    if len(base) < 3:
        base = f"shop-{base}"
    candidate, n = base, 2
    while not is_valid_slug(candidate) or db.session.scalar(
        sa.select(Seller.id).where(Seller.slug == candidate)
    ):
        candidate = f"{base[:55]}-{n}"
        n += 1
    return candidate


def _check_profile(data: SellerProfile, seller_id: int | None) -> SellerProfile:
    errors: dict[str, list[str]] = {}
    data.display_name = data.display_name.strip()
    data.slug = data.slug.strip().lower()
    if not data.display_name:
        errors.setdefault("display_name", []).append("required")
    if not is_valid_slug(data.slug):
        errors.setdefault("slug", []).append("slug_invalid")
    else:
        owner = db.session.scalar(sa.select(Seller.id).where(Seller.slug == data.slug))
        if owner is not None and owner != seller_id:
            errors.setdefault("slug", []).append("slug_taken")
    if db.session.get(County, data.county_id) is None:
        errors.setdefault("county_id", []).append("required")
    if db.session.get(Sector, data.sector_id) is None:
        errors.setdefault("sector_id", []).append("required")
    # What people type in Persian digits is stored as the ministry reads it: one form per value.
    data.phone = normalise_mobile(data.phone) if data.phone.strip() else ""
    if data.phone and not is_mobile(data.phone):
        errors.setdefault("phone", []).append("mobile_invalid")
    data.registration_code = normalise_code(data.registration_code) or None
    data.permit_number = normalise_code(data.permit_number) or None
    if data.registration_code:
        owner = db.session.scalar(
            sa.select(Seller.id).where(Seller.registration_code == data.registration_code)
        )
        if owner is not None and owner != seller_id:
            errors.setdefault("registration_code", []).append("code_taken")
    if data.training_completed_on and data.training_completed_on > date.today():
        errors.setdefault("training_completed_on", []).append("future_date")
    if errors:
        raise ValidationFailed(errors)
    return data


def _apply_profile(seller: Seller, data: SellerProfile) -> None:
    seller.display_name = data.display_name[:120]
    seller.slug = data.slug
    seller.bio = data.bio.strip()
    seller.county_id = data.county_id
    seller.sector_id = data.sector_id
    seller.phone = data.phone.strip() or None
    seller.registration_code = data.registration_code or None
    seller.training_completed_on = data.training_completed_on
    seller.training_provider = (data.training_provider or "").strip() or None
    seller.permit_number = (data.permit_number or "").strip() or None


def seller_of(user: User) -> Seller | None:
    return db.session.scalar(sa.select(Seller).where(Seller.user_id == user.id))


def apply_to_sell(user: User, data: SellerProfile, logo_key: str | None = None) -> Seller:
    """File an application; it waits in the staff queue. A rejected applicant may apply again."""
    if user.role == Role.STAFF:
        raise NotAllowed("staff accounts do not sell")
    seller = seller_of(user)
    if seller is not None and seller.status != SellerStatus.REJECTED:
        raise NotAllowed("already a seller")
    _check_profile(data, seller.id if seller else None)
    if seller is None:
        seller = Seller(user_id=user.id, status=SellerStatus.APPLIED)
        db.session.add(seller)
        previous = None
    else:
        previous = seller.status
        seller.status = SellerStatus.APPLIED
        seller.status_reason = None
    _apply_profile(seller, data)
    if logo_key:
        seller.logo_key = logo_key
    user.role = Role.SELLER
    db.session.flush()
    db.session.add(
        SellerStatusChange(
            seller_id=seller.id,
            from_status=previous,
            to_status=SellerStatus.APPLIED,
            actor_id=user.id,
        )
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # a concurrent application took the slug or the code
        db.session.rollback()
        raise _fail("slug", "slug_taken") from exc
    return seller


# Details that identify the seller to the programme (the county feeds the quota reports):
# changing them needs the password typed in this session, is audited and is mailed to the seller.
SENSITIVE_PROFILE_FIELDS = ("county_id", "phone", "registration_code", "permit_number")


class FreshLoginRequired(NotAllowed):
    """The change touches sensitive details and the session was not logged in with the password
    (it came from a remember cookie): confirm the password first. Nothing was changed."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__("a fresh login is needed to change " + ", ".join(fields))
        self.fields = fields


def _sensitive(seller: Seller) -> dict[str, object]:
    return {field: getattr(seller, field) for field in SENSITIVE_PROFILE_FIELDS}


def _comparable(field: str, value: object) -> object:
    """A sensitive value in the one form it is stored in now, so a value saved before input was
    normalised (Persian digits, spaces) is not taken for a change when it is saved again."""
    if value is None or value == "":
        return None
    if field == "phone":
        return normalise_mobile(str(value))
    if field in ("registration_code", "permit_number"):
        return normalise_code(str(value)) or None
    return value


def update_profile(
    seller: Seller, data: SellerProfile, logo_key: str | None = None, *, fresh_login: bool = False
) -> Seller:
    """Save the seller's profile and commit.

    A change of county, phone, registration code or permit number needs ``fresh_login`` (the
    password was typed in this session): otherwise FreshLoginRequired and nothing changes. Such
    a change writes an audit row (``seller.details_change``, before and after) in the same
    transaction, and the seller is e-mailed the old and new values after the commit.
    """
    _check_profile(data, seller.id)
    before = _sensitive(seller)
    _apply_profile(seller, data)
    after = _sensitive(seller)
    changed = [
        field
        for field in SENSITIVE_PROFILE_FIELDS
        if _comparable(field, before[field]) != _comparable(field, after[field])
    ]
    if changed and not fresh_login:
        db.session.rollback()
        raise FreshLoginRequired(changed)
    if logo_key:
        seller.logo_key = logo_key
    if changed:
        audit.record(
            seller.user_id,
            "seller.details_change",
            "seller",
            seller.id,
            data={
                "before": {field: before[field] for field in changed},
                "after": {field: after[field] for field in changed},
            },
        )
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:
        db.session.rollback()
        raise _fail("slug", "slug_taken") from exc
    if changed:
        seller_details_changed.send(
            user_id=seller.user_id,
            changes=[(field, before[field], after[field]) for field in changed],
        )
    return seller


def review_seller(
    seller: Seller, new: SellerStatus, staff: User, reason: str | None = None
) -> None:
    """Approve, reject, suspend or reinstate; recorded with who, when and why.

    Suspension hides the seller's products at once: public queries require an approved seller
    and the catalogue version bump makes every cached page stale in the same transaction.
    """
    if staff.role != Role.STAFF:
        raise NotAllowed("only staff review sellers")
    allowed = SELLER_MOVES.get(seller.status, {})
    if new not in allowed:
        raise InvalidTransition(seller.status, new)
    reason = (reason or "").strip() or None
    if allowed[new] and not reason:
        raise _fail("reason", "reason_required")
    previous = seller.status
    seller.status = new
    seller.status_reason = (
        reason if new in (SellerStatus.REJECTED, SellerStatus.SUSPENDED) else None
    )
    if new == SellerStatus.APPROVED and seller.approved_at is None:
        seller.approved_at = utcnow()
    db.session.add(
        SellerStatusChange(
            seller_id=seller.id,
            from_status=previous,
            to_status=new,
            actor_id=staff.id,
            reason=reason,
        )
    )
    audit.record(
        staff.id,
        f"seller.{new.value}",
        "seller",
        seller.id,
        reason=reason,
        data={"from": previous.value, "to": new.value},
    )
    seller_id, staff_id = seller.id, staff.id
    db.session.commit()
    log.info("seller %s %s -> %s by staff %s", seller_id, previous.value, new.value, staff_id)


# ---- listings -------------------------------------------------------------------------------


def publish_problems(product: Product) -> list[str]:
    """What stops a listing from being published: codes the form turns into messages."""
    problems = []
    if not product.images:
        problems.append("needs_photo")
    if product.price_amount is None or product.price_amount <= 0:
        problems.append("needs_price")
    if product.category_id is None:
        problems.append("needs_category")
    return problems


def _check_listing(data: ListingData) -> ListingData:
    errors: dict[str, list[str]] = {}
    data.title = " ".join(data.title.split())
    data.description = data.description.strip()
    if not data.title:
        errors.setdefault("title", []).append("required")
    elif len(data.title) > 200:
        errors.setdefault("title", []).append("too_long")
    if data.price_amount is not None and not (0 <= data.price_amount <= MAX_PRICE_AMOUNT):
        errors.setdefault("price_amount", []).append("out_of_range")
    if not (0 <= data.stock <= MAX_STOCK):
        errors.setdefault("stock", []).append("out_of_range")
    if data.category_id is not None and db.session.get(Category, data.category_id) is None:
        errors.setdefault("category_id", []).append("required")
    if data.status not in (ProductStatus.DRAFT, ProductStatus.PUBLISHED):
        errors.setdefault("status", []).append("invalid")
    if errors:
        raise ValidationFailed(errors)
    return data


def _set_status(product: Product, status: ProductStatus) -> None:
    if status == ProductStatus.PUBLISHED and product.status != ProductStatus.PUBLISHED:
        if product.status == ProductStatus.HIDDEN_BY_STAFF:
            # A hidden listing goes back through moderation; the seller resubmits it as draft.
            raise _fail("status", "hidden_by_staff")
        if product.hidden_reason:
            # Resubmitted after staff hid it: only staff can clear it for publishing again.
            raise _fail("status", "awaiting_review")
        problems = publish_problems(product)
        if problems:
            raise ValidationFailed({"status": problems})
        product.published_at = product.published_at or utcnow()
    # A hidden listing saved as draft keeps its ``hidden_reason``: that is the resubmission
    # staff review; the reason is cleared by staff when they release it.
    if product.status == ProductStatus.HIDDEN_BY_STAFF and status == ProductStatus.DRAFT:
        # The seller's step belongs in the listing's moderation history beside the staff's.
        audit.record(
            product.seller.user_id,
            "listing.resubmit",
            "product",
            product.id,
            data={"seller_id": product.seller_id, "title": product.title},
        )
    product.status = status


def create_product(seller: Seller, data: ListingData) -> Product:
    """A new listing; publishing at creation needs a photo, so new listings start as drafts."""
    _check_listing(data)
    product = Product(
        seller_id=seller.id,
        title=data.title,
        description=data.description,
        category_id=data.category_id,
        price_amount=data.price_amount or 0,
        stock=data.stock,
        status=ProductStatus.DRAFT,
    )
    db.session.add(product)
    _commit_status(product, data.status)
    return product


def _set_counted(
    product: Product, field: str, entered: int | None, seen: int | None
) -> ChangedWhileEditing | None:
    """Write ``entered`` to ``field`` unless the value changed since the form showed ``seen``.

    Called with the product row locked, so the comparison and the write are one step (as a
    conditional UPDATE would be): a sale committed a moment earlier is seen, a later one waits.
    """
    if entered is None:
        return None
    current = getattr(product, field)
    if seen is not None and current != seen and entered != current:
        return ChangedWhileEditing(field, current=current, entered=entered)
    setattr(product, field, entered)
    return None


def update_product(product: Product, data: ListingData) -> list[ChangedWhileEditing]:
    """Save the seller's edit form and commit (or roll back and raise ``ValidationFailed``).

    Price and stock are compared with what the form showed (``seen_price_amount``,
    ``seen_stock``) inside the write transaction, the product row locked: a value that changed
    meanwhile (units sold, a save from another tab) is kept and returned as
    :class:`ChangedWhileEditing`; everything else the seller typed is saved.
    """
    _check_listing(data)
    product = _locked_product(product.id)
    product.title = data.title
    product.description = data.description
    product.category_id = data.category_id
    kept = [
        change
        for change in (
            _set_counted(product, "price_amount", data.price_amount or 0, data.seen_price_amount),
            _set_counted(product, "stock", data.stock, data.seen_stock),
        )
        if change is not None
    ]
    _commit_status(product, data.status)
    return kept


def set_product_status(product: Product, status: ProductStatus) -> None:
    """Move a listing to ``status`` under the publish rules and commit (or roll back and raise).

    The row is locked first, as photo changes lock it, so publishing and deleting the last photo
    at the same moment cannot both succeed (a published listing keeps a photo).
    """
    if product.id is not None and product not in db.session.new:
        product = _locked_photos(product.id)
    _commit_status(product, status)


def _commit_status(product: Product, status: ProductStatus) -> None:
    try:
        _set_status(product, status)
    except ValidationFailed:
        db.session.rollback()
        raise
    db.session.commit()


def quick_update(
    product: Product,
    *,
    price_amount: int | None,
    stock: int | None,
    seen_price_amount: int | None = None,
    seen_stock: int | None = None,
) -> list[ChangedWhileEditing]:
    """Change price and/or stock from the listings table and commit.

    As :func:`update_product`: a value that changed since the table showed ``seen_*`` is kept
    and returned, the other one is saved.
    """
    errors: dict[str, list[str]] = {}
    if price_amount is not None and not (0 < price_amount <= MAX_PRICE_AMOUNT):
        errors["price_amount"] = ["out_of_range"]
    if stock is not None and not (0 <= stock <= MAX_STOCK):
        errors["stock"] = ["out_of_range"]
    if errors:
        raise ValidationFailed(errors)
    product = _locked_product(product.id)
    kept = [
        change
        for change in (
            _set_counted(product, "price_amount", price_amount, seen_price_amount),
            _set_counted(product, "stock", stock, seen_stock),
        )
        if change is not None
    ]
    db.session.commit()
    return kept


def duplicate_product(product: Product) -> Product:
    """A draft copy without photos (photos belong to the original listing)."""
    copy = Product(
        seller_id=product.seller_id,
        category_id=product.category_id,
        title=(product.title + " (2)")[:200],
        description=product.description,
        price_amount=product.price_amount,
        stock=product.stock,
        status=ProductStatus.DRAFT,
    )
    db.session.add(copy)
    db.session.commit()
    return copy


def delete_product(product: Product) -> list[str]:
    """Delete a listing. Order lines keep their snapshots. Returns storage keys now unused."""
    keys = [key for image in product.images for key in image_keys(image)]
    db.session.delete(product)
    db.session.commit()
    return _unused(keys)


# ---- moderation -----------------------------------------------------------------------------
#
# Staff hide a listing with a reason (status hidden_by_staff, the reason kept in
# ``hidden_reason``); the seller fixes it and saves it as a draft, which keeps the reason: that
# draft is a resubmission, waiting in the staff queue, and the seller cannot publish it. Staff
# then either release it or hide it again with a new reason.
#
# Release clears the reason and puts the listing back where the seller had it when staff first
# hid it: a listing that was on sale is published again (if it still has a photo, a price and a
# category; otherwise it stays a draft the seller can publish), a draft stays a draft. Where it
# was is kept in the audit row of the hide (``data["restore"]``), carried over when a resubmission
# is hidden again.

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


def moderation_listings(filters: ListingFilters) -> sa.Select[tuple[Product]]:
    """The staff listing queue: one tab, searched by title or seller, filtered by place, sector
    and category (with its sub-categories), in the tab's order."""
    from app.catalog.queries import category_and_descendant_ids

    stmt = sa.select(Product).join(Seller, Seller.id == Product.seller_id)
    if filters.tab == REVIEW:
        # Oldest resubmission first: a queue.
        stmt = stmt.where(awaiting_review()).order_by(Product.updated_at.asc(), Product.id)
    elif filters.tab == "published":
        stmt = stmt.where(Product.status == ProductStatus.PUBLISHED).order_by(
            Product.published_at.desc(), Product.id.desc()
        )
    elif filters.tab == HIDDEN:
        stmt = stmt.where(Product.status == ProductStatus.HIDDEN_BY_STAFF).order_by(
            Product.updated_at.desc(), Product.id.desc()
        )
    else:
        stmt = stmt.order_by(Product.updated_at.desc(), Product.id.desc())
    text = filters.text.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
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


def moderation_counts() -> dict[str, int]:
    """How many listings each tab of the queue holds (before search and filters)."""
    in_review = sa.case((awaiting_review(), 1), else_=0)
    rows = db.session.execute(
        sa.select(Product.status, in_review, sa.func.count(Product.id)).group_by(
            Product.status, in_review
        )
    ).all()
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
        raise _fail("reason", "reason_required")
    if len(text) > MAX_REASON:
        raise _fail("reason", "too_long")
    return text or None


def _locked_product(product_id: int) -> Product:
    """The listing re-read inside a write transaction that holds its row until commit, so two
    staff members acting at once cannot both move it (SQLite: the write transaction itself)."""
    from app.core.db import begin_write

    begin_write()
    product = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        db.session.rollback()
        raise NotFound(f"product {product_id}")
    return product


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
    product = _locked_product(product.id)
    state = moderation_state(product)
    if state == HIDDEN:
        db.session.rollback()
        raise InvalidTransition(state, HIDDEN)
    if expected is not None and expected != state:
        db.session.rollback()
        raise ListingChanged(state, HIDDEN)
    # A published listing or a draft goes back to where the seller had it; hiding a
    # resubmission again keeps what the first hide recorded.
    restore = _restore_status(product) if state == RESUBMITTED else state
    product.status = ProductStatus.HIDDEN_BY_STAFF
    product.hidden_reason = reason
    audit.record(
        staff.id,
        "listing.hide",
        "product",
        product.id,
        reason=reason,
        data={
            "from": state,
            "to": HIDDEN,
            "restore": restore,
            "seller_id": product.seller_id,
            "title": product.title,
        },
    )
    product_id, staff_id = product.id, staff.id
    db.session.commit()
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
    product = _locked_product(product.id)
    state = moderation_state(product)
    if state != RESUBMITTED:
        db.session.rollback()
        raise InvalidTransition(state, "released")
    if seen_at is not None and product.updated_at != seen_at:
        db.session.rollback()
        raise ListingChanged(state, "released")
    old_reason = product.hidden_reason
    new = release_outcome(product)
    product.hidden_reason = None
    if new == ProductStatus.PUBLISHED and product.status != ProductStatus.PUBLISHED:
        product.status = ProductStatus.PUBLISHED
        product.published_at = product.published_at or utcnow()
    audit.record(
        staff.id,
        "listing.release",
        "product",
        product.id,
        reason=note,
        data={
            "from": state,
            "to": new.value,
            "hidden_reason": old_reason,
            "seller_id": product.seller_id,
            "title": product.title,
        },
    )
    product_id, staff_id = product.id, staff.id
    db.session.commit()
    log.info("listing %s released as %s by staff %s", product_id, new.value, staff_id)
    return new


# ---- photos ---------------------------------------------------------------------------------


def image_keys(image: ProductImage) -> list[str]:
    return [v[2] for v in image.variants] or [image.storage_key]


def unused_keys(keys: list[str]) -> list[str]:
    """Of ``keys``, those no image or logo refers to: files the caller may delete after commit."""
    return _unused(keys)


def _unused(keys: list[str]) -> list[str]:
    """Keys no remaining image or shop logo refers to (content-addressed files may be shared)."""
    if not keys:
        return []
    still = set()
    for variants, storage_key in db.session.execute(
        sa.select(ProductImage.variants, ProductImage.storage_key)
    ):
        still.add(storage_key)
        still.update(v[2] for v in variants or [])
    still.update(db.session.scalars(sa.select(Seller.logo_key).where(Seller.logo_key.in_(keys))))
    return [k for k in keys if k not in still]


def _locked_photos(product_id: int) -> Product:
    """The listing with its row locked until commit and its photos read afresh under the lock:
    every change to a listing's photos goes through here, so counting, choosing a position and
    renumbering never interleave (SQLite: the write transaction itself)."""
    product = _locked_product(product_id)
    db.session.expire(product, ["images"])
    return product


def _photo_count(product_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(ProductImage.id)).where(ProductImage.product_id == product_id)
        )
        or 0
    )


def add_image(
    product_id: int, variants: list[list], width: int, height: int, alt: str = ""
) -> ProductImage:
    """Add a stored picture as the last photo of the listing ``product_id`` and commit.

    Under the listing's lock: refused (``too_many_photos``, nothing changed) once it has
    :data:`MAX_IMAGES`; otherwise the photo takes position ``n`` of ``0..n``. A listing deleted
    meanwhile raises ``NotFound``.
    """
    product = _locked_photos(product_id)
    if len(product.images) >= MAX_IMAGES:
        db.session.rollback()
        raise _fail("photo", "too_many_photos")
    _renumber(product)  # older rows with gaps: close them before taking the next place
    image = ProductImage(
        position=len(product.images),
        storage_key=variants[-1][2],
        variants=variants,
        width=width,
        height=height,
        alt_text=(alt or product.title)[:200],
    )
    product.images.append(image)
    db.session.commit()
    return image


def add_photo(
    product: Product,
    data: bytes,
    store: Storage,
    *,
    max_bytes: int,
    max_pixels: int,
    alt: str = "",
) -> ProductImage:
    """Turn an uploaded picture into stored variants and add it as the listing's last photo.

    Guarantees: a full listing is refused (``ValidationFailed`` ``too_many_photos``) before the
    picture is decoded; a picture that is not acceptable raises ``ImageRejected`` and writes
    nothing; if the photo cannot be added after its files were written (the listing filled up
    meanwhile, or the save failed), the files this call wrote are removed again, except any that
    an image row or logo uses by then (files are content addressed, so shared).
    """
    product_id = product.id
    if _photo_count(product_id) >= MAX_IMAGES:
        raise _fail("photo", "too_many_photos")
    # Nothing to keep from the caller's reads: hold no transaction (on SQLite, possibly the
    # write lock) while the picture is decoded and encoded.
    db.session.rollback()
    log = WriteLog(store)
    stored = process_image(data, log, max_bytes=max_bytes, max_pixels=max_pixels)
    variants = [[v.width, v.height, v.key] for v in stored.variants]
    try:
        return add_image(product_id, variants, stored.width, stored.height, alt)
    except BaseException:
        db.session.rollback()
        _discard_written(log.written, store)
        raise


def _discard_written(keys: list[str], store: Storage) -> None:
    """Remove files a failed upload wrote, unless a row uses them by now (best effort)."""
    if not keys:
        return
    try:
        unused = _unused(keys)
        db.session.rollback()
    except Exception:  # the database is what failed: better a stray file than a lost one
        db.session.rollback()
        return
    for key in unused:
        with contextlib.suppress(Exception):
            store.delete(key)


def _renumber(product: Product) -> None:
    """Positions 0..n-1 in the collection's order. Positions are unique per listing and checked
    at each UPDATE, so the rows are first parked on free places, then put in order."""
    images = list(product.images)
    if [image.position for image in images] == list(range(len(images))):
        return
    parked = 1 + max([MAX_IMAGES, *(image.position for image in images)])
    for n, image in enumerate(images):
        image.position = parked + n
    db.session.flush()
    for n, image in enumerate(images):
        image.position = n


def move_image(product: Product, image_id: int, offset: int) -> None:
    """Move a photo earlier (-1) or later (+1); the first photo is the cover."""
    product = _locked_photos(product.id)
    images = list(product.images)
    index = next((i for i, img in enumerate(images) if img.id == image_id), None)
    if index is None:
        db.session.rollback()
        raise _fail("photo", "not_found")
    target = min(max(index + offset, 0), len(images) - 1)
    images.insert(target, images.pop(index))
    product.images[:] = images
    _renumber(product)
    db.session.commit()


def make_cover(product: Product, image_id: int) -> None:
    move_image(product, image_id, -MAX_IMAGES)


def set_alt_text(product: Product, image_id: int, alt: str) -> None:
    product = _locked_photos(product.id)
    image = next((img for img in product.images if img.id == image_id), None)
    if image is None:
        db.session.rollback()
        raise _fail("photo", "not_found")
    image.alt_text = " ".join(alt.split())[:200]
    db.session.commit()


def delete_image(product: Product, image_id: int) -> list[str]:
    """Remove a photo; a published listing keeps at least one. Returns storage keys now unused."""
    product = _locked_photos(product.id)
    image = next((img for img in product.images if img.id == image_id), None)
    if image is None:
        db.session.rollback()
        raise _fail("photo", "not_found")
    if product.status == ProductStatus.PUBLISHED and len(product.images) == 1:
        db.session.rollback()
        raise _fail("photo", "last_photo_of_published")
    keys = image_keys(image)
    product.images.remove(image)
    _renumber(product)
    db.session.commit()
    return _unused(keys)


# ---- dashboard ------------------------------------------------------------------------------


def seller_counts(seller: Seller) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Product.status, sa.func.count(Product.id))
        .where(Product.seller_id == seller.id)
        .group_by(Product.status)
    ).all()
    counts = {status.value: 0 for status in ProductStatus}
    for status, n in rows:
        counts[ProductStatus(status).value] = n
    counts["low_stock"] = (
        db.session.scalar(
            sa.select(sa.func.count(Product.id)).where(
                Product.seller_id == seller.id,
                Product.status == ProductStatus.PUBLISHED,
                Product.stock <= LOW_STOCK,
            )
        )
        or 0
    )
    return counts


def low_stock(seller: Seller, limit: int = 10) -> list[Product]:
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(
                Product.seller_id == seller.id,
                Product.status == ProductStatus.PUBLISHED,
                Product.stock <= LOW_STOCK,
            )
            .order_by(Product.stock, Product.id)
            .limit(limit)
        )
    )
