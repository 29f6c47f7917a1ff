"""Stripe's webhook: only signed deliveries count, each event acts once, in any order.

Events are signed with Stripe's scheme and a test secret; the app verifies them with the real
``stripe`` library. Stripe itself is a local fake of its HTTP API (tests/fake_stripe.py).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from app.catalog.models import Seller
from app.core.extensions import csrf, db
from app.notifications.outbox import sent_mail
from app.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, PaymentEvent, PaymentStatus
from tests import factories
from tests.fake_stripe import (  # noqa: F401  (fixtures)
    app_with,
    card_checkout,
    deliver,
    fake_stripe_fixture,
    notices_fixture,
    sign,
    start,
    stripe_app_fixture,
    stripe_settings,
)

WEBHOOK = "/payments/stripe/webhook"


def reload(payment_id: int) -> Payment:
    db.session.rollback()  # a fresh snapshot: other sessions committed meanwhile
    return db.session.get(Payment, payment_id)


def order_statuses(payment_id: int) -> list[OrderStatus]:
    db.session.rollback()  # a fresh snapshot: other sessions committed meanwhile
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


def event_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(PaymentEvent.id)))


@pytest.fixture
def bought(stripe_app, fake_stripe):
    """A customer's card checkout of two sellers' products, sent to Stripe's page."""
    mat = factories.product(price_amount=1250, stock=5)
    soap = factories.product(price_amount=400, stock=5)
    payment = card_checkout(factories.user(), [(mat, 2), (soap, 1)])
    start(payment)
    return payment, fake_stripe.only_session()["id"], (mat.id, soap.id)


# ---- only Stripe can speak here -------------------------------------------------------------


def _forgeries(body: bytes) -> dict[str, dict[str, str]]:
    now = int(time.time())
    altered = body.replace(b'"amount_total": 2900', b'"amount_total": 1')
    assert altered != body
    return {
        "missing": {},
        "empty": {"Stripe-Signature": ""},
        "garbage": {"Stripe-Signature": "t=soon,v1=abc"},
        "wrong secret": {"Stripe-Signature": sign(body, secret="whsec_other")},
        "stale": {"Stripe-Signature": sign(body, timestamp=now - 600)},
        "other scheme": {"Stripe-Signature": sign(body).replace("v1=", "v0=")},
        "altered body": {"Stripe-Signature": sign(body), "_body": altered.decode()},
    }


@pytest.mark.parametrize(
    "forgery",
    ["missing", "empty", "garbage", "wrong secret", "stale", "other scheme", "altered body"],
)
def test_a_forged_delivery_is_refused_and_changes_nothing(
    stripe_app, fake_stripe, bought, notices, forgery
):
    payment, session_id, (mat_id, _) = bought
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id))
    body = json.dumps(event).encode()
    headers = _forgeries(body)[forgery]
    sent = headers.pop("_body", None)
    reply = stripe_app.test_client().post(
        WEBHOOK,
        data=sent.encode() if sent else body,
        headers=headers,
        content_type="application/json",
    )
    assert reply.status_code == 400
    assert event_count() == 0
    assert reload(payment.id).status == PaymentStatus.PENDING
    assert order_statuses(payment.id) == [OrderStatus.AWAITING_PAYMENT] * 2
    assert stock(mat_id) == 3
    assert notices.sent == []


def test_a_webhook_secret_is_required(tmp_path, fake_stripe):
    with app_with(tmp_path, **{**stripe_settings(fake_stripe), "STRIPE_WEBHOOK_SECRET": ""}) as app:
        event = fake_stripe.event("checkout.session.completed", {"id": "cs_test_1"})
        assert deliver(app.test_client(), event, secret="").status_code == 400


def test_an_oversized_delivery_is_refused(stripe_app):
    body = b"{" + b" " * (300 * 1024) + b"}"
    reply = stripe_app.test_client().post(
        WEBHOOK,
        data=body,
        headers={"Stripe-Signature": sign(body)},
        content_type="application/json",
    )
    assert reply.status_code == 413
    assert event_count() == 0


def test_the_webhook_is_the_only_view_exempt_from_csrf(tmp_path, fake_stripe):
    with app_with(tmp_path, **stripe_settings(fake_stripe), WTF_CSRF_ENABLED=True) as app:
        exempt = {
            endpoint
            for endpoint, view in app.view_functions.items()
            if f"{view.__module__}.{view.__name__}" in csrf._exempt_views
        }
        assert exempt == {"shop.stripe_webhook"}
        assert not csrf._exempt_blueprints

        client = app.test_client()
        assert (
            client.post("/auth/login", data={"email": "a@b.c", "password": "x"}).status_code == 400
        )
        event = fake_stripe.event("charge.refunded", {"id": "ch_1", "payment_intent": None})
        assert deliver(client, event).status_code == 200


