"""Listings as their seller keeps them: create, edit, quick edit, publish or unpublish, copy and
delete, under the publish rules; and the seller's own lists and counts.

Each public function that changes something is one unit of work: it validates, then changes and
commits inside :func:`app.core.db.transaction`, or raises a domain error having changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit import log as audit
from app.catalog import assisted, pricing, variants
from app.catalog.models import (
    Category,
    PhotoStatus,
    Product,
    ProductOption,
    ProductStatus,
    ProductVariant,
    Seller,
)
from app.catalog.photos import image_keys, take_staged, unused_keys
from app.catalog.rules import (
    LOW_STOCK,
    MAX_PRICE_AMOUNT,
    MAX_STOCK,
    fail,
    locked_photos,
    locked_product,
)
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, contains_pattern, count_rows, page_of
from app.core.timeutil import utcnow


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
    # An optional English title (searchable, not shown); ``None`` leaves it as it is.
    title_en: str | None = None
    # A sale (its price and its first and last market days, inclusive); with ``sale_given``
    # False the listing's sale is left as it is, with no sale price it is removed.
    sale_given: bool = False
    sale_price_amount: int | None = None
    sale_first_day: date | None = None
    sale_last_day: date | None = None


@dataclass(frozen=True)
class ChangedWhileEditing:
    """A price or stock the save left alone: it changed (a sale, another tab) after the form was
    shown, and the seller's ``entered`` value would have overwritten ``current`` unseen."""

    field: str  # "price_amount" or "stock"
    current: int
    entered: int
    variant: str | None = None  # the variant's label, for a variant's stock


def publish_problems(product: Product) -> list[str]:
    """What stops a listing from being published: codes the form turns into messages."""
    problems = []
    # A photo still processing counts (its variants come within moments); a failed one does not.
    if not any(image.status != PhotoStatus.FAILED for image in product.images):
        problems.append("needs_photo")
    if product.price_amount is None or product.price_amount <= 0:
        problems.append("needs_price")
    if product.category_id is None:
        problems.append("needs_category")
    return problems


def _check_listing(
    data: ListingData,
    *,
    sold_by_variants: bool = False,
    options: variants.VariantsData | None = None,
    product_id: int | None = None,
    seller_id: int,
) -> tuple[ListingData, variants.VariantsData | None]:
    """``data`` checked, and ``options`` (the options and variants the form sent, if any)
    through :func:`app.catalog.variants.check`: every error of both in one ValidationFailed.
    ``sold_by_variants``: the listing has variants before or after this save, so its price
    and stock are theirs and its sale is only a period."""
    errors: dict[str, list[str]] = {}
    if options is not None:
        try:
            options = variants.check(options, product_id=product_id, seller_id=seller_id)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        sold_by_variants = sold_by_variants or bool(options.options)
    data.title = " ".join(data.title.split())
    data.description = data.description.strip()
    if not data.title:
        errors.setdefault("title", []).append("required")
    elif len(data.title) > 200:
        errors.setdefault("title", []).append("too_long")
    if sold_by_variants:
        pass  # the variants' price and stock; the form's fields are not written
    else:
        if data.price_amount is not None and not (0 <= data.price_amount <= MAX_PRICE_AMOUNT):
            errors.setdefault("price_amount", []).append("out_of_range")
        if not (0 <= data.stock <= MAX_STOCK):
            errors.setdefault("stock", []).append("out_of_range")
    if data.category_id is not None and db.session.get(Category, data.category_id) is None:
        errors.setdefault("category_id", []).append("required")
    if data.status not in (ProductStatus.DRAFT, ProductStatus.PUBLISHED):
        errors.setdefault("status", []).append("invalid")
    if data.sale_given:
        if sold_by_variants:
            _check_period(data, errors)
        else:
            _check_sale(data, errors)
    if errors:
        raise ValidationFailed(errors)
    return data, options


def _check_period(data: ListingData, errors: dict[str, list[str]]) -> None:
    """A listing sold by its variants: its sale is a period (both days or none); each variant's
    sale price is the variant's own."""
    first, last = data.sale_first_day, data.sale_last_day
    if first is None and last is None:
        return
    if first is None:
        errors.setdefault("sale_starts_on", []).append("required")
    if last is None:
        errors.setdefault("sale_ends_on", []).append("required")
    if first is not None and last is not None and last < first:
        errors.setdefault("sale_ends_on", []).append("sale_ends_before_start")


