"""Completion: the customer confirms receipt, or the receipt window runs out and
``flask orders complete-due`` completes the order; a cash order counts as sold only then, its
commission is fixed from its lines and the seller's ledger is credited in the same transaction."""

from __future__ import annotations

import threading
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.core.errors import InvalidTransition, NotAllowed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import completion
from app.orders import services as orders
from app.orders.models import Order, OrderStatus, OrderStatusChange
from app.payments import state as payment_state
from app.payments.models import Payment, PaymentStatus, Provider
from app.payouts import ledger
from app.payouts.models import EntryKind, LedgerEntry
from app.program.sales_models import SalesOrder
from tests import factories
from tests.helpers import assert_ledger_holds, flashes
from tests.test_order_flow import as_user, place


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    app.config.update(RECEIPT_WINDOW_DAYS=10, COMMISSION_RATE_BP=1000)
    crafts = factories.category()
    crafts.commission_rate_bp = 750  # 7.5 %
    plain = factories.category()  # the market default, 10 %
    db.session.commit()
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    mina = factories.user(email="mina@example.com", name="مینا")
    reza = factories.user(email="reza@example.com", name="رضا")
    cloth = factories.product(a, price_amount=1_250_003, stock=50, category_row=crafts)
    napkin = factories.product(
        a, title="دستمال", price_amount=300_007, stock=50, category_row=plain
    )
    return {"a": a, "mina": mina, "reza": reza, "cloth": cloth, "napkin": napkin}


def shipped_cash(shop, *items):  # type: ignore[no-untyped-def]
    payment = place(shop["mina"], *(items or ((shop["cloth"], 1),)))
    order = payment.orders[0]
    a = shop["a"]
    orders.seller_move(order, a, a.user, OrderStatus.CONFIRMED)
    orders.seller_move(order, a, a.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="1")
    return order


def fresh(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get_one(Order, order_id)


def entries(order_id: int) -> dict[EntryKind, int]:
    return {
        e.kind: e.amount
        for e in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.order_id == order_id))
    }


def test_commission_rounds_down_per_rate():
    # 1,250,003 at 7.5 % is 93,750.225 -> 93,750; 300,007 + 1 at 10 % is 30,000.8 -> 30,000.
    lines = [(1, 1_250_003), (2, 300_007), (None, 1)]
    assert completion.commission_of(lines, {1: 750, 2: None}, 1000) == 93_750 + 30_000
    assert completion.commission_of([], {}, 1000) == 0
    assert completion.commission_of([(1, 99)], {1: 0}, 1000) == 0
    assert completion.commission_of([(1, 10_000)], {1: 10_000}, 1000) == 10_000


def test_the_customer_confirms_receipt_and_the_cash_sale_counts_from_then(app, shop):
    order = shipped_cash(shop, (shop["cloth"], 1), (shop["napkin"], 1))
    customer = as_user(app, shop["mina"])
    html = unescape(customer.get(f"/orders/{order.id}").get_data(as_text=True))
    assert "I received it" in html and "completes by itself on" in html
    # Delivered by the seller: still not sold, no credit.
    orders.seller_move(fresh(order.id), shop["a"], shop["a"].user, OrderStatus.DELIVERED)
    order = fresh(order.id)
    assert order.paid_at is None and db.session.get(SalesOrder, order.id) is None
    assert entries(order.id) == {}

    response = customer.post(f"/orders/{order.id}/received", follow_redirects=True)
    assert flashes(response, "success") == [f"Thank you: order {order.id} is complete."]
    order = fresh(order.id)
    assert order.status == OrderStatus.COMPLETED
    assert order.paid_at == order.completed_at is not None
    assert order.commission_amount == 93_750 + 30_000
    assert db.session.get(Payment, order.payment_id).status == PaymentStatus.SUCCEEDED
    assert db.session.get(SalesOrder, order.id).amount == 1_550_010
    total = order.total_amount
    assert entries(order.id) == {
        EntryKind.SALE: total,
        EntryKind.COMMISSION: -123_750,
        EntryKind.CASH_COLLECTED: -total,
    }
    # The seller holds the cash and owes the market its commission.
    assert ledger.balance(shop["a"].id) == -123_750
    assert_ledger_holds()
    # Once only: the button is gone, a second post changes nothing.
    response = customer.post(f"/orders/{order.id}/received", follow_redirects=True)
    assert len(flashes(response)) == 1
    assert "I received it" not in customer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert len(entries(order.id)) == 3