# ---- each event acts once -------------------------------------------------------------------


def test_completed_pays_the_orders_once(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, soap_id) = bought
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id))
    client = stripe_app.test_client()

    reply = deliver(client, event)
    assert reply.status_code == 200
    assert reply.json == {"received": True, "result": "paid"}
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert order_statuses(payment.id) == [OrderStatus.PAID] * 2
    assert all(db.session.scalars(sa.select(Order.paid_at).where(Order.payment_id == payment.id)))
    assert (stock(mat_id), stock(soap_id)) == (3, 4)

    assert deliver(client, event).json["result"] == "duplicate"
    assert event_count() == 1
    assert notices.sent == [("paid", [o.id for o in payment.orders])]
    paid_moves = db.session.scalar(
        sa.select(sa.func.count(OrderStatusChange.id)).where(
            OrderStatusChange.to_status == OrderStatus.PAID
        )
    )
    assert paid_moves == 2


def test_concurrent_redeliveries_act_once(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, _) = bought
    event = fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id))
    results: list[object] = []
    barrier = threading.Barrier(20)

    def redeliver() -> None:
        client = stripe_app.test_client()  # each thread: its own app context and session
        barrier.wait()
        try:
            reply = deliver(client, event)
            results.append((reply.status_code, reply.json["result"]))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=redeliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(map(str, results)) == sorted(
        map(str, [(200, "paid")] + [(200, "duplicate")] * 19)
    )
    assert event_count() == 1
    assert len(notices.sent) == 1
    assert order_statuses(payment.id) == [OrderStatus.PAID] * 2
    assert stock(mat_id) == 3


def test_an_amount_other_than_ours_is_held_for_review(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, _) = bought
    session = fake_stripe.pay(session_id, amount_total=1)
    reply = deliver(
        stripe_app.test_client(), fake_stripe.event("checkout.session.completed", session)
    )
    assert reply.json["result"] == "in_review"
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW
    assert order_statuses(payment.id) == [OrderStatus.AWAITING_PAYMENT] * 2
    assert notices.sent == []  # the return page tells the customer; staff see the log
    # A later success report does not pay it either: staff decide.
    settled = fake_stripe.event("checkout.session.async_payment_succeeded", session)
    assert deliver(stripe_app.test_client(), settled).json["result"] == "unchanged"
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW


def test_a_refund_reported_first_is_never_undone(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, soap_id) = bought
    session = fake_stripe.pay(session_id)
    charge = fake_stripe.refund_in_dashboard(session["payment_intent"])
    client = stripe_app.test_client()

    assert (
        deliver(client, fake_stripe.event("charge.refunded", charge)).json["result"] == "refunded"
    )
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert order_statuses(payment.id) == [OrderStatus.REFUNDED] * 2
    assert (stock(mat_id), stock(soap_id)) == (5, 5)

    completed = fake_stripe.event("checkout.session.completed", session)
    assert deliver(client, completed).json["result"] == "already_refunded"
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert order_statuses(payment.id) == [OrderStatus.REFUNDED] * 2
    assert (stock(mat_id), stock(soap_id)) == (5, 5)
    assert notices.kinds() == ["refunded"]


def test_a_refund_after_payment_refunds_the_orders(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, _) = bought
    session = fake_stripe.pay(session_id)
    client = stripe_app.test_client()
    deliver(client, fake_stripe.event("checkout.session.completed", session))
    assert stock(mat_id) == 3
    charge = fake_stripe.refund_in_dashboard(session["payment_intent"])
    assert (
        deliver(client, fake_stripe.event("charge.refunded", charge)).json["result"] == "refunded"
    )
    assert order_statuses(payment.id) == [OrderStatus.REFUNDED] * 2
    assert stock(mat_id) == 5
    # Found through the PaymentIntent already seen: Stripe was not asked which session it was.
    assert not [r for r in fake_stripe.requests if r["method"] == "GET"]
    assert (
        deliver(client, fake_stripe.event("checkout.session.completed", session)).json["result"]
        == "already_refunded"
    )
    assert notices.kinds() == ["paid", "refunded"]


def test_a_partial_refund_changes_nothing(stripe_app, fake_stripe, bought):
    payment, session_id, _ = bought
    session = fake_stripe.pay(session_id)
    client = stripe_app.test_client()
    deliver(client, fake_stripe.event("checkout.session.completed", session))
    charge = {**fake_stripe.charge(session["payment_intent"]), "amount_refunded": 100}
    assert (
        deliver(client, fake_stripe.event("charge.refunded", charge)).json["result"]
        == "partial_refund"
    )
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED


