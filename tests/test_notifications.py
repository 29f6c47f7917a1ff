"""Order e-mails: written after commit, in each recipient's language, never breaking the action
that sent them; the development outbox shows them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask_babel import force_locale, ngettext

from app.core.extensions import db
from app.core.formatting import persian_digits
from app.notifications.orders import send_order_event
from app.notifications.outbox import SentMail, sent_mail
from app.orders import cart as carts
from app.orders.models import Order, OrderStatus
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments import state as payment_state
from app.payments.models import Provider
from tests import factories
from tests.conftest import make_app
from tests.helpers import client_for

ADDRESS = Address(
    recipient_name="مینا رضایی",
    mobile="09121234567",
    province="سیستان و بلوچستان",
    city="زاهدان",
    address="خیابان دانشگاه، پلاک ۱۲",
    postal_code="9816745639",
)
CHECKOUT = {
    "recipient_name": ADDRESS.recipient_name,
    "mobile": ADDRESS.mobile,
    "province": ADDRESS.province,
    "city": ADDRESS.city,
    "address": ADDRESS.address,
    "postal_code": ADDRESS.postal_code,
    "payment_method": "cash",
    "checkout_token": "notify-test-token-0001",
}


def outbox(app) -> list[SentMail]:  # type: ignore[no-untyped-def]
    return sent_mail(app.config["MAIL_DIR"])


def to(app, email: str) -> list[SentMail]:  # type: ignore[no-untyped-def]
    return [m for m in outbox(app) if m.to == email]


def subject_in(locale: str, singular: str, plural: str, n: int, numbers: str) -> str:
    with force_locale(locale):
        return ngettext(singular, plural, n, numbers=numbers)


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    a.user.locale = "en"  # the seller reads English
    b = factories.seller(name="سفال کلپورگان")
    b.user.locale = "fa"
    mina = factories.user(email="mina@example.com", name="مینا")
    mina.locale = "fa"  # the customer reads Persian
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "mina": mina,
        "cloth": factories.product(a, title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=5),
        "bowl": factories.product(b, title="کاسه سفالی", price_amount=450_000, stock=3),
    }


def test_a_cash_checkout_mails_the_customer_once_and_each_seller(app, world):
    client = client_for(app, world["mina"])
    for product in (world["cloth"], world["bowl"]):
        client.post("/cart/add", data={"product_id": product.id, "quantity": 1})
    assert outbox(app) == []
    response = client.post("/checkout", data=CHECKOUT)
    assert response.status_code == 303
    client.post("/checkout", data=CHECKOUT)  # the same form again: no second e-mail

    ids = sorted(o.id for o in db.session.query(Order))
    customer = to(app, "mina@example.com")
    assert len(customer) == 1 and len(outbox(app)) == 3
    numbers = "، ".join(persian_digits(i) for i in ids)
    expected = subject_in(
        "fa", "Your order %(numbers)s is placed", "Your orders %(numbers)s are placed", 2, numbers
    )
    mail = customer[0]
    assert mail.subject == expected and mail.language == "fa"
    assert persian_digits(ids[0]) in mail.subject and str(ids[0]) not in mail.subject
    assert "رومیزی سوزن‌دوزی" in mail.text and "کاسه سفالی" in mail.text
    assert "۱۲۵٬۰۰۰ تومان" in mail.text  # money as a Persian reader reads it
    assert f"http://localhost/orders/{ids[0]}" in mail.text and 'dir="rtl"' in mail.html

    english_seller = to(app, world["a"].user.email)
    assert [m.subject for m in english_seller] == [f"New order {ids[0]}: please confirm it"]
    assert english_seller[0].language == "en"
    assert "125,000 toman" in english_seller[0].text
    assert f"http://localhost/seller/orders/{ids[0]}" in english_seller[0].text
    assert "کاسه سفالی" not in english_seller[0].text  # only their own order
    persian_seller = to(app, world["b"].user.email)
    assert (
        persian_seller[0].language == "fa" and persian_digits(ids[1]) in persian_seller[0].subject
    )


def test_each_step_mails_the_customer_and_shipping_carries_the_tracking_code(app, world):
    payment = _place(world["mina"], world["cloth"])
    order_id = payment.orders[0].id
    seller = client_for(app, world["a"].user)
    before = len(outbox(app))
    seller.post(f"/seller/orders/{order_id}/move", data={"action": "confirm"})
    seller.post(
        f"/seller/orders/{order_id}/move",
        data={"action": "ship", "carrier": "پست پیشتاز", "tracking_code": "IR998877"},
    )
    seller.post(f"/seller/orders/{order_id}/move", data={"action": "deliver"})
    mails = list(reversed(outbox(app)))[before:]  # oldest first
    assert [m.to for m in mails] == [
        "mina@example.com",  # confirmed
        "mina@example.com",  # shipped
        "mina@example.com",  # delivered
        world["a"].user.email,  # delivered: it now counts as a sale
    ]
    shipped = mails[1]
    assert "IR998877" in shipped.text and "پست پیشتاز" in shipped.text
    assert shipped.subject == subject_in(
        "fa", "Order %(numbers)s is on its way", "Orders %(numbers)s are on their way", 1,
        persian_digits(order_id),
    )  # fmt: skip
    assert mails[3].subject == f"Order {order_id} was delivered"


def test_a_cancellation_tells_both_and_gives_the_reason(app, world):
    payment = _place(world["mina"], world["cloth"])
    order_id = payment.orders[0].id
    seller = client_for(app, world["a"].user)
    seller.post(
        f"/seller/orders/{order_id}/move", data={"action": "cancel", "reason": "نخ تمام شد"}
    )
    customer_mail = to(app, "mina@example.com")[0]
    assert "نخ تمام شد" in customer_mail.text
    assert to(app, world["a"].user.email)[0].subject == f"Order {order_id} was cancelled"


def test_a_refused_move_sends_nothing(app, world):
    payment = _place(world["mina"], world["cloth"])
    order_id = payment.orders[0].id
    seller = client_for(app, world["a"].user)
    before = len(outbox(app))
    seller.post(f"/seller/orders/{order_id}/move", data={"action": "deliver"})  # not yet shipped
    seller.post(f"/seller/orders/{order_id}/move", data={"action": "cancel", "reason": ""})
    customer = client_for(app, world["mina"])
    customer.post(f"/orders/{order_id + 1}/cancel")  # not theirs / not there
    assert len(outbox(app)) == before


def test_a_mail_failure_is_logged_and_the_action_still_succeeds(app, world, caplog, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    app.config["MAIL_FILE_PATH"] = str(blocker)
    app.extensions["mailman"].file_path = str(blocker)
    payment = _place(world["mina"], world["cloth"])
    order_id = payment.orders[0].id
    seller = client_for(app, world["a"].user)
    with caplog.at_level(logging.ERROR, logger="app.notifications"):
        response = seller.post(f"/seller/orders/{order_id}/move", data={"action": "confirm"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == OrderStatus.CONFIRMED
    assert any("confirmed" in r.getMessage() for r in caplog.records)


def test_payment_events_can_be_sent_outside_a_request(app, world):
    """The payment side calls send_order_event from webhooks and from `flask orders expire`."""
    app.config["SITE_URL"] = "https://bazarche.example"
    payment = _place(world["mina"], world["bowl"], provider=Provider.STRIPE)
    order_id = payment.orders[0].id
    send_order_event("placed", [order_id])  # a card order waiting for money: no news yet
    assert outbox(app) == []

    send_order_event("paid", [order_id])
    assert {m.to for m in outbox(app)} == {"mina@example.com", world["b"].user.email}
    assert f"https://bazarche.example/orders/{order_id}" in to(app, "mina@example.com")[0].text

    for kind in ("refunded", "late_payment_refunded"):
        send_order_event(kind, [order_id])
    assert len(to(app, "mina@example.com")) == 3


def test_an_expired_card_order_is_news_for_the_customer_only(app, world):
    payment = _place(world["mina"], world["bowl"], provider=Provider.STRIPE)
    payment_state.expire_payment(payment)
    db.session.commit()
    send_order_event("expired", [payment.orders[0].id])
    send_order_event("cancelled", [payment.orders[0].id])
    assert {m.to for m in outbox(app)} == {"mina@example.com"}


def test_unknown_events_and_missing_orders_send_nothing_and_raise_nothing(app, world):
    send_order_event("exploded", [1])
    send_order_event("paid", [])
    send_order_event("paid", [424242])
    assert outbox(app) == []


# --- the development outbox ----------------------------------------------------------------------


def test_the_outbox_is_not_there_outside_debug_mode(client):
    assert client.get("/dev/mail").status_code == 404


def test_with_dev_outbox_it_answers_this_machine_only(tmp_path: Path):
    app = make_app(tmp_path, DEV_OUTBOX=True)
    with app.app_context():
        client = app.test_client()
        assert client.get("/dev/sms").status_code == 200  # the test client is 127.0.0.1
        assert client.get("/dev/mail").status_code == 200
        away = {"REMOTE_ADDR": "203.0.113.9"}
        assert client.get("/dev/sms", environ_base=away).status_code == 404
        assert client.get("/dev/mail", environ_base=away).status_code == 404
        db.session.remove()
        db.engine.dispose()


def test_the_outbox_lists_newest_first_and_shows_one(tmp_path: Path):
    app = make_app(tmp_path, DEBUG=True)
    with app.app_context():
        mina = factories.user(email="mina@example.com")
        first = _place(mina, factories.product(stock=5))
        second = _place(mina, factories.product(stock=5))
        send_order_event("placed", [first.orders[0].id])
        send_order_event("placed", [second.orders[0].id])
        client = app.test_client()
        client.set_cookie("locale", "en")
        html = client.get("/dev/mail").get_data(as_text=True)
        mails = sent_mail(app.config["MAIL_DIR"])
        assert len(mails) == 4  # customer and seller, twice
        assert {persian_digits(second.orders[0].id) in m.subject for m in mails[:2]} == {True}
        assert {persian_digits(first.orders[0].id) in m.subject for m in mails[2:]} == {True}
        assert html.index(mails[0].subject) < html.index(mails[-1].subject)
        shown = client.get(f"/dev/mail/{mails[0].name}?i=0")
        assert shown.status_code == 200 and mails[0].subject in shown.get_data(as_text=True)
        html_part = client.get(f"/dev/mail/{mails[0].name}/html?i=0")
        assert html_part.mimetype == "text/html" and "<table" in html_part.get_data(as_text=True)
        assert client.get("/dev/mail/../../etc/passwd").status_code == 404
        assert client.get("/dev/mail/nope.log").status_code == 404
        db.session.remove()
        db.engine.dispose()


def _place(customer, product, provider: Provider = Provider.CASH):  # type: ignore[no-untyped-def]
    carts.add(customer, None, product.id, 1)
    return payment_checkout.place_checkout(
        customer,
        ADDRESS,
        provider,
        f"notify-{customer.id}-{product.id}-token",
        currency="IRR",
        expiry_minutes=60,
        max_open_cash_orders=100,
    ).payment


def test_a_late_payment_refund_tells_both_parties(app, world):
    payment = _place(world["mina"], world["bowl"], provider=Provider.STRIPE)
    payment_state.expire_payment(payment)
    db.session.commit()
    send_order_event("late_payment_refunded", [payment.orders[0].id])
    seller_email = world["b"].user.email
    assert {m.to for m in outbox(app)} == {"mina@example.com", seller_email}
    (seller_mail,) = to(app, seller_email)
    number = persian_digits(payment.orders[0].id)
    assert (
        subject_in(
            "fa",
            "A late payment for order %(numbers)s was refunded",
            "A late payment for orders %(numbers)s was refunded",
            1,
            number,
        )
        in seller_mail.subject
    )
