"""Deleting one's account: refused while something is going on; otherwise the person is gone
(logins, cart, name, addresses, numbers) and the orders stay for the books without them."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import LoginSession, Role, User
from app.audit.models import AuditEvent
from app.catalog.models import SellerStatus
from app.core.extensions import db
from app.orders import addresses
from app.orders.models import CartLine, Order, OrderStatus, SavedAddress
from app.orders.placing import Address
from tests import factories
from tests.helpers import flashes
from tests.test_order_flow import as_user, place


def finish(order_id: int) -> None:
    db.session.execute(
        sa.update(Order).where(Order.id == order_id).values(status=OrderStatus.COMPLETED)
    )
    db.session.commit()


def test_a_customer_deletes_the_account_and_the_orders_stay_without_them(app):
    mina = factories.with_mobile(factories.user(email="mina@example.com", name="مینا رضایی"))
    product = factories.product(stock=10)
    order = place(mina, (product, 2)).orders[0]
    finish(order.id)
    addresses.remember(
        mina.id, Address("مینا", "09121234567", "تهران", "تهران", "خیابان ۱", "1234567890")
    )
    client = as_user(app, mina)
    other_device = as_user(app, mina)
    client.post("/cart/add", data={"product_id": product.id, "quantity": "1"})

    page = client.get("/auth/account/delete").get_data(as_text=True)
    assert 'name="understood"' in page
    unticked = client.post("/auth/account/delete", data={})
    assert unticked.status_code == 400
    done = client.post("/auth/account/delete", data={"understood": "y"}, follow_redirects=True)
    assert flashes(done, "info") == ["Your account is deleted. Thank you for shopping at Bazarche."]

    db.session.rollback()
    gone = db.session.get(User, mina.id)
    assert gone.name == "—" and not gone.active and gone.mobile is None and gone.phone is None
    assert "mina" not in gone.email
    assert db.session.scalar(sa.select(sa.func.count(CartLine.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(SavedAddress.id))) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(LoginSession.id)).where(LoginSession.ended_at.is_(None))
        )
        == 0
    )
    assert other_device.get("/orders").status_code == 302  # logged out everywhere
    kept = db.session.get(Order, order.id)
    assert kept.total_amount == order.total_amount and kept.province == order.province
    assert kept.recipient_name == "—" and kept.mobile == "" and kept.postal_code == ""
    assert factories.login(app.test_client(), "mina@example.com").status_code == 400
    assert (
        db.session.scalar(
            sa.select(AuditEvent.target_id).where(AuditEvent.action == "account.deleted")
        )
        == mina.id
    )
    # Her address and number are free for a new account.
    factories.with_mobile(factories.user(email="mina@example.com"))


def test_deletion_waits_for_open_orders_and_shops_and_is_not_for_staff(app):
    mina = factories.user(email="mina@example.com")
    order = place(mina, (factories.product(stock=5), 1)).orders[0]
    client = as_user(app, mina)
    page = client.get("/auth/account/delete").get_data(as_text=True)
    assert "orders still on their way" in page and 'name="understood"' not in page
    assert client.post("/auth/account/delete", data={"understood": "y"}).status_code == 400
    db.session.rollback()
    assert db.session.get(User, mina.id).active

    owner = factories.user(Role.SELLER, email="golbibi@example.com")
    factories.seller(status=SellerStatus.APPROVED, owner=owner)
    shop_page = as_user(app, owner).get("/auth/account/delete").get_data(as_text=True)
    assert "Ask programme staff to close it" in shop_page

    staff = factories.user(Role.STAFF, email="staff@example.com")
    staff_page = as_user(app, staff).get("/auth/account/delete").get_data(as_text=True)
    assert "cannot be deleted here" in staff_page
    finish(order.id)
    assert client.post("/auth/account/delete", data={"understood": "y"}).status_code == 302
