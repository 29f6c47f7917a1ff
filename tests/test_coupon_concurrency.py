"""Concurrency of shop coupons: a real gunicorn with several worker processes on the test
database (the SQLite file, or PostgreSQL with TEST_DATABASE_URL): 20 simultaneous checkouts
with a coupon that may be used 10 times make 10 discounted orders and 10 clear refusals, the
coupon's uses exactly 10, no 5xx."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.orders import coupons
from app.orders.models import Coupon, CouponUse, Order
from app.payments.models import Payment
from app.shipping.rates import market_today
from tests import factories
from tests.live_server import (
    Server,
    assert_no_server_errors,
    burst,
    checkout_form,
    count,
    customers,
    fresh,
    log_in,
    put_in_cart,
    stock,
)

pytestmark = pytest.mark.slow

BUYERS = 20
LIMIT = 10


def test_twenty_checkouts_with_a_coupon_for_ten_make_ten_discounted_orders(live: Server) -> None:
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=BUYERS)
    today = market_today()
    coupon = coupons.create_coupon(
        shop,
        coupons.CouponData(
            code="BOWL10",
            kind="percent",
            value=10,
            min_order_amount=0,
            first_day=today - timedelta(days=1),
            last_day=today + timedelta(days=1),
            max_uses=LIMIT,
        ),
    )
    coupon_id, bowl_id = coupon.id, bowl.id
    users = customers(BUYERS)
    for user in users:
        put_in_cart(user, (bowl, 1))
    browsers = log_in(live, users)
    fresh()

    replies = burst(
        [lambda b=b: b.post("/checkout", {**checkout_form(), "coupon": "bowl10"}) for b in browsers]
    )

    assert_no_server_errors(live, replies)
    fresh()
    outcomes = Counter(
        "placed"
        if r.status == 303 and "/checkout/return/" in r.location
        else "used_up"
        if r.status == 400 and "This coupon has been used up." in r.text
        else "other"
        for r in replies
    )
    assert outcomes == {"placed": LIMIT, "used_up": BUYERS - LIMIT}, [
        (r.status, r.location, r.text[-500:]) for r in replies if r.status != 303
    ][:3]
    assert db.session.get(Coupon, coupon_id).uses == LIMIT
    assert count(CouponUse) == count(Order) == count(Payment) == LIMIT
    assert db.session.scalar(sa.select(sa.func.sum(Order.discount_amount))) == LIMIT * 45_000
    # The refused checkouts took no stock.
    assert stock(bowl_id) == BUYERS - LIMIT
