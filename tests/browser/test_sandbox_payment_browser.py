"""The demo customer pays a two-seller cart online through the payment sandbox, in Persian, in a
real browser: checkout, the simulated bank page, back to the market, paid. Then the whole life
of such a cart: each seller sends their order with their own method, the customer confirms one
and reports a problem with the other, staff refund it, and a settlement batch pays the first
seller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app.core.extensions import db
from tests.browser.conftest import QuietHandler, assert_only_loopback, open_visit
from tests.conftest import make_app

pytestmark = pytest.mark.browser

CUSTOMER = "customer@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
PRODUCTS: list[int] = []
SELLER_EMAILS: list[str] = []  # the sellers of PRODUCTS, in the same order
APPS: list = []  # the live server's app, for checks of the database behind the pages


def _seller_emails(seller_ids: list[int]) -> list[str]:
    """The sellers' e-mails; the first seller gets a valid Sheba number (to be paid)."""
    from app.accounts.models import User
    from app.catalog.models import Seller

    emails = []
    for seller_id in seller_ids:
        seller = db.session.get(Seller, seller_id)
        emails.append(db.session.get(User, seller.user_id).email)
    db.session.get(Seller, seller_ids[0]).sheba = sheba("0170000000123456789012")
    db.session.commit()
    return emails


def sheba(bban: str) -> str:
    """An Iranian Sheba (IBAN) number with its ISO 13616 check digits for 22 ``bban`` digits."""
    check = 98 - int(bban + "182700") % 97
    return f"IR{check:02d}{bban}"


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
        SELLER_EMAILS[:] = _seller_emails(list(sellers)[:2])
        db.session.remove()
    assert len(PRODUCTS) == 2
    APPS[:] = [app]

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


def log_in(visit, email: str) -> None:  # type: ignore[no-untyped-def]
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def pay_two_seller_cart(visit) -> list[int]:  # type: ignore[no-untyped-def]
    """The demo customer (logged in) buys one product of each of two sellers and pays online
    through the sandbox bank; the ids of the two orders made."""
    page = visit.page
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
    # Shipping is priced for the province at once: the order goes at the price shown.
    assert "هزینه‌ها برای استانی" in page.inner_text("#shipping")
    page.fill("input[name=city]", "زاهدان")
    page.fill("textarea[name=address]", "خیابان دانشگاه، کوچه ۳، پلاک ۱۲")
    page.fill("input[name=postal_code]", "۹۸۱۶۷۴۵۶۳۹")
    page.check("input[name=payment_method][value=ipg]")
    with page.expect_navigation():
        page.click("form.checkout-form button[data-place-order]")

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
    links = visit.js(
        "[...document.querySelectorAll('main a[href*=\"/orders/\"]')].map(a => a.pathname)"
    )
    ids = sorted({int(path.rstrip("/").split("/")[-1]) for path in links if path.count("/") == 2})
    assert len(ids) == 2, links
    return ids


def test_the_demo_customer_pays_a_two_seller_cart_in_the_sandbox(visit):
    log_in(visit, CUSTOMER)
    pay_two_seller_cart(visit)


def _in_db(query):  # type: ignore[no-untyped-def]
    """``query()`` run against the live server's database, with a fresh session."""
    with APPS[0].app_context():
        try:
            return query()
        finally:
            db.session.remove()


def _accept_confirmations(visit) -> None:  # type: ignore[no-untyped-def]
    visit.page.on("dialog", lambda dialog: dialog.accept())


def _submit(visit, selector: str) -> str:  # type: ignore[no-untyped-def]
    """Click ``selector`` and wait for the page it leads to; the page's flashed messages."""
    with visit.page.expect_navigation():
        visit.page.click(selector)
    return visit.page.inner_text("main")


