"""Checkout: one payment and one order per seller with snapshots, prices from the database, stock
taken all or nothing, one checkout per form however often it is posted, Iranian address rules,
cash and card."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import Product
from app.core.extensions import db
from app.notifications.outbox import sent_mail
from app.orders.models import CartLine, Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments import services as payments
from app.payments.models import Payment, PaymentStatus, Provider
from tests import factories
from tests.fake_stripe import app_with, deliver, fake_stripe_fixture, stripe_settings  # noqa: F401
from tests.helpers import ADDRESS, flashes

# --- helpers -------------------------------------------------------------------------------------


def field_error(response, field: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(
        rf'<p class="error" id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    return unescape(found.group(1)) if found else ""


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count(model.id))) or 0


def stock(product_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Product, product_id).stock


def token_of(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/checkout").get_data(as_text=True)
    return re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html).group(1)


def cart_version_of(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/checkout").get_data(as_text=True)
    return re.search(r'name="cart_version" type="hidden" value="([^"]+)"', html).group(1)


def checkout(client, token: str | None = None, **fields: str):  # type: ignore[no-untyped-def]
    data = {**ADDRESS, **fields, "checkout_token": token or token_of(client)}
    return client.post("/checkout", data=data)


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    return {
        "a": a,
        "b": b,
        "cloth": factories.product(a, title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=5),
        "pillow": factories.product(a, title="کوسن بلوچ", price_amount=800_000, stock=10),
        "bowl": factories.product(b, title="کاسه سفالی", price_amount=450_000, stock=3),
    }


@pytest.fixture
def buyer(client, shop):  # type: ignore[no-untyped-def]
    """A logged-in customer reading English pages."""
    user = factories.user(email="mina@example.com", name="مینا")
    client.set_cookie("locale", "en")
    factories.login(client, user.email)
    return user


def fill(client, *items: tuple[Product, int]) -> None:  # type: ignore[no-untyped-def]
    for product, quantity in items:
        response = client.post("/cart/add", data={"product_id": product.id, "quantity": quantity})
        assert response.status_code == 302


# --- the flow ------------------------------------------------------------------------------------


def test_anonymous_visitors_log_in_first(client, shop):
    response = client.get("/checkout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    assert "next=%2Fcheckout" in response.headers["Location"]


def test_checkout_makes_one_payment_and_one_order_per_seller(client, shop, buyer):
    fill(client, (shop["cloth"], 2), (shop["pillow"], 1), (shop["bowl"], 3))
    page = client.get("/checkout").get_data(as_text=True)
    assert 'value="سیستان و بلوچستان"' in page and "Sistan and Baluchestan" in page
    assert page.count("<option") == 32  # "Choose…" and the 31 provinces
    assert 'value="card"' not in page  # no card payments configured

    response = checkout(client)
    assert response.status_code == 303
    payment = db.session.scalar(sa.select(Payment))
    assert response.headers["Location"] == f"/checkout/return/{payment.id}"
    assert payment.provider == Provider.CASH and payment.status == PaymentStatus.PENDING
    assert payment.amount == 2 * 1_250_000 + 800_000 + 3 * 450_000

    orders = {o.seller_id: o for o in db.session.scalars(sa.select(Order))}
    assert set(orders) == {shop["a"].id, shop["b"].id}
    a, b = orders[shop["a"].id], orders[shop["b"].id]
    assert a.status == b.status == OrderStatus.PLACED
    assert a.total_amount == 3_300_000 and b.total_amount == 1_350_000
    assert (a.recipient_name, a.mobile, a.postal_code, a.province) == (
        "مینا رضایی", "09121234567", "9816745639", "سیستان و بلوچستان",
    )  # fmt: skip
    snapshot = {
        (ln.product_title, ln.seller_name, ln.unit_price_amount, ln.quantity) for ln in a.lines
    }
    assert snapshot == {
        ("رومیزی سوزن‌دوزی", "کارگاه سوزن‌دوزی", 1_250_000, 2),
        ("کوسن بلوچ", "کارگاه سوزن‌دوزی", 800_000, 1),
    }
    assert [c.to_status for c in a.status_changes] == [OrderStatus.PLACED]
    assert (stock(shop["cloth"].id), stock(shop["pillow"].id), stock(shop["bowl"].id)) == (3, 9, 0)
    assert count(CartLine) == 0

    done = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Thank you! Your order is placed." in done
    assert f'href="/orders/{a.id}"' in done and f'href="/orders/{b.id}"' in done

    # A snapshot outlives changes to the product.
    shop["cloth"].title, shop["cloth"].price_amount = "عوض شد", 9
    db.session.commit()
    db.session.expire_all()
    line = db.session.scalar(sa.select(OrderLine).where(OrderLine.product_id == shop["cloth"].id))
    assert (line.product_title, line.unit_price_amount) == ("رومیزی سوزن‌دوزی", 1_250_000)


def test_posted_prices_are_ignored(client, shop, buyer):
    client.post(
        "/cart/add", data={"product_id": shop["cloth"].id, "quantity": 1, "price_amount": 1}
    )
    response = checkout(client, price_amount="1", total_amount="1", unit_price_amount="1")
    assert response.status_code == 303
    order = db.session.scalar(sa.select(Order))
    assert order.total_amount == 1_250_000
    assert [ln.unit_price_amount for ln in order.lines] == [1_250_000]


def test_an_item_sold_out_meanwhile_stops_everything_and_is_named(client, shop, buyer):
    fill(client, (shop["cloth"], 1), (shop["bowl"], 2))
    token = token_of(client)
    shop["bowl"].stock = 1  # another buyer was quicker
    db.session.commit()
    response = checkout(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/cart"
    message = flashes(client.get("/cart"))
    assert message == ["“کاسه سفالی” has just sold out. Please change your cart."]
    assert count(Payment) == count(Order) == 0
    assert (stock(shop["cloth"].id), stock(shop["bowl"].id)) == (5, 1)
    assert count(CartLine) == 2  # the cart is kept to fix


def test_an_item_unpublished_meanwhile_is_named(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    token = token_of(client)
    shop["cloth"].status = "draft"
    db.session.commit()
    checkout(client, token)
    assert flashes(client.get("/cart")) == [
        "“رومیزی سوزن‌دوزی” is no longer for sale. Please remove it."
    ]
    assert count(Order) == 0


def test_a_price_change_meanwhile_sends_the_customer_back_to_the_cart(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    token = token_of(client)
    shop["cloth"].price_amount = 1_300_000
    db.session.commit()
    response = checkout(client, token)
    assert response.headers["Location"] == "/cart"
    assert flashes(client.get("/cart")) == [
        "Some prices changed since you added the items. Please check them."
    ]
    assert count(Order) == 0


def test_an_empty_cart_has_no_checkout(client, shop, buyer):
    response = client.get("/checkout", follow_redirects=True)
    assert flashes(response) == ["Your cart is empty."]
    response = checkout(client, "A" * 32)
    assert response.headers["Location"] == "/cart"
    assert count(Payment) == 0


def test_the_same_form_posted_twice_makes_one_checkout(client, shop, buyer):
    fill(client, (shop["cloth"], 2))
    token = token_of(client)
    first = checkout(client, token)
    second = checkout(client, token)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Payment) == count(Order) == 1
    assert stock(shop["cloth"].id) == 3


# --- the address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "981674563", "Enter the 10-digit postal code."),
        ("postal_code", "98167456391", "Enter the 10-digit postal code."),
        (
            "mobile",
            "08121234567",
            "Enter an 11-digit mobile number starting with 09, like 09121234567.",
        ),
        (
            "mobile",
            "0912123456",
            "Enter an 11-digit mobile number starting with 09, like 09121234567.",
        ),
        ("recipient_name", "   ", "This field is required."),
        ("city", "", "This field is required."),
        ("address", "", "This field is required."),
        ("province", "", "This field is required."),
        ("province", "Atlantis", "Choose a province from the list."),
        ("payment_method", "card", "Choose a payment method."),
        ("payment_method", "bitcoin", "Choose a payment method."),
    ],
)
def test_address_mistakes_are_shown_on_their_field(client, shop, buyer, field, value, message):
    fill(client, (shop["cloth"], 1))
    response = checkout(client, **{field: value})
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert count(Order) == 0 and stock(shop["cloth"].id) == 5


def test_persian_digits_and_spacing_are_accepted(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    response = checkout(client, mobile="۰۹۱۲۱۲۳۴۵۶۷", postal_code="۹۸۱۶۷-۴۵۶۳۹")
    assert response.status_code == 303
    order = db.session.scalar(sa.select(Order))
    assert (order.mobile, order.postal_code) == ("09121234567", "9816745639")


def test_the_next_checkout_is_filled_with_the_last_address(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    checkout(client, city="چابهار")
    fill(client, (shop["bowl"], 1))
    html = client.get("/checkout").get_data(as_text=True)
    assert 'value="چابهار"' in html and 'value="9816745639"' in html


# --- limits and who may check out ----------------------------------------------------------------


def test_open_cash_orders_are_limited_per_checkout_not_per_seller(app, client, shop, buyer):
    app.config["MAX_OPEN_CASH_ORDERS"] = 2
    fill(client, (shop["cloth"], 1))
    assert checkout(client).status_code == 303
    fill(client, (shop["pillow"], 1), (shop["bowl"], 1))  # one checkout, two sellers: fine
    assert checkout(client).status_code == 303
    assert count(Order) == 3 and count(Payment) == 2
    fill(client, (shop["pillow"], 1))
    response = checkout(client)
    assert response.status_code == 400
    message = field_error(response, "payment_method")
    assert message.startswith(
        "You have 2 open cash-on-delivery orders, and 2 is the most you can have at a time."
    )
    # No card payments in this market: the way on is the truth, not "pay by card".
    assert "card" not in message
    assert count(Order) == 3


def test_a_new_customer_with_a_four_seller_cart_can_pay_on_delivery(app, client, shop, buyer):
    app.config["MAX_OPEN_CASH_ORDERS"] = 3
    more = [factories.seller(name=f"کارگاه {n}") for n in range(2)]
    items = [(shop["cloth"], 1), (shop["bowl"], 1)] + [
        (factories.product(s, title=f"سبد {s.id}", price_amount=200_000, stock=4), 1) for s in more
    ]
    fill(client, *items)
    assert checkout(client).status_code == 303
    assert count(Order) == 4 and count(Payment) == 1


def test_the_cash_limit_message_is_in_persian_digits_and_the_cart_warns_first(
    app, client, shop, buyer
):
    app.config["MAX_OPEN_CASH_ORDERS"] = 1
    fill(client, (shop["cloth"], 1))
    assert checkout(client).status_code == 303
    fill(client, (shop["bowl"], 1))
    client.set_cookie("locale", "en")
    cart = unescape(client.get("/cart").get_data(as_text=True))
    assert (
        "You have 1 open cash-on-delivery orders, and 1 is the most you can have at a time, "
        "so this cart cannot be paid on delivery now." in cart
    )
    page = unescape(client.get("/checkout").get_data(as_text=True))  # said before it is filled
    assert 'id="cash-limit"' in page and "1 is the most you can have at a time" in page
    client.set_cookie("locale", "fa")
    response = checkout(client)
    assert response.status_code == 400
    message = field_error(response, "payment_method")
    assert "۱" in message and not re.search(r"[0-9]", message)
    assert "۱" in unescape(client.get("/cart").get_data(as_text=True).split('id="cash-limit"')[1])


def test_checkout_errors_are_summarised_at_the_top_and_take_focus(app, client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    response = checkout(client, mobile="12", postal_code="")
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    summary = html.index("data-error-summary")
    assert summary < html.index('<form method="post"')  # above the form, under the heading
    assert 'tabindex="-1"' in html[html.rindex("<div", 0, summary) : summary + 200]
    assert '<a href="#mobile">' in html and '<a href="#postal_code">' in html
    # Focus is moved by a script of our own (the page policy allows no inline script).
    assert "/static/js/error-summary.js" in html and "<script>" not in html
    script = (Path(app.static_folder) / "js" / "error-summary.js").read_text(encoding="utf-8")
    assert "[data-error-summary]" in script and ".focus()" in script
    # A page without errors has no summary.
    assert "data-error-summary" not in client.get("/checkout").get_data(as_text=True)


def test_a_second_checkout_page_of_one_cart_is_sent_to_the_order_made(client, shop, buyer):
    fill(client, (shop["cloth"], 2))
    first, second = token_of(client), token_of(client)  # two tabs, two tokens
    version = cart_version_of(client)
    made = checkout(client, first, cart_version=version)
    assert made.status_code == 303
    again = checkout(client, second, cart_version=version)
    assert again.status_code == 303
    assert again.headers["Location"] == made.headers["Location"]
    page = client.get(again.headers["Location"])
    assert flashes(page, "info") == [
        "This cart was already ordered (from another window or an earlier click), so nothing "
        "new was ordered. Here is the order that was made."
    ]
    assert count(Payment) == 1 and count(Order) == 1
    assert stock(shop["cloth"].id) == 3


def test_a_cart_changed_in_another_tab_is_shown_again_before_it_is_ordered(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    token, version = token_of(client), cart_version_of(client)
    fill(client, (shop["bowl"], 1))  # another tab adds to the cart
    response = checkout(client, token, cart_version=version)
    assert response.status_code == 409
    html = unescape(response.get_data(as_text=True))
    assert "Your cart changed in another window since this page was opened." in html
    assert "کاسه سفالی" in html  # the cart as it is now
    assert count(Order) == 0
    # Placing it again from the page shown now works.
    new_version = re.search(r'name="cart_version" type="hidden" value="([^"]+)"', html).group(1)
    new_token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html).group(1)
    assert checkout(client, new_token, cart_version=new_version).status_code == 303
    assert count(Order) == 2


def test_staff_cannot_check_out(client, shop):
    staff = factories.user(Role.STAFF, email="staff@example.com")
    db.session.add(
        CartLine(
            user_id=staff.id, product_id=shop["cloth"].id, quantity=1, seen_price_amount=1_250_000
        )
    )
    db.session.commit()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    response = client.post("/checkout", data={**ADDRESS, "checkout_token": "A" * 32})
    assert response.status_code == 302
    assert count(Order) == 0


def test_a_seller_checks_out_from_another_shop(client, shop):
    client.set_cookie("locale", "en")
    factories.login(client, shop["a"].user.email)
    fill(client, (shop["bowl"], 1))
    assert checkout(client).status_code == 303
    order = db.session.scalar(sa.select(Order))
    assert order.customer_id == shop["a"].user_id and order.seller_id == shop["b"].id


def test_a_seller_cannot_post_a_checkout_of_their_own_products(client, shop):
    db.session.add(
        CartLine(
            user_id=shop["a"].user_id,
            product_id=shop["cloth"].id,
            quantity=1,
            seen_price_amount=1_250_000,
        )
    )
    db.session.commit()
    client.set_cookie("locale", "en")
    factories.login(client, shop["a"].user.email)
    response = checkout(client, "B" * 32)
    assert response.headers["Location"] == "/cart"
    assert count(Order) == 0


# --- card payments -------------------------------------------------------------------------------


@pytest.fixture
def cards(monkeypatch):  # type: ignore[no-untyped-def]
    started: list[tuple[int, str, str]] = []

    def start(payment, *, success_url, cancel_url):  # type: ignore[no-untyped-def]
        started.append((payment.id, success_url, cancel_url))
        return "https://pay.example/session/1"

    monkeypatch.setattr(payments, "card_payments_enabled", lambda: True)
    monkeypatch.setattr(payments, "start_card_payment", start)
    return started


def test_a_card_checkout_goes_to_the_provider_after_commit(client, shop, buyer, cards):
    fill(client, (shop["cloth"], 1), (shop["bowl"], 1))
    assert 'value="card"' in client.get("/checkout").get_data(as_text=True)
    response = checkout(client, payment_method="card")
    assert response.status_code == 303
    assert response.headers["Location"] == "https://pay.example/session/1"
    payment = db.session.scalar(sa.select(Payment))
    assert payment.provider == Provider.STRIPE and payment.expires_at is not None
    assert cards == [
        (payment.id, f"http://localhost/checkout/return/{payment.id}", "http://localhost/cart")
    ]
    assert {o.status for o in payment.orders} == {OrderStatus.AWAITING_PAYMENT}
    assert count(Order) == 2


def test_a_provider_failure_keeps_the_orders_awaiting_payment(client, shop, buyer, monkeypatch):
    def broken(payment, **urls):  # type: ignore[no-untyped-def]
        raise RuntimeError("provider down")

    monkeypatch.setattr(payments, "card_payments_enabled", lambda: True)
    monkeypatch.setattr(payments, "start_card_payment", broken)
    fill(client, (shop["cloth"], 1))
    response = checkout(client, payment_method="card")
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    message = flashes(client.get("/orders"))
    assert message and message[0].startswith("We could not reach the card payment service")
    order = db.session.scalar(sa.select(Order))
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert stock(shop["cloth"].id) == 4  # reserved until it expires


def test_the_return_page_waits_for_the_provider(client, shop, buyer, cards):
    fill(client, (shop["cloth"], 1))
    checkout(client, payment_method="card")
    payment = db.session.scalar(sa.select(Payment))
    url = f"/checkout/return/{payment.id}"

    html = client.get(url).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in html and "Confirming your payment…" in html

    for status, text in [
        (PaymentStatus.SUCCEEDED, "Paid. Thank you!"),
        (PaymentStatus.FAILED, "The payment did not go through"),
        (PaymentStatus.EXPIRED, "The time to pay ran out"),
        (PaymentStatus.IN_REVIEW, "Your payment is being checked"),
    ]:
        payment.status = status
        db.session.commit()
        html = client.get(url).get_data(as_text=True)
        assert text in html and 'http-equiv="refresh"' not in html, status
    assert 'href="/orders"' in html


def test_nobody_else_sees_a_return_page(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    checkout(client)
    payment = db.session.scalar(sa.select(Payment))
    other = client.application.test_client()
    factories.login(other, factories.user(email="other@example.com").email)
    assert other.get(f"/checkout/return/{payment.id}").status_code == 404
    assert client.get(f"/checkout/return/{payment.id + 1}").status_code == 404


def test_a_retried_card_form_goes_back_to_the_provider(client, shop, buyer, cards):
    fill(client, (shop["cloth"], 1))
    token = token_of(client)
    checkout(client, token, payment_method="card")
    again = checkout(client, token, payment_method="card")
    assert again.headers["Location"] == "https://pay.example/session/1"
    assert count(Payment) == 1
    payment = db.session.scalar(sa.select(Payment))
    payment.status = PaymentStatus.SUCCEEDED
    db.session.commit()
    again = checkout(client, token, payment_method="card")
    assert again.headers["Location"] == f"/checkout/return/{payment.id}"


def test_a_second_tab_of_an_unpaid_card_checkout_goes_to_the_same_payment(
    client, shop, buyer, cards
):
    fill(client, (shop["cloth"], 1))
    first, second = token_of(client), token_of(client)
    checkout(client, first, payment_method="card")
    again = checkout(client, second, payment_method="card")
    assert again.headers["Location"] == "https://pay.example/session/1"
    assert count(Payment) == 1 and count(Order) == 1
    assert len({payment_id for payment_id, _, _ in cards}) == 1
    assert stock(shop["cloth"].id) == 4


def test_status_changes_record_the_customer(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    checkout(client)
    change = db.session.scalar(sa.select(OrderStatusChange))
    assert change.actor_id == buyer.id


def test_all_address_mistakes_show_at_once(client, shop, buyer):
    fill(client, (shop["cloth"], 1))
    response = checkout(client, city="", postal_code="123", mobile="0812")
    assert response.status_code == 400
    assert field_error(response, "city") == "This field is required."
    assert field_error(response, "postal_code") == "Enter the 10-digit postal code."
    assert field_error(response, "mobile").startswith("Enter an 11-digit mobile number")


# --- card payments end to end, against the local fake of Stripe ----------------------------------


def test_a_card_checkout_end_to_end(tmp_path, fake_stripe):
    """Checkout page → provider → signed webhook → the return page says paid; both are mailed."""
    with app_with(tmp_path, **stripe_settings(fake_stripe)) as app:
        item = factories.product(title="گلیم", price_amount=2500, stock=2)
        buyer = factories.user(email="mina@example.com")
        client = app.test_client()
        client.set_cookie("locale", "en")
        factories.login(client, buyer.email)
        fill(client, (item, 1))
        response = checkout(client, payment_method="card")
        assert response.status_code == 303
        session = fake_stripe.only_session()
        assert response.headers["Location"] == session["url"]
        payment = db.session.scalar(sa.select(Payment))
        assert session["success_url"] == f"http://localhost/checkout/return/{payment.id}"
        assert session["cancel_url"] == "http://localhost/cart"

        url = f"/checkout/return/{payment.id}"
        assert "Confirming your payment…" in client.get(url).get_data(as_text=True)
        event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session["id"]))
        assert deliver(app.test_client(), event).status_code == 200
        db.session.expire_all()
        html = client.get(url).get_data(as_text=True)
        assert "Paid. Thank you!" in html and 'http-equiv="refresh"' not in html
        sent = sent_mail(app.config["MAIL_DIR"])
        assert {m.to for m in sent} == {"mina@example.com", item.seller.user.email}


def cart_quantities(user_id: int) -> dict[int, int]:
    db.session.expire_all()
    lines = db.session.scalars(sa.select(CartLine).where(CartLine.user_id == user_id))
    return {line.product_id: line.quantity for line in lines}


def test_a_failed_card_payment_offers_to_pay_again_with_the_cart_restored(
    client, shop, buyer, cards
):
    from app.payments import state as payment_state

    fill(client, (shop["cloth"], 2), (shop["bowl"], 1))
    checkout(client, payment_method="card")
    payment = db.session.scalar(sa.select(Payment))
    assert cart_quantities(buyer.id) == {}
    payment_state.expire_payment(payment, "failed")  # the customer cancelled at the provider
    db.session.commit()
    assert stock(shop["cloth"].id) == 5
    url = f"/checkout/return/{payment.id}"

    html = client.get(url).get_data(as_text=True)
    assert "The payment did not go through" in html and "cancelled" in html
    assert html.count(f'action="{url}/resume"') == 2
    assert "Try paying again" in html and "Pay on delivery instead" in html

    response = client.post(f"{url}/resume", data={"how": "cash"})
    assert response.status_code == 303 and response.headers["Location"] == "/checkout?pay=cash"
    wanted = {shop["cloth"].id: 2, shop["bowl"].id: 1}
    assert cart_quantities(buyer.id) == wanted
    page = client.get("/checkout?pay=cash").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="cash"|value="cash"[^>]*checked', page)
    # Pressed again (or the other button): the products are back once, not twice.
    response = client.post(f"{url}/resume", data={"how": "card"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/checkout?pay=")
    assert cart_quantities(buyer.id) == wanted
    assert stock(shop["cloth"].id) == 5  # the cart holds no stock: the next checkout takes it
    # ...and the new checkout pays on delivery.
    assert checkout(client, payment_method="cash").status_code == 303
    assert stock(shop["cloth"].id) == 3 and cart_quantities(buyer.id) == {}


def test_only_a_failed_or_expired_payment_of_ones_own_is_resumed(client, shop, buyer, cards):
    fill(client, (shop["cloth"], 1))
    checkout(client, payment_method="card")
    payment = db.session.scalar(sa.select(Payment))
    url = f"/checkout/return/{payment.id}/resume"
    assert client.post(url, data={"how": "sideways"}).status_code == 400
    response = client.post(url, data={"how": "card"}, follow_redirects=True)  # still pending
    assert flashes(response) == ["This payment cannot be tried again."]
    assert cart_quantities(buyer.id) == {}
    other = client.application.test_client()
    factories.login(other, factories.user(email="other@example.com").email)
    assert other.post(url, data={"how": "card"}).status_code == 404
