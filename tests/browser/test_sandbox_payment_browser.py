"""The demo customer pays a two-seller cart online through the payment sandbox, in Persian, in a
real browser: checkout, the simulated bank page, back to the market, paid."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.core.extensions import db
from tests.browser.conftest import QuietHandler
from tests.conftest import make_app

pytestmark = pytest.mark.browser

CUSTOMER = "customer@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
PRODUCTS: list[int] = []


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo market with the payment sandbox on (as `make run` serves it), in rials."""
    from app.catalog.models import Product
    from app.demo.seed import seed_demo
    from app.shop import cache

    cache.clear()
    tmp_path: Path = tmp_path_factory.mktemp("sandbox-live")
    app = make_app(
        tmp_path,
        WTF_CSRF_ENABLED=True,
        PAYMENT_SANDBOX=True,
        IPG_MERCHANT_ID="",
        STRIPE_SECRET_KEY="",
        MARKET_CURRENCY="IRR",
    )
    with app.app_context():
        seed_demo(None, sellers=6, products_per_seller=4)
        rows = db.session.execute(
            sa.select(Product.id, Product.seller_id)
            .where(Product.status == "published", Product.stock >= 2)
            .order_by(Product.id)
        ).all()
        sellers: dict[int, int] = {}
        for product_id, seller_id in rows:
            sellers.setdefault(seller_id, product_id)
        PRODUCTS[:] = list(sellers.values())[:2]
        db.session.remove()
    assert len(PRODUCTS) == 2

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = base  # the bank sends the customer back to the site's address
    thread = threading.Thread(target=server.serve_forever, name="sandbox-live", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()
        cache.clear()


def test_the_demo_customer_pays_a_two_seller_cart_in_the_sandbox(visit):
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", CUSTOMER)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    for product_id in PRODUCTS:
        visit.go(f"/p/{product_id}")
        with page.expect_navigation():
            page.click("form.add-to-cart button[type=submit]")

    visit.go("/checkout")
    assert visit.js("document.documentElement.lang") == "fa"
    assert "محیط آزمایشی" in page.inner_text(".sandbox-banner")
    page.fill("input[name=recipient_name]", "مینا رضایی")
    page.fill("input[name=mobile]", "۰۹۱۲۱۲۳۴۵۶۷")
    page.select_option("select[name=province]", index=1)
    page.fill("input[name=city]", "زاهدان")
    page.fill("textarea[name=address]", "خیابان دانشگاه، کوچه ۳، پلاک ۱۲")
    page.fill("input[name=postal_code]", "۹۸۱۶۷۴۵۶۳۹")
    page.check("input[name=payment_method][value=ipg]")
    with page.expect_navigation():
        page.click("form.checkout-form button[type=submit]")
    if "/checkout" in page.url and "/sandbox/" not in page.url:
        # The page priced shipping for the province of the customer's last order; for the
        # province chosen now it costs something else, which is shown before anything is placed.
        assert "هزینهٔ ارسال" in page.inner_text(".checkout-form")
        page.check("input[name=payment_method][value=ipg]")
        with page.expect_navigation():
            page.click("form.checkout-form button[type=submit]")

    assert "/sandbox/gateway/" in page.url
    assert "درگاه بانکی آزمایشی" in page.inner_text("h1")
    assert page.inner_text("#sandbox-amount").strip()
    with page.expect_navigation():
        page.click("button[name=outcome][value=pay]")

    assert "/checkout/return/" in page.url
    text = page.inner_text("main")
    assert "پرداخت انجام شد. سپاسگزاریم!" in text
    assert "شمارهٔ پیگیری بانک" in text
    assert text.count("سفارش") >= 2  # one order per seller
