"""Catalogue change tracking, in the same transaction as the change.

Any flush that adds, changes or deletes a product, image, option, variant, seller or category
marks the affected products ``search_dirty`` (the search index's durable to-do list) and, when
the change can show on a storefront page, makes the cached pages it shows on stale. Cached
pages are keyed by two numbers: the whole catalogue's version (the ``catalog_version`` row) and
the version of the page's own scope (``page_version`` rows, :func:`scope_of_product` and friends). A listing's change
bumps only the scopes it shows on: its own page, the lists of its category and every category
above it (old and new, when it moved), of its shop and its shop's county, and the home page; so
the pages of every other listing, category and shop stay cached. A change of a seller or a
category (names, slugs, status: shown on many listings' pages) bumps the whole catalogue.

A listing that is not published before nor after the change (a draft being written, its photos,
a listing hidden by staff) shows nowhere public, so its edits leave the cached pages be. Bulk SQL
that bypasses the ORM unit of work (the stock reservation's conditional UPDATE) calls
:func:`mark_products_changed` or :func:`mark_catalog_changed` itself.

Lock order, one for every writer so PostgreSQL never sees a deadlock between them: product rows,
then the scope rows (sorted by name), then the catalogue version row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.catalog import stock_alerts
from app.catalog.models import (
    CatalogVersion,
    Category,
    PageVersion,
    Product,
    ProductImage,
    ProductOption,
    ProductStatus,
    ProductVariant,
    Seller,
)
from app.reference.models import County

TRACKED = (Product, ProductImage, ProductOption, ProductVariant, Seller, Category)
HOME_SCOPE = "home"


def scope_of_product(product_id: int) -> str:
    """The scope of a product's own page."""
    return f"product:{product_id}"


def scope_of_category(slug: str) -> str:
    """The scope of a category's list (its products and those of the categories below it)."""
    return f"category:{slug}"


def scope_of_seller(slug: str) -> str:
    """The scope of a shop's list of products."""
    return f"seller:{slug}"


def scope_of_county(slug: str) -> str:
    """The scope of a county's list of products."""
    return f"county:{slug}"


def mark_catalog_changed(session: Session) -> None:
    """Bump the whole catalogue's version inside the session's current transaction."""
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


def mark_pages_changed(session: Session, scopes: Iterable[str]) -> None:
    """Bump the version of each scope in ``scopes`` inside the session's current transaction
    (one statement; rows taken in name order)."""
    names = sorted(set(scopes))
    if not names:
        return
    session.info["catalog_changed"] = True
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(PageVersion).values([{"scope": name, "version": 1} for name in names])
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[PageVersion.scope], set_={"version": PageVersion.version + 1}
        )
    )


def list_scopes(
    session: Session, seller_ids: Iterable[int], category_ids: Iterable[int]
) -> set[str]:
    """The lists that show the products of ``seller_ids`` in ``category_ids``: the home page,
    the shops and their counties, the categories and every category above them."""
    scopes = {HOME_SCOPE}
    sellers = {i for i in seller_ids if i is not None}
    if sellers:
        rows = session.execute(
            sa.select(Seller.slug, County.slug)
            .join(County, County.id == Seller.county_id)
            .where(Seller.id.in_(sellers))
        )
        for seller_slug, county_slug in rows:
            scopes.add(scope_of_seller(seller_slug))
            scopes.add(scope_of_county(county_slug))
    categories = {i for i in category_ids if i is not None}
    if categories:
        up = (
            sa.select(Category.id, Category.parent_id, Category.slug)
            .where(Category.id.in_(categories))
            .cte("up", recursive=True)
        )
        up = up.union(
            sa.select(Category.id, Category.parent_id, Category.slug).join(
                up, Category.id == up.c.parent_id
            )
        )
        scopes.update(scope_of_category(slug) for slug in session.scalars(sa.select(up.c.slug)))
    return scopes


def mark_products_changed(
    session: Session,
    product_ids: Iterable[int],
    seller_ids: Iterable[int] = (),
    category_ids: Iterable[int] = (),
) -> None:
    """Bump the pages of ``product_ids`` and, when their cards changed, the lists of
    ``seller_ids`` and ``category_ids`` (pass none when only the product pages show the
    change, e.g. a stock count that stays above zero)."""
    scopes = {scope_of_product(i) for i in product_ids}
    sellers, categories = set(seller_ids), set(category_ids)
    if sellers or categories:
        scopes |= list_scopes(session, sellers, categories)
    mark_pages_changed(session, scopes)


