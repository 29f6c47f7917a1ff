"""A listing's options and variants: size M and colour blue as one product with a price, stock,
SKU and photo per combination, instead of one listing per size.

A product with options is sold by its variants. Its own row keeps what every list, sort, filter
and search reads without touching the variants (:func:`mirror`): ``stock`` is the sum of its
active variants' stock, ``price_amount`` their lowest price and ``sale_price_amount`` their lowest
sale price (the product's sale period is the variants' too), so the card's "from" price and the
sold-out flag stay one column away. Every write of a variant changes the product row in the same
transaction: :func:`save` here, and :mod:`app.orders.stock`, which moves a variant's and its
product's stock by one conditional UPDATE each.

A variant no longer offered is made inactive rather than deleted (carts and back-in-stock
requests name it; orders keep its label and SKU in their lines either way); offering the same
combination again makes it active again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.catalog import pricing, stock_alerts
from app.catalog.models import Product, ProductImage, ProductOption, ProductVariant
from app.catalog.rules import MAX_PRICE_AMOUNT, MAX_STOCK, locked_product
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db

MAX_OPTIONS = 3
MAX_VALUES = 20  # per option
MAX_VARIANTS = 100
MAX_NAME = 40
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class OptionData:
    name: str
    values: list[str]


@dataclass
class VariantData:
    # One value per option, in the options' order.
    values: list[str]
    price_amount: int | None
    stock: int
    sale_price_amount: int | None = None
    sku: str | None = None
    image_id: int | None = None
    # The stock the seller's form showed (None: no check, as the CSV import and new rows): a
    # variant's stock that moved since (units sold meanwhile) is kept, not overwritten.
    seen_stock: int | None = None


@dataclass
class VariantsData:
    options: list[OptionData] = field(default_factory=list)
    variants: list[VariantData] = field(default_factory=list)


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def check(data: VariantsData, *, product_id: int | None = None, seller_id: int) -> VariantsData:
    """``data`` with names and values trimmed, or ValidationFailed naming every bad field:
    ``options``, ``options-<i>-name``, ``options-<i>-values``, ``variants``,
    ``variants-<j>-<field>`` (``values``, ``price_amount``, ``sale_price_amount``, ``stock``,
    ``sku``, ``image_id``)."""
    errors: dict[str, list[str]] = {}
    options = [OptionData(_clean(o.name), [_clean(v) for v in o.values]) for o in data.options]
    if len(options) > MAX_OPTIONS:
        errors["options"] = ["too_many_options"]
    names: set[str] = set()
    for i, option in enumerate(options):
        if not option.name or len(option.name) > MAX_NAME:
            errors[f"options-{i}-name"] = ["required" if not option.name else "too_long"]
        elif option.name in names:
            errors[f"options-{i}-name"] = ["duplicate_option"]
        names.add(option.name)
        values = option.values
        blank_or_long = any(not v or len(v) > MAX_NAME for v in values)
        if (
            not values
            or blank_or_long
            or len(set(values)) != len(values)
            or len(values) > MAX_VALUES
        ):
            errors[f"options-{i}-values"] = ["option_values_invalid"]
    variants = [
        VariantData(
            [_clean(v) for v in row.values],
            row.price_amount,
            row.stock,
            row.sale_price_amount,
            (row.sku or "").strip() or None,
            row.image_id,
            row.seen_stock,
        )
        for row in data.variants
    ]
    if options and not variants:
        errors["variants"] = ["variants_required"]
    elif not options and variants:
        errors["options"] = ["required"]
    if len(variants) > MAX_VARIANTS:
        errors["variants"] = ["too_many_variants"]
    seen: set[tuple[str, ...]] = set()
    skus: set[str] = set()
    for j, row in enumerate(variants):
        _check_row(j, row, options, errors)
        key = tuple(row.values)
        if key in seen:
            errors.setdefault(f"variants-{j}-values", []).append("duplicate_variant")
        seen.add(key)
        if row.sku is not None:
            if row.sku in skus:
                errors.setdefault(f"variants-{j}-sku", []).append("duplicate_sku")
            skus.add(row.sku)
    _check_images(variants, product_id, errors)
    _check_skus_free(variants, product_id, seller_id, errors)
    if errors:
        raise ValidationFailed(errors)
    return VariantsData(options, variants)


def _check_row(
    j: int, row: VariantData, options: list[OptionData], errors: dict[str, list[str]]
) -> None:
    if len(row.values) != len(options) or any(
        value not in option.values for value, option in zip(row.values, options, strict=False)
    ):
        errors.setdefault(f"variants-{j}-values", []).append("variant_values_invalid")
    price = row.price_amount
    if price is None or not (0 < price <= MAX_PRICE_AMOUNT):
        errors.setdefault(f"variants-{j}-price_amount", []).append("out_of_range")
    sale = row.sale_price_amount
    if sale is not None:
        if not (0 < sale <= MAX_PRICE_AMOUNT):
            errors.setdefault(f"variants-{j}-sale_price_amount", []).append("out_of_range")
        elif price is not None and sale >= price:
            errors.setdefault(f"variants-{j}-sale_price_amount", []).append("sale_not_lower")
    if not (0 <= row.stock <= MAX_STOCK):
        errors.setdefault(f"variants-{j}-stock", []).append("out_of_range")
    if row.sku is not None and not _SKU.fullmatch(row.sku):
        errors.setdefault(f"variants-{j}-sku", []).append("sku_invalid")


def _check_images(
    variants: list[VariantData], product_id: int | None, errors: dict[str, list[str]]
) -> None:
    """A variant's photo is one of its own listing's photos."""
    wanted = {row.image_id for row in variants if row.image_id is not None}
    if not wanted:
        return
    own: set[int] = set()
    if product_id is not None:
        own = set(
            db.session.scalars(
                sa.select(ProductImage.id).where(
                    ProductImage.product_id == product_id, ProductImage.id.in_(wanted)
                )
            )
        )
    for j, row in enumerate(variants):
        if row.image_id is not None and row.image_id not in own:
            errors.setdefault(f"variants-{j}-image_id", []).append("invalid")


def _check_skus_free(
    variants: list[VariantData],
    product_id: int | None,
    seller_id: int,
    errors: dict[str, list[str]],
) -> None:
    """A SKU names one variant among all of its seller's listings."""
    skus = {row.sku for row in variants if row.sku is not None}
    if not skus:
        return
    query = (
        sa.select(ProductVariant.sku)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(Product.seller_id == seller_id, ProductVariant.sku.in_(skus))
    )
    if product_id is not None:
        query = query.where(ProductVariant.product_id != product_id)
    taken = set(db.session.scalars(query))
    for j, row in enumerate(variants):
        if row.sku in taken:
            errors.setdefault(f"variants-{j}-sku", []).append("sku_taken")


