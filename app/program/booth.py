"""What the booth page (recording sales at a fair on a phone) reads: the seller's listings to
tap. The entries themselves are offline sales (:mod:`app.program.offline`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Product, ProductStatus
from app.core.extensions import db

MAX_PRODUCTS = 200  # a booth grid longer than this is no quicker than the form


def booth_products(seller_id: int) -> list[Product]:
    """The seller's published listings with their photos, by title."""
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.seller_id == seller_id, Product.status == ProductStatus.PUBLISHED)
            .options(selectinload(Product.images))
            .order_by(Product.title, Product.id)
            .limit(MAX_PRODUCTS)
        )
    )
