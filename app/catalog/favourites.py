"""Favourite products and followed shops.

A signed-in customer's favourites are :class:`Favourite` rows; a guest keeps up to
:data:`GUEST_LIMIT` product ids in the session, merged into the account at login
(:func:`merge_guest`). Only public products (published, of an approved shop) can be added and
only approved shops followed; adding what is already there, or removing what is not, changes
nothing. The shared storefront pages never show whose favourites they are: the hearts are drawn
neutral and filled in by the browser from :func:`favourite_ids`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.accounts.models import User
from app.catalog import queries
from app.catalog.models import (
    Favourite,
    FollowedShop,
    Product,
    ProductStatus,
    Seller,
    SellerStatus,
)
from app.core.db import transaction
from app.core.extensions import db
from app.core.pagination import Page, paginate

# A guest's favourites kept in the session (the newest kept when more are added).
GUEST_LIMIT = 200
SESSION_KEY = "favourites"


def guest_ids(value: Any) -> list[int]:
    """The product ids a session value holds, malformed entries dropped, at most
    :data:`GUEST_LIMIT` (the newest, last)."""
    if not isinstance(value, list):
        return []
    ids: list[int] = []
    for item in value:
        if type(item) is int and item > 0 and item not in ids:
            ids.append(item)
    return ids[-GUEST_LIMIT:]


def find_product(product_id: int) -> Product | None:
    return db.session.get(Product, product_id)


def find_shop(seller_id: int) -> Seller | None:
    return db.session.get(Seller, seller_id)


def is_public_product(product_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Product.id)
            .join(Seller, Seller.id == Product.seller_id)
            .where(
                Product.id == product_id,
                Product.status == ProductStatus.PUBLISHED,
                Seller.status == SellerStatus.APPROVED,
            )
        )
        is not None
    )


def is_public_shop(seller_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Seller.id).where(
                Seller.id == seller_id, Seller.status == SellerStatus.APPROVED
            )
        )
        is not None
    )


def _insert_ignoring(model: type, **values: Any) -> None:
    """Insert a row unless one with its primary key exists (two requests at once included)."""
    dialect = db.engine.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(insert(model).values(**values).on_conflict_do_nothing())
        return
    keys = {c.name: values[c.name] for c in model.__table__.primary_key.columns}  # type: ignore[attr-defined]
    if db.session.get(model, tuple(keys.values())) is None:
        db.session.add(model(**values))


def set_favourite(user: User, product_id: int, wanted: bool) -> None:
    """Keep (``wanted``) or drop ``product_id`` among ``user``'s favourites; idempotent. The
    caller has checked the product is public when adding."""
    with transaction():
        if wanted:
            _insert_ignoring(Favourite, user_id=user.id, product_id=product_id)
        else:
            db.session.execute(
                sa.delete(Favourite).where(
                    Favourite.user_id == user.id, Favourite.product_id == product_id
                )
            )


def set_guest_favourite(ids: list[int], product_id: int, wanted: bool) -> list[int]:
    """The guest's session list with ``product_id`` kept or dropped (bounded)."""
    kept = [i for i in ids if i != product_id]
    if wanted:
        kept.append(product_id)
    return kept[-GUEST_LIMIT:]


def merge_guest(user: User, value: Any) -> None:
    """At login: the guest's favourites (a session value) join the account's."""
    ids = guest_ids(value)
    if not ids:
        return
    with transaction():
        public = set(
            db.session.scalars(
                sa.select(Product.id)
                .join(Seller, Seller.id == Product.seller_id)
                .where(
                    Product.id.in_(ids),
                    Product.status == ProductStatus.PUBLISHED,
                    Seller.status == SellerStatus.APPROVED,
                )
            )
        )
        for product_id in ids:
            if product_id in public:
                _insert_ignoring(Favourite, user_id=user.id, product_id=product_id)


def favourite_ids(user: User | None, guest: Any = None) -> list[int]:
    """The ids of the products ``user`` (or a guest, by their session value) keeps."""
    if user is None:
        return guest_ids(guest)
    return list(
        db.session.scalars(
            sa.select(Favourite.product_id)
            .where(Favourite.user_id == user.id)
            .order_by(Favourite.created_at.desc())
        )
    )


