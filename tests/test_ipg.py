"""The bank gateway (IPG): checkout, the customer's return, verify, reconcile, expiry, refunds.

The gateway is a local fake of its HTTP API (tests/fake_ipg.py) that the real client code talks
to with ``requests``; the database is the real SQLite or PostgreSQL of the suite.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders.models import Order, OrderStatus
from app.payments import online
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from app.payments.providers import ipg
from tests import factories
from tests.fake_ipg import FakeIPG, fake_ipg_fixture, ipg_app_fixture, ipg_settings  # noqa: F401
from tests.fake_stripe import app_with, notices_fixture  # noqa: F401
from tests.helpers import ADDRESS

CALLBACK = "http://localhost/payments/ipg/callback"


# ---- helpers ------------------------------------------------------------------------------------


def token_of(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/checkout").get_data(as_text=True)
    return re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html).group(1)


@pytest.fixture
def shop(ipg_app):  # type: ignore[no-untyped-def]
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    return {
        "cloth": factories.product(a, title="رومیزی", price_amount=1_250_000, stock=5),
        "bowl": factories.product(b, title="کاسه", price_amount=450_000, stock=3),
    }


@pytest.fixture
def client(ipg_app, shop):  # type: ignore[no-untyped-def]
    client = ipg_app.test_client()
    buyer = factories.user(email="buyer@example.com")
    buyer.locale = "en"
    db.session.commit()
    factories.login(client, buyer.email)
    return client


def pay_online(client, *items) -> tuple[Payment, str]:  # type: ignore[no-untyped-def]
    """Put items in the cart, check out through the gateway: the payment and where we were sent."""
    for product, quantity in items:
        client.post("/cart/add", data={"product_id": product.id, "quantity": quantity})
    data = {**ADDRESS, "payment_method": "ipg", "checkout_token": token_of(client)}
    response = client.post("/checkout", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    return db.session.scalar(sa.select(Payment)), response.headers["Location"]


def reload(payment_id: int) -> Payment:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Payment, payment_id)


def statuses(payment_id: int) -> set[OrderStatus]:
    return set(db.session.scalars(sa.select(Order.status).where(Order.payment_id == payment_id)))


def stock(product_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.text("SELECT stock FROM product WHERE id = :id"), {"id": product_id}
    )


def sql(statement) -> None:  # type: ignore[no-untyped-def]
    """Change the database behind the app's back (another buyer, the clock)."""
    db.session.rollback()
    db.session.execute(statement)
    db.session.commit()


def events(*types: str) -> list[PaymentEvent]:
    db.session.rollback()
    query = sa.select(PaymentEvent).where(PaymentEvent.provider == Provider.IPG)
    if types:
        query = query.where(PaymentEvent.type.in_(types))
    return list(db.session.scalars(query.order_by(PaymentEvent.id)))


# ---- offering and starting ----------------------------------------------------------------------


def test_rials_offer_the_bank_gateway_and_cash_not_stripe(client, shop):
    client.post("/cart/add", data={"product_id": shop["cloth"].id, "quantity": 1})
    html = client.get("/checkout").get_data(as_text=True)
    assert 'value="ipg"' in html and 'value="cash"' in html and 'value="card"' not in html
    assert "bank" in html


def test_gateway_off_without_merchant_or_sandbox(tmp_path, fake_ipg):
    with app_with(tmp_path, **ipg_settings(fake_ipg, IPG_MERCHANT_ID="")):
        assert online.enabled_providers() == []
    with app_with(tmp_path, **ipg_settings(fake_ipg, MARKET_CURRENCY="EUR")):
        assert ipg.PROVIDER not in online.enabled_providers()


def test_checkout_sends_the_customer_to_the_gateway_with_our_amount(client, shop, fake_ipg):
    payment, location = pay_online(client, (shop["cloth"], 2), (shop["bowl"], 1))
    authority = fake_ipg.only_authority()
    assert location == f"{fake_ipg.url}/pg/StartPay/{authority}"
    assert payment.provider == Provider.IPG and payment.provider_reference == authority
    assert payment.amount == 2 * 1_250_000 + 450_000
    request = next(c for c in fake_ipg.calls if c["path"] == "request.json")["payload"]
    assert request["amount"] == payment.amount  # rials, exactly the database's
    assert request["callback_url"] == CALLBACK
    assert request["merchant_id"] == fake_ipg.merchant_id
    assert request["metadata"] == {"mobile": "09121234567", "email": "buyer@example.com"}
    assert statuses(payment.id) == {OrderStatus.AWAITING_PAYMENT}
    assert stock(shop["cloth"].id) == 3  # reserved


