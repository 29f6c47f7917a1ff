"""Shipping methods per seller: rate rules, the seller's pages and their validation, vacation
mode, and checkout storing the chosen method, its cost and dates with shipping in the payment."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.orders.models import Order
from app.payments.models import Payment
from app.shipping import rates
from app.shipping import services as shipping
from app.shipping.models import Carrier, ShippingMethod
from tests import factories
from tests.fake_stripe import (  # noqa: F401  (fixtures)
    card_checkout,
    fake_stripe_fixture,
    start,
    stripe_app_fixture,
)
from tests.helpers import ADDRESS, client_for, flashes

SB = "سیستان و بلوچستان"
TEHRAN = "تهران"


def method(**values: object) -> ShippingMethod:
    """A method that is never saved, for the arithmetic."""
    base: dict[str, object] = dict(
        carrier=Carrier.POST_PISHTAZ,
        name="پست پیشتاز",
        flat_amount=300_000,
        province_amounts={},
        free_over_amount=None,
        per_extra_item_amount=0,
        processing_days=2,
        delivery_min_days=2,
        delivery_max_days=4,
    )
    base.update(values)
    return ShippingMethod(**base)


def add_method(seller, **values: object) -> ShippingMethod:  # type: ignore[no-untyped-def]
    row = method(**values)
    row.seller_id = seller.id
    db.session.add(row)
    db.session.commit()
    return row


# --- rate rules ----------------------------------------------------------------------------------


def test_flat_amount_for_any_province():
    m = method(flat_amount=300_000)
    assert rates.cost(m, SB, 1, 1_000_000) == 300_000
    assert rates.cost(m, None, 1, 1_000_000) == 300_000


def test_a_province_of_its_own_overrides_the_flat_amount():
    m = method(flat_amount=300_000, province_amounts={TEHRAN: 150_000})
    assert rates.cost(m, TEHRAN, 1, 0) == 150_000
    assert rates.cost(m, SB, 1, 0) == 300_000
    assert rates.lowest_cost(m, 1, 0) == 150_000


def test_free_over_an_order_subtotal():
    m = method(flat_amount=300_000, free_over_amount=5_000_000)
    assert rates.cost(m, SB, 1, 4_999_999) == 300_000
    assert rates.cost(m, SB, 1, 5_000_000) == 0


def test_per_extra_item_amount_after_the_first_unit():
    m = method(flat_amount=300_000, per_extra_item_amount=50_000)
    assert rates.cost(m, SB, 1, 0) == 300_000
    assert rates.cost(m, SB, 4, 0) == 300_000 + 3 * 50_000


def test_promised_dates_add_processing_then_delivery_days():
    promise = rates.promise(method(processing_days=3, delivery_min_days=1, delivery_max_days=5),
                            date(2026, 3, 1))  # fmt: skip
    assert promise.ship_by == date(2026, 3, 4)
    assert promise.deliver_from == date(2026, 3, 5)
    assert promise.deliver_by == date(2026, 3, 9)


def test_options_are_cheapest_first_and_a_seller_without_methods_arranges_delivery(app):
    seller = factories.seller()
    [fallback] = shipping.options(seller.id, SB, 1, 0)
    assert fallback.method_id is None and fallback.cost == 0 and fallback.promise is None
    add_method(seller, carrier=Carrier.TIPAX, name="تیپاکس", flat_amount=500_000)
    add_method(seller, flat_amount=200_000)
    add_method(seller, flat_amount=10, active=False)
    costs = [o.cost for o in shipping.options(seller.id, SB, 1, 0)]
    assert costs == [200_000, 500_000]


# --- the seller's pages --------------------------------------------------------------------------


@pytest.fixture
def seller_client(app):  # type: ignore[no-untyped-def]
    seller = factories.seller()
    client = client_for(app, seller.user)
    client.set_cookie("locale", "en")
    return seller, client


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return unescape(found.group(1)) if found else ""


GOOD = {
    "carrier": "post_pishtaz",
    "name": "",
    "active": "y",
    "flat_amount": "۳۰٬۰۰۰",  # toman, Persian digits
    "per_extra_item_amount": "5000",
    "free_over_amount": "",
    "processing_days": "۳",
    "delivery_min_days": "",
    "delivery_max_days": "",
}


def test_seller_adds_a_method_in_persian_digits(seller_client):
    seller, client = seller_client
    data = {**GOOD, "province_7": "۱۵٬۰۰۰"}  # Tehran, 8th in the list
    response = client.post("/seller/shipping/new", data=data)
    assert response.status_code == 302
    row = db.session.scalar(sa.select(ShippingMethod))
    assert row.seller_id == seller.id and row.carrier == Carrier.POST_PISHTAZ
    assert row.name == "پست پیشتاز"  # the carrier's name when none is given
    assert (row.flat_amount, row.per_extra_item_amount) == (300_000, 50_000)
    assert row.province_amounts == {TEHRAN: 150_000}
    assert row.processing_days == 3
    assert (row.delivery_min_days, row.delivery_max_days) == (2, 4)  # the carrier's defaults
    page = client.get("/seller/shipping").get_data(as_text=True)
    assert "پست پیشتاز" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("carrier", "", "Choose a carrier."),
        ("carrier", "camel", "Choose a carrier."),
        ("flat_amount", "-5", "Enter an amount from 0."),
        ("free_over_amount", "-1", "Enter an order amount from 0, or leave it empty."),
        ("processing_days", "61", "Enter a number of days from 0 to 60."),
        ("delivery_min_days", "-1", "Enter a number of days from 0 to 60."),
        ("flat_amount", "abc", "Please enter a whole number."),
        ("province_7", "-1", "Enter an amount from 0."),
    ],
)
def test_bad_fields_are_refused_beside_the_field_and_nothing_is_saved(
    seller_client, field, value, message
):
    _seller, client = seller_client
    response = client.post("/seller/shipping/new", data={**GOOD, field: value})
    assert response.status_code == 400
    assert error_of(response.get_data(as_text=True), field) == message
    assert db.session.scalar(sa.select(sa.func.count(ShippingMethod.id))) == 0


def test_longest_delivery_shorter_than_the_shortest_is_refused(seller_client):
    _seller, client = seller_client
    data = {**GOOD, "delivery_min_days": "5", "delivery_max_days": "2"}
    response = client.post("/seller/shipping/new", data=data)
    assert response.status_code == 400
    assert "cannot be shorter" in error_of(response.get_data(as_text=True), "delivery_max_days")


def test_edit_and_delete_after_confirmation_only_own_methods(app, seller_client):
    seller, client = seller_client
    own = add_method(seller)
    other = add_method(factories.seller())
    response = client.post(f"/seller/shipping/{own.id}", data={**GOOD, "flat_amount": "40000"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ShippingMethod, own.id).flat_amount == 400_000
    assert client.get(f"/seller/shipping/{other.id}").status_code == 404
    assert client.post(f"/seller/shipping/{other.id}/delete").status_code == 404
    confirm = client.get(f"/seller/shipping/{own.id}/delete")
    assert confirm.status_code == 200 and "Delete" in confirm.get_data(as_text=True)
    assert db.session.get(ShippingMethod, own.id) is not None  # asking deletes nothing
    assert client.post(f"/seller/shipping/{own.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(ShippingMethod, own.id) is None
    assert db.session.get(ShippingMethod, other.id) is not None


def test_dashboard_warns_a_seller_without_a_method(seller_client):
    seller, client = seller_client
    assert "no active shipping method" in client.get("/seller/").get_data(as_text=True)
    add_method(seller)
    assert "no active shipping method" not in client.get("/seller/").get_data(as_text=True)


# --- vacation ------------------------------------------------------------------------------------


def test_vacation_shows_the_return_date_and_blocks_checkout(app, seller_client):
    seller, seller_web = seller_client
    product = factories.product(seller)
    back = rates.market_today() + timedelta(days=10)
    response = seller_web.post(
        "/seller/vacation", data={"away_until": back.isoformat(), "away_note": "سفر"}
    )
    assert response.status_code == 302
    buyer = factories.user()
    client = client_for(app, buyer)
    client.set_cookie("locale", "en")
    page = client.get(f"/p/{product.id}").get_data(as_text=True)
    assert "The seller is away until" in page and "Add to cart" not in page
    added = client.post(
        "/cart/add", data={"product_id": product.id, "quantity": 1}, follow_redirects=True
    )
    assert "away" in " ".join(flashes(added))
    # A line already in the cart stays, flagged, and cannot go to checkout.
    seller_web.post("/seller/vacation", data={"end": "1"})
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    seller_web.post("/seller/vacation", data={"away_until": back.isoformat()})
    cart = client.get("/cart").get_data(as_text=True)
    assert "The seller is away until" in cart
    assert client.get("/checkout").status_code == 302
    posted = client.post("/checkout", data={**ADDRESS, "checkout_token": "t" * 24})
    assert posted.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_vacation_ends_by_itself_on_the_return_date(app):
    seller = factories.seller()
    today = rates.market_today()
    shipping.set_away(seller, today + timedelta(days=3), "", today=today)
    db.session.expire_all()
    assert shipping.is_away(seller, today + timedelta(days=2))
    assert not shipping.is_away(seller, today + timedelta(days=3))


def test_vacation_date_must_be_after_today(seller_client):
    _seller, client = seller_client
    today = rates.market_today().isoformat()
    response = client.post("/seller/vacation", data={"away_until": today})
    assert response.status_code == 400
    assert error_of(response.get_data(as_text=True), "away_until") == "Choose a date after today."


# --- checkout ------------------------------------------------------------------------------------


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    a, b = factories.seller(name="کارگاه سوزن‌دوزی"), factories.seller(name="سفال کلپورگان")
    return {
        "a": a,
        "b": b,
        "post": add_method(
            a, flat_amount=300_000, per_extra_item_amount=50_000, province_amounts={SB: 250_000}
        ),  # fmt: skip
        "tipax": add_method(
            a,
            carrier=Carrier.TIPAX,
            name="تیپاکس",
            flat_amount=600_000,
            processing_days=1,
            delivery_min_days=1,
            delivery_max_days=2,
        ),  # fmt: skip
        "b_post": add_method(b, flat_amount=100_000),
        "cloth": factories.product(a, price_amount=1_250_000, stock=5),
        "bowl": factories.product(b, title="کاسه سفالی", price_amount=450_000, stock=3),
    }


@pytest.fixture
def customer(app, market):  # type: ignore[no-untyped-def]
    user = factories.user(email="mina@example.com")
    client = client_for(app, user)
    client.set_cookie("locale", "en")
    client.post("/cart/add", data={"product_id": market["cloth"].id, "quantity": 2})
    client.post("/cart/add", data={"product_id": market["bowl"].id, "quantity": 1})
    return client


def page_form(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The hidden fields and the checked shipping radios of the checkout page."""
    html = client.get("/checkout").get_data(as_text=True)
    data = dict(
        re.findall(r'name="(checkout_token|cart_version)" type="hidden" value="([^"]+)"', html)
    )
    for name, value in re.findall(r'name="(shipping-\d+)" value="([^"]+)" checked', html):
        data[name] = value
    return data


