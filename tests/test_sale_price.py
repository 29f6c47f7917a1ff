"""A listing's sale for a period: set on the seller's form (any digits, Jalali days), checked,
shown struck through on cards and the product page while it runs, charged by the cart and
checkout from the server's clock, and never left stale by the page cache."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import jdatetime
import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.accounts.models import Role
from app.catalog import pricing
from app.catalog.models import Product, SellerStatus
from app.core.extensions import db
from app.orders.models import Order, OrderLine
from app.payments.models import Payment
from app.shipping import rates
from app.shipping.rates import market_today
from app.shop import lane
from tests import factories
from tests.helpers import ADDRESS


def persian_day(day: date) -> str:
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year}/{j.month:02d}/{j.day:02d}".translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    )


def fresh(product_id: int) -> Product:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def on_sale(product: Product, sale: int, first: date, last: date) -> Product:
    product.sale_price_amount = sale
    product.sale_starts_at, product.sale_ends_at = pricing.sale_period(first, last)
    db.session.commit()
    return product


def at(monkeypatch, moment: datetime) -> None:  # type: ignore[no-untyped-def]
    """The clock of prices, the market's date and the cache keys at ``moment``."""
    for module in (pricing, rates, lane):
        monkeypatch.setattr(module, "utcnow", lambda: moment)


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return seller, client


def form(product: Product, **fields: str) -> dict[str, str]:
    data = {
        "title": product.title,
        "description": "",
        "category_id": str(product.category_id),
        "price_toman": "۱۲۵٬۰۰۰",
        "stock": "۵",
        "status": "published",
        "seen_price_amount": str(product.price_amount),
        "seen_stock": str(product.stock),
    }
    data.update(fields)
    return data


# --- the seller's form ---------------------------------------------------------------------------


def test_the_seller_puts_a_listing_on_sale_for_market_days(shop):
    seller, client = shop
    item = factories.product(seller, price_amount=1_250_000)
    today = market_today()
    response = client.post(
        f"/seller/listings/{item.id}/edit",
        data=form(
            item,
            sale_price_toman="۱۰۰٬۰۰۰",
            sale_starts_on=persian_day(today),
            sale_ends_on=persian_day(today + timedelta(days=2)),
        ),
    )
    assert response.status_code == 302, unescape(response.get_data(as_text=True))
    item = fresh(item.id)
    assert item.sale_price_amount == 1_000_000
    assert (item.sale_starts_at, item.sale_ends_at) == pricing.sale_period(
        today, today + timedelta(days=2)
    )
    assert pricing.market_day(item.sale_starts_at) == today
    assert item.on_sale and item.effective_price == 1_000_000

    page = client.get(f"/seller/listings/{item.id}/edit").get_data(as_text=True)
    j = jdatetime.date.fromgregorian(date=today + timedelta(days=2))
    assert f"{j.year}/{j.month:02d}/{j.day:02d}" in page

    # Cleared: no sale.
    response = client.post(
        f"/seller/listings/{item.id}/edit",
        data=form(item, sale_price_toman="", sale_starts_on="", sale_ends_on=""),
    )
    assert response.status_code == 302
    item = fresh(item.id)
    assert (item.sale_price_amount, item.sale_starts_at, item.sale_ends_at) == (None, None, None)
    assert item.effective_price == 1_250_000


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"sale_price_toman": "۱۲۵٬۰۰۰"}, "The sale price must be lower than the price."),
        ({"sale_price_toman": "200000"}, "The sale price must be lower than the price."),
        ({"sale_price_toman": "0"}, "Enter a sale price above 0."),
        ({"sale_price_toman": "", "sale_price_keep": "1"}, "Enter a sale price"),
        (
            {"sale_starts_on": "2030-01-10", "sale_ends_on": "2030-01-09"},
            "The sale's last day cannot be before its first day.",
        ),
        ({"sale_ends_on": ""}, "This field is required"),
    ],
)
def test_a_bad_sale_is_refused_and_nothing_changes(shop, fields, expected):
    seller, client = shop
    item = factories.product(seller, price_amount=1_250_000, title="کاسه")
    data = form(
        item,
        sale_price_toman="100000",
        sale_starts_on="2030-01-01",
        sale_ends_on="2030-01-05",
        title="عوض نشود",
    )
    data.update(fields)
    data.pop("sale_price_keep", None)
    response = client.post(f"/seller/listings/{item.id}/edit", data=data)
    assert response.status_code == 400
    assert expected in unescape(response.get_data(as_text=True)), re.findall(
        r"error[^>]*>[^<]*", response.get_data(as_text=True)
    )
    item = fresh(item.id)
    assert item.sale_price_amount is None and item.title == "کاسه"


# --- what the shop shows and charges -------------------------------------------------------------


@pytest.fixture
def item(app):  # type: ignore[no-untyped-def]
    request_started.connect(_clear_g)
    yield factories.product(title="سفال کلپورگان", price_amount=1_250_000, stock=5)
    request_started.disconnect(_clear_g)


def _clear_g(sender, **extra):  # type: ignore[no-untyped-def]
    g.__dict__.clear()


def price_html(html: str) -> str:
    found = re.search(r'<(?:p|span) class="price[^"]*">(.*?)</(?:p|span)>\s*\n', html, re.S)
    assert found, html
    return unescape(found.group(1))


