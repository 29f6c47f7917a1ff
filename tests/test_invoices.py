"""Invoices: one printable page per order for its customer, its seller and staff (anyone else
gets a 404), with the seller, lines, shipping and total in toman with Persian digits; and the
tracking links on the order pages."""

from __future__ import annotations

import itertools

import jdatetime
import pytest

from app.accounts.models import Role
from app.core.extensions import db
from app.core.formatting import persian_digits, to_local
from app.orders import cart as carts
from app.orders import services as orders
from app.orders.models import OrderStatus
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments.models import Provider
from app.shipping.models import Carrier, ShippingMethod
from tests import factories
from tests.helpers import client_for

_tokens = itertools.count(1)
ADDRESS = Address(
    "مینا رضایی", "09121234567", "سیستان و بلوچستان", "زاهدان", "خیابان دانشگاه", "9816745639"
)


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    seller = factories.seller(name="کارگاه سوزن‌دوزی")
    db.session.add(
        ShippingMethod(
            seller_id=seller.id, carrier=Carrier.TIPAX, name="تیپاکس", flat_amount=350_000,
            province_amounts={}, per_extra_item_amount=0, processing_days=1,
            delivery_min_days=1, delivery_max_days=3,
        )
    )  # fmt: skip
    db.session.commit()
    cloth = factories.product(seller, title="رومیزی سوزن‌دوزی", price_amount=1_250_000)
    mina = factories.user(email="mina@example.com")
    carts.add(mina, None, cloth.id, 2)
    payment = payment_checkout.place_checkout(
        mina, ADDRESS, Provider.CASH, f"invoice-token-{next(_tokens):08d}", currency="IRR",
        expiry_minutes=60, max_open_cash_orders=10,
    ).payment  # fmt: skip
    return {"seller": seller, "mina": mina, "order": payment.orders[0]}


def test_the_customer_reads_a_persian_invoice(app, world):
    order = world["order"]
    html = client_for(app, world["mina"]).get(f"/orders/{order.id}/invoice").get_data(as_text=True)
    year = jdatetime.date.fromgregorian(date=to_local(order.created_at).date()).year
    assert persian_digits(f"{year:04d}-{order.id:06d}") in html  # the invoice number
    assert "کارگاه سوزن‌دوزی" in html and persian_digits(world["seller"].registration_code) in html
    assert "رومیزی سوزن‌دوزی" in html and "تیپاکس" in html
    # 2 × 125,000 toman + 35,000 toman shipping, in toman with Persian digits
    assert order.total_amount == 2_850_000
    assert "۲۸۵٬۰۰۰" in html and "۳۵٬۰۰۰" in html
    assert persian_digits(str(year)) in html  # a Jalali date
    assert "@media print" not in html and "data-print" in html


def test_only_its_customer_seller_and_staff_see_an_invoice(app, world):
    url = f"/orders/{world['order'].id}/invoice"
    assert client_for(app, factories.user()).get(url).status_code == 404
    assert app.test_client().get(url).status_code == 302  # log in first
    seller_url = f"/seller/orders/{world['order'].id}/invoice"
    assert client_for(app, world["seller"].user).get(seller_url).status_code == 200
    assert client_for(app, factories.seller().user).get(seller_url).status_code == 404
    staff = factories.user(Role.STAFF)
    assert (
        client_for(app, staff).get(f"/admin/orders/{world['order'].id}/invoice").status_code == 200
    )
    assert client_for(app, staff).get("/admin/orders/999999/invoice").status_code == 404
    assert client_for(app, world["mina"]).get(
        f"/admin/orders/{world['order'].id}/invoice"
    ).status_code in (302, 403, 404)


def test_order_pages_link_the_invoice(app, world):
    order_id = world["order"].id
    page = client_for(app, world["mina"]).get(f"/orders/{order_id}").get_data(as_text=True)
    assert f"/orders/{order_id}/invoice" in page
    page = (
        client_for(app, world["seller"].user)
        .get(f"/seller/orders/{order_id}")
        .get_data(as_text=True)
    )
    assert f"/seller/orders/{order_id}/invoice" in page


# --- tracking links ------------------------------------------------------------------------------


def ship(world, carrier: str, code: str) -> None:  # type: ignore[no-untyped-def]
    order, seller = world["order"], world["seller"]
    orders.seller_move(order, seller, seller.user, OrderStatus.CONFIRMED)
    orders.seller_move(
        order, seller, seller.user, OrderStatus.SHIPPED, carrier=carrier, tracking_code=code
    )


def test_the_shipped_form_picks_the_order_carrier(app, world):
    order_id = world["order"].id
    seller = client_for(app, world["seller"].user)
    seller.post(f"/seller/orders/{order_id}/move", data={"action": "confirm"})
    page = seller.get(f"/seller/orders/{order_id}").get_data(as_text=True)
    assert '<option value="tipax" selected>' in page


def test_a_tracking_code_links_to_the_carrier_page(app, world):
    ship(world, "tipax", "TX 12/34")
    for client, url in (
        (client_for(app, world["mina"]), f"/orders/{world['order'].id}"),
        (client_for(app, world["seller"].user), f"/seller/orders/{world['order'].id}"),
    ):
        html = client.get(url).get_data(as_text=True)
        assert 'href="https://tipaxco.com/tracking?code=TX%2012%2F34"' in html


def test_a_persian_carrier_name_links_too_and_an_unknown_one_does_not(app, world):
    ship(world, "پست پیشتاز", "IR123")
    html = client_for(app, world["mina"]).get(f"/orders/{world['order'].id}").get_data(as_text=True)
    assert 'href="https://tracking.post.ir/?id=IR123"' in html


def test_an_unknown_carrier_has_no_link(app, world):
    ship(world, "باربری محلی", "X1")
    html = client_for(app, world["mina"]).get(f"/orders/{world['order'].id}").get_data(as_text=True)
    assert "X1" in html and "tracking-link" not in html


def test_tracking_templates_are_a_setting(app, world):
    app.config["TRACKING_URL_TEMPLATES"] = {"tipax": "https://track.example/{code}", "courier": ""}
    ship(world, "tipax", "A1")
    html = client_for(app, world["mina"]).get(f"/orders/{world['order'].id}").get_data(as_text=True)
    assert 'href="https://track.example/A1"' in html