def test_checkout_takes_the_cheapest_method_and_stores_it(customer, market):
    form = page_form(customer)
    a, b = market["a"].id, market["b"].id
    # The page priced them for the last address (none yet): the lowest costs.
    assert form[f"shipping-{a}"] == f"{market['post'].id}:{250_000 + 50_000}"
    response = customer.post("/checkout", data={**ADDRESS, **form})
    assert response.status_code == 303, flashes(response)
    orders = {o.seller_id: o for o in db.session.scalars(sa.select(Order))}
    order_a = orders[a]
    assert order_a.shipping_method_id == market["post"].id
    assert (
        order_a.shipping_carrier == "post_pishtaz" and order_a.shipping_method_name == "پست پیشتاز"
    )
    assert order_a.shipping_amount == 250_000 + 50_000  # Sistan's own price, one extra item
    assert order_a.total_amount == 2 * 1_250_000 + 300_000
    today = rates.market_today()
    assert order_a.ship_by == today + timedelta(days=2)
    assert order_a.deliver_by == today + timedelta(days=2 + 4)
    assert orders[b].shipping_amount == 100_000
    payment = db.session.scalar(sa.select(Payment))
    assert payment.amount == 2 * 1_250_000 + 300_000 + 450_000 + 100_000
    assert payment.amount == sum(o.total_amount for o in orders.values())


