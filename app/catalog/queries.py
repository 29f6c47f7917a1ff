"""Read-side queries of the storefront. Only published products of approved sellers are public."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.catalog.models import Category, Product, ProductStatus, Seller, SellerStatus
from app.core.extensions import db
from app.reference.models import County

SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price_amount.asc(), Product.id.asc()),
    "price_desc": (Product.price_amount.desc(), Product.id.desc()),
}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


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


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching any value that contains ``text`` as typed: ``%``, ``_`` and
    ``\\`` in it match only themselves (use with ``escape="\\"``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def count_rows(stmt: sa.Select, column: Any) -> int:
    """How many rows ``stmt`` selects, counting ``column`` (its ordering is dropped)."""
    return db.session.scalar(stmt.with_only_columns(sa.func.count(column)).order_by(None)) or 0


def page_of(stmt: sa.Select, total: int, page: int, per_page: int, unique: bool = False) -> Page:
    """Page ``page`` of the ordered ``stmt`` that selects ``total`` rows, ``per_page`` a page;
    a page before the first shows the first and one past the last shows the last. ``unique``
    for a statement with joined eager loads of collections."""
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(
        items=list(rows.unique() if unique else rows), page=page, per_page=per_page, total=total
    )


def paginate(stmt: sa.Select, page: int, per_page: int, sort: str) -> Page:
    total = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(
                stmt.with_only_columns(Product.id).order_by(None).subquery()
            )
        )
        or 0
    )
    return page_of(stmt.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT])), total, page, per_page)


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


def category_and_descendant_ids(category: Category) -> list[int]:
    ids = [category.id]
    frontier = [category.id]
    while frontier:
        children = db.session.scalars(
            sa.select(Category.id).where(Category.parent_id.in_(frontier))
        ).all()
        # A parent loop in the data must not loop here forever (breadcrumbs guard it too).
        frontier = [child for child in children if child not in ids]
        ids.extend(frontier)
    return ids


def breadcrumbs(category: Category | None) -> list[Category]:
    trail: list[Category] = []
    seen: set[int] = set()
    while category is not None and category.id not in seen:
        trail.append(category)
        seen.add(category.id)
        category = category.parent
    return list(reversed(trail))


def products_in_category(category: Category, page: int, per_page: int, sort: str) -> Page:
    ids = category_and_descendant_ids(category)
    return paginate(public_products().where(Product.category_id.in_(ids)), page, per_page, sort)


def products_in_county(county: County, page: int, per_page: int, sort: str) -> Page:
    return paginate(public_products().where(Seller.county_id == county.id), page, per_page, sort)


def products_of_seller(seller: Seller, page: int, per_page: int, sort: str) -> Page:
    return paginate(public_products().where(Product.seller_id == seller.id), page, per_page, sort)


def newest_products(limit: int) -> list[Product]:
    return list(db.session.scalars(public_products().order_by(*SORTS["newest"]).limit(limit)))


def featured_products(limit: int) -> list[Product]:
    return list(
        db.session.scalars(
            public_products()
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
    return db.session.scalar(
        sa.select(Category).where(Category.slug == slug).options(selectinload(Category.children))
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
            from app.reference.models import Sector

            stmt = stmt.join(Sector, Sector.id == Seller.sector_id).where(
                Sector.slug == filters.sector
            )
        if getattr(filters, "min_price", None) is not None:
            stmt = stmt.where(Product.price_amount >= filters.min_price)
        if getattr(filters, "max_price", None) is not None:
            stmt = stmt.where(Product.price_amount <= filters.max_price)
        if getattr(filters, "in_stock", False):
            stmt = stmt.where(Product.stock > 0)
    return paginate(stmt, page, per_page, sort)
