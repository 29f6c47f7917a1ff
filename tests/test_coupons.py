"""Shop coupons: the seller makes, lists and ends them; the customer types a code at checkout
(any case, any digits); it takes its discount off that shop's lines once, computed on the
server; a bad, ended, early or used-up code is refused with a clear message and nothing
changes; the order keeps the discount, its source and payer."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import Product, SellerStatus
from app.core.extensions import db
from app.orders import coupons
from app.orders.models import Coupon, CouponUse, Order
from app.payments.models import Payment
from app.shipping.rates import market_today
from tests import factories
from tests.helpers import ADDRESS


def make_coupon(seller, code="NOWRUZ10", kind="percent", value=10, **extra) -> Coupon:  # type: ignore[no-untyped-def]
    today = market_today()
    data = coupons.CouponData(
        code=code,
        kind=kind,
        value=value,
        min_order_amount=extra.get("min_order_amount", 0),
        first_day=extra.get("first_day", today),
        last_day=extra.get("last_day", today + timedelta(days=5)),
        max_uses=extra.get("max_uses", 10),
    )
    return coupons.create_coupon(seller, data)


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    return {
        "a": a,
        "b": b,
        "cloth": factories.product(a, title="رومیزی", price_amount=1_000_000, stock=5),
        "pillow": factories.product(a, title="کوسن", price_amount=500_000, stock=10),
        "bowl": factories.product(b, title="کاسه", price_amount=400_000, stock=3),
    }


@pytest.fixture
def buyer(client, shop):  # type: ignore[no-untyped-def]
    user = factories.user(email="mina@example.com", name="مینا")
    client.set_cookie("locale", "en")
    factories.login(client, user.email)
    return user


def fill(client, *items: tuple[Product, int]) -> None:  # type: ignore[no-untyped-def]
    for product, quantity in items:
        assert (
            client.post(
                "/cart/add", data={"product_id": product.id, "quantity": quantity}
            ).status_code
            == 302
        )


def checkout(client, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/checkout", data={**ADDRESS, **fields, "checkout_token": token})


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count(model.id))) or 0


def uses(coupon_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Coupon, coupon_id).uses


def test_a_coupon_takes_its_discount_off_its_shops_lines_once(client, shop, buyer):
    coupon = make_coupon(shop["a"], value=10)
    fill(client, (shop["cloth"], 1), (shop["pillow"], 1), (shop["bowl"], 1))
    response = checkout(client, coupon="nowruz۱۰")  # any case, Persian digits
    assert response.status_code == 303, unescape(response.get_data(as_text=True))
    orders = {o.seller_id: o for o in db.session.scalars(sa.select(Order))}
    a, b = orders[shop["a"].id], orders[shop["b"].id]
    assert (a.subtotal_amount, a.discount_amount, a.coupon_code) == (1_350_000, 150_000, "NOWRUZ10")
    assert a.total_amount == 1_350_000 + a.shipping_amount
    assert (b.discount_amount, b.coupon_code) == (0, None)  # another shop's lines: untouched
    lines = {line.product_title: line for line in a.lines}
    assert lines["رومیزی"].line_total_amount == 900_000
    assert lines["کوسن"].line_total_amount == 450_000
    assert sum(line.discount_amount for line in a.lines) == 150_000
    assert {(line.discount_source, line.discount_payer) for line in a.lines} == {
        ("coupon", "seller")
    }
    payment = db.session.scalar(sa.select(Payment))
    assert payment.amount == a.total_amount + b.total_amount
    use = db.session.scalar(sa.select(CouponUse))
    assert (use.coupon_id, use.order_id, use.amount, use.payment_id) == (
        coupon.id, a.id, 150_000, payment.id,
    )  # fmt: skip
    assert uses(coupon.id) == 1
    invoice = unescape(client.get(f"/orders/{a.id}/invoice").get_data(as_text=True))
    assert "15,000" in invoice  # the discount, in toman


def test_an_amount_coupon_with_a_minimum_order(client, shop, buyer):
    make_coupon(shop["a"], code="GIFT", kind="amount", value=200_000, min_order_amount=2_000_000)
    fill(client, (shop["cloth"], 1))
    response = checkout(client, coupon="gift")
    assert response.status_code == 400
    assert "under the coupon's minimum order" in unescape(response.get_data(as_text=True))
    assert count(Order) == 0
    assert db.session.get(Product, shop["cloth"].id).stock == 5
    fill(client, (shop["cloth"], 1))
    assert checkout(client, coupon="GIFT").status_code == 303
    order = db.session.scalar(sa.select(Order))
    assert (order.subtotal_amount, order.discount_amount) == (1_800_000, 200_000)


@pytest.mark.parametrize(
    ("setup", "code", "message"),
    [
        ({}, "NOPE", "No shop in your cart has this coupon code."),
        ({"seller": "b"}, "NOWRUZ10", None),  # another shop's coupon applies to its lines only
        ({"ended": True}, "NOWRUZ10", "This coupon has ended."),
        ({"future": True}, "NOWRUZ10", "This coupon has not started yet."),
        ({"used_up": True}, "NOWRUZ10", "This coupon has been used up."),
    ],
)
def test_bad_codes_are_refused_and_nothing_changes(client, shop, buyer, setup, code, message):
    today = market_today()
    owner = shop[setup.get("seller", "a")]
    extra = {"first_day": today + timedelta(days=1)} if setup.get("future") else {}
    coupon = make_coupon(owner, max_uses=1, **extra)
    if setup.get("ended"):
        coupons.end_coupon(owner, coupon.id)
    if setup.get("used_up"):
        db.session.execute(sa.update(Coupon).values(uses=1))
        db.session.commit()
    fill(client, (shop["cloth"], 1))
    response = checkout(client, coupon=code)
    if message is None:  # the bowl's shop is not in the cart
        assert response.status_code == 400
        assert "No shop in your cart has this coupon code." in unescape(
            response.get_data(as_text=True)
        )
    else:
        assert response.status_code == 400
        assert message in unescape(response.get_data(as_text=True))
    assert count(Order) == count(Payment) == count(CouponUse) == 0
    assert db.session.get(Product, shop["cloth"].id).stock == 5


def test_the_seller_makes_lists_and_ends_coupons(app):
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    assert client.get("/seller/coupons").status_code == 200
    data = {
        "code": "yalda۱۴۰۳",
        "kind": "amount",
        "amount_toman": "۵۰٬۰۰۰",
        "min_order_toman": "",
        "starts_on": "1403/09/30",
        "ends_on": "1403/10/02",
        "max_uses": "۲۰",
    }
    response = client.post("/seller/coupons", data=data)
    assert response.status_code == 302, unescape(response.get_data(as_text=True))
    coupon = db.session.scalar(sa.select(Coupon))
    assert (coupon.code, coupon.kind, coupon.value, coupon.max_uses) == (
        "YALDA1403",
        "amount",
        500_000,
        20,
    )
    page = unescape(client.get("/seller/coupons").get_data(as_text=True))
    assert "YALDA1403" in page and "0 of 20" in page
    # The same code again (any case) is refused; a percentage over a hundred too.
    again = client.post("/seller/coupons", data={**data, "code": "YALDA1403"})
    assert again.status_code == 400
    assert "already has a coupon with this code" in unescape(again.get_data(as_text=True))
    over = client.post(
        "/seller/coupons", data={**data, "code": "BIG", "kind": "percent", "percent": "150"}
    )
    assert over.status_code == 400
    assert "cannot be more than a hundred" in unescape(over.get_data(as_text=True))
    assert count(Coupon) == 1
    # Another seller cannot end it; its seller can.
    other_owner = factories.user(Role.SELLER, name="Other")
    factories.seller(status=SellerStatus.APPROVED, owner=other_owner)
    other = app.test_client()
    factories.login(other, other_owner.email)
    assert other.post(f"/seller/coupons/{coupon.id}/end").status_code == 404
    assert client.post(f"/seller/coupons/{coupon.id}/end").status_code == 302
    db.session.expire_all()
    assert db.session.get(Coupon, coupon.id).ended_at is not None
    assert seller.id == coupon.seller_id


def test_commission_is_on_what_the_customer_paid(app, client, shop, buyer):
    from app.orders.completion import order_commission

    app.config["COMMISSION_RATE_BP"] = 1000  # 10%
    make_coupon(shop["a"], code="HALF", value=50)
    fill(client, (shop["cloth"], 1))
    assert checkout(client, coupon="HALF").status_code == 303
    order = db.session.scalar(sa.select(Order))
    assert sum(line.line_total_amount for line in order.lines) == 500_000
    assert order_commission(order) == 50_000
