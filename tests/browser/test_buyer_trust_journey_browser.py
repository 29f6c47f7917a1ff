"""The buyer's journey through trust, in Persian, in a real Chromium: a customer chooses a shirt
in size M and colour blue with the product page's option selects (the price and photo follow),
pays on delivery with a shop coupon; the seller sends it, the customer confirms receipt and
reviews it with a photo, the seller answers, and another visitor sees the stars on the search
results. A sold-out variant's back-in-stock request is honoured once; the coupon, good for one
use, is refused on the second checkout with a clear message."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from app.core.extensions import db
from tests.browser.conftest import person, serving
from tests.browser.test_listing_photos_browser import until
from tests.conftest import make_app

pytestmark = pytest.mark.browser

CUSTOMER = "customer@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
TITLE = "پیراهن ترمه‌دوزی یزد"
TIMEOUT = 30_000
SHOP: dict = {}  # the live server's app and the ids the test needs


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo market with one shirt of seller1 in S/M/L by blue/green (green L sold out, two
    of blue M) and a coupon of its shop good for one use."""
    from app.catalog import indexing, variants
    from app.catalog.models import Product, Seller
    from app.demo.seed import seed_demo
    from app.orders import coupons
    from app.shipping.rates import market_today
    from app.shop import cache
    from tests import factories

    cache.clear()
    tmp_path: Path = tmp_path_factory.mktemp("trust-live")
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True, SEARCH_SYNC_ON_REQUEST=True)
    with app.app_context():
        seed_demo(None, sellers=6, products_per_seller=4)
        seller = db.session.scalars(
            sa.select(Seller).join(Seller.user).where(sa.text("email = 'seller1@bazarche.example'"))
        ).one()
        shirt = factories.product_with_variants(seller, title=TITLE, stock=3, with_image=False)
        blue_m = factories.variant_of(shirt, "M", "آبی")
        green_l = factories.variant_of(shirt, "L", "سبز")
        blue_m.stock, green_l.stock = 2, 0
        db.session.commit()
        variants.mirror(db.session.get(Product, shirt.id))
        db.session.commit()
        today = market_today()
        coupons.create_coupon(
            seller,
            coupons.CouponData(
                code="YAZD1",
                kind="percent",
                value=10,
                min_order_amount=0,
                first_day=today - timedelta(days=1),
                last_day=today + timedelta(days=1),
                max_uses=1,
            ),
        )
        SHOP.update(
            app=app,
            product=shirt.id,
            blue_m=blue_m.id,
            green_l=green_l.id,
            seller_email="seller1@bazarche.example",
            mail_dir=app.config["MAIL_DIR"],
        )
        indexing.reindex()
        db.session.remove()

    with serving(app, "trust-live") as url:
        yield url


def in_db(query):  # type: ignore[no-untyped-def]
    """``query()`` against the live server's database, with a fresh session."""
    with SHOP["app"].app_context():
        try:
            return query()
        finally:
            db.session.remove()


def log_in(visit, email: str) -> None:  # type: ignore[no-untyped-def]
    visit.page.on("dialog", lambda dialog: dialog.accept())
    visit.go("/auth/login")
    visit.page.fill("input[name=email]", email)
    visit.page.fill("input[name=password]", PASSWORD)
    with visit.page.expect_navigation():
        visit.page.click("main form button[type=submit]")
    assert "/auth/login" not in visit.page.url


def submit(visit, selector: str) -> str:  # type: ignore[no-untyped-def]
    """Click ``selector``, wait for the page it leads to; that page's main text."""
    with visit.page.expect_navigation():
        visit.page.click(selector)
    return visit.page.inner_text("main")


def check_out(visit, coupon: str = "") -> str:  # type: ignore[no-untyped-def]
    page = visit.page
    visit.go("/checkout")
    page.fill("input[name=recipient_name]", "مینا رضایی")
    page.fill("input[name=mobile]", "۰۹۱۲۱۲۳۴۵۶۷")
    page.select_option("select[name=province]", index=1)
    page.fill("input[name=city]", "یزد")
    page.fill("textarea[name=address]", "خیابان امام، کوچه ۳، پلاک ۱۲")
    page.fill("input[name=postal_code]", "۹۸۱۶۷۴۵۶۳۹")
    if coupon:
        page.fill("input[name=coupon]", coupon)
    page.check("input[name=payment_method][value=cash]")
    return submit(visit, "form.checkout-form button[data-place-order]")


def choose_blue_m_and_buy(customer, coupon: str) -> int:  # type: ignore[no-untyped-def]
    page = customer.page
    customer.go(f"/p/{SHOP['product']}")
    # With script the option selects replace the list of variants.
    assert customer.js("document.querySelector('[data-variant-options]').hidden") is False
    assert customer.js("document.querySelector('[data-variant-choice]').hidden") is True
    page.select_option("#option-1", "سبز")
    page.select_option("#option-0", "L")  # green L is sold out
    until(customer, "document.querySelector('[data-variant-submit]').disabled")
    assert "ناموجود" in page.inner_text("[data-variant-stock]")
    assert customer.js(
        f"!document.querySelector('[data-variant-alert=\"{SHOP['green_l']}\"]').hidden"
    )
    page.select_option("#option-0", "M")
    page.select_option("#option-1", "آبی")
    until(customer, "!document.querySelector('[data-variant-submit]').disabled")
    assert customer.js("document.querySelector('select[name=variant_id]').value") == str(
        SHOP["blue_m"]
    )
    assert "۲" in page.inner_text("[data-variant-stock]")
    submit(customer, "form.add-to-cart button[type=submit]")
    cart = page.inner_text("main")
    assert "سایز: M، رنگ: آبی" in cart, cart
    text = check_out(customer, coupon)
    assert "/checkout/return/" in page.url, text
    links = customer.js(
        "[...document.querySelectorAll('main a[href*=\"/orders/\"]')].map(a => a.pathname)"
    )
    ids = {int(p.rstrip("/").split("/")[-1]) for p in links if p.count("/") == 2}
    assert len(ids) == 1, links
    return ids.pop()


