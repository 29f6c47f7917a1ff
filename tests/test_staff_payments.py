"""Staff decide card payments held for review and retry refunds still owed.

Stripe is the local fake of its HTTP API (tests/fake_stripe.py) that the real library talks to.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders.models import Order, OrderStatus
from app.payments.models import Payment, PaymentStatus
from app.payments.state import expire_unpaid
from tests import factories
from tests.fake_stripe import (  # noqa: F401  (fixtures)
    StripeError,
    card_checkout,
    deliver,
    fake_stripe_fixture,
    notices_fixture,
    start,
    stripe_app_fixture,
)


def reload(payment_id: int) -> Payment:
    db.session.rollback()
    return db.session.get(Payment, payment_id)


def statuses(payment_id: int) -> list[OrderStatus]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(Order.status).where(Order.payment_id == payment_id).order_by(Order.id)
        )
    )


def stock(product_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.text("SELECT stock FROM product WHERE id = :id"), {"id": product_id}
    )


def audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def staff_client(stripe_app):  # type: ignore[no-untyped-def]
    staff = factories.user(role=Role.STAFF, email="staff@example.com", name="کارشناس")
    client = stripe_app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    return client


@pytest.fixture
def held(stripe_app, fake_stripe):  # type: ignore[no-untyped-def]
    """A card payment Stripe reported with an amount other than ours: held for review."""
    mat = factories.product(title="حصیر خرما", price_amount=1250, stock=5)
    payment = card_checkout(factories.user(email="buyer@example.com"), [(mat, 2)])
    start(payment)
    session = fake_stripe.pay(fake_stripe.only_session()["id"], amount_total=1)
    client = stripe_app.test_client()
    assert (
        deliver(client, fake_stripe.event("checkout.session.completed", session)).json["result"]
        == "in_review"
    )
    return payment.id, mat.id


def flashes(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def test_the_page_lists_payments_held_for_review(staff_client, held):
    payment_id, _ = held
    html = flashes(staff_client.get("/admin/payments"))
    assert "Held for review" in html
    assert f"/admin/payments/{payment_id}/decide" in html
    assert "buyer@example.com" in html
    assert "No refund is owed." in html


def test_the_page_has_empty_states(staff_client):
    html = flashes(staff_client.get("/admin/payments"))
    assert "No payment is held for review." in html and "No refund is owed." in html


def test_accepting_pays_the_orders_and_is_audited(staff_client, held, notices):
    payment_id, mat_id = held
    reply = staff_client.post(
        f"/admin/payments/{payment_id}/decide",
        data={"action": "accept", "reason": "Stripe shows the full amount"},
        follow_redirects=True,
    )
    assert f"Payment {payment_id} accepted" in flashes(reply)
    assert reload(payment_id).status == PaymentStatus.SUCCEEDED
    assert statuses(payment_id) == [OrderStatus.PAID]
    assert stock(mat_id) == 3
    assert audit_actions() == ["payment.accept"]
    assert notices.kinds() == ["paid"]
    # Deciding again changes nothing.
    again = staff_client.post(
        f"/admin/payments/{payment_id}/decide",
        data={"action": "refund", "reason": "twice"},
        follow_redirects=True,
    )
    assert "no longer held for review" in flashes(again)
    assert reload(payment_id).status == PaymentStatus.SUCCEEDED
    assert audit_actions() == ["payment.accept"]


def test_refunding_cancels_the_orders_and_gives_the_stock_back(
    staff_client, held, fake_stripe, notices
):
    payment_id, mat_id = held
    reply = staff_client.post(
        f"/admin/payments/{payment_id}/decide",
        data={"action": "refund", "reason": "amount does not match"},
        follow_redirects=True,
    )
    assert f"Payment {payment_id} refunded." in flashes(reply)
    assert len(fake_stripe.refunds) == 1
    assert reload(payment_id).status == PaymentStatus.REFUNDED
    assert statuses(payment_id) == [OrderStatus.REFUNDED]
    assert stock(mat_id) == 5
    assert audit_actions() == ["payment.refund"]
    assert notices.kinds() == ["refunded"]


def test_a_refund_stripe_refuses_stays_owed_and_can_be_retried(
    staff_client, held, fake_stripe, notices
):
    payment_id, mat_id = held
    fake_stripe.fail_next = StripeError(400, "Refunds are temporarily unavailable.")
    reply = staff_client.post(
        f"/admin/payments/{payment_id}/decide",
        data={"action": "refund", "reason": "amount does not match"},
        follow_redirects=True,
    )
    html = flashes(reply)
    assert "stays listed as owed" in html
    assert f"/admin/payments/{payment_id}/retry-refund" in html
    assert reload(payment_id).status == PaymentStatus.IN_REVIEW
    assert stock(mat_id) == 3  # still held by the waiting orders

    reply = staff_client.post(f"/admin/payments/{payment_id}/retry-refund", follow_redirects=True)
    assert f"Payment {payment_id} refunded." in flashes(reply)
    assert reload(payment_id).status == PaymentStatus.REFUNDED
    assert stock(mat_id) == 5
    assert len(fake_stripe.refunds) == 1
    assert audit_actions() == ["payment.refund", "payment.retry_refund"]
    again = staff_client.post(f"/admin/payments/{payment_id}/retry-refund", follow_redirects=True)
    assert "owes no refund" in flashes(again)
    assert len(fake_stripe.refunds) == 1


def test_a_late_payment_refund_that_failed_is_listed_and_retried(
    stripe_app, staff_client, fake_stripe, notices
):
    product = factories.product(price_amount=1250, stock=1)
    payment = card_checkout(factories.user(), [(product, 1)])
    start(payment)
    expire_unpaid(utcnow() + timedelta(hours=2))
    card_checkout(factories.user(), [(product, 1)])  # the stock sells to someone else
    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    fake_stripe.fail_next = StripeError(400, "Refunds are temporarily unavailable.")
    deliver(stripe_app.test_client(), fake_stripe.event("checkout.session.completed", session))
    assert fake_stripe.refunds == []

    html = flashes(staff_client.get("/admin/payments"))
    assert "Refunds still owed" in html and f"/admin/payments/{payment.id}/retry-refund" in html
    staff_client.post(f"/admin/payments/{payment.id}/retry-refund")
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert len(fake_stripe.refunds) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"action": "accept", "reason": ""},
        {"action": "accept", "reason": "x" * 2001},
        {"action": "delete", "reason": "why not"},
        {"reason": "no action"},
    ],
)
def test_a_bad_decision_changes_nothing(staff_client, held, data):
    payment_id, mat_id = held
    reply = staff_client.post(f"/admin/payments/{payment_id}/decide", data=data)
    assert reply.status_code == 302
    assert reload(payment_id).status == PaymentStatus.IN_REVIEW
    assert stock(mat_id) == 3
    assert audit_actions() == []


def test_unknown_payments_are_refused_without_error(staff_client):
    for url in ("/admin/payments/999/decide", "/admin/payments/2147483647/decide"):
        reply = staff_client.post(url, data={"action": "refund", "reason": "x"})
        assert reply.status_code == 302
    assert staff_client.post("/admin/payments/99999999999/retry-refund").status_code == 404
    assert staff_client.post("/admin/payments/5/retry-refund").status_code == 302
    assert audit_actions() == []