def test_only_the_customer_and_only_after_shipping(app, shop):
    placed = place(shop["mina"], (shop["cloth"], 1)).orders[0]
    with pytest.raises(InvalidTransition):
        completion.complete_by_customer(placed, shop["mina"])
    shipped = shipped_cash(shop)
    with pytest.raises(NotAllowed):
        completion.complete_by_customer(shipped, shop["reza"])
    assert as_user(app, shop["reza"]).post(f"/orders/{shipped.id}/received").status_code == 404
    response = as_user(app, shop["mina"]).post(
        f"/orders/{placed.id}/received", follow_redirects=True
    )
    assert flashes(response) == ["This order cannot be marked as received now (status: Placed)."]
    assert fresh(placed.id).status == OrderStatus.PLACED
    assert fresh(shipped.id).status == OrderStatus.SHIPPED
    assert_ledger_holds()


def test_complete_due_completes_orders_whose_window_ran_out(app, shop, runner):
    old = shipped_cash(shop)
    recent = shipped_cash(shop)
    card = place(shop["reza"], (shop["napkin"], 2), provider=Provider.STRIPE)
    assert payment_state.mark_payment_paid(card) == "paid"
    db.session.commit()
    card_order = card.orders[0]
    orders.seller_move(card_order, shop["a"], shop["a"].user, OrderStatus.SHIPPED,
                       carrier="پست", tracking_code="2")  # fmt: skip
    paid_at = fresh(card_order.id).paid_at
    eleven_days_ago = utcnow() - timedelta(days=11)
    db.session.execute(
        sa.update(Order)
        .where(Order.id.in_([old.id, card_order.id]))
        .values(shipped_at=eleven_days_ago)
    )
    db.session.commit()

    result = runner.invoke(args=["orders", "complete-due"])
    assert result.exit_code == 0 and "Completed 2 orders." in result.output
    assert fresh(old.id).status == OrderStatus.COMPLETED
    assert fresh(recent.id).status == OrderStatus.SHIPPED
    card_order = fresh(card_order.id)
    # A card order keeps counting from its payment.
    assert card_order.status == OrderStatus.COMPLETED and card_order.paid_at == paid_at
    assert EntryKind.CASH_COLLECTED not in entries(card_order.id)
    reasons = db.session.scalars(
        sa.select(OrderStatusChange.reason).where(
            OrderStatusChange.order_id == old.id,
            OrderStatusChange.to_status == OrderStatus.COMPLETED,
        )
    ).all()
    assert reasons == ["receipt window ended"]
    # Idempotent: a second run finds nothing.
    assert "Completed 0 orders." in runner.invoke(args=["orders", "complete-due"]).output
    assert_ledger_holds()


def test_a_hold_stops_completion_by_the_clock(app, shop):
    held = shipped_cash(shop)
    db.session.execute(
        sa.update(Order).where(Order.id == held.id).values(shipped_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    holds = list(completion._holds)
    completion.on_completion_hold(lambda order: order.id == held.id)
    try:
        assert completion.complete_due() == 0
        assert fresh(held.id).status == OrderStatus.SHIPPED
    finally:
        completion._holds[:] = holds
    assert completion.complete_due() == 1


def test_complete_due_run_twice_at_once_acts_once(app, shop):
    ids = [shipped_cash(shop).id for _ in range(12)]
    db.session.execute(
        sa.update(Order).where(Order.id.in_(ids)).values(shipped_at=utcnow() - timedelta(days=20))
    )
    db.session.commit()
    db.session.remove()
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                counts.append(completion.complete_due())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and sum(counts) == 12
    completed = db.session.scalar(
        sa.select(sa.func.count()).where(OrderStatusChange.to_status == OrderStatus.COMPLETED)
    )
    assert completed == 12
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.SALE))
        == 12
    )
    assert_ledger_holds()