def favourite_products(user: User | None, guest: Any, page: int, per_page: int) -> Page:
    """A page of the public products among the favourites, the newest favourite first."""
    if user is None:
        ids = guest_ids(guest)
        if not ids:
            return Page([], 1, per_page, 0)
        order = sa.case({pid: n for n, pid in enumerate(reversed(ids))}, value=Product.id)
        stmt = queries.public_products().where(Product.id.in_(ids))
        return paginate(stmt, Product.id, (order, Product.id), page, per_page)
    stmt = (
        queries.public_products()
        .join(Favourite, Favourite.product_id == Product.id)
        .where(Favourite.user_id == user.id)
    )
    return paginate(
        stmt, Product.id, (Favourite.created_at.desc(), Product.id.desc()), page, per_page
    )


def set_follow(user: User, seller_id: int, wanted: bool) -> None:
    """Follow (``wanted``) or stop following a shop; idempotent. The caller has checked the shop
    is public when following."""
    with transaction():
        if wanted:
            _insert_ignoring(FollowedShop, user_id=user.id, seller_id=seller_id)
        else:
            db.session.execute(
                sa.delete(FollowedShop).where(
                    FollowedShop.user_id == user.id, FollowedShop.seller_id == seller_id
                )
            )


def follows(user: User | None, seller_id: int) -> bool:
    if user is None:
        return False
    return db.session.get(FollowedShop, (user.id, seller_id)) is not None


def followed_shops(user: User) -> list[Seller]:
    """The approved shops ``user`` follows, the most recently followed first."""
    return list(
        db.session.scalars(
            sa.select(Seller)
            .join(FollowedShop, FollowedShop.seller_id == Seller.id)
            .where(FollowedShop.user_id == user.id, Seller.status == SellerStatus.APPROVED)
            .order_by(FollowedShop.created_at.desc(), Seller.id)
        )
    )


def followed_listings(user: User, page: int, per_page: int) -> Page:
    """The public products of the shops ``user`` follows, the newest first."""
    stmt = (
        queries.public_products()
        .join(FollowedShop, FollowedShop.seller_id == Product.seller_id)
        .where(FollowedShop.user_id == user.id)
    )
    return paginate(
        stmt,
        Product.id,
        (sa.func.coalesce(Product.published_at, Product.created_at).desc(), Product.id.desc()),
        page,
        per_page,
    )


def favourite_counts(product_ids: Iterable[int]) -> dict[int, int]:
    """How many people keep each of ``product_ids`` among their favourites (one grouped
    query; products nobody keeps are absent)."""
    ids = list(product_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Favourite.product_id, sa.func.count())
        .where(Favourite.product_id.in_(ids))
        .group_by(Favourite.product_id)
    ).tuples()
    return {product_id: count for product_id, count in rows}


def personal_data(user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The user's favourites and followed shops, for their data download."""
    favourites = db.session.execute(
        sa.select(Favourite.product_id, Product.title, Favourite.created_at)
        .join(Product, Product.id == Favourite.product_id)
        .where(Favourite.user_id == user_id)
        .order_by(Favourite.created_at)
    ).tuples()
    shops = db.session.execute(
        sa.select(FollowedShop.seller_id, Seller.display_name, FollowedShop.created_at)
        .join(Seller, Seller.id == FollowedShop.seller_id)
        .where(FollowedShop.user_id == user_id)
        .order_by(FollowedShop.created_at)
    ).tuples()
    return {
        "favourites": [
            {"product_id": pid, "title": title, "added_at": at.isoformat()}
            for pid, title, at in favourites
        ],
        "followed_shops": [
            {"seller_id": sid, "name": name, "followed_at": at.isoformat()}
            for sid, name, at in shops
        ],
    }


def forget_user(user_id: int) -> None:
    """Remove the user's favourites and followed shops (inside the caller's transaction)."""
    db.session.execute(sa.delete(Favourite).where(Favourite.user_id == user_id))
    db.session.execute(sa.delete(FollowedShop).where(FollowedShop.user_id == user_id))