def _check_sale(data: ListingData, errors: dict[str, list[str]]) -> None:
    """A sale needs a positive price below the listing's price and both days, the last on or
    after the first; no sale price and no days: no sale."""
    sale = data.sale_price_amount
    if sale is None:
        if data.sale_first_day is not None or data.sale_last_day is not None:
            errors.setdefault("sale_price_amount", []).append("sale_price_required")
        return
    if not (0 < sale <= MAX_PRICE_AMOUNT):
        errors.setdefault("sale_price_amount", []).append("out_of_range")
    elif not data.price_amount or sale >= data.price_amount:
        errors.setdefault("sale_price_amount", []).append("sale_not_lower")
    if data.sale_first_day is None:
        errors.setdefault("sale_starts_on", []).append("required")
    if data.sale_last_day is None:
        errors.setdefault("sale_ends_on", []).append("required")
    if (
        data.sale_first_day is not None
        and data.sale_last_day is not None
        and data.sale_last_day < data.sale_first_day
    ):
        errors.setdefault("sale_ends_on", []).append("sale_ends_before_start")


def _set_sale(product: Product, data: ListingData, *, sold_by_variants: bool = False) -> None:
    """Write the checked sale of ``data`` (see :func:`_check_sale`) to ``product``; for a
    listing sold by its variants only the period (:func:`_check_period`), after which the
    variants are mirrored again (their lowest sale price counts only within a period)."""
    if not data.sale_given:
        return
    if sold_by_variants:
        if data.sale_first_day is None or data.sale_last_day is None:
            product.sale_starts_at = product.sale_ends_at = None
        else:
            product.sale_starts_at, product.sale_ends_at = pricing.sale_period(
                data.sale_first_day, data.sale_last_day
            )
        db.session.flush()
        variants.mirror(product)
        return
    if data.sale_price_amount is None or data.sale_first_day is None or data.sale_last_day is None:
        product.sale_price_amount = product.sale_starts_at = product.sale_ends_at = None
        return
    product.sale_price_amount = data.sale_price_amount
    product.sale_starts_at, product.sale_ends_at = pricing.sale_period(
        data.sale_first_day, data.sale_last_day
    )


def _set_status(product: Product, status: ProductStatus) -> None:
    if status == ProductStatus.PUBLISHED and product.status != ProductStatus.PUBLISHED:
        if product.status == ProductStatus.HIDDEN_BY_STAFF:
            # A hidden listing goes back through moderation; the seller resubmits it as draft.
            raise fail("status", "hidden_by_staff")
        if product.hidden_reason:
            # Resubmitted after staff hid it: only staff can clear it for publishing again.
            raise fail("status", "awaiting_review")
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


def create_product(
    seller: Seller,
    data: ListingData,
    staged: Sequence[str] = (),
    cover: str = "",
    options: variants.VariantsData | None = None,
    *,
    helper_id: int | None = None,
) -> Product:
    """A new listing, with the photos the seller uploaded on its form (``staged``: their
    tokens, in order; ``cover`` first), published at once if asked and allowed (a photo, a
    price, a category): one transaction, so a refusal leaves no listing and the waiting photos
    as they were, for the form to carry to the next try. The caller hands the new photos
    (:func:`app.catalog.photos.owed_of`) to the job worker after this returns. With
    ``options`` (options and their variants) the listing is sold by its variants from the
    start: its price and stock are theirs (see :mod:`app.catalog.variants`).

    ``helper_id``: a staff member listing on the seller's behalf; the seller's consent is
    checked in the same transaction (:class:`app.catalog.assisted.NoConsent`: nothing made),
    and the listing is marked "listed with help" and audited (:func:`assisted.mark`)."""
    seller_id = seller.id
    _, options = _check_listing(data, options=options, seller_id=seller_id)
    by_variants = bool(options and options.options)
    with transaction():
        if helper_id is not None:
            assisted.require_consent(seller_id)
        product = Product(
            seller_id=seller_id,
            title=data.title,
            title_en=(data.title_en or "").strip()[:200] or None,
            description=data.description,
            category_id=data.category_id,
            price_amount=data.price_amount or 0,
            stock=data.stock,
            status=ProductStatus.DRAFT,
        )
        db.session.add(product)
        if options is not None and by_variants:
            db.session.flush()
            variants.apply(product, options)
        _set_sale(product, data, sold_by_variants=by_variants)
        take_staged(product, seller_id, staged, cover)
        _set_status(product, data.status)
        if helper_id is not None:
            db.session.flush()
            assisted.mark(product, helper_id, "listing.create", status=product.status.value)
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


def _set_counts(
    product: Product,
    price_amount: int | None,
    stock: int | None,
    seen_price_amount: int | None,
    seen_stock: int | None,
) -> list[ChangedWhileEditing]:
    """Price and stock through :func:`_set_counted`; returns the values left alone."""
    changes = (
        _set_counted(product, "price_amount", price_amount, seen_price_amount),
        _set_counted(product, "stock", stock, seen_stock),
    )
    return [change for change in changes if change is not None]


