"""Card payments: the Checkout Session, catching up with Stripe, expiry and late payments.

Stripe is a local fake of its HTTP API (tests/fake_stripe.py) that the real library talks to.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.timeutil import as_utc, utcnow
from app.orders.errors import CartProblem
from app.orders.models import CartLine, Order, OrderLine, OrderStatus
from app.payments import services as payments
from app.payments.models import Payment, PaymentEvent, PaymentStatus
from app.payments.state import expire_unpaid
from tests import factories
from tests.fake_stripe import (  # noqa: F401  (fixtures)
    CANCEL_URL,
    RETURN_URL,
    StripeError,
    app_with,
    card_checkout,
    deliver,
    fake_stripe_fixture,
    notices_fixture,
    start,
    stripe_app_fixture,
)


def reload(payment_id: int) -> Payment:
    db.session.rollback()  # a fresh snapshot: other sessions committed meanwhile
    return db.session.get(Payment, payment_id)


def order_statuses(payment_id: int) -> list[OrderStatus]:
    return list(
        db.session.scalars(
            sa.select(Order.status).where(Order.payment_id == payment_id).order_by(Order.id)
        )
    )


def stock(product_id: int) -> int:
    db.session.rollback()  # a fresh snapshot: other sessions committed meanwhile
    return db.session.scalar(
        sa.text("SELECT stock FROM product WHERE id = :id"), {"id": product_id}
    )


# ---- when card payments are on --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "currency", "enabled"),
    [("sk_test_x", "EUR", True), ("sk_test_x", "IRR", False), ("", "EUR", False)],
)
def test_card_payments_need_a_key_and_a_currency_stripe_accepts(tmp_path, key, currency, enabled):
    with app_with(tmp_path, STRIPE_SECRET_KEY=key, MARKET_CURRENCY=currency):
        assert payments.card_payments_enabled() is enabled


def test_start_up_says_why_card_payments_are_off(tmp_path, caplog):
    with (
        caplog.at_level(logging.INFO),
        app_with(tmp_path, STRIPE_SECRET_KEY="sk_test_x", MARKET_CURRENCY="IRR"),
    ):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Card payments are OFF" in m and "IRR" in m for m in warnings), warnings


def test_no_card_payment_in_rials(tmp_path, fake_stripe):
    with app_with(
        tmp_path,
        STRIPE_SECRET_KEY="sk_test_x",
        STRIPE_API_BASE=fake_stripe.url,
        MARKET_CURRENCY="IRR",
    ):
        payment = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
        with pytest.raises(payments.PaymentUnavailable) as err:
            start(payment)
        assert err.value.code == "disabled"
    assert fake_stripe.requests == []


# ---- the Checkout Session -------------------------------------------------------------------


def test_session_is_built_from_database_prices(stripe_app, fake_stripe):
    customer = factories.user()
    mat, pickles = (
        factories.product(price_amount=1250, stock=5),
        factories.product(price_amount=990),
    )
    payment = card_checkout(customer, [(mat, 2), (pickles, 3)])
    # The price changes after the checkout: the customer pays what the order lines say.
    mat.price_amount = 99
    db.session.commit()

    url = start(payment)

    session = fake_stripe.only_session()
    params = fake_stripe.session_params[session["id"]]
    assert url == session["url"]
    assert [
        (i["price_data"]["unit_amount"], i["quantity"], i["price_data"]["currency"])
        for i in params["line_items"]
    ] == [("1250", "2", "eur"), ("990", "3", "eur")]
    assert session["amount_total"] == payment.amount == 2 * 1250 + 3 * 990
    assert params["client_reference_id"] == str(payment.id)
    assert params["metadata"] == {"payment_id": str(payment.id)}
    assert params["payment_intent_data"]["metadata"] == {"payment_id": str(payment.id)}
    assert (params["success_url"], params["cancel_url"]) == (RETURN_URL, CANCEL_URL)
    assert int(params["expires_at"]) == int(as_utc(payment.expires_at).timestamp())
    assert fake_stripe.requests[0]["idempotency_key"] == f"checkout-{payment.id}"
    assert reload(payment.id).provider_reference == session["id"]


def test_a_tampered_cart_price_is_refused_before_any_session(stripe_app, fake_stripe):
    customer, product = factories.user(), factories.product(price_amount=1250)
    from app.orders import cart

    cart.add(customer, None, product.id, 1)
    db.session.execute(sa.update(CartLine).values(seen_price_amount=1))
    db.session.commit()
    with pytest.raises(CartProblem):
        card_checkout(customer, [])
    assert fake_stripe.sessions == {}
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_starting_twice_gives_one_session(stripe_app, fake_stripe):
    payment = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
    first = start(payment)
    assert start(payment) == first
    # The reply of the first call was lost before its id was stored: the key finds the session.
    db.session.execute(sa.update(Payment).values(provider_reference=None))
    db.session.commit()
    assert start(payment) == first
    assert len(fake_stripe.sessions) == 1
    assert reload(payment.id).provider_reference == fake_stripe.only_session()["id"]


def test_a_short_expiry_still_gives_stripe_its_thirty_minutes(stripe_app, fake_stripe):
    payment = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
    payment.expires_at = utcnow() + timedelta(minutes=10)
    db.session.commit()
    start(payment)  # the fake refuses expires_at under 30 minutes, as Stripe does
    assert (
        int(fake_stripe.only_session()["expires_at"])
        >= (utcnow() + timedelta(minutes=30)).timestamp()
    )


def test_no_session_for_a_payment_that_is_over(stripe_app, fake_stripe):
    payment = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
    expire_unpaid(utcnow() + timedelta(hours=2))
    with pytest.raises(payments.PaymentUnavailable) as err:
        start(reload(payment.id))
    assert err.value.code == "not_pending"
    assert fake_stripe.sessions == {}


def test_stripe_refusing_is_a_domain_error(stripe_app, fake_stripe):
    payment = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
    fake_stripe.fail_next = StripeError(400, "Your account cannot currently make live charges.")
    with pytest.raises(payments.PaymentUnavailable) as err:
        start(payment)
    assert err.value.code == "provider"
    assert reload(payment.id).provider_reference is None


def test_return_page_state_is_confirming_until_the_webhook(
    stripe_app, fake_stripe, client_of_customer
):
    client, customer = client_of_customer
    payment = card_checkout(customer, [(factories.product(price_amount=1250), 1)])
    start(payment)
    assert client.get(f"/payments/{payment.id}/state").json == {"state": "confirming"}
    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    assert (
        deliver(client, fake_stripe.event("checkout.session.completed", session)).status_code == 200
    )
    assert client.get(f"/payments/{payment.id}/state").json == {"state": "paid"}


def test_payment_state_is_private(stripe_app, client_of_customer):
    client, _ = client_of_customer
    other = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
    assert client.get(f"/payments/{other.id}/state").status_code == 404


@pytest.fixture
def client_of_customer(stripe_app):
    customer = factories.user()
    client = stripe_app.test_client()
    factories.login(client, customer.email)
    return client, customer


# ---- reconcile: lost webhooks ---------------------------------------------------------------


def test_reconcile_confirms_a_payment_whose_webhook_was_lost(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=5)
    payment = card_checkout(factories.user(), [(product, 2)])
    start(payment)
    fake_stripe.pay(fake_stripe.only_session()["id"])

    assert payments.reconcile(15) == {}  # too recent: Stripe is not asked yet
    assert [r for r in fake_stripe.requests if r["method"] == "GET"] == []

    runner = stripe_app.test_cli_runner()
    result = runner.invoke(args=["payments", "reconcile", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "paid: 1" in result.output
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert order_statuses(payment.id) == [OrderStatus.PAID]
    assert stock(product.id) == 3

    again = runner.invoke(args=["payments", "reconcile", "--older-than", "0"])
    assert "nothing to do" in again.output
    assert db.session.scalar(sa.select(sa.func.count(PaymentEvent.id))) == 1
    assert notices.kinds() == ["paid"]
    # The webhook arrives at last: recorded, nothing acts again.
    late = fake_stripe.event("checkout.session.completed", fake_stripe.only_session())
    assert deliver(stripe_app.test_client(), late).json["result"] == "unchanged"
    assert notices.kinds() == ["paid"]
    assert stock(product.id) == 3


def test_reconcile_expires_a_session_stripe_expired(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=5)
    payment = card_checkout(factories.user(), [(product, 2)])
    start(payment)
    fake_stripe.expire(fake_stripe.only_session()["id"])
    assert payments.reconcile(0) == {"expired": 1}
    assert reload(payment.id).status == PaymentStatus.EXPIRED
    assert order_statuses(payment.id) == [OrderStatus.CANCELLED]
    assert stock(product.id) == 5
    assert payments.reconcile(0) == {}
    assert stock(product.id) == 5
    assert notices.kinds() == ["expired"]


def test_reconcile_leaves_open_sessions_alone(stripe_app, fake_stripe):
    payment = card_checkout(factories.user(), [(factories.product(price_amount=1250), 1)])
    start(payment)
    assert payments.reconcile(0) == {"waiting": 1}
    assert reload(payment.id).status == PaymentStatus.PENDING


# ---- expiry ---------------------------------------------------------------------------------


def test_expire_command_closes_the_session_and_releases_stock_once(
    stripe_app, fake_stripe, notices
):
    product = factories.product(price_amount=1250, stock=5)
    started = card_checkout(factories.user(), [(product, 2)])
    start(started)
    never_started = card_checkout(factories.user(), [(product, 1)])
    fresh = card_checkout(factories.user(), [(product, 1)])
    assert stock(product.id) == 1
    past = utcnow() - timedelta(minutes=1)
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id.in_([started.id, never_started.id]))
        .values(expires_at=past)
    )
    db.session.commit()

    runner = stripe_app.test_cli_runner()
    result = runner.invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert "Expired 2 unpaid card checkouts." in result.output
    assert fake_stripe.only_session()["status"] == "expired"  # the customer can no longer pay
    assert stock(product.id) == 4
    assert [reload(p.id).status for p in (started, never_started, fresh)] == [
        PaymentStatus.EXPIRED,
        PaymentStatus.EXPIRED,
        PaymentStatus.PENDING,
    ]
    assert "Expired 0 unpaid card checkouts." in runner.invoke(args=["orders", "expire"]).output
    assert stock(product.id) == 4
    assert notices.sent == [
        ("expired", [o.id for o in reload(started.id).orders]),
        ("expired", [o.id for o in reload(never_started.id).orders]),
    ]


def test_expire_confirms_a_session_paid_at_the_last_minute(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=5)
    payment = card_checkout(factories.user(), [(product, 2)])
    start(payment)
    fake_stripe.pay(fake_stripe.only_session()["id"])  # its webhook is still on the way
    payment.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert payments.expire_overdue() == 0
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert stock(product.id) == 3
    assert fake_stripe.refunds == []


def test_a_late_payment_takes_the_stock_again_when_it_is_there(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=5)
    payment = card_checkout(factories.user(), [(product, 2)])
    start(payment)
    assert expire_unpaid(utcnow() + timedelta(hours=2)) == 1
    assert stock(product.id) == 5

    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    reply = deliver(
        stripe_app.test_client(), fake_stripe.event("checkout.session.completed", session)
    )
    assert reply.json["result"] == "paid"
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert order_statuses(payment.id) == [OrderStatus.PAID]
    assert db.session.scalar(sa.select(Order.paid_at).where(Order.payment_id == payment.id))
    assert stock(product.id) == 3
    assert fake_stripe.refunds == []


def test_a_late_payment_after_resale_is_refunded_once(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=2)
    payment = card_checkout(factories.user(), [(product, 2)])
    start(payment)
    expire_unpaid(utcnow() + timedelta(hours=2))
    card_checkout(factories.user(), [(product, 2)])  # someone else buys the released stock
    assert stock(product.id) == 0

    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    client = stripe_app.test_client()
    event = fake_stripe.event("checkout.session.completed", session)
    assert deliver(client, event).json["result"] == "refund_due"

    assert len(fake_stripe.refunds) == 1
    refund_call = [r for r in fake_stripe.requests if r["path"] == "/v1/refunds"]
    assert refund_call[0]["idempotency_key"] == f"refund-{payment.id}"
    assert fake_stripe.refunds[0]["payment_intent"] == session["payment_intent"]
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert order_statuses(payment.id) == [OrderStatus.REFUNDED]
    assert stock(product.id) == 0
    assert notices.kinds() == ["late_payment_refunded", "refunded"]

    # Re-delivery, Stripe's own refund event, and reconcile: no second refund, no second notice.
    assert deliver(client, event).json["result"] == "duplicate"
    refunded = fake_stripe.event("charge.refunded", fake_stripe.charge(session["payment_intent"]))
    assert deliver(client, refunded).json["result"] == "unchanged"
    assert payments.reconcile(0) == {}
    assert len(fake_stripe.refunds) == 1
    assert notices.kinds() == ["late_payment_refunded", "refunded"]
    assert stock(product.id) == 0


def test_a_refund_that_failed_is_made_by_reconcile(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=1)
    payment = card_checkout(factories.user(), [(product, 1)])
    start(payment)
    expire_unpaid(utcnow() + timedelta(hours=2))
    card_checkout(factories.user(), [(product, 1)])
    session = fake_stripe.pay(fake_stripe.only_session()["id"])

    fake_stripe.fail_next = StripeError(400, "Refunds are temporarily unavailable.")
    client = stripe_app.test_client()
    assert (
        deliver(client, fake_stripe.event("checkout.session.completed", session)).status_code == 200
    )
    assert fake_stripe.refunds == []
    assert reload(payment.id).status == PaymentStatus.EXPIRED

    assert payments.reconcile(0) == {"refund_issued": 1}
    assert len(fake_stripe.refunds) == 1
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert payments.reconcile(0) == {}
    assert len(fake_stripe.refunds) == 1
    assert notices.kinds() == ["late_payment_refunded", "refunded"]


def test_a_refund_made_by_hand_first_is_not_made_again(stripe_app, fake_stripe, notices):
    product = factories.product(price_amount=1250, stock=1)
    payment = card_checkout(factories.user(), [(product, 1)])
    start(payment)
    expire_unpaid(utcnow() + timedelta(hours=2))
    card_checkout(factories.user(), [(product, 1)])
    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    fake_stripe.fail_next = StripeError(400, "Refunds are temporarily unavailable.")
    deliver(stripe_app.test_client(), fake_stripe.event("checkout.session.completed", session))
    fake_stripe.refund_in_dashboard(session["payment_intent"])  # staff were quicker

    assert payments.reconcile(0) == {"refund_issued": 1}
    assert len(fake_stripe.refunds) == 0
    assert reload(payment.id).status == PaymentStatus.REFUNDED


def test_order_lines_keep_their_prices_in_the_session(stripe_app, fake_stripe):
    product = factories.product(price_amount=1250)
    payment = card_checkout(factories.user(), [(product, 1)])
    start(payment)
    line_price = db.session.scalar(sa.select(OrderLine.unit_price_amount))
    assert fake_stripe.only_session()["amount_total"] == line_price == 1250
