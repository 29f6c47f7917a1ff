"""Stock moves: the one place that takes products' stock and gives it back.

Stock is taken by one conditional ``UPDATE product SET stock = stock - :q WHERE id = :id AND
stock >= :q`` per product, in product-id order (one lock order for every writer, so two
transactions taking the same products never deadlock), checking each row count: never
read-check-write, never below zero. Both functions run inside the caller's write transaction and
mark what changed (search sync; the product pages, which show the stock, and the lists too when
a listing sold out or came back: their cards say so); the caller commits, or rolls back when
:func:`take` raises.

Used by checkout and late card payments (``app.orders``, ``app.payments``) and by off-line sales
(``app.program``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from app.catalog import stock_alerts
from app.catalog.changes import mark_products_changed
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
    changed: set[int] = set()
    sold_out: list[tuple[int, int]] = []  # (seller, category) of listings that sold out now
    for product_id, quantity in sorted(totals.items()):  # one lock order for every writer
        condition = [Product.id == product_id, Product.stock >= quantity]
        if published_only:
            condition.append(Product.status == ProductStatus.PUBLISHED)
        taken = db.session.execute(
            sa.update(Product)
            .where(*condition)
            .values(stock=Product.stock - quantity, search_dirty=True)
            .returning(Product.stock, Product.seller_id, Product.category_id)
            .execution_options(synchronize_session=False)
        ).first()
        if taken is None:
            title = db.session.scalar(sa.select(Product.title).where(Product.id == product_id))
            raise OutOfStock(product_id, title or "")
        changed.add(product_id)
        if taken.stock == 0:
            sold_out.append((taken.seller_id, taken.category_id))
    _mark_changed(changed, sold_out)


def _mark_changed(product_ids: set[int], flipped: list[tuple[int, int]]) -> None:
    """Stale the product pages (they show the stock count) and, for the listings whose cards
    changed between in stock and sold out (``flipped``: their seller and category), the lists."""
    if product_ids:
        mark_products_changed(
            db.session(),
            product_ids,
            {seller for seller, _category in flipped},
            {category for _seller, category in flipped},
        )


def give_back(lines: Iterable[tuple[int | None, int]]) -> None:
    """Add each ``(product_id, quantity)`` back to its product's stock; lines whose product is
    gone (``None``) are skipped. The caller makes sure this happens once per taking (orders:
    the conditional UPDATE of ``stock_released``)."""
    totals: dict[int, int] = defaultdict(int)
    for product_id, quantity in lines:
        if product_id is not None:
            totals[product_id] += quantity
    changed: set[int] = set()
    restocked: set[int] = set()
    back_in_stock: list[tuple[int, int]] = []
    for product_id, quantity in sorted(totals.items()):  # one lock order for every writer
        given = db.session.execute(
            sa.update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity, search_dirty=True)
            .returning(Product.stock, Product.seller_id, Product.category_id)
            .execution_options(synchronize_session=False)
        ).first()
        if given is None:
            continue
        changed.add(product_id)
        if quantity > 0 and given.stock == quantity:  # it was sold out
            back_in_stock.append((given.seller_id, given.category_id))
            restocked.add(product_id)
    _mark_changed(changed, back_in_stock)
    if restocked:  # its waiting customers are told after the commit
        stock_alerts.note_restock(db.session(), restocked)