def update_product(
    product: Product,
    data: ListingData,
    staged: Sequence[str] = (),
    cover: str = "",
    options: variants.VariantsData | None = None,
    *,
    helper_id: int | None = None,
) -> list[ChangedWhileEditing]:
    """Save the seller's edit form and commit (or roll back and raise ``ValidationFailed``).

    Price and stock are compared with what the form showed (``seen_price_amount``,
    ``seen_stock``) inside the write transaction, the product row locked: a value that changed
    meanwhile (units sold, a save from another tab) is kept and returned as
    :class:`ChangedWhileEditing`; everything else the seller typed is saved. Photos uploaded
    on the form (``staged``, ``cover``) are added after the listing's own in the same
    transaction, as :func:`create_product` adds them.

    ``options`` (``None``: left as they are) replaces the listing's options and variants
    (:func:`app.catalog.variants.apply`); no options turns a listing with variants back into
    one item. A listing that has variants before or after the save keeps the price and stock
    they give it: the form's price and stock are not written, and its sale is only a period.

    ``helper_id``: staff changing the listing on the seller's behalf (as :func:`create_product`).
    """
    _, options = _check_listing(
        data,
        sold_by_variants=product.has_variants,
        options=options,
        product_id=product.id,
        seller_id=product.seller_id,
    )
    product_id = product.id
    with transaction():
        if helper_id is not None:
            assisted.require_consent(product.seller_id)
        if options is not None:
            # Variants before the product row: checkouts take them in that order.
            variants.lock_variants(product_id)
        product = locked_photos(product_id) if staged else locked_product(product_id)
        by_variants = product.has_variants
        kept: list[ChangedWhileEditing] = []
        if options is not None and (options.options or product.has_variants):
            moved = variants.apply(product, options)
            labels = variants.labels_of([variant.id for variant, _entered in moved])
            kept += [
                ChangedWhileEditing("stock", variant.stock, entered, labels.get(variant.id))
                for variant, entered in moved
            ]
            by_variants = by_variants or product.has_variants
        product.title = data.title
        if data.title_en is not None:
            product.title_en = data.title_en.strip()[:200] or None
        product.description = data.description
        product.category_id = data.category_id
        if not by_variants:
            kept += _set_counts(
                product,
                data.price_amount or 0,
                data.stock,
                data.seen_price_amount,
                data.seen_stock,
            )
        _set_sale(product, data, sold_by_variants=by_variants)
        take_staged(product, product.seller_id, staged, cover)
        _set_status(product, data.status)
        if helper_id is not None:
            assisted.mark(
                product,
                helper_id,
                "listing.update",
                status=product.status.value,
                kept=[change.field for change in kept],
            )
    return kept


def set_product_status(product: Product, status: ProductStatus) -> None:
    """Move a listing to ``status`` under the publish rules and commit (or roll back and raise).

    The row is locked first, as photo changes lock it, so publishing and deleting the last photo
    at the same moment cannot both succeed (a published listing keeps a photo).
    """
    product_id = product.id if product not in db.session.new else None
    with transaction():
        if product_id is not None:
            product = locked_photos(product_id)
        _set_status(product, status)


def quick_update(
    product: Product,
    *,
    price_amount: int | None,
    stock: int | None,
    seen_price_amount: int | None = None,
    seen_stock: int | None = None,
    helper_id: int | None = None,
) -> list[ChangedWhileEditing]:
    """Change price and/or stock from the listings table and commit.

    As :func:`update_product`: a value that changed since the table showed ``seen_*`` is kept
    and returned, the other one is saved. A listing sold by its variants refuses both
    (``has_variants`` on the field): its price and stock are its variants'. ``helper_id``:
    staff changing it on the seller's behalf (as :func:`create_product`).
    """
    if product.has_variants and (price_amount is not None or stock is not None):
        raise _variants_own(price_amount, stock)
    errors: dict[str, list[str]] = {}
    if price_amount is not None and not (0 < price_amount <= MAX_PRICE_AMOUNT):
        errors["price_amount"] = ["out_of_range"]
    if stock is not None and not (0 <= stock <= MAX_STOCK):
        errors["stock"] = ["out_of_range"]
    if errors:
        raise ValidationFailed(errors)
    product_id = product.id
    with transaction():
        if helper_id is not None:
            assisted.require_consent(product.seller_id)
        product = locked_product(product_id)
        if product.has_variants:
            raise _variants_own(price_amount, stock)
        before = (product.price_amount, product.stock)
        kept = _set_counts(product, price_amount, stock, seen_price_amount, seen_stock)
        if helper_id is not None:
            assisted.mark(
                product,
                helper_id,
                "listing.quick_update",
                price_amount=[before[0], product.price_amount],
                stock=[before[1], product.stock],
            )
    return kept


