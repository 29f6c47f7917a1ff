"""Problems with orders: the customer reports one on a sent order (with photos), the seller
answers, the market decides — a refund online (all or part, once), a cash refund recorded, or no
refund — and an open problem holds its order from completing."""

from __future__ import annotations

import io
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog.models import Product
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.formatting import persian_digits
from app.core.timeutil import utcnow
from app.disputes import services as disputes
from app.disputes.models import OrderProblem, ProblemStatus, Resolution
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from tests import factories
from tests.fake_stripe import (  # noqa: F401  (fixtures)
    card_checkout,
    deliver,
    fake_stripe_fixture,
    start,
    stripe_app_fixture,
)
from tests.helpers import assert_ledger_holds, flashes, jpeg
from tests.test_order_flow import as_user, place


def fresh(model, row_id: int):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(model, row_id)


def ship(order: Order) -> Order:
    """The seller confirms (a cash order) and sends the order."""
    seller = order.seller
    if order.status == OrderStatus.PLACED:
        orders.seller_move(order, seller, seller.user, OrderStatus.CONFIRMED)
    orders.seller_move(
        order, seller, seller.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="IR1"
    )
    return fresh(Order, order.id)


def seller_balance(seller_id: int) -> int:
    from app.payouts import ledger

    db.session.expire_all()
    return ledger.balance(seller_id)


def media_files(app) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def sent(app):  # type: ignore[no-untyped-def]
    """A cash order of two needlework pieces, sent to its customer."""
    mina = factories.user(email="mina@example.com", name="مینا")
    cloth = factories.product(title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=5)
    order = place(mina, (cloth, 2)).orders[0]
    return {"order": ship(order), "mina": mina, "seller": cloth.seller}


def staff_client(app):  # type: ignore[no-untyped-def]
    staff = factories.user(role=Role.STAFF, email="staff@example.com", name="کارشناس")
    return as_user(app, staff), staff


# ---- reporting -----------------------------------------------------------------------------------


