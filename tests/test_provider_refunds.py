"""``refund_order`` through Stripe: one seller's order of a card checkout, given back once per key
through the provider of its payment (the bank gateway's side is in tests/test_ipg.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders.models import Order, OrderLine
from app.payments import online
from app.payments.models import PaymentEvent
from app.payments.providers.base import ProviderFailure
from tests import factories
from tests.fake_stripe import (  # noqa: F401  (fixtures)
    card_checkout,
    deliver,
    fake_stripe_fixture,
    notices_fixture,
    start,
    stripe_app_fixture,
)


def test_refund_order_through_stripe_is_one_orders_part_once(stripe_app, fake_stripe, notices):
    mat = factories.product(price_amount=1250, stock=5)
    soap = factories.product(price_amount=400, stock=5)
    payment = card_checkout(factories.user(), [(mat, 2), (soap, 1)])
    start(payment)
    session_id = fake_stripe.only_session()["id"]
    deliver(
        stripe_app.test_client(),
        fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id)),
    )
    db.session.rollback()
    mat_order = db.session.scalar(
        sa.select(Order)
        .join(Order.lines)
        .where(Order.payment_id == payment.id, OrderLine.product_id == mat.id)
    )

    assert online.refund_order(mat_order.id, 1000, reason="one was broken") is True
    assert online.refund_order(mat_order.id, 1000, reason="one was broken") is False
    assert [r["amount"] for r in fake_stripe.refunds] == [1000]
    assert fake_stripe.refunds[0]["payment_intent"].startswith("pi_test_")
    with pytest.raises(ValidationFailed):
        online.refund_order(mat_order.id, 2000, reason="more than is left")
    assert online.refund_order(mat_order.id, reason="the rest") is True
    assert [r["amount"] for r in fake_stripe.refunds] == [1000, 1500]
    assert (
        db.session.scalar(
            sa.select(sa.func.count(PaymentEvent.id)).where(PaymentEvent.type == "order_refund")
        )
        == 2
    )
    assert notices.kinds().count("refunded") == 2


def test_refund_order_says_when_stripe_refuses(stripe_app, fake_stripe):
    soap = factories.product(price_amount=400, stock=5)
    payment = card_checkout(factories.user(), [(soap, 1)])
    start(payment)
    session_id = fake_stripe.only_session()["id"]
    deliver(
        stripe_app.test_client(),
        fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id)),
    )
    db.session.rollback()
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    fake_stripe.refund_in_dashboard(fake_stripe.only_session()["payment_intent"])
    with pytest.raises(ProviderFailure):
        online.refund_order(order.id, reason="already refunded by hand")
    assert (
        db.session.scalar(
            sa.select(sa.func.count(PaymentEvent.id)).where(PaymentEvent.type == "order_refund")
        )
        == 0
    )


def test_an_order_refunded_on_cancellation_has_nothing_left_to_refund(stripe_app, fake_stripe):
    from app.accounts.models import Role
    from app.orders import services as orders
    from app.orders.models import Actor

    soap = factories.product(price_amount=400, stock=5)
    payment = card_checkout(factories.user(), [(soap, 1)])
    start(payment)
    session_id = fake_stripe.only_session()["id"]
    deliver(
        stripe_app.test_client(),
        fake_stripe.event("checkout.session.completed", fake_stripe.pay(session_id)),
    )
    db.session.rollback()
    order = db.session.scalar(sa.select(Order).where(Order.payment_id == payment.id))
    staff = factories.user(Role.STAFF, email="staff@example.com")
    assert orders.cancel_order(order, Actor.STAFF, staff, "away").refund == "sent"
    with pytest.raises(ValidationFailed):
        online.refund_order(order.id, 1, reason="again")
    assert len(fake_stripe.refunds) == 1