def test_the_customer_chooses_another_method(customer, market):
    form = page_form(customer)
    a = market["a"].id
    form[f"shipping-{a}"] = f"{market['tipax'].id}:{600_000 + 0}"
    response = customer.post("/checkout", data={**ADDRESS, **form})
    assert response.status_code == 303
    order = db.session.scalar(sa.select(Order).where(Order.seller_id == a))
    assert order.shipping_carrier == "tipax" and order.shipping_amount == 600_000


def test_a_method_of_another_seller_is_refused(customer, market):
    form = page_form(customer)
    form[f"shipping-{market['a'].id}"] = f"{market['b_post'].id}:100000"
    response = customer.post("/checkout", data={**ADDRESS, **form})
    assert response.status_code == 400
    assert "Choose one of the seller's shipping methods." in unescape(
        response.get_data(as_text=True)
    )
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_the_cost_posted_is_never_charged(customer, market):
    """A form that claims a lower cost places nothing; the page shows the real one."""
    form = page_form(customer)
    form[f"shipping-{market['a'].id}"] = f"{market['post'].id}:1"
    response = customer.post("/checkout", data={**ADDRESS, **form})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "The shipping cost is different" in html
    assert f'value="{market["post"].id}:300000" checked' in html
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_a_cost_changed_by_the_seller_is_shown_before_paying(customer, market):
    form = page_form(customer)
    market["post"].flat_amount = 400_000
    market["post"].province_amounts = {}
    db.session.commit()
    response = customer.post("/checkout", data={**ADDRESS, **form})
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    again = dict(re.findall(r'name="(checkout_token|cart_version)" type="hidden" value="([^"]+)"',
                            response.get_data(as_text=True)))  # fmt: skip
    for name, value in re.findall(
        r'name="(shipping-\d+)" value="([^"]+)" checked', response.get_data(as_text=True)
    ):
        again[name] = value
    assert again[f"shipping-{market['a'].id}"] == f"{market['post'].id}:450000"
    assert customer.post("/checkout", data={**ADDRESS, **again}).status_code == 303
    order = db.session.scalar(sa.select(Order).where(Order.seller_id == market["a"].id))
    assert order.shipping_amount == 450_000


