"""Read-side queries of the storefront. Only published products of approved sellers are public."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, defer, joinedload, selectinload

from app.catalog.models import Category, Product, ProductStatus, Seller, SellerStatus
from app.core.extensions import db
from app.core.pagination import Page, contains_pattern, paginate
from app.reference.models import County, Sector

SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price_amount.asc(), Product.id.asc()),
    "price_desc": (Product.price_amount.desc(), Product.id.desc()),
}
DEFAULT_SORT = "newest"


def public_products() -> sa.Select[tuple[Product]]:
    """Published products of approved sellers, with what a product card shows loaded up front."""
    return (
        sa.select(Product)
        .join(Seller, Seller.id == Product.seller_id)
        .where(Product.status == ProductStatus.PUBLISHED, Seller.status == SellerStatus.APPROVED)
        .options(
            selectinload(Product.images),
            joinedload(Product.seller).joinedload(Seller.county),
        )
    )


def product_cards() -> sa.Select[tuple[Product]]:
    """:func:`public_products` for lists of product cards: without the description, which a
    card never shows (reading it raises, so a template that starts to is caught at once)."""
    return public_products().options(defer(Product.description, raiseload=True))


def _sorted_page(stmt: sa.Select, page: int, per_page: int, sort: str) -> Page:
    """Page ``page`` of the products ``stmt`` selects, in the ``sort`` order (newest first when
    ``sort`` names none of :data:`SORTS`)."""
    return paginate(stmt, Product.id, SORTS.get(sort, SORTS[DEFAULT_SORT]), page, per_page)


def category_tree() -> list[Category]:
    """Root categories with children loaded (two levels)."""
    return list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position, Category.id)
            .options(selectinload(Category.children))
        )
    )


def leaf_category() -> Category | None:
    """The first category (in tree order) that has no sub-categories: a real, specific one."""
    parent = aliased(Category)
    has_children = sa.exists().where(parent.parent_id == Category.id)
    return db.session.scalar(
        sa.select(Category).where(~has_children).order_by(Category.position, Category.id).limit(1)
    )


def category_and_descendant_ids(category: Category) -> list[int]:
    """The ids of ``category`` and every category below it, read in one query (a recursive
    CTE; ``UNION``, not ``ALL``, ends at a parent loop in the data).

    Product queries take them as a list of values, not as a subquery: with the ids in hand
    PostgreSQL plans from the product index on (category, status, created_at) and counts only
    the category's rows, where a subquery's unknown size made it scan every product."""
    tree = sa.select(Category.id).where(Category.id == category.id).cte("subtree", recursive=True)
    child = aliased(Category)
    tree = tree.union(sa.select(child.id).where(child.parent_id == tree.c.id))
    return sorted(db.session.scalars(sa.select(tree.c.id)))


def breadcrumbs(category: Category | None) -> list[Category]:
    trail: list[Category] = []
    seen: set[int] = set()
    while category is not None and category.id not in seen:
        trail.append(category)
        seen.add(category.id)
        category = category.parent
    return list(reversed(trail))


def products_in_category(category: Category, page: int, per_page: int, sort: str) -> Page:
    """Page ``page`` of the public products of ``category`` and the categories below it."""
    stmt = product_cards().where(Product.category_id.in_(category_and_descendant_ids(category)))
    return _sorted_page(stmt, page, per_page, sort)


def products_in_county(county: County, page: int, per_page: int, sort: str) -> Page:
    return _sorted_page(product_cards().where(Seller.county_id == county.id), page, per_page, sort)


def products_of_seller(seller: Seller, page: int, per_page: int, sort: str) -> Page:
    return _sorted_page(product_cards().where(Product.seller_id == seller.id), page, per_page, sort)


def newest_products(limit: int) -> list[Product]:
    return list(db.session.scalars(product_cards().order_by(*SORTS["newest"]).limit(limit)))


def featured_products(limit: int) -> list[Product]:
    return list(
        db.session.scalars(
            product_cards()
            .where(Product.featured.is_(True))
            .order_by(*SORTS["newest"])
            .limit(limit)
        )
    )


def counties_with_sellers() -> list[tuple[County, int]]:
    """Counties and how many approved sellers each has, for the home page."""
    rows = db.session.execute(
        sa.select(County, sa.func.count(Seller.id))
        .join(
            Seller, sa.and_(Seller.county_id == County.id, Seller.status == SellerStatus.APPROVED)
        )
        .group_by(County.id)
        .order_by(sa.func.count(Seller.id).desc(), County.name_fa)
    ).all()
    return [(county, count) for county, count in rows]


def public_product(product_id: int) -> Product | None:
    return db.session.scalar(
        public_products()
        .where(Product.id == product_id)
        .options(joinedload(Product.category), joinedload(Product.seller).joinedload(Seller.sector))
    )


def public_seller(slug: str) -> Seller | None:
    return db.session.scalar(
        sa.select(Seller)
        .where(Seller.slug == slug, Seller.status == SellerStatus.APPROVED)
        .options(joinedload(Seller.county), joinedload(Seller.sector))
    )


def category_by_slug(slug: str) -> Category | None:
    """The category named ``slug`` with its sub-categories and its parent (the breadcrumbs')
    loaded (one query)."""
    return (
        db.session.scalars(
            sa.select(Category)
            .where(Category.slug == slug)
            .options(joinedload(Category.children), joinedload(Category.parent))
        )
        .unique()
        .first()
    )


def county_by_slug(slug: str) -> County | None:
    return db.session.scalar(sa.select(County).where(County.slug == slug))


def search_products(text: str, page: int, per_page: int, sort: str, filters: Any = None) -> Page:
    """Plain database search over titles and descriptions (the fallback when no index answers).

    ``filters`` is a SearchQuery-like object (category, county, sector, min/max price, in stock).
    """
    stmt = public_products()
    words = [w for w in text.split() if w][:8]
    for word in words:
        pattern = contains_pattern(word)
        stmt = stmt.where(
            sa.or_(
                Product.title.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            )
        )
    if filters is not None:
        if getattr(filters, "category", None):
            category = db.session.get(Category, filters.category)
            ids = category_and_descendant_ids(category) if category else [-1]
            stmt = stmt.where(Product.category_id.in_(ids))
        if getattr(filters, "county", None):
            stmt = stmt.join(County, County.id == Seller.county_id).where(
                County.slug == filters.county
            )
        if getattr(filters, "sector", None):
            stmt = stmt.join(Sector, Sector.id == Seller.sector_id).where(
                Sector.slug == filters.sector
            )
        if getattr(filters, "min_price", None) is not None:
            stmt = stmt.where(Product.price_amount >= filters.min_price)
        if getattr(filters, "max_price", None) is not None:
            stmt = stmt.where(Product.price_amount <= filters.max_price)
        if getattr(filters, "in_stock", False):
            stmt = stmt.where(Product.stock > 0)
    return _sorted_page(stmt, page, per_page, sort)