def test_a_variant_bought_received_reviewed_answered_and_its_stars_seen(browser, live_server):
    from app.catalog import stock_alerts
    from app.notifications.outbox import sent_mail
    from app.orders import stock
    from app.orders.models import Order, OrderLine, OrderStatus
    from app.reviews.models import Review

    with person(browser, live_server, timeout_ms=TIMEOUT) as customer:
        log_in(customer, CUSTOMER)
        order_id = choose_blue_m_and_buy(customer, "yazd1")
        line = in_db(
            lambda: db.session.scalars(
                sa.select(OrderLine).where(OrderLine.order_id == order_id)
            ).one()
        )
        assert (line.variant_id, line.variant_label) == (SHOP["blue_m"], "سایز: M، رنگ: آبی")
        assert in_db(lambda: db.session.get(Order, order_id).coupon_code) == "YAZD1"

        with person(browser, live_server, timeout_ms=TIMEOUT) as seller:
            log_in(seller, SHOP["seller_email"])
            seller.go(f"/seller/orders/{order_id}")
            assert "سایز: M، رنگ: آبی" in seller.page.inner_text("main")
            if seller.page.locator("input[name=action][value=confirm]").count():
                submit(seller, "form:has(input[value=confirm]) button[type=submit]")
            if not seller.page.input_value("select[name=carrier]"):
                seller.page.select_option("select[name=carrier]", index=1)
            seller.page.fill("input[name=tracking_code]", f"IR{order_id:09d}")
            submit(seller, "form.ship-form button[type=submit]")

        customer.go(f"/orders/{order_id}")
        submit(customer, "form[action$='/received'] button[type=submit]")
        assert in_db(lambda: db.session.get(Order, order_id).status) == OrderStatus.COMPLETED

        customer.go(f"/orders/{order_id}/lines/{line.id}/review")
        customer.page.check("input[name=stars][value='5']")
        customer.page.fill("textarea[name=body]", "پارچه‌اش خنک است و سایز M درست اندازه بود.")
        picture = io.BytesIO()
        Image.new("RGB", (320, 240), (40, 60, 160)).save(picture, "JPEG")
        customer.page.set_input_files(
            "input[name=photos]",
            files=[{"name": "shirt.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}],
        )
        submit(customer, "form.stack button[type=submit]")
        review = in_db(
            lambda: db.session.scalars(
                sa.select(Review).where(Review.product_id == SHOP["product"])
            ).one()
        )
        assert review.stars == 5

        with person(browser, live_server, timeout_ms=TIMEOUT) as seller:
            log_in(seller, SHOP["seller_email"])
            seller.go("/seller/reviews")
            seller.page.fill(f"#answer-{review.id}", "سپاس از خرید شما؛ رنگ‌های تازه هم می‌رسد.")
            submit(seller, f"form[action*='/reviews/{review.id}/answer'] button[type=submit]")
        assert in_db(lambda: db.session.get(Review, review.id).seller_answer)
        from app.catalog.ratings import ProductRating

        rated = in_db(lambda: db.session.get(ProductRating, SHOP["product"]))
        assert rated is not None and rated.review_count == 1

        with person(browser, live_server, timeout_ms=TIMEOUT) as visitor:
            visitor.go("/search?q=" + "ترمه‌دوزی")
            card = visitor.page.locator(f"main a[href^='/p/{SHOP['product']}']").first
            assert card.count() == 1
            ratings = visitor.js(
                "[...document.querySelectorAll('main .card-rating')].map(e => e.textContent)"
            )
            assert ratings, visitor.page.inner_text("main")

        # The sold-out variant: asked for once, told once.
        customer.go(f"/p/{SHOP['product']}")
        customer.page.select_option("#option-0", "L")
        customer.page.select_option("#option-1", "سبز")
        until(customer, "document.querySelector('[data-variant-submit]').disabled")
        submit(customer, f"[data-variant-alert='{SHOP['green_l']}'] a")
        submit(customer, "main form button[type=submit]")

        def restock(units: int) -> int:
            from app.core.db import transaction

            with transaction():
                stock.give_back([(SHOP["product"], SHOP["green_l"], units)])
            return stock_alerts.send_restocked()

        def sell_out() -> None:
            from app.core.db import transaction

            with transaction():
                stock.take([(SHOP["product"], SHOP["green_l"], 1)])

        assert in_db(lambda: restock(1)) == 1
        in_db(sell_out)
        assert in_db(lambda: restock(1)) == 0
        told = [m for m in sent_mail(SHOP["mail_dir"]) if m.to == CUSTOMER and "L" in m.subject]
        assert len(told) == 1 and "سایز: L، رنگ: سبز" in told[0].subject

        # The coupon had one use: the second checkout with it is refused, clearly.
        customer.go(f"/p/{SHOP['product']}")
        customer.page.select_option("#option-0", "S")
        customer.page.select_option("#option-1", "آبی")
        submit(customer, "form.add-to-cart button[type=submit]")
        text = check_out(customer, "YAZD1")
        assert "/checkout/return/" not in customer.page.url
        assert "ظرفیت این کد تخفیف تمام شده است." in text, text