def test_the_callback_address_is_the_site_never_the_request_host(client, shop, fake_ipg):
    client.post("/cart/add", data={"product_id": shop["cloth"].id, "quantity": 1})
    data = {**ADDRESS, "payment_method": "ipg", "checkout_token": token_of(client)}
    client.post("/checkout", data=data, headers={"X-Forwarded-Host": "evil.example"})
    request = next(c for c in fake_ipg.calls if c["path"] == "request.json")["payload"]
    assert request["callback_url"] == CALLBACK


def test_a_gateway_that_refuses_the_request_keeps_the_order_reserved(client, shop, fake_ipg):
    fake_ipg.fail["request.json"] = 502
    client.post("/cart/add", data={"product_id": shop["cloth"].id, "quantity": 1})
    data = {**ADDRESS, "payment_method": "ipg", "checkout_token": token_of(client)}
    response = client.post("/checkout", data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status == PaymentStatus.PENDING and payment.provider_reference is None


# ---- the customer comes back --------------------------------------------------------------------


def test_a_paid_callback_verifies_once_and_pays_the_orders(client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 1), (shop["bowl"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)

    response = client.get(fake_ipg.callback(authority))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/return/{payment.id}"
    paid = reload(payment.id)
    assert paid.status == PaymentStatus.SUCCEEDED
    assert paid.gateway_ref_id and paid.card_pan == "502229******5995"
    assert statuses(payment.id) == {OrderStatus.PAID}
    verify = next(c for c in fake_ipg.calls if c["path"] == "verify.json")["payload"]
    assert verify == {
        "merchant_id": fake_ipg.merchant_id,
        "amount": payment.amount,
        "authority": authority,
    }
    page = client.get(f"/checkout/return/{payment.id}").get_data(as_text=True)
    assert "Paid. Thank you!" in page and 'id="bank-reference"' in page

    # A replayed success: no second verify, nothing acts again.
    again = client.get(fake_ipg.callback(authority))
    assert again.status_code == 303
    assert fake_ipg.count("verify.json") == 1
    assert len(events("verified")) == 1
    assert notices.kinds() == ["paid"]
    assert stock(shop["cloth"].id) == 4


def test_a_cancelled_payment_releases_its_stock_once(client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 2))
    authority = fake_ipg.only_authority()
    fake_ipg.cancel(authority)
    assert stock(shop["cloth"].id) == 3

    response = client.get(fake_ipg.callback(authority, "NOK"))
    assert response.status_code == 303
    assert reload(payment.id).status == PaymentStatus.FAILED
    assert statuses(payment.id) == {OrderStatus.CANCELLED}
    assert stock(shop["cloth"].id) == 5

    client.get(fake_ipg.callback(authority, "NOK"))
    client.get(fake_ipg.callback(authority, "OK"))
    assert stock(shop["cloth"].id) == 5
    assert notices.kinds() == ["cancelled"]
    page = client.get(f"/checkout/return/{payment.id}").get_data(as_text=True)
    assert "The payment did not go through" in page


def test_a_forged_nok_cannot_cancel_a_paid_payment(client, shop, fake_ipg):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    client.get(fake_ipg.callback(authority, "NOK"))  # the gateway says paid: it is paid
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert statuses(payment.id) == {OrderStatus.PAID}


@pytest.mark.parametrize(
    ("query", "status", "title"),
    [
        ("Authority=A000000000000000000000000000000000999&Status=OK", 404, "We do not know"),
        ("Authority=&Status=OK", 400, "not valid"),
        ("Authority=A1&Status=MAYBE", 400, "not valid"),
        ("Authority=A%27%3B--&Status=OK", 400, "not valid"),
        ("Status=OK", 400, "not valid"),
    ],
)
def test_an_unknown_or_malformed_callback_changes_nothing(
    client, shop, fake_ipg, caplog, query, status, title
):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    with caplog.at_level(logging.WARNING):
        response = client.get(f"/payments/ipg/callback?{query}")
    assert response.status_code == status
    assert title in response.get_data(as_text=True)
    assert any("ipg callback" in r.getMessage() for r in caplog.records)
    assert fake_ipg.count("verify.json") == 0
    assert reload(payment.id).status == PaymentStatus.PENDING


def test_a_foreign_authority_is_not_ours(client, shop, fake_ipg):
    """An authority of the gateway that another payment (here a Stripe-like reference on a card
    payment) or another shop holds does not touch our payments."""
    payment, _ = pay_online(client, (shop["cloth"], 1))
    sql(sa.update(Payment).where(Payment.id == payment.id).values(provider=Provider.STRIPE))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    response = client.get(fake_ipg.callback(authority))
    assert response.status_code == 404
    assert fake_ipg.count("verify.json") == 0


def test_a_tampered_amount_is_held_for_review_never_paid(client, shop, fake_ipg):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority, amount=1000)  # the gateway was asked/paid another amount
    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW
    assert statuses(payment.id) == {OrderStatus.AWAITING_PAYMENT}
    assert stock(shop["cloth"].id) == 4  # kept while staff look
    page = client.get(f"/checkout/return/{payment.id}").get_data(as_text=True)
    assert "Your payment is being checked" in page