def test_expired_cancels_and_releases_stock_once(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, soap_id) = bought
    event = fake_stripe.event("checkout.session.expired", fake_stripe.expire(session_id))
    client = stripe_app.test_client()
    assert deliver(client, event).json["result"] == "expired"
    assert reload(payment.id).status == PaymentStatus.EXPIRED
    assert order_statuses(payment.id) == [OrderStatus.CANCELLED] * 2
    assert (stock(mat_id), stock(soap_id)) == (5, 5)
    assert deliver(client, event).json["result"] == "duplicate"
    other_delivery = fake_stripe.event("checkout.session.expired", fake_stripe.only_session())
    assert deliver(client, other_delivery).json["result"] == "unchanged"
    assert (stock(mat_id), stock(soap_id)) == (5, 5)
    assert notices.kinds() == ["expired"]


def test_a_delayed_method_waits_then_fails(stripe_app, fake_stripe, bought, notices):
    payment, session_id, (mat_id, _) = bought
    session = fake_stripe.pay(session_id, delayed=True)
    client = stripe_app.test_client()
    assert (
        deliver(client, fake_stripe.event("checkout.session.completed", session)).json["result"]
        == "waiting"
    )
    assert reload(payment.id).status == PaymentStatus.PENDING
    assert stock(mat_id) == 3

    failed = fake_stripe.event("checkout.session.async_payment_failed", session)
    assert deliver(client, failed).json["result"] == "failed"
    assert reload(payment.id).status == PaymentStatus.FAILED
    assert order_statuses(payment.id) == [OrderStatus.CANCELLED] * 2
    assert stock(mat_id) == 5
    assert notices.kinds() == ["cancelled"]


def test_a_delayed_method_waits_then_succeeds(stripe_app, fake_stripe, bought, notices):
    payment, session_id, _ = bought
    session = fake_stripe.pay(session_id, delayed=True)
    client = stripe_app.test_client()
    deliver(client, fake_stripe.event("checkout.session.completed", session))
    settled = fake_stripe.event(
        "checkout.session.async_payment_succeeded", fake_stripe.settle(session_id)
    )
    assert deliver(client, settled).json["result"] == "paid"
    assert order_statuses(payment.id) == [OrderStatus.PAID] * 2
    assert notices.kinds() == ["paid"]


def test_events_that_are_not_ours_are_acknowledged(stripe_app, fake_stripe, bought):
    payment, _, _ = bought
    client = stripe_app.test_client()
    stranger = {
        "id": "cs_test_elsewhere",
        "client_reference_id": str(payment.id),
        "payment_status": "paid",
        "amount_total": payment.amount,
        "currency": "eur",
    }
    reply = deliver(client, fake_stripe.event("checkout.session.completed", stranger))
    assert reply.status_code == 200
    assert reply.json["result"] == "unknown_payment"
    assert reload(payment.id).status == PaymentStatus.PENDING
    other_type = fake_stripe.event("customer.created", {"id": "cus_1"})
    assert deliver(client, other_type).json["result"] == "ignored"


def test_the_customer_and_seller_are_mailed_once(stripe_app, fake_stripe):
    customer = factories.user(email="mina@example.com")
    product = factories.product(price_amount=1250, stock=5)
    payment = card_checkout(customer, [(product, 1)])
    start(payment)
    event = fake_stripe.event(
        "checkout.session.completed", fake_stripe.pay(fake_stripe.only_session()["id"])
    )
    client = stripe_app.test_client()
    deliver(client, event)
    deliver(client, event)
    seller_email = db.session.get(Order, payment.orders[0].id).seller.user.email
    mails = sent_mail(stripe_app.config["MAIL_DIR"])
    assert sorted(m.to for m in mails) == sorted(["mina@example.com", seller_email])


def test_a_seller_cancelling_a_paid_order_refunds_that_order_once(
    stripe_app, fake_stripe, bought, notices
):
    payment, session_id, (mat_id, soap_id) = bought
    deliver(
        stripe_app.test_client(),
        fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id)),
    )
    db.session.rollback()
    mat_order = db.session.scalar(
        sa.select(Order)
        .join(Order.lines)
        .where(Order.payment_id == payment.id, OrderLine.product_id == mat_id)
    )
    seller = db.session.get(Seller, mat_order.seller_id)
    client = stripe_app.test_client()
    factories.login(client, seller.user.email)
    reply = client.post(
        f"/seller/orders/{mat_order.id}/move", data={"action": "cancel", "reason": "ناموجود شد"}
    )
    assert reply.status_code == 302
    assert [r["amount"] for r in fake_stripe.refunds] == [mat_order.total_amount]  # that order only
    assert order_statuses(payment.id) == [OrderStatus.REFUNDED, OrderStatus.PAID]
    assert stock(mat_id) == 5  # the cancelled units are back on sale
    # Asking again (a retry, a reconcile) never refunds twice.
    from app.payments.events import refund_cancelled_order

    assert refund_cancelled_order(mat_order.id) is False
    assert len(fake_stripe.refunds) == 1
