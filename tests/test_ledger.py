"""The sellers' ledger: entries written in the transaction of their event, once; refunds of a
completed order reverse its credit in proportion; ``flask payouts verify`` checks the invariant
against the orders and fails loudly when it breaks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders import completion
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.payments import state as payment_state
from app.payments.models import Payment, Provider
from app.payouts import ledger
from app.payouts.models import EntryKind, LedgerEntry
from tests import factories
from tests.helpers import assert_ledger_holds
from tests.test_order_flow import place


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    app.config.update(COMMISSION_RATE_BP=1000)
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    mina = factories.user(email="mina@example.com", name="مینا")
    cloth = factories.product(a, price_amount=1_000_003, stock=50)
    return {"a": a, "mina": mina, "cloth": cloth}


def completed(shop, provider: Provider) -> Order:  # type: ignore[no-untyped-def]
    payment = place(shop["mina"], (shop["cloth"], 1), provider=provider)
    order = payment.orders[0]
    a = shop["a"]
    if provider == Provider.STRIPE:
        assert payment_state.mark_payment_paid(payment) == "paid"
        db.session.commit()
    else:
        orders.seller_move(order, a, a.user, OrderStatus.CONFIRMED)
    orders.seller_move(order, a, a.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="1")
    completion.complete_by_customer(order, shop["mina"])
    db.session.expire_all()
    return db.session.get_one(Order, order.id)


def kinds(order_id: int) -> dict[EntryKind, int]:
    totals: dict[EntryKind, int] = {}
    for e in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.order_id == order_id)):
        totals[e.kind] = totals.get(e.kind, 0) + e.amount
    return totals


def test_a_provider_refund_of_a_completed_card_order_reverses_its_credit(app, shop):
    order = completed(shop, Provider.STRIPE)
    assert order.commission_amount == 100_000  # 10 % of 1,000,003 rounded down
    assert ledger.balance(shop["a"].id) == 1_000_003 - 100_000
    assert_ledger_holds()

    with transaction():
        payment = db.session.get_one(Payment, order.payment_id)
        assert payment_state.mark_payment_refunded(payment)
    with transaction():  # told twice (a webhook re-delivered): acts once
        assert not payment_state.mark_payment_refunded(
            db.session.get_one(Payment, order.payment_id)
        )
    db.session.expire_all()
    order = db.session.get_one(Order, order.id)
    assert order.status == OrderStatus.REFUNDED and order.refunded_amount == order.total_amount
    assert kinds(order.id) == {
        EntryKind.SALE: 1_000_003, EntryKind.COMMISSION: -100_000,
        EntryKind.REFUND: -1_000_003, EntryKind.COMMISSION_REVERSAL: 100_000,
    }  # fmt: skip
    assert ledger.balance(shop["a"].id) == 0
    assert_ledger_holds()


def test_partial_refunds_give_back_exactly_the_commission(app, shop):
    order = completed(shop, Provider.STRIPE)
    for amount, ref in ((333_334, "r1"), (333_334, "r2")):
        with transaction():
            assert ledger.record_refund(order, amount, ref=ref) == amount
        assert_ledger_holds()
    with transaction():  # the same refund told again: once
        assert ledger.record_refund(order, 333_334, ref="r2") == 0
    # More than what is left is refused, and nothing changes.
    with pytest.raises(ValidationFailed), transaction():
        ledger.record_refund(order, 333_336, ref="r3")
    db.session.expire_all()
    order = db.session.get_one(Order, order.id)
    assert order.refunded_amount == 666_668
    with transaction():
        ledger.record_refund(order, 333_335, ref="r3")
    assert kinds(order.id)[EntryKind.COMMISSION_REVERSAL] == 100_000
    assert ledger.balance(shop["a"].id) == 0
    assert_ledger_holds()


def test_a_cash_order_the_seller_collected_and_refunded(app, shop):
    order = completed(shop, Provider.CASH)
    assert ledger.balance(shop["a"].id) == -100_000  # the commission owed by the seller
    with transaction():
        ledger.record_refund(order, 500_000, ref="cash-1")
    assert kinds(order.id)[EntryKind.CASH_RETURNED] == 500_000
    # The commission given back is floor(100,000 × 500,000 / 1,000,003) = 49,999.
    assert kinds(order.id)[EntryKind.COMMISSION_REVERSAL] == 49_999
    assert ledger.balance(shop["a"].id) == -100_000 + 49_999
    assert_ledger_holds()


def test_a_refund_before_completion_writes_nothing(app, shop):
    payment = place(shop["mina"], (shop["cloth"], 1), provider=Provider.STRIPE)
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    with transaction():
        assert ledger.record_refund(payment.orders[0], 1000) == 0
        payment_state.mark_payment_refunded(payment)
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0
    assert_ledger_holds()


def test_entries_are_written_once_per_event(app, shop):
    order = completed(shop, Provider.CASH)
    with transaction():
        ledger.record_completion(order, cash=True)
    assert len(db.session.scalars(sa.select(LedgerEntry)).all()) == 3
    with pytest.raises(sa.exc.IntegrityError), transaction():
        db.session.add(LedgerEntry(seller_id=order.seller_id, kind=EntryKind.SALE, amount=1,
                                   key=f"sale:order:{order.id}"))  # fmt: skip
        db.session.flush()


def test_verify_lists_each_seller_whose_ledger_breaks(app, shop, runner):
    order = completed(shop, Provider.STRIPE)
    result = runner.invoke(args=["payouts", "verify"])
    assert result.exit_code == 0 and "holds for every seller" in result.output
    with transaction():
        db.session.execute(
            sa.update(LedgerEntry)
            .where(LedgerEntry.order_id == order.id, LedgerEntry.kind == EntryKind.COMMISSION)
            .values(amount=-1)
        )
    result = runner.invoke(args=["payouts", "verify"])
    assert result.exit_code == 1
    assert f"seller {shop['a'].id}: balance expected 900003, ledger 1000002" in result.output
    assert "commission: expected 100000, ledger 1" in result.output
