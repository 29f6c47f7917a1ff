"""Stock moves: the one place that takes products' stock and gives it back.

Stock is taken by one conditional ``UPDATE product SET stock = stock - :q WHERE id = :id AND
stock >= :q`` per product, in product-id order (one lock order for every writer, so two
transactions taking the same products never deadlock), checking each row count: never
read-check-write, never below zero. Both functions run inside the caller's write transaction and
mark the catalogue changed (version bump, search sync); the caller commits, or rolls back when
:func:`take` raises.

Used by checkout and late card payments (``app.orders``, ``app.payments``) and by off-line sales
(``app.program``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa

from app.catalog.changes import mark_catalog_changed
from app.catalog.models import Product, ProductStatus
from app.core.extensions import db
from app.orders.errors import OutOfStock


def take(wanted: Iterable[tuple[int, int]], *, published_only: bool = False) -> None:
    """Take ``quantity`` of each ``(product_id, quantity)`` pair (pairs of one product add up),
    all or nothing.

    With ``published_only`` a product that is not published counts as out of stock (checkout).
    Raises OutOfStock naming the first product short of stock; some rows may already have been
    taken, so the caller's transaction (or savepoint) must be rolled back then.
    """
    totals: dict[int, int] = defaultdict(int)
    for product_id, quantity in wanted:
        totals[product_id] += quantity
    for product_id, quantity in sorted(totals.items()):  # one lock order for every writer
        condition = [Product.id == product_id, Product.stock >= quantity]
        if published_only:
            condition.append(Product.status == ProductStatus.PUBLISHED)
        taken = db.session.execute(
            sa.update(Product)
            .where(*condition)
            .values(stock=Product.stock - quantity, search_dirty=True)
            .execution_options(synchronize_session=False)
        )
        if cast("sa.CursorResult[Any]", taken).rowcount != 1:
            title = db.session.scalar(sa.select(Product.title).where(Product.id == product_id))
            raise OutOfStock(product_id, title or "")
    if totals:
        mark_catalog_changed(db.session())


def give_back(lines: Iterable[tuple[int | None, int]]) -> None:
    """Add each ``(product_id, quantity)`` back to its product's stock; lines whose product is
    gone (``None``) are skipped. The caller makes sure this happens once per taking (orders:
    the conditional UPDATE of ``stock_released``)."""
    for product_id, quantity in lines:
        if product_id is None:
            continue
        db.session.execute(
            sa.update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity, search_dirty=True)
            .execution_options(synchronize_session=False)
        )
    mark_catalog_changed(db.session())