def current_version(session: Session) -> int:
    """The committed version of the whole catalogue."""
    return session.scalar(sa.select(CatalogVersion.version).where(CatalogVersion.id == 1)) or 1


def current_versions(session: Session, scope: str) -> tuple[int, int]:
    """The committed catalogue version and the version of ``scope`` (0 when never bumped)."""
    row = session.execute(
        sa.select(
            sa.select(CatalogVersion.version).where(CatalogVersion.id == 1).scalar_subquery(),
            sa.select(PageVersion.version).where(PageVersion.scope == scope).scalar_subquery(),
        )
    ).one()
    return (row[0] or 1, row[1] or 0)


_PENDING = "bazarche_catalog_pending"


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    """Mark touched products dirty (ORM attributes) and remember what to bump after the flush."""
    touched = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, TRACKED)
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    if not touched:
        return
    pending = session.info.setdefault(
        _PENDING, {"sellers": set(), "categories": set(), "products": [], "everything": False}
    )
    for obj in touched:
        if isinstance(obj, Product):
            if obj not in session.deleted:
                obj.search_dirty = True
                if obj.id is not None and _restocked(obj):
                    stock_alerts.note_restock(session, (obj.id,))
            if _published_now_or_before(obj):
                pending["products"].append(obj)
        elif isinstance(obj, ProductImage):
            _part_changed(session, obj.product, pending)
        elif isinstance(obj, ProductOption | ProductVariant):
            # An option or variant shows on its product's page and in search (its values,
            # the facets), like the listing's own edit.
            pid = obj.product_id
            _part_changed(session, session.get(Product, pid) if pid is not None else None, pending)
        elif isinstance(obj, Seller):
            pending["everything"] = True
            if obj.id is not None:
                pending["sellers"].add(obj.id)
        elif isinstance(obj, Category):
            pending["everything"] = True
            if obj.id is not None:
                pending["categories"].add(obj.id)


def _part_changed(session: Session, product: Product | None, pending: dict[str, Any]) -> None:
    """A part of ``product`` (a photo, an option, a variant) changed: the product is dirty
    and its pages go stale if it is (or was) public; a part of no listing makes every page
    stale."""
    if product is not None and product not in session.deleted:
        product.search_dirty = True
    if product is None:
        pending["everything"] = True  # no listing to name: every page may show it
    elif _published_now_or_before(product):
        pending["products"].append(product)


def _restocked(product: Product) -> bool:
    """Did this flush bring ``product`` back: its stock from zero above it (a seller's edit),
    or a listing in stock public again? Its waiting customers are told after the commit (:mod:`app.catalog.stock_alerts`)."""
    if (product.stock or 0) <= 0:
        return False
    stock = sa.inspect(product).attrs.stock.history
    if stock.deleted and 0 in stock.deleted:
        return True
    # A listing in stock published again (alerts wait while it is not public).
    status = sa.inspect(product).attrs.status.history
    return product.status == ProductStatus.PUBLISHED and bool(status.deleted)


def _published_now_or_before(product: Product) -> bool:
    if product.status == ProductStatus.PUBLISHED:
        return True
    before = sa.inspect(product).attrs.status.history.deleted or ()
    return ProductStatus.PUBLISHED in before


def _before_and_now(product: Product, attribute: str) -> set[int]:
    """The values ``product``'s foreign key ``attribute`` had before this flush and has now
    (the attribute history still holds the old value in ``after_flush``)."""
    history = sa.inspect(product).attrs[attribute].history
    values = {getattr(product, attribute), *(history.deleted or ())}
    return {value for value in values if value is not None}


def _after_flush(session: Session, _context: object) -> None:
    """After the rows themselves: their products' dirty flags, then the pages' versions."""
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
    products = pending["products"]
    if products and not pending["everything"]:
        ids = {product.id for product in products if product.id is not None}
        sellers: set[int] = set()
        categories: set[int] = set()
        for product in products:
            sellers |= _before_and_now(product, "seller_id")
            categories |= _before_and_now(product, "category_id")
        mark_products_changed(session, ids, sellers, categories)
    if pending["everything"]:
        mark_catalog_changed(session)


def install(session_factory: object) -> None:
    """Listen on the Flask-SQLAlchemy session class (idempotent)."""
    if not sa.event.contains(session_factory, "before_flush", _before_flush):
        sa.event.listen(session_factory, "before_flush", _before_flush)
    if not sa.event.contains(session_factory, "after_flush", _after_flush):
        sa.event.listen(session_factory, "after_flush", _after_flush)
