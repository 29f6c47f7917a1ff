"""Concurrency of variants: a real gunicorn with several worker processes on the test database
(the SQLite file, or PostgreSQL with TEST_DATABASE_URL). 50 buyers at once checking out the last
5 units of one variant (size M in blue) of a shirt sold in six: exactly 5 orders, that variant's
stock 0, the other variants untouched, the product's stock the sum of its variants', nothing
below zero, 45 clear sold-out answers, no 5xx. Then the same with carts of two variants filled
in opposite orders: no deadlock, no half-bought cart; and the seller saving the variants while
buyers check out: no deadlock either."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from flask import current_app

from app.catalog import variants
from app.catalog.models import Product, ProductVariant
from app.core.extensions import db
from app.orders.models import CartLine, Order, OrderLine
from app.payments.models import Payment
from tests import factories
from tests.live_server import (
    THREADS,
    Server,
    assert_no_server_errors,
    burst,
    checkout_burst,
    count,
    customers,
    fresh,
    log_in,
    placed,
    post_checkout,
    put_variant_in_cart,
    stock,
)

pytestmark = pytest.mark.slow


def _variant_stock(variant_id: int) -> int:
    return db.session.scalar(sa.select(ProductVariant.stock).where(ProductVariant.id == variant_id))


def _mirrored(product_id: int) -> bool:
    """The product row's stock is the sum of its offered variants' and none is negative."""
    stocks = list(
        db.session.scalars(
            sa.select(ProductVariant.stock).where(
                ProductVariant.product_id == product_id, ProductVariant.active.is_(True)
            )
        )
    )
    return min(stocks) >= 0 and stock(product_id) == sum(stocks)


def test_fifty_buyers_of_the_last_five_of_one_variant_make_exactly_five_orders(
    live: Server,
) -> None:
    shop = factories.seller(name="Yazd Weavers")
    shirt = factories.product_with_variants(shop, title="Cotton shirt", stock=4)
    blue_m = factories.variant_of(shirt, "M", "آبی")
    blue_m.stock = 5
    db.session.commit()
    variants.mirror(shirt)
    db.session.commit()
    shirt_id, blue_m_id = shirt.id, blue_m.id
    others = {v.id: v.stock for v in variants.variants_of(shirt_id) if v.id != blue_m_id}
    assert stock(shirt_id) == 5 + 4 * 5
    users = customers(THREADS)
    for user in users:
        put_variant_in_cart(user, blue_m, 1)
    browsers = log_in(live, users)
    fresh()

    outcomes = checkout_burst(live, browsers, "Cotton shirt")

    assert outcomes == {"placed": 5, "sold_out": THREADS - 5}
    assert _variant_stock(blue_m_id) == 0
    assert {vid: _variant_stock(vid) for vid in others} == others
    assert stock(shirt_id) == 4 * 5
    assert _mirrored(shirt_id)
    assert count(Order) == count(Payment) == 5
    lines = db.session.scalars(sa.select(OrderLine)).all()
    assert sum(line.quantity for line in lines) == 5
    assert {(line.variant_id, line.variant_label, line.sku) for line in lines} == {
        (blue_m_id, "سایز: M، رنگ: آبی", f"V{shirt_id}-2")
    }
    assert count(CartLine) == THREADS - 5


def test_two_variant_carts_filled_in_opposite_orders_never_deadlock_or_half_buy(
    live: Server,
) -> None:
    shop = factories.seller(name="Yazd Weavers")
    shirt = factories.product_with_variants(shop, title="Cotton shirt", stock=40)
    buyers, few = 30, 12
    green_l = factories.variant_of(shirt, "L", "سبز")
    green_l.stock = few
    db.session.commit()
    variants.mirror(shirt)
    db.session.commit()
    blue_s = factories.variant_of(shirt, "S", "آبی")
    shirt_id, green_id, blue_id = shirt.id, green_l.id, blue_s.id
    users = customers(buyers)
    for i, user in enumerate(users):
        # Half add the plentiful variant first, half the scarce one.
        for variant in (blue_s, green_l)[:: 1 if i % 2 else -1]:
            put_variant_in_cart(user, variant, 1)
    browsers = log_in(live, users)
    fresh()

    outcomes = checkout_burst(live, browsers, "Cotton shirt")

    assert outcomes == {"placed": few, "sold_out": buyers - few}
    assert (_variant_stock(blue_id), _variant_stock(green_id)) == (40 - few, 0)
    assert _mirrored(shirt_id)
    assert db.session.get(Product, shirt_id).stock == 5 * 40 + few - 2 * few
    for payment in db.session.scalars(sa.select(Payment)):
        bought = sorted(
            (line.variant_id, line.quantity) for o in payment.orders for line in o.lines
        )
        assert bought == sorted([(blue_id, 1), (green_id, 1)])
    assert count(CartLine) == 2 * (buyers - few)


def test_the_sellers_saves_of_the_variants_during_checkouts_never_deadlock(live: Server) -> None:
    """A save locks the variants by id and then the product row, the order checkout takes them
    in: saves and checkouts at once all finish, and the product row stays the sum."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    shop = factories.seller(name="Yazd Weavers")
    shirt = factories.product_with_variants(shop, title="Cotton shirt", stock=40)
    blue_m = factories.variant_of(shirt, "M", "آبی")
    shirt_id, blue_m_id = shirt.id, blue_m.id
    options = [variants.OptionData(o.name, list(o.values)) for o in variants.options_of(shirt_id)]
    buyers = 20
    users = customers(buyers)
    for user in users:
        put_variant_in_cart(user, blue_m, 1)
    browsers = log_in(live, users)
    fresh()

    def save(n: int) -> str:
        with app.app_context():
            try:
                product = db.session.get(Product, shirt_id)
                rows = [
                    variants.VariantData(
                        list(v.values), v.price_amount, v.stock if v.id == blue_m_id else 30 + n
                    )
                    for v in variants.variants_of(shirt_id)
                ]
                variants.save(product, variants.VariantsData(options, rows))
                return "saved"
            finally:
                db.session.remove()

    outcomes = burst(
        [lambda b=b: post_checkout(b) for b in browsers] + [lambda n=n: save(n) for n in range(5)]
    )

    checkouts = outcomes[:buyers]
    assert_no_server_errors(live, [r.reply for r in checkouts] + [r.page for r in checkouts])
    assert outcomes[buyers:] == ["saved"] * 5
    fresh()
    assert Counter("placed" if placed(r) else "other" for r in checkouts) == {"placed": buyers}
    assert _mirrored(shirt_id)
