"""An order's life after checkout: the seller confirms, ships with a tracking code and delivers;
the customer follows it and may cancel before it ships; nobody sees another's orders."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.core.errors import InvalidTransition
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import cart as carts
from app.orders import services as orders
from app.orders.errors import NotABuyer, OwnProducts
from app.orders.models import Actor, CartLine, Order, OrderStatus, OrderStatusChange, may_move
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments import state as payment_state
from app.payments.models import Payment, PaymentStatus, Provider
from tests import factories
from tests.helpers import flashes

ADDRESS = Address(
    recipient_name="مینا رضایی",
    mobile="09121234567",
    province="سیستان و بلوچستان",
    city="زاهدان",
    address="خیابان دانشگاه، کوچه ۳، پلاک ۱۲",
    postal_code="9816745639",
)
_tokens = iter(range(10**6))


# --- helpers -------------------------------------------------------------------------------------


def place(customer, *items, provider: Provider = Provider.CASH) -> Payment:  # type: ignore[no-untyped-def]
    """A checkout made through the services, as the checkout page makes it."""
    for product, quantity in items:
        carts.add(customer, None, product.id, quantity)
    return payment_checkout.place_checkout(
        customer,
        ADDRESS,
        provider,
        f"test-token-{next(_tokens):08d}",
        currency="IRR",
        expiry_minutes=60,
        max_open_cash_orders=100,
    ).payment


def fresh(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


def stock_of(product) -> int:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(type(product), product.id).stock


def move(client, order_id: int, action: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/seller/orders/{order_id}/move", data={"action": action, **fields}, follow_redirects=True
    )


def as_user(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, user.email)
    return client


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    mina = factories.user(email="mina@example.com", name="مینا")
    reza = factories.user(email="reza@example.com", name="رضا")
    cloth = factories.product(a, title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=5)
    bowl = factories.product(b, title="کاسه سفالی", price_amount=450_000, stock=3)
    payment = place(mina, (cloth, 2))
    return {
        "a": a, "b": b, "mina": mina, "reza": reza, "cloth": cloth, "bowl": bowl,
        "order": payment.orders[0],
    }  # fmt: skip


# --- the seller moves a cash order along ---------------------------------------------------------


def test_a_cash_order_is_confirmed_shipped_and_delivered(app, world):
    seller = as_user(app, world["a"].user)
    order_id = world["order"].id

    page = seller.get(f"/seller/orders/{order_id}").get_data(as_text=True)
    assert 'value="confirm"' in page and 'value="cancel"' in page and 'value="ship"' not in page

    response = move(seller, order_id, "confirm")
    assert flashes(response, "success") == [f"Order {order_id}: Confirmed."]
    assert fresh(order_id).status == OrderStatus.CONFIRMED

    # Shipping needs the carrier and the tracking code.
    response = move(seller, order_id, "ship", carrier="پست", tracking_code=" ")
    assert flashes(response) == ["Enter the tracking code so the customer can follow the parcel."]
    response = move(seller, order_id, "ship", carrier="", tracking_code="")
    assert len(flashes(response)) == 2
    assert fresh(order_id).status == OrderStatus.CONFIRMED

    move(seller, order_id, "ship", carrier="پست پیشتاز", tracking_code="IR123456789")
    order = fresh(order_id)
    assert order.status == OrderStatus.SHIPPED and order.paid_at is None
    assert (order.carrier, order.tracking_code) == ("پست پیشتاز", "IR123456789")

    move(seller, order_id, "deliver")
    order = fresh(order_id)
    # Delivered is not yet sold: a cash order counts, and its payment succeeds, at completion.
    assert order.status == OrderStatus.DELIVERED and order.paid_at is None
    assert db.session.get(Payment, order.payment_id).status == PaymentStatus.PENDING
    statuses = [c.to_status for c in order.status_changes]
    assert statuses == [
        OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
    ]  # fmt: skip

    # The customer follows it: the timeline, the lines, the tracking code, no cancel button.
    customer = as_user(app, world["mina"])
    html = unescape(customer.get(f"/orders/{order_id}").get_data(as_text=True))
    for label in ("Placed", "Confirmed", "Shipped", "Delivered", "IR123456789", "پست پیشتاز"):
        assert label in html
    assert "رومیزی سوزن‌دوزی" in html and "250,000 toman" in html and "9816745639" in html
    assert "/cancel" not in html


def test_the_customer_timeline_has_jalali_dates_in_persian(app, world):
    customer = app.test_client()
    factories.login(customer, world["mina"].email)
    html = customer.get(f"/orders/{world['order'].id}").get_data(as_text=True)
    assert re.search(r'<time datetime="[^"]+">[۰-۹]+ [^<]* ۱۴[۰-۹]{2}', html)


def test_invalid_moves_are_refused_with_a_message(app, world):
    seller = as_user(app, world["a"].user)
    order_id = world["order"].id
    response = move(seller, order_id, "deliver")
    assert response.status_code == 200
    assert flashes(response) == [
        "The order is Placed, so it cannot be moved to “Delivered”. The page shows it as it is now."
    ]
    response = move(seller, order_id, "explode")
    assert flashes(response) == ["That action is not possible here."]
    move(seller, order_id, "confirm")
    response = move(seller, order_id, "confirm")  # a second click
    assert "cannot be moved" in flashes(response)[0]
    assert fresh(order_id).status == OrderStatus.CONFIRMED
    assert db.session.scalar(sa.select(sa.func.count(OrderStatusChange.id))) == 2


def test_the_seller_cancels_with_a_reason_and_the_stock_comes_back(app, world):
    seller = as_user(app, world["a"].user)
    order_id = world["order"].id
    assert stock_of(world["cloth"]) == 3
    response = move(seller, order_id, "cancel", reason="  ")
    assert flashes(response) == ["Please give a reason; the customer will see it."]
    assert fresh(order_id).status == OrderStatus.PLACED

    move(seller, order_id, "cancel", reason="نخ این رنگ تمام شد")
    order = fresh(order_id)
    assert order.status == OrderStatus.CANCELLED and stock_of(world["cloth"]) == 5
    customer = as_user(app, world["mina"])
    html = customer.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "نخ این رنگ تمام شد" in html


# --- the customer ----------------------------------------------------------------------------------


def test_the_customer_cancels_once_and_the_stock_comes_back_once(app, world):
    customer = as_user(app, world["mina"])
    order_id = world["order"].id
    html = customer.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f'action="/orders/{order_id}/cancel"' in html and "data-confirm=" in html

    response = customer.post(f"/orders/{order_id}/cancel", follow_redirects=True)
    assert flashes(response, "success") == [f"Order {order_id} is cancelled."]
    assert fresh(order_id).status == OrderStatus.CANCELLED
    assert stock_of(world["cloth"]) == 5

    response = customer.post(f"/orders/{order_id}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert flashes(response) == ["This order can no longer be cancelled (status: Cancelled)."]
    assert stock_of(world["cloth"]) == 5  # not 7
    assert db.session.get(Payment, fresh(order_id).payment_id).status == PaymentStatus.FAILED


def test_a_shipped_order_cannot_be_cancelled_by_the_customer(app, world):
    seller = as_user(app, world["a"].user)
    order_id = world["order"].id
    move(seller, order_id, "confirm")
    move(seller, order_id, "ship", carrier="تیپاکس", tracking_code="T-1")
    customer = as_user(app, world["mina"])
    assert "/cancel" not in customer.get(f"/orders/{order_id}").get_data(as_text=True)
    response = customer.post(f"/orders/{order_id}/cancel", follow_redirects=True)
    assert flashes(response) == ["This order can no longer be cancelled (status: Shipped)."]
    assert fresh(order_id).status == OrderStatus.SHIPPED and stock_of(world["cloth"]) == 3


def test_my_orders_lists_newest_first_and_pages(app, world):
    world["bowl"].stock = 100
    db.session.commit()
    for _ in range(21):
        place(world["mina"], (world["bowl"], 1))
    customer = as_user(app, world["mina"])
    ids = [o.id for o in db.session.scalars(sa.select(Order).order_by(Order.id.desc()))]
    assert len(ids) == 22
    html = customer.get("/orders").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'href="/orders/(\d+)"', html)]
    assert listed == ids[:20]
    assert "Page 1 of 2" in html
    html = customer.get("/orders?page=2").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/orders/(\d+)"', html)] == ids[20:]


# --- nobody sees another's orders ----------------------------------------------------------------


def test_another_customer_gets_404(app, world):
    other = as_user(app, world["reza"])
    order_id = world["order"].id
    assert other.get(f"/orders/{order_id}").status_code == 404
    assert other.post(f"/orders/{order_id}/cancel").status_code == 404
    assert fresh(order_id).status == OrderStatus.PLACED
    assert f'href="/orders/{order_id}"' not in other.get("/orders").get_data(as_text=True)


def test_another_seller_gets_404(app, world):
    other = as_user(app, world["b"].user)
    order_id = world["order"].id
    for url in (f"/seller/orders/{order_id}", f"/seller/orders/{order_id}/slip"):
        assert other.get(url).status_code == 404
    for action in ("confirm", "cancel"):
        response = other.post(
            f"/seller/orders/{order_id}/move", data={"action": action, "reason": "x"}
        )
        assert response.status_code == 404
    assert fresh(order_id).status == OrderStatus.PLACED
    assert f"/seller/orders/{order_id}" not in other.get("/seller/orders").get_data(as_text=True)


def test_customers_do_not_enter_the_seller_area(app, world):
    customer = as_user(app, world["mina"])
    assert customer.get(f"/seller/orders/{world['order'].id}").status_code == 403
    assert app.test_client().get("/orders").status_code == 302  # to the login page


# --- the seller's pages ----------------------------------------------------------------------------


def test_the_seller_lists_and_filters_orders(app, world):
    mina = world["mina"]
    second = place(mina, (world["cloth"], 1)).orders[0]
    seller = as_user(app, world["a"].user)
    move(seller, second.id, "confirm")
    html = seller.get("/seller/orders").get_data(as_text=True)
    assert re.findall(r'href="/seller/orders/(\d+)"', html) == [
        str(second.id),
        str(world["order"].id),
    ]
    html = seller.get("/seller/orders?status=confirmed").get_data(as_text=True)
    assert re.findall(r'href="/seller/orders/(\d+)"', html) == [str(second.id)]
    html = seller.get("/seller/orders?status=nonsense").get_data(as_text=True)
    assert len(re.findall(r'href="/seller/orders/(\d+)"', html)) == 2


def test_the_dashboard_shows_the_latest_five_orders(app, world):
    world["cloth"].stock = 100
    db.session.commit()
    for _ in range(5):
        place(world["reza"], (world["cloth"], 1))
    seller = as_user(app, world["a"].user)
    html = seller.get("/seller/").get_data(as_text=True)
    ids = [o.id for o in db.session.scalars(sa.select(Order).order_by(Order.id.desc()))]
    assert [int(n) for n in re.findall(r'href="/seller/orders/(\d+)"', html)] == ids[:5]
    # A seller without orders sees the placeholder.
    html = as_user(app, world["b"].user).get("/seller/").get_data(as_text=True)
    assert "Orders will appear here when customers buy from you." in html


def test_the_packing_slip_is_printable(app, world):
    seller = as_user(app, world["a"].user)
    order_id = world["order"].id
    response = seller.get(f"/seller/orders/{order_id}/slip")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert "site-header" not in html and "subnav" not in html  # no navigation
    assert "data-print" in html and "@media print" not in html  # the stylesheet has the print rules
    for text in (
        "مینا رضایی",
        "9816745639",
        "09121234567",
        "رومیزی سوزن‌دوزی",
        "سیستان و بلوچستان",  # as written, for the Iranian post
    ):
        assert text in html
    assert "Cash on delivery: collect 250,000 toman." in html
    css = (Path(app.static_folder) / "css" / "bazarche.css").read_text(encoding="utf-8")
    assert "@media print" in css and ".no-print" in css


def test_a_card_order_awaiting_payment_offers_the_seller_nothing(app, world):
    payment = place(world["reza"], (world["bowl"], 1), provider=Provider.STRIPE)
    seller = as_user(app, world["b"].user)
    html = seller.get(f"/seller/orders/{payment.orders[0].id}").get_data(as_text=True)
    assert 'name="action"' not in html
    assert "The customer has not paid yet." in html


def test_the_same_checkout_token_again_finds_the_first_checkout_without_making_another(app, world):
    carts.add(world["reza"], None, world["bowl"].id, 1)

    def again():  # type: ignore[no-untyped-def]
        return payment_checkout.place_checkout(
            world["reza"],
            ADDRESS,
            Provider.CASH,
            "same-token-twice-0001",
            currency="IRR",
            expiry_minutes=60,
            max_open_cash_orders=100,
        )

    first, second = again(), again()
    assert first.created is True and second.created is False
    assert first.payment.id == second.payment.id
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 2  # the world's and this
    assert stock_of(world["bowl"]) == 2


# --- the rules live in the order service, for every path -----------------------------------------


def paid_card_order(customer, product) -> Order:  # type: ignore[no-untyped-def]
    payment = place(customer, (product, 1), provider=Provider.STRIPE)
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    return fresh(payment.orders[0].id)


def test_a_seller_cannot_cancel_a_card_order_the_customer_is_still_paying_for(app, world):
    payment = place(world["reza"], (world["bowl"], 1), provider=Provider.STRIPE)
    order = payment.orders[0]
    assert stock_of(world["bowl"]) == 2
    with pytest.raises(InvalidTransition):
        orders.seller_move(
            order, world["b"], world["b"].user, OrderStatus.CANCELLED, reason="ناموجود"
        )
    db.session.rollback()
    # Through the seller's page too, where the button is hidden but the post can be made.
    seller = as_user(app, world["b"].user)
    response = move(seller, order.id, "cancel", reason="ناموجود")
    assert "cannot be moved" in flashes(response)[0]
    assert fresh(order.id).status == OrderStatus.AWAITING_PAYMENT
    assert stock_of(world["bowl"]) == 2  # still held for the paying customer
    assert db.session.get(Payment, payment.id).status == PaymentStatus.PENDING


def test_every_move_is_checked_against_the_table_for_its_actor(app, world):
    # Who may make which move is the table's word, for each actor.
    assert may_move(OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED, Actor.CUSTOMER)
    assert not may_move(OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED, Actor.SELLER)
    assert not may_move(OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, Actor.SELLER)
    assert not may_move(OrderStatus.PLACED, OrderStatus.CONFIRMED, Actor.CUSTOMER)
    assert not may_move(OrderStatus.PAID, OrderStatus.CANCELLED, Actor.CUSTOMER)
    assert not may_move(OrderStatus.SHIPPED, OrderStatus.REFUNDED, Actor.SELLER)
    # A seller cannot pay, refund or re-place an order; a customer cannot move a paid one.
    order = world["order"]
    for new in (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.PLACED):
        with pytest.raises(InvalidTransition):
            orders.seller_move(order, world["a"], world["a"].user, new)
        db.session.rollback()
    paid = paid_card_order(world["reza"], world["bowl"])
    with pytest.raises(InvalidTransition):
        orders.cancel_by_customer(paid, world["reza"])
    db.session.rollback()
    assert fresh(paid.id).status == OrderStatus.PAID
    assert fresh(order.id).status == OrderStatus.PLACED
    assert orders.customer_may_cancel(fresh(order.id))
    assert not orders.customer_may_cancel(fresh(paid.id))


def test_any_cancellation_of_a_paid_order_is_refunded_through_the_registered_hook(
    app, world, monkeypatch
):
    # The app registers the payment providers' refund with the order service at start.
    from app.payments import online

    assert orders._refund_cancelled == [online.refund_cancelled_order]
    refunded: list[int] = []
    monkeypatch.setattr(orders, "_refund_cancelled", [lambda oid: refunded.append(oid) or True])
    staff = factories.user(Role.STAFF, email="staff@example.com")

    paid = paid_card_order(world["reza"], world["bowl"])
    done = orders.cancel_order(paid, Actor.STAFF, staff, "the seller is away")
    assert done.refund == "sent" and refunded == [paid.id]
    assert fresh(paid.id).status == OrderStatus.CANCELLED

    paid = paid_card_order(world["reza"], world["bowl"])
    done = orders.seller_move(
        paid, world["b"], world["b"].user, OrderStatus.CANCELLED, reason="شکست"
    )
    assert done is not None and done.refund == "sent" and refunded[-1] == paid.id

    # An unpaid cash order owes nothing.
    done = orders.cancel_by_customer(fresh(world["order"].id), world["mina"])
    assert done.refund is None and len(refunded) == 2

    # A refund that fails leaves the cancellation standing and says so.
    def broken(order_id: int) -> bool:
        raise RuntimeError("provider down")

    monkeypatch.setattr(orders, "_refund_cancelled", [broken])
    paid = paid_card_order(world["reza"], world["bowl"])
    done = orders.cancel_order(paid, Actor.STAFF, staff, "the seller is away")
    assert done.refund == "failed" and fresh(paid.id).status == OrderStatus.CANCELLED


def test_staff_and_own_products_are_refused_by_the_checkout_service(app, world):
    staff = factories.user(Role.STAFF, email="staff@example.com")
    db.session.add(
        CartLine(
            user_id=staff.id, product_id=world["bowl"].id, quantity=1, seen_price_amount=450_000
        )
    )
    seller_user = world["a"].user
    db.session.add(
        CartLine(
            user_id=seller_user.id,
            product_id=world["cloth"].id,
            quantity=1,
            seen_price_amount=1_250_000,
        )
    )
    db.session.commit()
    for who, error in ((staff, NotABuyer), (seller_user, OwnProducts)):
        with pytest.raises(error):
            payment_checkout.place_checkout(
                who,
                ADDRESS,
                Provider.CASH,
                f"rule-token-{who.id:010d}",
                currency="IRR",
                expiry_minutes=60,
                max_open_cash_orders=100,
            )
        db.session.rollback()
    # Adding to the cart is refused by the same rule.
    with pytest.raises(NotABuyer):
        carts.add(staff, None, world["cloth"].id, 1)
    db.session.rollback()
    with pytest.raises(OwnProducts):
        carts.add(seller_user, None, world["cloth"].id, 1)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 1  # the world's
    assert stock_of(world["cloth"]) == 3 and stock_of(world["bowl"]) == 3
    # A seller buys from another shop.
    carts.add(seller_user, None, world["bowl"].id, 1)


def test_a_card_checkout_holds_its_stock_at_least_thirty_minutes(app, world):
    carts.add(world["reza"], None, world["bowl"].id, 1)
    before = utcnow()
    payment = payment_checkout.place_checkout(
        world["reza"],
        ADDRESS,
        Provider.STRIPE,
        "short-hold-token-0001",
        currency="IRR",
        expiry_minutes=5,
        max_open_cash_orders=100,
    ).payment
    assert payment.expires_at >= before + timedelta(minutes=30)
    assert (
        payment_checkout.card_hold_minutes(5) == 30 and payment_checkout.card_hold_minutes(90) == 90
    )


# --- the "order moved" log line is written once the move is committed ----------------------------


def test_a_move_is_logged_after_its_commit_and_a_rolled_back_move_never(app, world, caplog):
    order = world["order"]

    def log_lines() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == "app.orders.services" and "moved" in r.getMessage()
        ]

    with caplog.at_level(logging.INFO, logger="app.orders.services"):
        # A move inside a transaction that rolls back is never logged.
        orders._move(fresh(order.id), OrderStatus.CONFIRMED, Actor.SELLER, world["a"].user.id)
        assert log_lines() == []  # not before the commit
        db.session.rollback()
        assert log_lines() == [] and fresh(order.id).status == OrderStatus.PLACED
        # Nor when a savepoint is released: the transaction may still roll back.
        orders._move(fresh(order.id), OrderStatus.CONFIRMED, Actor.SELLER, world["a"].user.id)
        with db.session.begin_nested():
            pass
        assert log_lines() == []
        db.session.rollback()
        # A committed move is logged once, after its commit.
        orders.seller_move(fresh(order.id), world["a"], world["a"].user, OrderStatus.CONFIRMED)
        seen = log_lines()
    assert seen == [f"order {order.id} moved placed -> confirmed by seller {world['a'].user.id}"]


def test_a_refused_move_leaves_the_session_clean(app, world):
    order = world["order"]
    with pytest.raises(InvalidTransition):
        orders.seller_move(order, world["a"], world["a"].user, OrderStatus.DELIVERED)
    assert not db.session().in_transaction()
    assert fresh(order.id).status == OrderStatus.PLACED