def test_a_running_sale_strikes_the_price_through_on_cards_and_the_product_page(client, item):
    client.set_cookie("locale", "en")
    today = market_today()
    on_sale(item, 1_000_000, today - timedelta(days=1), today + timedelta(days=1))
    for url in (f"/p/{item.id}", f"/c/{item.category.slug}", f"/s/{item.seller.slug}"):
        html = client.get(url).get_data(as_text=True)
        shown = price_html(html)
        assert "<del>" in shown and "<ins>" in shown, url
        assert "Price before the sale:" in shown and "Sale price:" in shown
        assert re.search(r"<del>.*125,000.*</del>.*<ins>.*100,000.*</ins>", shown, re.S), shown


def test_a_sale_not_started_or_over_shows_the_price(client, item):
    client.set_cookie("locale", "en")
    today = market_today()
    on_sale(item, 1_000_000, today + timedelta(days=1), today + timedelta(days=3))
    assert "<del>" not in price_html(client.get(f"/p/{item.id}").get_data(as_text=True))
    on_sale(item, 1_000_000, today - timedelta(days=3), today - timedelta(days=1))
    assert "<del>" not in price_html(client.get(f"/c/{item.category.slug}").get_data(as_text=True))
    assert fresh(item.id).effective_price == 1_250_000


def test_cached_pages_show_a_sale_from_its_first_day_without_a_catalogue_change(
    app, client, item, monkeypatch
):
    app.config["PAGE_CACHE_ENABLED"] = True
    today = market_today()
    on_sale(item, 1_000_000, today + timedelta(days=1), today + timedelta(days=1))
    starts, ends = item.sale_starts_at, item.sale_ends_at
    urls = (f"/p/{item.id}", f"/c/{item.category.slug}")
    at(monkeypatch, starts - timedelta(minutes=1))
    for url in urls:
        client.get(url)
        response = client.get(url)
        assert response.headers["X-Page-Cache"] == "hit"
        assert "<del>" not in price_html(response.get_data(as_text=True))
    at(monkeypatch, starts + timedelta(minutes=1))
    for url in urls:
        assert "<del>" in price_html(client.get(url).get_data(as_text=True)), url
    at(monkeypatch, ends)
    for url in urls:
        assert "<del>" not in price_html(client.get(url).get_data(as_text=True)), url


def test_the_cart_and_checkout_charge_the_sale_price(app, client, item):
    today = market_today()
    on_sale(item, 1_000_000, today, today)
    buyer = factories.user(email="mina@example.com", name="مینا")
    client.set_cookie("locale", "en")
    factories.login(client, buyer.email)
    assert client.post("/cart/add", data={"product_id": item.id, "quantity": 2}).status_code == 302
    cart = unescape(client.get("/cart").get_data(as_text=True))
    assert "100,000" in cart
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/checkout", data={**ADDRESS, "checkout_token": token})
    assert response.status_code == 303, unescape(response.get_data(as_text=True))
    line = db.session.scalar(sa.select(OrderLine))
    assert (line.unit_price_amount, line.line_total_amount) == (1_000_000, 2_000_000)
    # The order keeps what the sale took off, where from and who gave it.
    assert (line.list_price_amount, line.discount_amount) == (1_250_000, 500_000)
    assert (line.discount_source, line.discount_payer) == ("sale", "seller")
    order = db.session.scalar(sa.select(Order))
    assert (order.subtotal_amount, order.discount_amount) == (2_000_000, 500_000)
    payment = db.session.scalar(sa.select(Payment))
    assert payment.amount == order.total_amount == 2_000_000 + order.shipping_amount

    invoice = unescape(client.get(f"/orders/{order.id}/invoice").get_data(as_text=True))
    assert re.search(r"<del>.*125,000.*</del> 100,000", invoice), invoice
    assert "Discounts given by the seller (already in the amounts)" in invoice
    assert "50,000" in invoice


def test_an_order_without_a_sale_keeps_no_discount(app, client, item):
    buyer = factories.user(email="mina@example.com", name="مینا")
    client.set_cookie("locale", "en")
    factories.login(client, buyer.email)
    client.post("/cart/add", data={"product_id": item.id, "quantity": 1})
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/checkout", data={**ADDRESS, "checkout_token": token}).status_code == 303
    line = db.session.scalar(sa.select(OrderLine))
    assert (line.list_price_amount, line.discount_amount, line.discount_source) == (None, 0, None)
    assert db.session.scalar(sa.select(Order)).discount_amount == 0
    invoice = client.get(f"/orders/{line.order_id}/invoice").get_data(as_text=True)
    assert "<del>" not in invoice


def test_a_sale_ending_between_cart_and_checkout_sends_the_customer_back(
    app, client, item, monkeypatch
):
    today = market_today()
    on_sale(item, 1_000_000, today, today)
    buyer = factories.user(email="mina@example.com", name="مینا")
    client.set_cookie("locale", "en")
    factories.login(client, buyer.email)
    client.post("/cart/add", data={"product_id": item.id, "quantity": 1})
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)
    at(monkeypatch, item.sale_ends_at + timedelta(seconds=1))
    response = client.post("/checkout", data={**ADDRESS, "checkout_token": token})
    assert response.headers["Location"] == "/cart"
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0


def test_the_sale_price_is_never_above_the_price():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    period = (now - timedelta(hours=1), now + timedelta(hours=1))
    assert pricing.price_now(900, 1000, *period, now) == 900
    assert pricing.price_now(900, 500, *period, now) == 500
    assert pricing.price_now(900, 500, *period, period[1]) == 900
    assert pricing.price_now(900, None, None, None, now) == 900
