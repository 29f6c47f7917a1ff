"""Catalogue change tracking, in the same transaction as the change.

Any flush that adds, changes or deletes a product, image, seller or category marks the affected
products ``search_dirty`` (the search index's durable to-do list) and, when the change can show on
a storefront page, bumps the one ``catalog_version`` row (cached storefront pages are keyed by
it). A listing that is not published before nor after the change (a draft being written, its
photos, a listing hidden by staff) shows nowhere public, so its edits leave the cached pages be. Bulk SQL that bypasses the ORM unit of
work (the stock reservation's conditional UPDATE) calls ``mark_catalog_changed`` itself.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.catalog.models import (
    CatalogVersion,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Seller,
)

TRACKED = (Product, ProductImage, Seller, Category)


def mark_catalog_changed(session: Session) -> None:
    """Bump the catalogue version inside the session's current transaction."""
    session.info["catalog_changed"] = True
    result = cast(
        "sa.CursorResult[Any]",
        session.execute(
            sa.update(CatalogVersion)
            .where(CatalogVersion.id == 1)
            .values(version=CatalogVersion.version + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount == 0:
        session.execute(sa.insert(CatalogVersion).values(id=1, version=2))


def current_version(session: Session) -> int:
    return session.scalar(sa.select(CatalogVersion.version).where(CatalogVersion.id == 1)) or 1


_PENDING = "bazarche_catalog_pending"


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    """Mark touched products dirty (ORM attributes) and remember sellers/categories for after."""
    touched = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, TRACKED)
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    if not touched:
        return
    pending = session.info.setdefault(
        _PENDING, {"sellers": set(), "categories": set(), "shown": False}
    )
    for obj in touched:
        pending["shown"] = pending["shown"] or _shown(obj)
        if isinstance(obj, Product):
            if obj not in session.deleted:
                obj.search_dirty = True
        elif isinstance(obj, ProductImage):
            product = obj.product
            if product is not None and product not in session.deleted:
                product.search_dirty = True
        elif isinstance(obj, Seller) and obj.id is not None:
            pending["sellers"].add(obj.id)
        elif isinstance(obj, Category) and obj.id is not None:
            pending["categories"].add(obj.id)


def _published_now_or_before(product: Product) -> bool:
    if product.status == ProductStatus.PUBLISHED:
        return True
    before = sa.inspect(product).attrs.status.history.deleted or ()
    return ProductStatus.PUBLISHED in before


def _shown(obj: object) -> bool:
    """Can this change show on a storefront page? Products and their photos only while the
    product is (or was, before this change) published; sellers and categories always."""
    if isinstance(obj, Product):
        return _published_now_or_before(obj)
    if isinstance(obj, ProductImage):
        product = obj.product
        return product is None or _published_now_or_before(product)
    return True


def _after_flush(session: Session, _context: object) -> None:
    """After the rows themselves: their products' dirty flags, then the catalogue version.

    The version row is taken last, as the checkout's stock UPDATEs do (product rows, then the
    version): one lock order for every writer, so PostgreSQL never sees a deadlock between them.
    """
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    conn = session.connection()
    if pending["sellers"]:
        conn.execute(
            sa.update(Product)
            .where(Product.seller_id.in_(pending["sellers"]))
            .values(search_dirty=True)
        )
    if pending["categories"]:
        conn.execute(
            sa.update(Product)
            .where(Product.category_id.in_(pending["categories"]))
            .values(search_dirty=True)
        )
    if pending["shown"] or pending["sellers"] or pending["categories"]:
        mark_catalog_changed(session)


def install(session_factory: object) -> None:
    """Listen on the Flask-SQLAlchemy session class (idempotent)."""
    if not sa.event.contains(session_factory, "before_flush", _before_flush):
        sa.event.listen(session_factory, "before_flush", _before_flush)
    if not sa.event.contains(session_factory, "after_flush", _after_flush):
        sa.event.listen(session_factory, "after_flush", _after_flush)
