"""Concurrency: a real gunicorn with several worker processes on the test database (the SQLite
file, or PostgreSQL with TEST_DATABASE_URL), driven by many simultaneous HTTP clients.

- 50 one-unit checkouts of a product with 5 in stock: exactly 5 orders, stock 0, 45 clear
  sold-out answers, no 5xx;
- two-line carts filled in opposite orders: no deadlock, no partial order, stock taken exactly
  once per successful checkout;
- 20 simultaneous deliveries of one Stripe event: one payment, each order paid once, one e-mail
  per recipient;
- 10 simultaneous cancellations of one order: its stock comes back once.

The test process prepares rows with the factories and commits; the workers see them through the
same database. Each simulated customer is a real user logged in over HTTP with a cookie jar of
its own.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.notifications.outbox import sent_mail
from app.orders.models import CartLine, Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from tests import factories
from tests.fake_stripe import signed
from tests.live_server import (
    THREADS,
    Browser,
    CheckoutResult,
    Server,
    assert_no_server_errors,
    burst,
    checkout_burst,
    checkout_form,
    count,
    customers,
    fresh,
    log_in,
    placed,
    post_checkout,
    put_in_cart,
    stock,
)

pytestmark = pytest.mark.slow

# ---- the tests ------------------------------------------------------------------------------------


def test_fifty_buyers_of_five_units_make_exactly_five_orders(live: Server) -> None:
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=5)
    users = customers(THREADS)
    for user in users:
        put_in_cart(user, (bowl, 1))
    browsers = log_in(live, users)
    bowl_id = bowl.id
    fresh()

    outcomes = checkout_burst(live, browsers, "Clay bowl")

    assert outcomes == {"placed": 5, "sold_out": 45}
    assert stock(bowl_id) == 0
    assert count(Order) == count(Payment) == 5
    assert db.session.scalar(sa.select(sa.func.sum(OrderLine.quantity))) == 5
    assert count(Order, Order.status == OrderStatus.PLACED) == 5
    # The winners' carts were emptied; the others keep theirs to change.
    assert count(CartLine) == 45
    winners = {b_id for (b_id,) in db.session.execute(sa.select(Order.customer_id))}
    assert len(winners) == 5
    assert count(CartLine, CartLine.user_id.in_(winners)) == 0


def test_two_line_carts_filled_in_opposite_orders_never_deadlock_or_half_buy(
    live: Server,
) -> None:
    shop_a = factories.seller(name="Needlework Workshop")
    shop_b = factories.seller(name="Date Garden")
    # Enough cloth for everyone, dates for some: a refused checkout has taken its cloth first
    # (lower product id) and must give it back.
    buyers, dates_stock = 30, 12
    cloth = factories.product(shop_a, title="Needlework cloth", price_amount=1_250_000, stock=50)
    dates = factories.product(
        shop_b, title="Mazafati dates", price_amount=300_000, stock=dates_stock
    )
    users = customers(buyers)
    for i, user in enumerate(users):
        # Half fill the cart cloth-then-dates, half dates-then-cloth.
        put_in_cart(user, *((cloth, 1), (dates, 1))[:: 1 if i % 2 else -1])
    browsers = log_in(live, users)
    cloth_id, dates_id = cloth.id, dates.id
    fresh()

    outcomes = checkout_burst(live, browsers, "Mazafati dates")

    assert outcomes == {"placed": dates_stock, "sold_out": buyers - dates_stock}
    # Stock taken exactly once per successful checkout, on both lines.
    assert (stock(cloth_id), stock(dates_id)) == (50 - dates_stock, 0)
    # No partial checkout: every payment has both lines, one order per seller.
    payments = db.session.scalars(sa.select(Payment)).all()
    assert len(payments) == dates_stock
    for payment in payments:
        lines = sorted(
            (line.product_id, line.quantity) for order in payment.orders for line in order.lines
        )
        assert lines == [(cloth_id, 1), (dates_id, 1)]
        assert len(payment.orders) == 2
    assert count(Order) == count(OrderLine) == 2 * dates_stock
    assert count(CartLine) == 2 * (buyers - dates_stock)  # the refused carts are kept whole


def test_twenty_deliveries_of_one_webhook_event_pay_once_and_mail_once(live: Server) -> None:
    shop_a = factories.seller(name="Needlework Workshop")
    shop_b = factories.seller(name="Soap Makers")
    for shop in (shop_a, shop_b):
        shop.user.locale = "en"
    cloth = factories.product(shop_a, title="Needlework cloth", price_amount=12_500, stock=5)
    soap = factories.product(shop_b, title="Olive soap", price_amount=800, stock=10)
    (buyer,) = customers(1)
    put_in_cart(buyer, (cloth, 1), (soap, 2))
    recipients = {buyer.email, shop_a.user.email, shop_b.user.email}
    (browser,) = log_in(live, [buyer])
    fresh()

    reply = browser.post("/checkout", checkout_form("card"))
    assert reply.status == 303, (reply.status, reply.text[-1000:])
    session_id = reply.location.rsplit("/", 1)[-1]
    assert reply.location == f"{live.stripe.url}/pay/{session_id}"
    paid = live.stripe.pay(session_id)
    event = live.stripe.event("checkout.session.completed", paid)
    body, signature = signed(event)
    hook = Browser(live.url)
    fresh()
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status == PaymentStatus.PENDING and payment.provider == Provider.STRIPE
    payment_id = payment.id
    order_ids = sorted(o.id for o in payment.orders)
    assert len(order_ids) == 2
    fresh()

    replies = burst(
        [
            lambda: hook.request(
                "POST",
                "/payments/stripe/webhook",
                body=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
        ]
        * 20
    )

    assert_no_server_errors(live, replies)
    assert [r.status for r in replies] == [200] * 20
    results = Counter(json.loads(r.text)["result"] for r in replies)
    assert results == {"paid": 1, "duplicate": 19}
    fresh()
    assert count(PaymentEvent, PaymentEvent.event_id == event["id"]) == 1
    assert db.session.get(Payment, payment_id).status == PaymentStatus.SUCCEEDED
    for order_id in order_ids:
        order = db.session.get(Order, order_id)
        assert order.status == OrderStatus.PAID and order.paid_at is not None
        assert (
            count(
                OrderStatusChange,
                OrderStatusChange.order_id == order_id,
                OrderStatusChange.to_status == OrderStatus.PAID,
            )
            == 1
        )
    mails = sent_mail(live.mail_dir)
    assert Counter(m.to for m in mails) == dict.fromkeys(recipients, 1)
    subjects = {m.to: m.subject for m in mails}
    numbers = ", ".join(str(i) for i in order_ids)
    assert subjects[buyer.email] == f"Payment received for orders {numbers}"
    assert subjects[shop_a.user.email].startswith("New paid order ")
    assert subjects[shop_b.user.email].startswith("New paid order ")


def test_ten_simultaneous_cancellations_give_the_stock_back_once(live: Server) -> None:
    shop = factories.seller(name="Mat Weavers")
    shop.user.locale = "en"
    mat = factories.product(shop, title="Palm-leaf mat", price_amount=900_000, stock=10)
    (buyer,) = customers(1)
    put_in_cart(buyer, (mat, 3))
    (browser,) = log_in(live, [buyer])
    mat_id, buyer_email, seller_email = mat.id, buyer.email, shop.user.email
    fresh()
    result = post_checkout(browser)
    assert placed(result), (result.reply.status, result.reply.location)
    fresh()
    order = db.session.scalar(sa.select(Order))
    order_id = order.id
    assert stock(mat_id) == 7
    fresh()
    for path in live.mail_dir.iterdir():
        path.unlink()  # the "placed" mails
    tabs = [browser.clone() for _ in range(10)]

    def cancel(tab: Browser) -> CheckoutResult:
        reply = tab.post(f"/orders/{order_id}/cancel", {"reason": "changed my mind"})
        return CheckoutResult(reply, tab.follow(reply) if reply.status == 302 else reply)

    results = burst([lambda t=t: cancel(t) for t in tabs])

    assert_no_server_errors(live, [r.reply for r in results] + [r.page for r in results])
    assert all(r.reply.location.endswith(f"/orders/{order_id}") for r in results)
    said = Counter(
        "cancelled"
        if r.page.flashes("success") == [f"Order {order_id} is cancelled."]
        else "refused"
        if r.page.flashes("error") == ["This order can no longer be cancelled (status: Cancelled)."]
        else repr(r.page.flashes())
        for r in results
    )
    assert said == {"cancelled": 1, "refused": 9}
    fresh()
    assert stock(mat_id) == 10
    order = db.session.get(Order, order_id)
    assert order.status == OrderStatus.CANCELLED and order.stock_released
    assert (
        count(
            OrderStatusChange,
            OrderStatusChange.order_id == order_id,
            OrderStatusChange.to_status == OrderStatus.CANCELLED,
        )
        == 1
    )
    mails = sent_mail(live.mail_dir)
    assert Counter(m.to for m in mails) == {buyer_email: 1, seller_email: 1}