def test_a_malformed_shipping_field_is_no_500(customer, market):
    form = page_form(customer)
    form[f"shipping-{market['a'].id}"] = "x:y"
    form["shipping-99999999999999999999"] = "1:1"
    response = customer.post("/checkout", data={**ADDRESS, **form})
    assert response.status_code == 303  # the cheapest, as for no choice


def test_cart_shows_shipping_per_seller(customer, market):
    html = customer.get("/cart").get_data(as_text=True)
    assert "Shipping (پست پیشتاز)" in html and "from" in html
    assert "arrives" in html


def test_every_demo_seller_gets_one_or_two_methods(app):
    from app.demo.seed import seed_demo

    seed_demo(None, sellers=4, products_per_seller=1, sales_months=0)
    counts = db.session.execute(
        sa.select(ShippingMethod.seller_id, sa.func.count(ShippingMethod.id)).group_by(
            ShippingMethod.seller_id
        )
    ).all()
    assert len(counts) == 4 and all(1 <= n <= 2 for _sid, n in counts)
    seed_demo(None, sellers=4, products_per_seller=1, sales_months=0)  # again: nothing added
    assert db.session.scalar(sa.select(sa.func.count(ShippingMethod.id))) == sum(
        n for _s, n in counts
    )


# --- card payments: the provider's session adds up to the payment ---------------------------------


