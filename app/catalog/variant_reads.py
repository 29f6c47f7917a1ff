"""The options and variants of several products at once, for lists that show them (the API's
product list and detail): two queries for any number of products, never one per product."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.catalog.models import PhotoStatus, Product, ProductImage, ProductOption, ProductVariant
from app.core.extensions import db


@dataclass
class Offer:
    """A product's options in order and its offered (active) variants in the seller's order,
    each with its photo (``None`` when it has none, or the photo is not ready)."""

    options: list[ProductOption] = field(default_factory=list)
    variants: list[tuple[ProductVariant, ProductImage | None]] = field(default_factory=list)


def offers(products: Iterable[Product]) -> dict[int, Offer]:
    """product id → its :class:`Offer`, for the products of ``products`` that have variants
    (the others are left out)."""
    ids = [p.id for p in products if p.has_variants]
    if not ids:
        return {}
    out: dict[int, Offer] = {pid: Offer() for pid in ids}
    for option in db.session.scalars(
        sa.select(ProductOption)
        .where(ProductOption.product_id.in_(ids))
        .order_by(ProductOption.product_id, ProductOption.position)
    ):
        out[option.product_id].options.append(option)
    rows = db.session.execute(
        sa.select(ProductVariant, ProductImage)
        .outerjoin(
            ProductImage,
            sa.and_(
                ProductImage.id == ProductVariant.image_id,
                ProductImage.status == PhotoStatus.READY,
            ),
        )
        .where(ProductVariant.product_id.in_(ids), ProductVariant.active.is_(True))
        .order_by(ProductVariant.product_id, ProductVariant.position, ProductVariant.id)
    )
    for variant, image in rows:
        out[variant.product_id].variants.append((variant, image))
    return out
