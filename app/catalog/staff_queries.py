"""Reads of the staff area over sellers and listings: the seller review queue (a page and the
whole of it for a spreadsheet), the counts the dashboard shows, one seller or listing with what
its staff page shows, and the listing moderation queue's page and export."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.catalog.models import Product, ProductStatus, Seller, SellerStatus, SellerStatusChange
from app.catalog.moderation import ListingFilters, moderation_listings
from app.catalog.scope import PROVINCE, Scope
from app.core.extensions import db
from app.core.pagination import Page, contains_pattern, count_rows, page_of

# ---- sellers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SellerQueueFilters:
    """What the seller queue shows. Empty or ``None`` means "any"."""

    status: str = SellerStatus.APPLIED.value  # a SellerStatus value, or "" for every status
    text: str = ""  # part of the business name, registration code or shop address
    county_id: int | None = None
    sector_id: int | None = None
    # Whose sellers the staff member may see (a county officer: their county's).
    scope: Scope = PROVINCE


def _seller_queue(filters: SellerQueueFilters) -> sa.Select[tuple[Seller]]:
    stmt = sa.select(Seller).where(*filters.scope.sellers())
    if filters.status:
        stmt = stmt.where(Seller.status == filters.status)
    if filters.text:
        pattern = contains_pattern(filters.text)
        searched = (Seller.display_name, Seller.registration_code, Seller.slug)
        stmt = stmt.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in searched)))
    if filters.county_id is not None:
        stmt = stmt.where(Seller.county_id == filters.county_id)
    if filters.sector_id is not None:
        stmt = stmt.where(Seller.sector_id == filters.sector_id)
    return stmt


_QUEUE_ORDER = (Seller.created_at.asc(), Seller.id)


def seller_queue_page(filters: SellerQueueFilters, page: int, per_page: int) -> Page:
    """One page of the queue, oldest application first, with county and sector loaded."""
    stmt = _seller_queue(filters).options(joinedload(Seller.county), joinedload(Seller.sector))
    return page_of(stmt.order_by(*_QUEUE_ORDER), count_rows(stmt, Seller.id), page, per_page)


def seller_queue_rows(filters: SellerQueueFilters) -> list[Seller]:
    """Every seller of the queue in its order, with county, sector and account loaded."""
    return list(
        db.session.scalars(
            _seller_queue(filters)
            .options(joinedload(Seller.county), joinedload(Seller.sector), joinedload(Seller.user))
            .order_by(*_QUEUE_ORDER)
        )
    )


def seller_status_counts(scope: Scope = PROVINCE) -> dict[str, int]:
    """How many sellers (of ``scope``) have each status (a status nobody has is absent)."""
    rows = db.session.execute(
        sa.select(Seller.status, sa.func.count(Seller.id))
        .where(*scope.sellers())
        .group_by(Seller.status)
    ).tuples()
    return {SellerStatus(status).value: n for status, n in rows}


def seller_for_review(seller_id: int, scope: Scope = PROVINCE) -> Seller | None:
    """The seller (``None`` outside ``scope``) with account, place, sector and status history
    (with each change's actor)."""
    return db.session.scalar(
        sa.select(Seller)
        .where(Seller.id == seller_id, *scope.sellers())
        .options(
            joinedload(Seller.user),
            joinedload(Seller.county),
            joinedload(Seller.sector),
            selectinload(Seller.status_changes).joinedload(SellerStatusChange.actor),
        )
    )


def product_count(seller: Seller) -> int:
    """How many products ``seller`` has, in any status."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Product.id)).where(Product.seller_id == seller.id)
        )
        or 0
    )


def published_product_count(scope: Scope = PROVINCE) -> int:
    """How many products (of ``scope``'s sellers) are published, whatever their sellers'
    status."""
    stmt = sa.select(sa.func.count(Product.id)).where(Product.status == ProductStatus.PUBLISHED)
    if not scope.is_province:
        stmt = stmt.join(Seller, Seller.id == Product.seller_id).where(*scope.sellers())
    return db.session.scalar(stmt) or 0


# ---- listings -----------------------------------------------------------------------------------


def _with_rows(stmt: sa.Select[tuple[Product]]) -> sa.Select[tuple[Product]]:
    """What a row of the moderation queue shows: pictures, category, seller's place and sector."""
    return stmt.options(
        selectinload(Product.images),
        joinedload(Product.category),
        joinedload(Product.seller).joinedload(Seller.county),
        joinedload(Product.seller).joinedload(Seller.sector),
    )


def moderation_page(filters: ListingFilters, page: int, per_page: int) -> Page:
    """One page of the listing moderation queue, in the tab's order."""
    stmt = moderation_listings(filters)
    return page_of(_with_rows(stmt), count_rows(stmt, Product.id), page, per_page, unique=True)


def moderation_rows(filters: ListingFilters, limit: int) -> list[Product]:
    """The first ``limit`` listings of the moderation queue, for a spreadsheet."""
    return list(db.session.scalars(_with_rows(moderation_listings(filters)).limit(limit)).unique())


def listing_for_staff(product_id: int, scope: Scope = PROVINCE) -> Product | None:
    """Any listing of ``scope``'s sellers (whatever its status), with pictures, category and its
    seller's account, place and sector; ``None`` outside ``scope``."""
    stmt = sa.select(Product).where(Product.id == product_id)
    if not scope.is_province:
        stmt = stmt.join(Seller, Seller.id == Product.seller_id).where(*scope.sellers())
    return db.session.scalar(
        _with_rows(stmt).options(joinedload(Product.seller).joinedload(Seller.user))
    )
