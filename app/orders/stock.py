"""Stock moves: the one place that takes products' (and their variants') stock and gives it back.

A move names ``(product_id, variant_id or None, quantity)``. A product without options moves by
one conditional ``UPDATE product SET stock = stock - :q WHERE id = :id AND stock >= :q``. A
variant of a product with options moves by one conditional UPDATE of the variant (``stock >=
:q``, still offered) and one of its product's row by the same amount, since the product row
mirrors the sum of its active variants (:mod:`app.catalog.variants`). Every writer locks in one
order, so two transactions moving the same stock never deadlock: products by id and, within a
product, its variants by id, then the product row (a seller's save of the variants locks them the
same way). Each row count is checked: never read-check-write, never below zero.

Both functions run inside the caller's write transaction and mark what changed (search sync; the
product pages, which show the stock, and the lists too when a listing sold out or came back:
their cards say so); a product or a variant whose stock rose from zero is noted for its waiting
back-in-stock requests. The caller commits, or rolls back when :func:`take` raises.

Used by checkout and late card payments (``app.orders``, ``app.payments``) and by off-line sales
(``app.program``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NoReturn

import sqlalchemy as sa

from app.catalog import stock_alerts
from app.catalog.changes import mark_products_changed
from app.catalog.models import Product, ProductStatus, ProductVariant
from app.core.extensions import db
from app.orders.errors import OutOfStock

# (product_id, variant_id or None, quantity) of one move.
Move = tuple[int, int | None, int]


def _grouped(
    moves: Iterable[tuple[int | None, int | None, int]],
) -> dict[int, tuple[int, dict[int, int]]]:
    """Per product: the quantity moved without a variant, and the quantities per variant (moves
    of one product or variant summed); moves whose product is gone (``None``) are dropped."""
    plain: dict[int, int] = defaultdict(int)
    by_variant: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for product_id, variant_id, quantity in moves:
        if product_id is None:
            continue
        if variant_id is None:
            plain[product_id] += quantity
        else:
            by_variant[product_id][variant_id] += quantity
    return {
        pid: (plain.get(pid, 0), dict(by_variant.get(pid, {}))) for pid in {*plain, *by_variant}
    }


def take(wanted: Iterable[Move], *, published_only: bool = False) -> None:
    """Take ``quantity`` of each ``(product_id, variant_id, quantity)`` (moves of one product or
    variant add up), all or nothing.

    A product with options is taken by its variants only: a move without a variant finds it out
    of stock, as does a variant that is not the product's, not offered or short of stock. With
    ``published_only`` a product that is not published counts as out of stock (checkout).
    Raises OutOfStock naming the first product short of stock; some rows may already have been
    taken, so the caller's transaction (or savepoint) must be rolled back then.
    """
    changed: set[int] = set()
    sold_out: list[tuple[int, int]] = []  # (seller, category) of listings that sold out now
    for product_id, (plain, by_variant) in sorted(_grouped(wanted).items()):  # one lock order
        for variant_id, quantity in sorted(by_variant.items()):
            _take_variant(product_id, variant_id, quantity, published_only)
        total = plain + sum(by_variant.values())
        condition = [Product.id == product_id, Product.stock >= total]
        if plain:
            condition.append(Product.has_variants.is_(False))
        if published_only:
            condition.append(Product.status == ProductStatus.PUBLISHED)
        taken = db.session.execute(
            sa.update(Product)
            .where(*condition)
            .values(stock=Product.stock - total, search_dirty=True)
            .returning(Product.stock, Product.seller_id, Product.category_id)
            .execution_options(synchronize_session=False)
        ).first()
        if taken is None:
            _out_of_stock(product_id)
        changed.add(product_id)
        if taken.stock == 0:
            sold_out.append((taken.seller_id, taken.category_id))
    _mark_changed(changed, sold_out)


def _take_variant(product_id: int, variant_id: int, quantity: int, published_only: bool) -> None:
    condition = [
        ProductVariant.id == variant_id,
        ProductVariant.product_id == product_id,
        ProductVariant.active.is_(True),
        ProductVariant.stock >= quantity,
    ]
    if published_only:
        condition.append(
            sa.exists().where(Product.id == product_id, Product.status == ProductStatus.PUBLISHED)
        )
    taken = db.session.execute(
        sa.update(ProductVariant)
        .where(*condition)
        .values(stock=ProductVariant.stock - quantity)
        .returning(ProductVariant.id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        _out_of_stock(product_id)


def _out_of_stock(product_id: int) -> NoReturn:
    title = db.session.scalar(sa.select(Product.title).where(Product.id == product_id))
    raise OutOfStock(product_id, title or "")


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


def give_back(lines: Iterable[tuple[int | None, int | None, int]]) -> None:
    """Add each ``(product_id, variant_id, quantity)`` back; lines whose product is gone
    (``None``) are skipped. A variant gets its units back even when no longer offered; its
    product's row gets them while the variant is offered (the row mirrors the offered ones) or
    when the product is sold as one item again. Units sold without a variant go back to a
    product only while it has no options. The caller makes sure this happens once per taking
    (orders: the conditional UPDATE of ``stock_released``)."""
    changed: set[int] = set()
    restocked: set[int] = set()
    restocked_variants: set[tuple[int, int]] = set()
    back_in_stock: list[tuple[int, int]] = []
    for product_id, (plain, by_variant) in sorted(_grouped(lines).items()):  # one lock order
        offered = 0  # units of offered variants: they go to the product row too
        others = plain  # units the row takes only while the product has no options
        for variant_id, quantity in sorted(by_variant.items()):
            given = db.session.execute(
                sa.update(ProductVariant)
                .where(ProductVariant.id == variant_id, ProductVariant.product_id == product_id)
                .values(stock=ProductVariant.stock + quantity)
                .returning(ProductVariant.stock, ProductVariant.active)
                .execution_options(synchronize_session=False)
            ).first()
            if given is None:  # not this product's variant (gone): the units go nowhere
                continue
            if given.active:
                offered += quantity
                if quantity > 0 and given.stock == quantity:  # it was sold out
                    restocked_variants.add((product_id, variant_id))
            else:
                others += quantity
        added = offered + sa.case((Product.has_variants.is_(True), 0), else_=others)
        row = db.session.execute(
            sa.update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + added, search_dirty=True)
            .returning(Product.stock, Product.has_variants, Product.seller_id, Product.category_id)
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            continue
        changed.add(product_id)
        amount = offered + (0 if row.has_variants else others)
        if amount > 0 and row.stock == amount:  # it was sold out
            back_in_stock.append((row.seller_id, row.category_id))
            restocked.add(product_id)
    _mark_changed(changed, back_in_stock)
    if restocked or restocked_variants:  # their waiting customers are told after the commit
        stock_alerts.note_restock(db.session(), restocked, restocked_variants)
