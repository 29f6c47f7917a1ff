"""What the booth page (recording sales at a fair on a phone) reads: the seller's listings to
tap, one tile per offered variant of a listing with options. The entries themselves are offline
sales (:mod:`app.program.offline`)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog import variants
from app.catalog.models import Product, ProductImage, ProductStatus
from app.core.extensions import db

MAX_PRODUCTS = 200  # a booth grid longer than this is no quicker than the form


@dataclass(frozen=True)
class Tile:
    """One thing to tap: a listing, or one variant of a listing with options."""

    product_id: int
    variant_id: int | None
    title: str
    price: int  # one unit's price now
    cover: ProductImage | None


def booth_products(seller_id: int) -> list[Tile]:
    """The seller's published listings with their photos, by title; a listing with options
    as one tile per offered variant (its label in the title, its own price and photo)."""
    products = list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.seller_id == seller_id, Product.status == ProductStatus.PUBLISHED)
            .options(selectinload(Product.images))
            .order_by(Product.title, Product.id)
            .limit(MAX_PRODUCTS)
        )
    )
    tiles: list[Tile] = []
    for product in products:
        if not product.has_variants:
            tiles.append(
                Tile(product.id, None, product.title, product.effective_price, product.cover)
            )
            continue
        offered = variants.variants_of(product.id)
        labels = variants.labels_of([v.id for v in offered])
        images = {image.id: image for image in product.ready_images}
        for variant in offered:
            tiles.append(
                Tile(
                    product.id,
                    variant.id,
                    f"{product.title} ({labels[variant.id]})",
                    variants.price_now(variant, product),
                    images.get(variant.image_id or 0, product.cover),
                )
            )
    return tiles[:MAX_PRODUCTS]
