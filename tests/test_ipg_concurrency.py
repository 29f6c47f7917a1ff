"""The bank gateway under a real gunicorn with several workers: twenty duplicate callbacks of
one paid authority arrive at once; the gateway is asked to verify exactly once, and one payment
with its orders is paid once (on the SQLite file or PostgreSQL of the suite)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.orders.models import Order, OrderStatus, OrderStatusChange
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from tests import factories
from tests.fake_ipg import FakeIPG, ipg_settings
from tests.live_server import (
    Browser,
    Server,
    assert_no_server_errors,
    burst,
    checkout_form,
    count,
    customers,
    fresh,
    log_in,
    put_in_cart,
    stock,
)

pytestmark = pytest.mark.slow

CALLBACKS = 20


@pytest.fixture(scope="module")
def fake_ipg_server() -> Iterator[FakeIPG]:
    fake = FakeIPG().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server_settings(fake_ipg_server: FakeIPG) -> dict[str, Any]:
    """The workers take payments through the fake gateway, in rials."""
    return ipg_settings(fake_ipg_server, IPG_TIMEOUT_SECONDS=20)


def test_twenty_duplicate_callbacks_verify_once_and_pay_once(
    live: Server, fake_ipg_server: FakeIPG
) -> None:
    fake = fake_ipg_server
    fake.reset()
    fake.delay["verify.json"] = 0.3  # the first verify is still running when the others arrive
    a = factories.seller(name="Kalpurgan Pottery")
    b = factories.seller(name="Soozan Embroidery")
    bowl = factories.product(a, title="Clay bowl", price_amount=450_000, stock=5)
    cloth = factories.product(b, title="Table cloth", price_amount=1_250_000, stock=5)
    (user,) = customers(1)
    put_in_cart(user, (bowl, 1), (cloth, 2))
    (browser,) = log_in(live, [user])

    reply = browser.post("/checkout", checkout_form("ipg"))
    assert reply.status == 303, (reply.status, reply.text[-2000:])
    authority = fake.only_authority()
    assert reply.location == f"{fake.url}/pg/StartPay/{authority}"
    fake.pay(authority)

    callback = fake.callback(authority)
    visitors = [browser.clone() for _ in range(CALLBACKS // 2)]
    visitors += [Browser(live.url) for _ in range(CALLBACKS - len(visitors))]  # no session
    replies = burst([lambda v=v: v.get(callback) for v in visitors])

    assert_no_server_errors(live, replies)
    assert {r.status for r in replies} == {303}, [(r.status, r.location) for r in replies]
    assert all(urlsplit(r.location).path.startswith("/checkout/return/") for r in replies)
    assert fake.count("verify.json") == 1
    fresh()
    payment = sa.select(Payment).where(Payment.provider == Provider.IPG)
    assert count(Payment, Payment.provider == Provider.IPG) == 1
    paid = db.session.scalar(payment)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.gateway_ref_id
    assert count(PaymentEvent, PaymentEvent.type == "verified") == 1
    orders = list(db.session.scalars(sa.select(Order).where(Order.payment_id == paid.id)))
    assert len(orders) == 2 and {o.status for o in orders} == {OrderStatus.PAID}
    moves = count(
        OrderStatusChange,
        OrderStatusChange.order_id.in_([o.id for o in orders]),
        OrderStatusChange.to_status == OrderStatus.PAID,
    )
    assert moves == 2
    assert stock(bowl.id) == 4 and stock(cloth.id) == 3