def _variants_own(price_amount: int | None, stock: int | None) -> ValidationFailed:
    errors: dict[str, list[str]] = {}
    if price_amount is not None:
        errors["price_amount"] = ["has_variants"]
    if stock is not None:
        errors["stock"] = ["has_variants"]
    return ValidationFailed(errors)


def duplicate_product(product: Product) -> Product:
    """A draft copy without photos (photos belong to the original listing); a listing sold by
    its variants is copied with its options and variants, without their SKUs (a SKU names one
    variant of the seller's) and photos."""
    copied = variants.VariantsData(
        [variants.OptionData(o.name, list(o.values)) for o in variants.options_of(product.id)],
        [
            variants.VariantData(v.values, v.price_amount, v.stock, v.sale_price_amount)
            for v in variants.variants_of(product.id)
        ],
    )
    copy = Product(
        seller_id=product.seller_id,
        category_id=product.category_id,
        title=(product.title + " (2)")[:200],
        description=product.description,
        price_amount=product.price_amount,
        stock=product.stock,
        status=ProductStatus.DRAFT,
    )
    with transaction():
        db.session.add(copy)
        if product.has_variants and copied.options:
            db.session.flush()
            variants.apply(copy, copied)
    return copy


def delete_product(product: Product) -> list[str]:
    """Delete a listing. Order lines keep their snapshots. Returns storage keys now unused."""
    keys = [key for image in product.images for key in image_keys(image)]
    with transaction():
        db.session.delete(product)
    return unused_keys(keys)


# ---- the seller's own lists -----------------------------------------------------------------


def seller_listings(
    seller: Seller, status: ProductStatus | None, text: str, page: int, per_page: int
) -> Page:
    """One page of the seller's listings, last changed first: of one ``status`` if given, with
    ``text`` in the title if given."""
    stmt = sa.select(Product).where(Product.seller_id == seller.id)
    if status is not None:
        stmt = stmt.where(Product.status == status)
    if text:
        stmt = stmt.where(Product.title.ilike(contains_pattern(text), escape="\\"))
    return page_of(
        stmt.options(selectinload(Product.images)).order_by(
            Product.updated_at.desc(), Product.id.desc()
        ),
        count_rows(stmt, Product.id),
        page,
        per_page,
    )


@dataclass(frozen=True)
class VariantSummary:
    """What the seller's listing table says of a listing's variants: how many are offered and
    which run low (label, stock), lowest stock first."""

    count: int
    low: list[tuple[str, int]]


def variant_summaries(products: Sequence[Product]) -> dict[int, VariantSummary]:
    """:class:`VariantSummary` of each listing among ``products`` sold by its variants."""
    ids = [p.id for p in products if p.has_variants]
    if not ids:
        return {}
    options: dict[int, list[ProductOption]] = {}
    for option in db.session.scalars(
        sa.select(ProductOption)
        .where(ProductOption.product_id.in_(ids))
        .order_by(ProductOption.position)
    ):
        options.setdefault(option.product_id, []).append(option)
    counts: dict[int, int] = {}
    low: dict[int, list[tuple[str, int]]] = {}
    for variant in db.session.scalars(
        sa.select(ProductVariant)
        .where(ProductVariant.product_id.in_(ids), ProductVariant.active.is_(True))
        .order_by(ProductVariant.stock, ProductVariant.position, ProductVariant.id)
    ):
        counts[variant.product_id] = counts.get(variant.product_id, 0) + 1
        if variant.stock <= LOW_STOCK:
            label = variants.label(variant, options.get(variant.product_id, []))
            low.setdefault(variant.product_id, []).append((label, variant.stock))
    return {pid: VariantSummary(counts.get(pid, 0), low.get(pid, [])) for pid in ids}


def category_options(locale: str) -> list[tuple[int, str]]:
    """Every category as ``(id, label)`` in tree order, a sub-category's label indented by one
    dash per level (six levels at most), for the listing form's drop-down."""
    rows = db.session.scalars(sa.select(Category).order_by(Category.position, Category.id)).all()
    by_parent: dict[int | None, list[Category]] = {}
    for cat in rows:
        by_parent.setdefault(cat.parent_id, []).append(cat)
    out: list[tuple[int, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for cat in by_parent.get(parent, []):
            out.append((cat.id, "— " * depth + cat.name(locale)))
            if depth < 5:
                walk(cat.id, depth + 1)

    walk(None, 0)
    return out


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