def test_a_gateway_reporting_another_amount_is_held_for_review(client, shop, fake_ipg):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    fake_ipg.report_amount = 1000
    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW
    assert statuses(payment.id) == {OrderStatus.AWAITING_PAYMENT}


def test_a_verify_that_times_out_is_finished_by_reconcile(ipg_app, client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    fake_ipg.delay["verify.json"] = 2.5  # longer than IPG_TIMEOUT_SECONDS=1

    response = client.get(fake_ipg.callback(authority))
    assert response.status_code == 303
    assert reload(payment.id).status == PaymentStatus.PENDING
    page = client.get(f"/checkout/return/{payment.id}").get_data(as_text=True)
    assert "Confirming your payment" in page and 'id="ipg-confirming"' in page

    # Another callback within the lease does not ask again.
    client.get(fake_ipg.callback(authority))
    assert fake_ipg.count("verify.json") == 1

    fake_ipg.delay.clear()
    later = utcnow() + ipg.lease() + timedelta(seconds=1)
    counts = online.reconcile_all(0, now=later)
    assert counts.get("ipg:paid") == 1, counts
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert notices.kinds() == ["paid"]
    assert len(events("verified")) == 1


def test_reconcile_after_lost_callbacks(ipg_app, client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)  # ... and the browser never comes back

    runner = ipg_app.test_cli_runner()
    result = runner.invoke(args=["payments", "reconcile", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "ipg:paid: 1" in result.output
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert fake_ipg.count("unVerified.json") == 1

    again = runner.invoke(args=["payments", "reconcile", "--older-than", "0"])
    assert again.exit_code == 0 and "paid" not in again.output
    assert fake_ipg.count("verify.json") == 1
    assert notices.kinds() == ["paid"]
    # The callback arrives at last: nothing acts again.
    client.get(fake_ipg.callback(authority))
    assert fake_ipg.count("verify.json") == 1 and notices.kinds() == ["paid"]


def test_reconcile_leaves_an_unpaid_authority_pending(ipg_app, client, shop, fake_ipg):
    payment, _ = pay_online(client, (shop["cloth"], 1))
    counts = online.reconcile_all(0)
    assert counts.get("ipg:not_paid") == 1, counts
    assert reload(payment.id).status == PaymentStatus.PENDING
    assert stock(shop["cloth"].id) == 4


def test_reconcile_reports_an_authority_that_is_not_ours(ipg_app, fake_ipg, caplog):
    fake_ipg.payments["A9"] = {
        "amount": 5000,
        "paid_amount": 5000,
        "callback_url": CALLBACK,
        "status": "paid",
        "verified": False,
        "ref_id": None,
    }
    with caplog.at_level(logging.WARNING):
        assert online.reconcile_all(0).get("ipg:unknown") == 1
    assert fake_ipg.count("verify.json") == 0
    assert any("not ours" in r.getMessage() for r in caplog.records)


# ---- expiry and late payments -------------------------------------------------------------------


def test_orders_expire_releases_unpaid_gateway_checkouts(ipg_app, client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 2))
    assert online.expire_all(now=utcnow()) == 0
    sql(
        sa.update(Payment)
        .where(Payment.id == payment.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    result = ipg_app.test_cli_runner().invoke(args=["orders", "expire"])
    assert "Expired 1 unpaid card checkouts." in result.output
    assert reload(payment.id).status == PaymentStatus.EXPIRED
    assert stock(shop["cloth"].id) == 5
    assert notices.kinds() == ["expired"]


def _expire(payment_id: int) -> None:
    sql(
        sa.update(Payment)
        .where(Payment.id == payment_id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    assert online.expire_all() == 1


def test_a_late_success_takes_the_stock_again(client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 2))
    _expire(payment.id)
    assert stock(shop["cloth"].id) == 5
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert statuses(payment.id) == {OrderStatus.PAID}
    assert stock(shop["cloth"].id) == 3
    client.get(fake_ipg.callback(authority))
    assert stock(shop["cloth"].id) == 3 and fake_ipg.count("refund.json") == 0


def test_a_late_success_for_sold_stock_is_refunded_once(client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 5))
    _expire(payment.id)
    # Someone else bought them meanwhile.
    sql(sa.text("UPDATE product SET stock = 0 WHERE id = :id").bindparams(id=shop["cloth"].id))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)

    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert fake_ipg.count("refund.json") == 1
    refund = next(c for c in fake_ipg.calls if c["path"] == "refund.json")["payload"]
    assert refund["amount"] == payment.amount and refund["authority"] == authority
    client.get(fake_ipg.callback(authority))
    online.reconcile_all(0)
    assert fake_ipg.count("refund.json") == 1
    assert notices.kinds() == ["expired", "late_payment_refunded", "refunded"]
    assert stock(shop["cloth"].id) == 0


def test_a_refund_that_fails_is_retried_by_reconcile(client, shop, fake_ipg, notices):
    payment, _ = pay_online(client, (shop["cloth"], 5))
    _expire(payment.id)
    sql(sa.text("UPDATE product SET stock = 0 WHERE id = :id").bindparams(id=shop["cloth"].id))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    fake_ipg.fail["refund.json"] = 500
    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.EXPIRED
    assert [e.type for e in events("refund_due", "refund_issued")] == ["refund_due"]

    fake_ipg.fail.clear()
    assert online.reconcile_all(0).get("ipg:refund_issued") == 1
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert online.reconcile_all(0).get("ipg:refund_issued") is None


# ---- refunding one order ------------------------------------------------------------------------


def _paid_two_seller_checkout(client, shop, fake_ipg) -> Payment:  # type: ignore[no-untyped-def]
    payment, _ = pay_online(client, (shop["cloth"], 1), (shop["bowl"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    client.get(fake_ipg.callback(authority))
    return reload(payment.id)


def test_refund_order_gives_back_one_sellers_part_once(client, shop, fake_ipg, notices):
    payment = _paid_two_seller_checkout(client, shop, fake_ipg)
    order = next(o for o in payment.orders if o.total_amount == 450_000)
    assert online.refund_order(order.id, reason="damaged") is True
    assert online.refund_order(order.id, reason="damaged") is False  # same key: once
    assert fake_ipg.count("refund.json") == 1
    call = next(c for c in fake_ipg.calls if c["path"] == "refund.json")["payload"]
    assert call["amount"] == 450_000
    with pytest.raises(ValidationFailed):
        online.refund_order(order.id, 1, reason="more")  # nothing is left of it
    other = next(o for o in payment.orders if o.id != order.id)
    assert online.refund_order(other.id, 250_000, reason="part") is True
    assert online.refund_order(other.id, 1_000_000, reason="part", key="second") is True
    with pytest.raises(ValidationFailed):
        online.refund_order(other.id, 1, reason="part", key="third")
    assert sum(r["amount"] for r in fake_ipg.refunds.values()) == payment.amount


def test_refund_order_of_a_cancelled_order_marks_it_refunded(client, shop, fake_ipg):
    payment = _paid_two_seller_checkout(client, shop, fake_ipg)
    from app.accounts.models import Role
    from app.orders import services as orders
    from app.orders.models import Actor

    staff = factories.user(Role.STAFF, email="staff@example.com")
    order = next(o for o in payment.orders if o.total_amount == 450_000)
    done = orders.cancel_order(db.session.get(Order, order.id), Actor.STAFF, staff, "away")
    assert done.refund == "sent"  # the registered hook refunded it through the gateway
    db.session.rollback()
    assert db.session.get(Order, order.id).status == OrderStatus.REFUNDED
    assert fake_ipg.count("refund.json") == 1


def test_refund_order_refuses_cash_and_unpaid_orders(ipg_app, client, shop, fake_ipg):
    pay_online(client, (shop["cloth"], 1))
    order = db.session.scalar(sa.select(Order))
    with pytest.raises(NotAllowed):
        online.refund_order(order.id, reason="not paid")
    with pytest.raises(NotAllowed):
        online.refund_order(999_999, reason="none")


def test_a_refund_the_gateway_refuses_records_nothing(client, shop, fake_ipg):
    payment = _paid_two_seller_checkout(client, shop, fake_ipg)
    fake_ipg.fail["refund.json"] = 500
    order = payment.orders[0]
    with pytest.raises(online.ProviderFailure):
        online.refund_order(order.id, reason="x")
    assert events("order_refund") == []
    fake_ipg.fail.clear()
    assert online.refund_order(order.id, reason="x") is True


# ---- staff ----------------------------------------------------------------------------------------


def test_the_staff_page_lists_gateway_payments_with_their_reference(
    ipg_app, client, shop, fake_ipg
):
    payment = _paid_two_seller_checkout(client, shop, fake_ipg)
    from app.accounts.models import Role

    staff = factories.user(Role.STAFF, email="staff@example.com")
    staff.locale = "en"
    db.session.commit()
    admin = ipg_app.test_client()
    factories.login(admin, staff.email)
    html = admin.get("/admin/payments").get_data(as_text=True)
    assert "Bank gateway payments" in html
    assert payment.gateway_ref_id in html and payment.provider_reference in html


def test_staff_cannot_accept_an_unverified_gateway_payment_but_can_refund_it(
    client, shop, fake_ipg, notices
):
    from app.accounts.models import Role
    from app.payments import staff as staff_payments

    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority, amount=1000)  # -50: never verified
    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW
    staff = factories.user(Role.STAFF, email="staff@example.com")

    assert staff_payments.accept(payment.id, staff.id, "looks fine") == "not_verified"
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW
    assert staff_payments.refund(payment.id, staff.id, "wrong amount") == "refunded"
    assert reload(payment.id).status == PaymentStatus.REFUNDED
    assert fake_ipg.count("refund.json") == 0  # the bank returns unverified money by itself
    assert stock(shop["cloth"].id) == 5


def test_staff_refund_of_a_verified_gateway_payment_goes_through_the_gateway(
    client, shop, fake_ipg
):
    from app.accounts.models import Role
    from app.payments import staff as staff_payments

    payment, _ = pay_online(client, (shop["cloth"], 1))
    authority = fake_ipg.only_authority()
    fake_ipg.pay(authority)
    fake_ipg.report_amount = 1000  # verified, but the gateway reports another amount
    client.get(fake_ipg.callback(authority))
    assert reload(payment.id).status == PaymentStatus.IN_REVIEW
    staff = factories.user(Role.STAFF, email="staff@example.com")
    assert staff_payments.refund(payment.id, staff.id, "amount") == "refunded"
    assert fake_ipg.count("refund.json") == 1
    assert reload(payment.id).status == PaymentStatus.REFUNDED


def test_expiry_asks_the_gateway_first_and_pays_a_payment_whose_callback_was_lost(
    client, shop, fake_ipg, notices
):
    payment, _ = pay_online(client, (shop["cloth"], 2))
    fake_ipg.pay(fake_ipg.only_authority())  # ... the browser never came back
    sql(
        sa.update(Payment)
        .where(Payment.id == payment.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    assert online.expire_all() == 0
    assert reload(payment.id).status == PaymentStatus.SUCCEEDED
    assert stock(shop["cloth"].id) == 3
    assert notices.kinds() == ["paid"]
