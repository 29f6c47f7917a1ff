"""Reads of the public catalogue that the storefront, the checkout and the API make beside the
listing queries of :mod:`app.catalog.queries`: small lookups by id, a seller's published count,
the categories of a page of products, and the versions the page cache is keyed by."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from app.catalog.changes import current_versions
from app.catalog.models import Category, Product, ProductStatus, Seller
from app.core.extensions import db


def page_versions(scope: str) -> tuple[int, int]:
    """The committed catalogue version and the version of the pages' ``scope``, read through
    the request's session."""
    return current_versions(db.session(), scope)


def product_title(product_id: int) -> str | None:
    """The title of any product (public or not), or None when there is no such product."""
    return db.session.scalar(sa.select(Product.title).where(Product.id == product_id))


def published_count(seller: Seller) -> int:
    """How many of ``seller``'s products are published (whatever the seller's own status)."""
    count = db.session.scalar(
        sa.select(sa.func.count(Product.id)).where(
            Product.seller_id == seller.id, Product.status == ProductStatus.PUBLISHED
        )
    )
    return count or 0


def preload_categories(products: list[Product]) -> None:
    """Load the products' categories in one query instead of one lazy load per product; a
    product whose category is already loaded keeps it."""
    ids = {p.category_id for p in products if p.category_id is not None}
    if not ids:
        return
    found = {c.id: c for c in db.session.scalars(sa.select(Category).where(Category.id.in_(ids)))}
    for product in products:
        if product.category_id is not None and "category" not in sa.inspect(product).dict:
            set_committed_value(product, "category", found.get(product.category_id))