def test_a_customer_reports_a_damaged_order_with_photos_and_the_seller_sees_it(app, sent):
    order, customer = sent["order"], as_user(app, sent["mina"])
    page = unescape(customer.get(f"/orders/{order.id}").get_data(as_text=True))
    assert "Report a problem" in page

    response = customer.post(
        f"/orders/{order.id}/problem",
        data={
            "kind": "damaged",
            "description": "The cloth arrived torn at one corner.",
            "photos": [(io.BytesIO(jpeg((400, 300))), "torn.jpg")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert flashes(response, "success") == ["Your report was sent to the seller."]
    problem = disputes.problem_of(order.id)
    assert problem is not None and problem.status == ProblemStatus.OPEN
    assert problem.kind == "damaged" and len(problem.photos) == 1
    assert disputes.blocks_completion(order.id)
    # The photo's two variants are stored and shown to the seller.
    assert len(media_files(app)) == 2
    seller = as_user(app, sent["seller"].user)
    html = unescape(seller.get(f"/seller/orders/{order.id}").get_data(as_text=True))
    assert "The cloth arrived torn at one corner." in html
    assert f"/media/{problem.photos[0].small_key}" in html
    # A second report of the same order is refused.
    again = customer.get(f"/orders/{order.id}/problem", follow_redirects=True)
    assert flashes(again) == ["A problem can no longer be reported on this order."]


def test_a_bad_report_says_why_beside_the_field_and_keeps_nothing(app, sent):
    order, customer = sent["order"], as_user(app, sent["mina"])
    response = customer.post(
        f"/orders/{order.id}/problem",
        data={"kind": "damaged", "description": "torn"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Describe the problem in 10 to 2,000 letters." in unescape(
        response.get_data(as_text=True)
    )
    response = customer.post(
        f"/orders/{order.id}/problem",
        data={
            "kind": "damaged",
            "description": "The cloth arrived torn at one corner.",
            "photos": [
                (io.BytesIO(jpeg()), "ok.jpg"),
                (io.BytesIO(b"not a picture at all"), "bad.jpg"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Only JPEG, PNG and WebP images are accepted." in unescape(
        response.get_data(as_text=True)
    )
    assert disputes.problem_of(order.id) is None
    assert media_files(app) == []  # the good photo written before the bad one is gone too
    response = customer.post(
        f"/orders/{order.id}/problem",
        data={"kind": "lost-in-space", "description": "The cloth arrived torn at one corner."},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and disputes.problem_of(order.id) is None


def test_too_many_photos_are_refused_by_the_service(app, sent):
    with pytest.raises(ValidationFailed) as refused:
        disputes.report(
            sent["order"].id, sent["mina"], "damaged", "Torn at one corner.", [jpeg()] * 5
        )
    assert refused.value.errors == {"photos": ["too_many_problem_photos"]}
    assert media_files(app) == []


def test_only_the_customer_of_a_sent_order_within_the_window_may_report(app, sent):
    order = sent["order"]
    other = factories.user(email="reza@example.com")
    assert as_user(app, other).get(f"/orders/{order.id}/problem").status_code == 404
    with pytest.raises(NotAllowed):
        disputes.report(order.id, other, "damaged", "Torn at one corner.")

    # Not sent yet: nothing to report.
    waiting = place(sent["mina"], (factories.product(price_amount=90_000, stock=2), 1)).orders[0]
    assert not disputes.may_report(waiting)
    with pytest.raises(InvalidTransition):
        disputes.report(waiting.id, sent["mina"], "not_received", "It never came to me.")

    # Past the window after shipping: too late.
    db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id)
        .values(shipped_at=utcnow() - timedelta(days=app.config["RECEIPT_WINDOW_DAYS"] + 1))
    )
    db.session.commit()
    assert not disputes.may_report(fresh(Order, order.id))
    with pytest.raises(InvalidTransition):
        disputes.report(order.id, sent["mina"], "not_received", "It never came to me.")
    assert db.session.scalar(sa.select(sa.func.count(OrderProblem.id))) == 0


# ---- answer, escalation, withdrawal ------------------------------------------------------------


def test_the_seller_answers_and_the_customer_asks_the_market(app, sent):
    order = sent["order"]
    problem = disputes.report(order.id, sent["mina"], "not_received", "It never came to me.")
    customer = as_user(app, sent["mina"])
    # Before the seller answers (and before the waiting days pass) the market cannot be asked.
    response = customer.post(f"/orders/{order.id}/problem/escalate", follow_redirects=True)
    assert flashes(response) == ["The market cannot be asked to decide this problem now."]

    seller = as_user(app, sent["seller"].user)
    empty = seller.post(
        f"/seller/orders/{order.id}/problem/answer", data={"reply": " "}, follow_redirects=True
    )
    assert flashes(empty) == ["This field is required."]
    seller.post(
        f"/seller/orders/{order.id}/problem/answer",
        data={"reply": "The post office still has it; I will send it again."},
    )
    assert fresh(OrderProblem, problem.id).status == ProblemStatus.ANSWERED
    twice = seller.post(
        f"/seller/orders/{order.id}/problem/answer", data={"reply": "again"}, follow_redirects=True
    )
    assert flashes(twice) == ["This problem was already answered or decided."]

    page = unescape(customer.get(f"/orders/{order.id}").get_data(as_text=True))
    assert "The post office still has it" in page
    response = customer.post(f"/orders/{order.id}/problem/escalate", follow_redirects=True)
    assert flashes(response, "success") == [
        "The market's staff will look at the problem and decide."
    ]
    assert fresh(OrderProblem, problem.id).status == ProblemStatus.ESCALATED

    # Another seller cannot touch it.
    stranger = as_user(app, factories.seller(name="دیگری").user)
    assert stranger.post(f"/seller/orders/{order.id}/problem/escalate").status_code == 404


def test_a_customer_may_ask_the_market_when_the_seller_stays_silent(app, sent):
    problem = disputes.report(
        sent["order"].id, sent["mina"], "not_received", "It never came to me."
    )
    db.session.execute(
        sa.update(OrderProblem)
        .where(OrderProblem.id == problem.id)
        .values(created_at=utcnow() - timedelta(days=app.config["PROBLEM_ANSWER_DAYS"]))
    )
    db.session.commit()
    disputes.escalate(problem.id, sent["mina"])
    assert fresh(OrderProblem, problem.id).status == ProblemStatus.ESCALATED


def test_a_withdrawn_report_frees_the_order(app, sent):
    order = sent["order"]
    problem = disputes.report(order.id, sent["mina"], "damaged", "Torn at one corner.")
    customer = as_user(app, sent["mina"])
    response = customer.post(f"/orders/{order.id}/problem/withdraw", follow_redirects=True)
    assert flashes(response, "success") == ["You withdrew your report."]
    problem = fresh(OrderProblem, problem.id)
    assert (problem.status, problem.resolution) == (ProblemStatus.CLOSED, Resolution.WITHDRAWN)
    assert not disputes.blocks_completion(order.id)
    with pytest.raises(disputes.ProblemClosed):
        disputes.withdraw(problem.id, sent["mina"])


# ---- the market decides ------------------------------------------------------------------------


def test_staff_record_a_whole_cash_refund_and_the_order_is_refunded(app, sent):
    order = sent["order"]
    problem = disputes.report(order.id, sent["mina"], "damaged", "Torn at one corner.")
    disputes.escalate(problem.id, sent["seller"].user, seller=sent["seller"])
    client, _staff = staff_client(app)
    listing = unescape(client.get("/admin/problems").get_data(as_text=True))
    assert f"/admin/problems/{problem.id}" in listing
    page = unescape(client.get(f"/admin/problems/{problem.id}").get_data(as_text=True))
    assert "Record a refund the seller made in cash" in page
    assert "Refund online" not in page  # a cash order has no card to refund to

    too_much = client.post(
        f"/admin/problems/{problem.id}/decide",
        data={"resolution": "cash_refund", "amount": "300000", "note": "Torn in the post"},
    )
    assert too_much.status_code == 400
    assert "cannot be more than the customer paid" in unescape(too_much.get_data(as_text=True))
    assert fresh(OrderProblem, problem.id).status == ProblemStatus.ESCALATED

    product_id = order.lines[0].product_id
    response = client.post(
        f"/admin/problems/{problem.id}/decide",
        data={"resolution": "cash_refund", "amount": "۲۵۰٬۰۰۰", "note": "Torn in the post"},
        follow_redirects=True,
    )
    assert "The decision is recorded" in unescape(response.get_data(as_text=True))
    problem = fresh(OrderProblem, problem.id)
    assert problem.status == ProblemStatus.REFUNDED and problem.refund_amount == 2_500_000
    order = fresh(Order, order.id)
    assert order.status == OrderStatus.REFUNDED
    assert fresh(Product, product_id).stock == 3  # sent goods do not come back
    assert not disputes.blocks_completion(order.id)
    assert_ledger_holds()
    assert seller_balance(order.seller_id) == 0  # the sale, its commission and the cash undone
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "problem.cash_refund" in actions
    with pytest.raises(disputes.ProblemClosed):
        disputes.decide(problem.id, _staff, "closed", None, "again")


def test_staff_close_a_problem_without_a_refund(app, sent):
    problem = disputes.report(sent["order"].id, sent["mina"], "not_as_described", "Other colour.")
    _client, staff = staff_client(app)
    with pytest.raises(ValidationFailed):
        disputes.decide(problem.id, staff, "closed", None, "  ")
    assert disputes.decide(problem.id, staff, "closed", None, "The photos match the listing.") == (
        ProblemStatus.CLOSED
    )
    assert fresh(Order, sent["order"].id).status == OrderStatus.SHIPPED
    assert not disputes.blocks_completion(sent["order"].id)
    assert_ledger_holds()


@pytest.fixture
def card_sent(stripe_app, fake_stripe):  # type: ignore[no-untyped-def]
    """A card order (EUR, two bowls of 12.50), paid at the fake Stripe and sent."""
    bowl = factories.product(title="کاسه سفالی", price_amount=1250, stock=5)
    customer = factories.user(email="buyer@example.com")
    payment = card_checkout(customer, [(bowl, 2)])
    start(payment)
    session = fake_stripe.pay(fake_stripe.only_session()["id"])
    client = stripe_app.test_client()
    assert (
        deliver(client, fake_stripe.event("checkout.session.completed", session)).json["result"]
        == "paid"
    )
    order = ship(fresh(Order, payment.orders[0].id))
    problem = disputes.report(order.id, customer, "damaged", "One bowl arrived broken.")
    staff = factories.user(role=Role.STAFF, email="staff@example.com")
    return {"order": order, "problem": problem, "staff": staff}


def test_a_part_refund_goes_to_the_card_once(stripe_app, fake_stripe, card_sent):
    problem, staff = card_sent["problem"], card_sent["staff"]
    with pytest.raises(ValidationFailed) as wrong:
        disputes.decide(problem.id, staff, "cash_refund", 1250, "one bowl")
    assert wrong.value.errors == {"resolution": ["refund_wrong_kind"]}

    status = disputes.decide(problem.id, staff, "refund", 1250, "One of two bowls broke.")
    assert status == ProblemStatus.REFUNDED
    assert [r["amount"] for r in fake_stripe.refunds] == [1250]
    problem = fresh(OrderProblem, problem.id)
    assert problem.refund_reference == fake_stripe.refunds[0]["id"]
    # A part refund completes the order, with its part reversed in the seller's ledger; a
    # retry refunds nothing more.
    order = fresh(Order, card_sent["order"].id)
    assert order.status == OrderStatus.COMPLETED and order.refunded_amount == 1250
    assert disputes.retry_refund(problem.id, staff) == ProblemStatus.REFUNDED
    assert len(fake_stripe.refunds) == 1
    assert_ledger_holds()
    commission = order.commission_amount or 0
    assert commission > 0
    assert seller_balance(order.seller_id) == 2500 - commission - 1250 + commission // 2


def test_a_refund_the_provider_could_not_make_waits_and_is_retried_once(
    stripe_app, fake_stripe, card_sent
):
    problem, staff = card_sent["problem"], card_sent["staff"]
    stripe_app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(disputes.RefundFailed):
        disputes.decide(problem.id, staff, "refund", 2500, "Both bowls broke.")
    assert fresh(OrderProblem, problem.id).status == ProblemStatus.REFUNDING
    assert disputes.blocks_completion(card_sent["order"].id)
    assert fake_stripe.refunds == []

    stripe_app.config["STRIPE_API_BASE"] = fake_stripe.url
    client = stripe_app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    page = unescape(client.get(f"/admin/problems/{problem.id}").get_data(as_text=True))
    assert "Try the refund again" in page
    client.post(f"/admin/problems/{problem.id}/retry")
    client.post(f"/admin/problems/{problem.id}/retry")
    assert [r["amount"] for r in fake_stripe.refunds] == [2500]
    assert fresh(OrderProblem, problem.id).status == ProblemStatus.REFUNDED
    assert fresh(Order, card_sent["order"].id).status == OrderStatus.REFUNDED
    assert_ledger_holds()
    assert seller_balance(card_sent["order"].seller_id) == 0


def test_problem_pages_are_in_persian_with_persian_digits(app, sent):
    order = sent["order"]
    disputes.report(order.id, sent["mina"], "damaged", "گوشه رومیزی پاره رسید.")
    client = app.test_client()
    factories.login(client, sent["mina"].email)
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "گوشه رومیزی پاره رسید." in html
    assert "آسیب‌دیده رسید" in html and "در انتظار پاسخ فروشنده" in html


def test_each_step_is_mailed_to_whom_it_concerns_in_their_language(app, sent):
    from app.notifications.outbox import sent_mail

    def subjects(email: str) -> list[str]:
        return [m.subject.strip() for m in sent_mail(app.config["MAIL_DIR"]) if m.to == email]

    order, seller_email = sent["order"], sent["seller"].user.email
    before = {
        seller_email: subjects(seller_email),
        "mina@example.com": subjects("mina@example.com"),
    }
    problem = disputes.report(order.id, sent["mina"], "damaged", "Torn at one corner.")
    disputes.answer(problem.id, sent["seller"], sent["seller"].user, "I will send another.")
    new_for_seller = subjects(seller_email)[len(before[seller_email]) :]
    new_for_customer = subjects("mina@example.com")[len(before["mina@example.com"]) :]
    assert new_for_seller == [f"مشتری برای سفارش {persian_digits(order.id)} مشکلی گزارش کرد"]
    assert new_for_customer == [
        f"فروشنده به گزارش شما دربارهٔ سفارش {persian_digits(order.id)} پاسخ داد"
    ]