def save(product: Product, data: VariantsData) -> None:
    """Replace ``product``'s options and variants with ``data`` and commit (or raise
    ValidationFailed having changed nothing). No options: the product is sold as one item again
    (its variants inactive; its stock and price as they were last mirrored, for the seller to
    edit on the listing form)."""
    data = check(data, product_id=product.id, seller_id=product.seller_id)
    product_id = product.id
    with transaction():
        lock_variants(product_id)
        product = locked_product(product_id)
        apply(product, data)


def lock_variants(product_id: int) -> None:
    """Inside a write transaction, before the product row is locked: lock the product's variant
    rows by id, the order :mod:`app.orders.stock` takes them in (a variant, then its product
    row), so a seller's save and a checkout never wait for each other in a circle."""
    db.session.execute(
        sa.select(ProductVariant.id)
        .where(ProductVariant.product_id == product_id)
        .order_by(ProductVariant.id)
        .with_for_update()
    ).all()


def apply(product: Product, data: VariantsData) -> list[tuple[ProductVariant, int]]:
    """Inside the caller's write transaction, the product row locked: write checked ``data``
    (see :func:`check`) to ``product`` and mirror its variants onto it. The CSV import calls
    this for each listing it saves. Returns the variants whose stock changed after the form
    showed it (a row's ``seen_stock``), kept as they are, each with the stock the seller
    entered."""
    kept: list[tuple[ProductVariant, int]] = []
    existing = {
        (v.value1, v.value2, v.value3): v
        for v in db.session.scalars(
            sa.select(ProductVariant)
            .where(ProductVariant.product_id == product.id)
            .execution_options(populate_existing=True)
        )
    }
    # Offered variants with stock before: the others coming back are told to who waits.
    stocked_before = {key for key, v in existing.items() if v.active and v.stock > 0}
    db.session.execute(sa.delete(ProductOption).where(ProductOption.product_id == product.id))
    db.session.flush()
    for position, option in enumerate(data.options):
        db.session.add(
            ProductOption(
                product_id=product.id,
                position=position,
                name=option.name,
                values=list(option.values),
            )
        )
    offered: set[tuple[str, str, str]] = set()
    for position, row in enumerate(data.variants):
        padded = [*row.values, "", "", ""][:3]
        key = (padded[0], padded[1], padded[2])
        offered.add(key)
        variant = existing.get(key)
        if variant is None:
            variant = ProductVariant(
                product_id=product.id, value1=key[0], value2=key[1], value3=key[2]
            )
            db.session.add(variant)
        variant.position = position
        variant.price_amount = row.price_amount or 0
        variant.sale_price_amount = row.sale_price_amount
        if (
            variant.id is not None
            and row.seen_stock is not None
            and variant.stock != row.seen_stock
        ):
            if row.stock != variant.stock:
                kept.append((variant, row.stock))  # sold (or restocked) while being edited
        else:
            variant.stock = row.stock
        variant.sku = row.sku
        variant.image_id = row.image_id
        variant.active = True
    for key, variant in existing.items():
        if key not in offered:
            variant.active = False
    db.session.flush()
    restocked = [
        (product.id, v.id)
        for key, v in existing.items()
        if key in offered and key not in stocked_before and v.stock > 0
    ]
    if restocked:
        stock_alerts.note_restock(db.session(), (), restocked)
    mirror(product)
    return kept