def test_card_session_has_one_shipping_line_per_order(stripe_app, fake_stripe):
    same_name = "کارگاه سوزن‌دوزی"  # two shops may share a name and a shipping cost
    a, b = factories.seller(name=same_name), factories.seller(name=same_name)
    add_method(a, flat_amount=300)
    add_method(b, flat_amount=300)
    customer = factories.user()
    payment = card_checkout(
        customer,
        [(factories.product(a, price_amount=1000), 1), (factories.product(b, price_amount=500), 2)],
    )
    assert payment.amount == 1000 + 2 * 500 + 2 * 300
    start(payment)
    session = fake_stripe.only_session()
    names = [
        i["price_data"]["product_data"]["name"]
        for i in fake_stripe.session_params[session["id"]]["line_items"]
    ]
    assert names.count(f"{same_name}: shipping") == 2
    assert session["amount_total"] == payment.amount


def test_product_page_shows_shipping_from_the_lowest_or_for_the_customer_province(app, market):
    anonymous = app.test_client()
    anonymous.set_cookie("locale", "en")
    html = unescape(anonymous.get(f"/p/{market['cloth'].id}").get_data(as_text=True))
    assert "from 25,000" in html and "arrives" in html  # Sistan's own price is the lowest
    # A customer whose last order went to Tehran sees Tehran's cost.
    user = factories.user()
    client = client_for(app, user)
    client.set_cookie("locale", "en")
    client.post("/cart/add", data={"product_id": market["bowl"].id, "quantity": 1})
    client.post("/checkout", data={**ADDRESS, "province": TEHRAN, "checkout_token": "p" * 24})
    html = unescape(client.get(f"/p/{market['cloth'].id}").get_data(as_text=True))
    assert "Costs for Tehran" in html and "30,000" in html


def test_an_order_of_a_seller_without_methods_ships_as_the_seller_arranges(app):
    seller = factories.seller()
    product = factories.product(seller, price_amount=700_000)
    client = client_for(app, factories.user())
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    assert client.post("/checkout", data={**ADDRESS, "checkout_token": "q" * 24}).status_code == 303
    order = db.session.scalar(sa.select(Order))
    assert order.shipping_amount == 0 and order.shipping_method_id is None
    assert order.ship_by is None and order.total_amount == 700_000


def test_the_cached_product_page_is_priced_for_each_customers_own_province(app, market):
    """One page cache: a customer's province is part of the key, so nobody sees another's."""
    app.config["PAGE_CACHE_ENABLED"] = True
    url = f"/p/{market['cloth'].id}"
    anonymous = app.test_client()
    anonymous.set_cookie("locale", "en")
    assert anonymous.get(url).headers["X-Page-Cache"] == "miss"
    tehran = client_for(app, factories.user())
    tehran.set_cookie("locale", "en")
    tehran.post("/cart/add", data={"product_id": market["bowl"].id, "quantity": 1})
    tehran.post("/checkout", data={**ADDRESS, "province": TEHRAN, "checkout_token": "p" * 24})
    newcomer = client_for(app, factories.user())
    newcomer.set_cookie("locale", "en")
    for _ in range(2):
        html = unescape(tehran.get(url).get_data(as_text=True))
        assert "Costs for Tehran" in html and "30,000" in html
        response = newcomer.get(url)
        html = unescape(response.get_data(as_text=True))
        assert "Costs for Tehran" not in html and "from 25,000" in html
    assert response.headers["X-Page-Cache"] == "hit"