def test_a_paid_cart_is_sent_received_disputed_refunded_and_the_seller_paid(browser, live_server):
    import io

    import jdatetime
    from PIL import Image

    from app.disputes.models import OrderProblem, ProblemStatus
    from app.orders.models import Order, OrderStatus
    from app.payouts import ledger
    from app.program.calendar import tehran_today
    from app.shipping.models import ShippingMethod

    contexts = []

    def as_person(email: str):  # type: ignore[no-untyped-def]
        context, visit = open_visit(browser, live_server)
        contexts.append((context, visit))
        _accept_confirmations(visit)
        log_in(visit, email)
        return visit

    try:
        customer = as_person(CUSTOMER)
        first, second = pay_two_seller_cart(customer)
        seller_of = _in_db(
            lambda: {o.id: o.seller_id for o in db.session.scalars(sa.select(Order))}
        )
        sellers = sorted({seller_of[first], seller_of[second]})
        assert len(sellers) == 2
        # Orders follow PRODUCTS' order: the first seller (with the Sheba number) sold `first`.
        orders_by_email = dict(zip(SELLER_EMAILS, (first, second), strict=True))

        # Each seller sends their order with the method and cost the customer chose of theirs.
        for email, order_id in orders_by_email.items():
            seller = as_person(email)
            seller.go(f"/seller/orders/{order_id}")
            if not seller.page.input_value("select[name=carrier]"):
                seller.page.select_option("select[name=carrier]", index=1)
            seller.page.fill("input[name=tracking_code]", f"IR{order_id:09d}")
            text = _submit(seller, "form.ship-form button[type=submit]")
            assert "ارسال" in text

        def shipping_of(order_id: int) -> tuple[int, int | None, int]:
            order = db.session.get(Order, order_id)
            method = db.session.get(ShippingMethod, order.shipping_method_id)
            return order.seller_id, method.seller_id if method else None, order.shipping_amount

        for order_id in (first, second):
            seller_id, method_owner, _cost = _in_db(lambda oid=order_id: shipping_of(oid))
            assert method_owner == seller_id  # each order went with its own seller's method

        # The customer confirms the first order and reports a problem with the second.
        customer.go(f"/orders/{first}")
        text = _submit(customer, "form[action$='/received'] button[type=submit]")
        assert _in_db(lambda: db.session.get(Order, first).status) == OrderStatus.COMPLETED

        customer.go(f"/orders/{second}")
        with customer.page.expect_navigation():
            customer.page.click(f"a[href$='/orders/{second}/problem']")
        customer.page.check("input[name=kind][value=damaged]")
        customer.page.fill("textarea[name=description]", "کاسه شکسته رسید؛ عکسش را فرستادم.")
        picture = io.BytesIO()
        Image.new("RGB", (320, 240), (180, 60, 40)).save(picture, "JPEG")
        customer.page.set_input_files(
            "input[name=photos]",
            files=[{"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}],
        )
        text = _submit(customer, "main form button[type=submit]")
        assert "گزارش شما برای فروشنده فرستاده شد." in text

        # The seller answers; the customer asks the market to decide.
        seller_b = as_person(SELLER_EMAILS[1])
        seller_b.go(f"/seller/orders/{second}")
        seller_b.page.fill("textarea[name=reply]", "بسته‌بندی محکم بود؛ بازارچه داوری کند.")
        assert "پاسخ شما برای مشتری فرستاده شد." in _submit(
            seller_b, "form[action$='/problem/answer'] button[type=submit]"
        )
        customer.go(f"/orders/{second}")
        _submit(customer, "form[action$='/problem/escalate'] button[type=submit]")

        # Staff refund the whole order to the card, through the sandbox bank.
        staff = as_person("staff@bazarche.example")
        staff.go("/admin/problems")
        with staff.page.expect_navigation():
            staff.page.click("main table a")
        staff.page.check("input[name=resolution][value=refund]")
        staff.page.fill("textarea[name=note]", "عکس شکستگی را نشان می‌دهد.")
        text = _submit(staff, "form[action$='/decide'] button[type=submit]")
        assert "تصمیم ثبت شد" in text
        problem = _in_db(
            lambda: db.session.scalar(
                sa.select(OrderProblem).where(OrderProblem.order_id == second)
            )
        )
        assert problem.status == ProblemStatus.REFUNDED
        assert _in_db(lambda: db.session.get(Order, second).status) == OrderStatus.REFUNDED

        # A settlement batch up to today pays the first seller what the market owes them.
        owed = _in_db(lambda: ledger.balance(seller_of[first]))
        assert owed > 0
        staff.go("/admin/settlements")
        today = jdatetime.date.fromgregorian(date=_in_db(tehran_today))
        staff.page.fill("input[name=day]", today.strftime("%Y/%m/%d"))
        text = _submit(staff, "form[action$='/settlements'] button[type=submit]")
        assert "آماده" in text or "بررسی" in text
        staff.page.check("input[name=confirm]")
        text = _submit(staff, "form[action$='/paid'] button[type=submit]")
        assert _in_db(lambda: ledger.balance(seller_of[first])) == 0
        assert _in_db(lambda: ledger.verify()) == []
        for _context, visit in contexts:
            assert_only_loopback(visit)
            assert not visit.errors, visit.errors
    finally:
        for context, _visit in contexts:
            context.close()