def mirror(product: Product) -> None:
    """Set ``product``'s stock, price and sale price from its active variants (see the module's
    docstring) through the ORM, so the change tracking (search, cached pages, back-in-stock)
    sees them as it sees a seller's edit."""
    row = db.session.execute(
        sa.select(
            sa.func.count(ProductVariant.id),
            sa.func.coalesce(sa.func.sum(ProductVariant.stock), 0),
            sa.func.min(ProductVariant.price_amount),
            sa.func.min(ProductVariant.sale_price_amount),
        ).where(ProductVariant.product_id == product.id, ProductVariant.active.is_(True))
    ).one()
    count, stock, lowest, lowest_sale = row
    product.has_variants = bool(count)
    if not count:
        return
    product.stock = int(stock)
    product.price_amount = int(lowest)
    product.sale_price_amount = int(lowest_sale) if lowest_sale is not None else None
    if product.sale_price_amount is not None and product.sale_starts_at is None:
        # Variant sale prices without a sale period stay unused until the seller sets one.
        product.sale_price_amount = None


def options_of(product_id: int) -> list[ProductOption]:
    """The product's options in order."""
    return list(
        db.session.scalars(
            sa.select(ProductOption)
            .where(ProductOption.product_id == product_id)
            .order_by(ProductOption.position)
        )
    )


def variants_of(product_id: int, *, active_only: bool = True) -> list[ProductVariant]:
    """The product's variants in the seller's order (only those offered, by default)."""
    query = sa.select(ProductVariant).where(ProductVariant.product_id == product_id)
    if active_only:
        query = query.where(ProductVariant.active.is_(True))
    return list(db.session.scalars(query.order_by(ProductVariant.position, ProductVariant.id)))


def quote(variant: ProductVariant, product: Product) -> pricing.Quote:
    """What one unit of ``variant`` costs now and why: the lowest of its price, its sale price
    while its product's sale period runs, and the market campaigns its product's shop joined
    that cover its category (:func:`app.catalog.pricing.quote`, as a product's own price)."""
    return pricing.quote(
        variant.price_amount,
        variant.sale_price_amount,
        product.sale_starts_at,
        product.sale_ends_at,
        pricing.offers_for(product.seller_id, product.category_id),
    )


def price_now(variant: ProductVariant, product: Product) -> int:
    """What one unit of ``variant`` costs now (:func:`quote`'s amount)."""
    return quote(variant, product).amount


def label(variant: ProductVariant, options: Sequence[ProductOption]) -> str:
    """What the variant is, in words: "سایز: M، رنگ: آبی" (the options' names with its values);
    without options, its values alone."""
    values = variant.values
    if len(options) != len(values):
        return "، ".join(values)
    return "، ".join(
        f"{option.name}: {value}" for option, value in zip(options, values, strict=False)
    )


def labels_of(variant_ids: Sequence[int | None]) -> dict[int, str]:
    """The label of each of ``variant_ids`` (see :func:`label`), by id; unknown ids left out."""
    ids = sorted({i for i in variant_ids if i is not None})
    if not ids:
        return {}
    found = list(db.session.scalars(sa.select(ProductVariant).where(ProductVariant.id.in_(ids))))
    options: dict[int, list[ProductOption]] = {}
    for product_id in sorted({v.product_id for v in found}):
        options[product_id] = []
    for option in db.session.scalars(
        sa.select(ProductOption)
        .where(ProductOption.product_id.in_(list(options)))
        .order_by(ProductOption.position)
    ):
        options[option.product_id].append(option)
    return {v.id: label(v, options[v.product_id]) for v in found}


@dataclass
class Offer:
    """One variant as the product page offers it: its label and its price now."""

    variant: ProductVariant
    label: str
    price_now: int

    @property
    def on_sale(self) -> bool:
        return self.price_now < self.variant.price_amount


def offers(product: Product) -> list[Offer]:
    """The product's offered variants, in the seller's order, for its page's picker."""
    options = options_of(product.id)
    return [
        Offer(variant, label(variant, options), price_now(variant, product))
        for variant in variants_of(product.id)
    ]


def variants_of_ids(variant_ids: Sequence[int | None]) -> list[ProductVariant]:
    """The variants of these ids (unknown ones left out)."""
    ids = sorted({i for i in variant_ids if i is not None})
    if not ids:
        return []
    return list(db.session.scalars(sa.select(ProductVariant).where(ProductVariant.id.in_(ids))))
