"""Problems customers report on shipped orders: photos, the seller's reply, the staff decision
(money back in full or part, or closed); an open problem stops completion by the clock."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import completion
from app.orders import services as orders
from app.orders.models import Order, OrderStatus, ProblemReport, ProblemStatus
from app.payments import state as payment_state
from app.payments.models import Provider
from app.payouts import ledger
from app.payouts.models import EntryKind, LedgerEntry
from app.program.sales_models import SalesOrder
from tests import factories
from tests.helpers import assert_ledger_holds, client_for, flashes, jpeg


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    app.config.update(COMMISSION_RATE_BP=1000, RECEIPT_WINDOW_DAYS=10)
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    mina = factories.user(email="mina@example.com", name="مینا")
    staff = factories.user(Role.STAFF, email="staff@example.com")
    cloth = factories.product(a, price_amount=1_000_000, stock=50)
    return {"a": a, "mina": mina, "staff": staff, "cloth": cloth}


def shipped(shop, provider: Provider = Provider.CASH) -> Order:  # type: ignore[no-untyped-def]
    from tests.test_order_flow import place

    payment = place(shop["mina"], (shop["cloth"], 1), provider=provider)
    order = payment.orders[0]
    a = shop["a"]
    if provider == Provider.STRIPE:
        assert payment_state.mark_payment_paid(payment) == "paid"
        db.session.commit()
    else:
        orders.seller_move(order, a, a.user, OrderStatus.CONFIRMED)
    orders.seller_move(order, a, a.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="1")
    return order


def english(app, user):  # type: ignore[no-untyped-def]
    client = client_for(app, user)
    client.set_cookie("locale", "en")
    return client


def report(client, order_id, **data):  # type: ignore[no-untyped-def]
    return client.post(f"/orders/{order_id}/problem", data=data, follow_redirects=True,
                       content_type="multipart/form-data")  # fmt: skip


def test_an_open_problem_holds_completion_until_staff_close_it(app, shop):
    order = shipped(shop)
    customer = english(app, shop["mina"])
    assert "Report a problem" in customer.get(f"/orders/{order.id}").get_data(as_text=True)
    response = report(customer, order.id, kind="damaged", description="شکسته رسید",
                      photos=[(io.BytesIO(jpeg()), "a.jpg")])  # fmt: skip
    assert flashes(response, "success") == [
        "Your report is sent. The seller and the market's staff will look at it."
    ]
    problem = db.session.scalar(sa.select(ProblemReport))
    assert problem.status == ProblemStatus.OPEN and len(problem.photo_keys) == 1
    # One open problem per order.
    response = report(customer, order.id, kind="damaged", description="again")
    assert len(flashes(response)) == 1
    assert db.session.scalar(sa.select(sa.func.count(ProblemReport.id))) == 1

    db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id)
        .values(shipped_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    assert completion.complete_due() == 0

    seller = english(app, shop["a"].user)
    assert "شکسته رسید" in seller.get(f"/seller/orders/{order.id}").get_data(as_text=True)
    response = seller.post(f"/seller/orders/{order.id}/problems/{problem.id}/reply",
                           data={"reply": "عکس را دیدم"}, follow_redirects=True)  # fmt: skip
    assert flashes(response, "success") == ["Your reply is sent."]

    staff = english(app, shop["staff"])
    assert "عکس را دیدم" in staff.get(f"/admin/problems/{problem.id}").get_data(as_text=True)
    response = staff.post(
        f"/admin/problems/{problem.id}/close", data={"note": ""}, follow_redirects=True
    )
    assert flashes(response, "success") == [f"Problem {problem.id} is closed without a refund."]
    response = staff.post(f"/admin/problems/{problem.id}/close", follow_redirects=True)
    assert flashes(response) == [f"Problem {problem.id} was already decided."]
    assert completion.complete_due() == 1
    assert_ledger_holds()


def test_staff_give_part_of_a_cash_order_back(app, shop):
    order = shipped(shop)
    customer = english(app, shop["mina"])
    report(customer, order.id, kind="not_as_described", description="رنگ فرق دارد")
    problem = db.session.scalar(sa.select(ProblemReport))
    staff = english(app, shop["staff"])
    # The amount is typed in toman; more than the order is refused beside the field.
    response = staff.post(f"/admin/problems/{problem.id}/refund", data={"amount": "۲۰۰٬۰۰۰"})
    assert response.status_code == 400 and "more than what is left" in response.get_data(
        as_text=True
    )
    response = staff.post(f"/admin/problems/{problem.id}/refund", data={"amount": "abc"})
    assert response.status_code == 400
    response = staff.post(f"/admin/problems/{problem.id}/refund", data={"amount": "۲۰٬۰۰۰"},
                          follow_redirects=True)  # fmt: skip
    assert flashes(response, "success") == [f"Problem {problem.id}: the refund is recorded."]
    db.session.expire_all()
    order = db.session.get_one(Order, order.id)
    assert order.status == OrderStatus.COMPLETED and order.refunded_amount == 200_000
    assert ledger.balance(shop["a"].id) == -100_000 + 20_000  # commission owed, a fifth back
    assert (
        db.session.scalar(
            sa.select(LedgerEntry.amount).where(LedgerEntry.kind == EntryKind.CASH_RETURNED)
        )
        == 200_000
    )
    assert db.session.get(SalesOrder, order.id) is not None
    assert_ledger_holds()


def test_a_full_refund_makes_the_order_refunded(app, shop):
    order = shipped(shop)
    report(english(app, shop["mina"]), order.id, kind="not_received", description="نرسید")
    problem = db.session.scalar(sa.select(ProblemReport))
    english(app, shop["staff"]).post(
        f"/admin/problems/{problem.id}/refund", data={"amount": "100000"}
    )
    db.session.expire_all()
    order = db.session.get_one(Order, order.id)
    assert order.status == OrderStatus.REFUNDED and order.refunded_amount == order.total_amount
    assert ledger.balance(shop["a"].id) == 0
    assert db.session.get(SalesOrder, order.id) is None
    assert_ledger_holds()


def test_a_card_refund_is_not_available_yet_and_changes_nothing(app, shop):
    order = shipped(shop, Provider.STRIPE)
    report(english(app, shop["mina"]), order.id, kind="damaged", description="شکسته")
    problem = db.session.scalar(sa.select(ProblemReport))
    response = english(app, shop["staff"]).post(f"/admin/problems/{problem.id}/refund",
                                                data={"amount": "10000"})  # fmt: skip
    assert response.status_code == 409
    assert "not available yet" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(ProblemReport, problem.id).status == ProblemStatus.OPEN
    assert db.session.get_one(Order, order.id).status == OrderStatus.SHIPPED
    assert_ledger_holds()


def test_bad_reports_are_refused_and_change_nothing(app, shop):
    from tests.test_order_flow import place

    order = shipped(shop)
    customer = english(app, shop["mina"])
    response = report(customer, order.id, kind="damaged", description="  ")
    assert response.status_code == 400 and "This field is required." in response.get_data(
        as_text=True
    )
    response = report(customer, order.id, kind="damaged", description="x",
                      photos=[(io.BytesIO(b"not a picture"), "a.jpg")])  # fmt: skip
    assert response.status_code == 400
    placed = place(shop["mina"], (shop["cloth"], 1)).orders[0]
    response = report(customer, placed.id, kind="damaged", description="x")
    assert len(flashes(response)) == 1
    other = english(app, factories.user(email="reza@example.com"))
    assert (
        other.post(
            f"/orders/{order.id}/problem", data={"kind": "damaged", "description": "x"}
        ).status_code
        == 404
    )
    assert db.session.scalar(sa.select(sa.func.count(ProblemReport.id))) == 0
