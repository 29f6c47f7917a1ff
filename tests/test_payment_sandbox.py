"""The payment sandbox (PAYMENT_SANDBOX): a simulated bank page served by the app, driving the
same provider code as the real gateway against an in-process implementation of its API.

Pages are driven with the Flask test client, with CSRF protection on as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.orders.models import Order, OrderStatus
from app.payments import online
from app.payments.models import Payment, PaymentStatus, Provider
from tests import factories
from tests.fake_stripe import app_with, notices_fixture  # noqa: F401
from tests.helpers import ADDRESS

SANDBOX = {
    "PAYMENT_SANDBOX": True,
    "IPG_MERCHANT_ID": "",
    "MARKET_CURRENCY": "IRR",
    "STRIPE_SECRET_KEY": "",
    "WTF_CSRF_ENABLED": True,
}


@pytest.fixture
def sandbox_app(tmp_path: Path) -> Iterator:
    with app_with(tmp_path, **SANDBOX) as app:
        yield app


@pytest.fixture
def shop(sandbox_app):  # type: ignore[no-untyped-def]
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    return {
        "cloth": factories.product(a, title="رومیزی", price_amount=1_250_000, stock=5),
        "bowl": factories.product(b, title="کاسه", price_amount=450_000, stock=3),
    }


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert found, html[-3000:]
    return found.group(1)


def log_in(client, email: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    response = client.post(
        "/auth/login",
        data={"email": email, "password": factories.PASSWORD, "csrf_token": csrf(page)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]


@pytest.fixture
def client(sandbox_app, shop):  # type: ignore[no-untyped-def]
    client = sandbox_app.test_client()
    buyer = factories.user(email="buyer@example.com")
    buyer.locale = "en"
    db.session.commit()
    log_in(client, buyer.email)
    return client


def to_gateway(client, shop) -> tuple[Payment, str]:  # type: ignore[no-untyped-def]
    """A two-seller cart checked out through the (sandbox) bank: the payment and the bank page."""
    for product in (shop["cloth"], shop["bowl"]):
        page = client.get(f"/p/{product.id}").get_data(as_text=True)
        response = client.post(
            "/cart/add",
            data={"product_id": product.id, "quantity": 1, "csrf_token": csrf(page)},
        )
        assert response.status_code == 302
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {**ADDRESS, "payment_method": "ipg", "checkout_token": token, "csrf_token": csrf(page)}
    response = client.post("/checkout", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    location = response.headers["Location"]
    assert location.startswith("http://localhost/sandbox/gateway/")
    return db.session.scalar(sa.select(Payment)), location.removeprefix("http://localhost")


def press(client, gateway: str, outcome: str):  # type: ignore[no-untyped-def]
    page = client.get(gateway).get_data(as_text=True)
    return client.post(gateway, data={"outcome": outcome, "csrf_token": csrf(page)})


def reload(payment_id: int) -> Payment:
    db.session.rollback()
    return db.session.get(Payment, payment_id)


def stock(product_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.text("SELECT stock FROM product WHERE id = :id"), {"id": product_id}
    )


def test_paying_a_two_seller_cart_in_the_sandbox(client, shop, notices):
    payment, gateway = to_gateway(client, shop)
    assert payment.provider == Provider.IPG
    page = client.get(gateway).get_data(as_text=True)
    assert "Sandbox bank gateway" in page and "no real money" in page
    assert 'value="pay"' in page and 'value="cancel"' in page and 'value="fail"' in page

    response = press(client, gateway, "pay")
    assert response.status_code == 303
    authority = payment.provider_reference
    assert response.headers["Location"] == (
        f"http://localhost/payments/ipg/callback?Authority={authority}&Status=OK"
    )
    back = client.get(response.headers["Location"].removeprefix("http://localhost"))
    assert back.headers["Location"] == f"/checkout/return/{payment.id}"
    paid = reload(payment.id)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.gateway_ref_id
    statuses = set(db.session.scalars(sa.select(Order.status).where(Order.payment_id == paid.id)))
    assert statuses == {OrderStatus.PAID}
    assert "Paid. Thank you!" in client.get(f"/checkout/return/{payment.id}").get_data(True)
    assert notices.kinds() == ["paid"]

    # The bank page is closed now; pressing again changes nothing.
    assert client.get(gateway).status_code == 404
    again = press_without_page(client, gateway, "cancel")
    assert again.status_code in (303, 400)
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED


def press_without_page(client, gateway: str, outcome: str):  # type: ignore[no-untyped-def]
    token = csrf(client.get("/cart").get_data(as_text=True))
    return client.post(gateway, data={"outcome": outcome, "csrf_token": token})


@pytest.mark.parametrize("outcome", ["cancel", "fail"])
def test_cancel_or_fail_in_the_sandbox_releases_the_stock_once(client, shop, notices, outcome):
    payment, gateway = to_gateway(client, shop)
    assert stock(shop["cloth"].id) == 4
    response = press(client, gateway, outcome)
    assert response.headers["Location"].endswith("&Status=NOK")
    callback = response.headers["Location"].removeprefix("http://localhost")
    client.get(callback)
    client.get(callback)
    assert reload(payment.id).status == PaymentStatus.FAILED
    assert stock(shop["cloth"].id) == 5 and stock(shop["bowl"].id) == 3
    assert notices.kinds() == ["cancelled"]


def test_the_sandbox_buttons_need_the_csrf_token(client, shop):
    payment, gateway = to_gateway(client, shop)
    response = client.post(gateway, data={"outcome": "pay"})
    assert response.status_code in (303, 400)
    assert client.get(gateway).status_code == 200  # still open: nothing was recorded
    assert reload(payment.id).status == PaymentStatus.PENDING


def test_reconcile_finishes_a_sandbox_payment_whose_callback_was_lost(sandbox_app, client, shop):
    payment, gateway = to_gateway(client, shop)
    press(client, gateway, "pay")  # ... and the browser never follows the redirect
    counts = online.reconcile_all(0)
    assert counts.get("ipg:paid") == 1, counts
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED


def test_every_page_says_sandbox_while_it_is_on(client, shop):
    for path in ("/", "/cart", f"/p/{shop['bowl'].id}", "/orders"):
        assert "Sandbox: no real money" in client.get(path).get_data(as_text=True), path


def test_no_sandbox_banner_or_page_when_it_is_off(tmp_path):
    with app_with(tmp_path, **{**SANDBOX, "PAYMENT_SANDBOX": False}) as app:
        client = app.test_client()
        assert "Sandbox" not in client.get("/").get_data(as_text=True)
        assert client.get("/sandbox/gateway/S123").status_code == 404
        assert online.enabled_providers() == []


def test_the_sandbox_refuses_to_start_beside_a_real_merchant_id(tmp_path):
    from tests.conftest import make_app

    with pytest.raises(online.SandboxWithRealMerchant, match="PAYMENT_SANDBOX.*IPG_MERCHANT_ID"):
        make_app(tmp_path, **{**SANDBOX, "IPG_MERCHANT_ID": "0f3e4c2a-real"})


def test_an_unknown_sandbox_payment_page_is_a_clear_404(client):
    response = client.get("/sandbox/gateway/SNOTHING")
    assert response.status_code == 404
    assert "This sandbox payment is not open" in response.get_data(as_text=True)


def test_a_cancelled_sandbox_payment_is_paid_again_from_its_return_page(client, shop):
    payment, gateway = to_gateway(client, shop)
    response = press(client, gateway, "cancel")
    callback = response.headers["Location"].removeprefix("http://localhost")
    page = client.get(callback, follow_redirects=True).get_data(as_text=True)
    assert "The payment did not go through" in page and "Try paying again" in page
    # "Try paying again": the products are back in the cart and the bank gateway is chosen.
    resume = client.post(
        f"/checkout/return/{payment.id}/resume", data={"how": "card", "csrf_token": csrf(page)}
    )
    assert resume.status_code == 303 and resume.headers["Location"] == "/checkout?pay=ipg"
    checkout = client.get("/checkout?pay=ipg").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="ipg"|value="ipg"[^>]*checked', checkout)
    assert stock(shop["cloth"].id) == 5  # held by nobody until the next checkout
    cart = client.get("/cart").get_data(as_text=True)
    assert shop["cloth"].title in cart and shop["bowl"].title in cart
