"""Settlement batches: staff make a batch of what the market owes each seller with a valid Sheba
number up to a day, review it, download the bank transfer file, and mark it paid — payout
entries written once, however often it is posted. Sellers read their statement."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import REPORT_TIMEZONE, utcnow
from app.orders import completion
from app.orders import services as orders
from app.orders.models import OrderStatus
from app.payments import state as payment_state
from app.payments.models import Provider
from app.payouts import ledger, settlements
from app.payouts.models import BatchStatus, EntryKind, LedgerEntry, SettlementBatch
from tests import factories
from tests.helpers import assert_ledger_holds, client_for, flashes
from tests.test_order_flow import place

GOOD = "IR062960000000100324200001"
TODAY = date.today() + timedelta(days=1)  # the period covers every entry made by the test


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    app.config.update(COMMISSION_RATE_BP=1000)
    paid = factories.seller(name='=HYPERLINK("x")')  # a hostile name reaches the CSV safely
    paid.sheba = GOOD
    no_sheba = factories.seller(name="بدون شبا")
    cash_only = factories.seller(name="نقدی")
    cash_only.sheba = GOOD
    db.session.commit()
    mina = factories.user(email="mina@example.com")
    for seller, provider in (
        (paid, Provider.STRIPE),
        (no_sheba, Provider.STRIPE),
        (cash_only, Provider.CASH),
    ):
        product = factories.product(seller, price_amount=1_000_000, stock=10)
        payment = place(mina, (product, 1), provider=provider)
        order = payment.orders[0]
        if provider == Provider.STRIPE:
            assert payment_state.mark_payment_paid(payment) == "paid"
            db.session.commit()
        else:
            orders.seller_move(order, seller, seller.user, OrderStatus.CONFIRMED)
        orders.seller_move(
            order, seller, seller.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="1"
        )
        completion.complete_by_customer(order, mina)
    staff = factories.user(Role.STAFF, email="staff@example.com")
    return {
        "paid": paid,
        "no_sheba": no_sheba,
        "cash_only": cash_only,
        "staff": staff,
        "mina": mina,
    }


def test_a_batch_includes_sellers_owed_money_with_a_sheba_and_says_why_not_for_others(app, market):
    b = settlements.create_batch(TODAY, market["staff"].id, today=TODAY)
    lines = {line.seller_id: line for line in b.lines}
    assert (
        lines[market["paid"].id].skip_reason is None and lines[market["paid"].id].amount == 900_000
    )
    assert lines[market["no_sheba"].id].skip_reason == settlements.NO_SHEBA
    assert lines[market["cash_only"].id].skip_reason == settlements.NOT_OWED
    # One open batch at a time; not a day in the future.
    with pytest.raises(NotAllowed):
        settlements.create_batch(TODAY, market["staff"].id, today=TODAY)
    with pytest.raises(ValidationFailed):
        settlements.create_batch(TODAY + timedelta(days=2), market["staff"].id, today=TODAY)
    assert db.session.scalar(sa.select(sa.func.count(SettlementBatch.id))) == 1

    total = settlements.mark_paid(b.id, market["staff"].id)
    assert total == 900_000
    assert ledger.balance(market["paid"].id) == 0
    assert ledger.balance(market["no_sheba"].id) == 900_000
    with pytest.raises(InvalidTransition):
        settlements.mark_paid(b.id, market["staff"].id)
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.PAYOUT))
        == 1
    )
    assert_ledger_holds()
    # The next batch does not pay the same balance again.
    nxt = settlements.create_batch(TODAY, market["staff"].id, today=TODAY)
    assert all(line.seller_id != market["paid"].id or line.skip_reason for line in nxt.lines)


def test_an_earlier_period_never_pays_more_than_is_owed_now(app, market):
    b = settlements.create_batch(TODAY, market["staff"].id, today=TODAY)
    settlements.mark_paid(b.id, market["staff"].id)
    # Backdate the payout's period: the balance then was 900,000, now it is 0.
    again = settlements.create_batch(TODAY - timedelta(days=1), market["staff"].id, today=TODAY)
    assert all(line.skip_reason is not None for line in again.lines)


def test_staff_review_download_and_mark_paid_through_the_pages(app, market):
    client = client_for(app, market["staff"])
    client.set_cookie("locale", "en")
    response = client.post("/admin/settlements", data={"day": "not a day"})
    assert response.status_code == 400 and "Enter a date such as" in response.get_data(as_text=True)
    tomorrow = datetime.now(REPORT_TIMEZONE).date() + timedelta(days=1)
    response = client.post("/admin/settlements", data={"day": tomorrow.isoformat()})
    assert response.status_code == 400 and "cannot be in the future" in response.get_data(
        as_text=True
    )
    today = datetime.now(REPORT_TIMEZONE).date()
    response = client.post(
        "/admin/settlements", data={"day": today.isoformat()}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    batch = db.session.scalar(sa.select(SettlementBatch))
    assert batch.reference in html and "No valid Sheba number" in html and "Nothing owed" in html

    csv_response = client.get(f"/admin/settlements/{batch.id}/transfers.csv")
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [
        ["sheba", "name", "amount_rial", "reference"],
        [GOOD, '\'=HYPERLINK("x")', "900000", batch.reference],
    ]

    # Without the confirmation box nothing is paid.
    response = client.post(f"/admin/settlements/{batch.id}/paid", follow_redirects=True)
    assert flashes(response) == [
        "Tick the box to confirm that the bank made every transfer of the file."
    ]
    assert ledger.balance(market["paid"].id) == 900_000
    response = client.post(
        f"/admin/settlements/{batch.id}/paid", data={"confirm": "yes"}, follow_redirects=True
    )
    assert flashes(response, "success") == [f"Settlement batch {batch.reference} is marked paid."]
    response = client.post(
        f"/admin/settlements/{batch.id}/paid", data={"confirm": "yes"}, follow_redirects=True
    )
    assert flashes(response) == ["This batch is no longer open (status: Paid)."]
    assert ledger.balance(market["paid"].id) == 0
    assert "Seller balances" in client.get("/admin/balances").get_data(as_text=True)
    assert client.get("/admin/settlements/99999").status_code == 404
    assert_ledger_holds()


def test_a_discarded_batch_pays_nothing_and_frees_the_slot(app, market):
    b = settlements.create_batch(TODAY, market["staff"].id, today=TODAY)
    settlements.discard(b.id, market["staff"].id)
    with pytest.raises(InvalidTransition):
        settlements.mark_paid(b.id, market["staff"].id)
    assert ledger.balance(market["paid"].id) == 900_000
    assert (
        settlements.create_batch(TODAY, market["staff"].id, today=TODAY).status == BatchStatus.OPEN
    )


def test_mark_paid_posted_twice_at_once_pays_once(app, market):
    b = settlements.create_batch(TODAY, market["staff"].id, today=TODAY)
    batch_id, staff_id = b.id, market["staff"].id
    db.session.remove()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                settlements.mark_paid(batch_id, staff_id)
                outcomes.append("paid")
            except InvalidTransition:
                outcomes.append("refused")
            except Exception as exc:  # noqa: BLE001 - a database refusal counts as refused
                outcomes.append(f"error {type(exc).__name__}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes)[0] == "paid" and outcomes.count("paid") == 1
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.PAYOUT))
        == 1
    )
    assert_ledger_holds()


def test_the_seller_reads_the_statement_with_running_balance_and_csv(app, market):
    seller = market["cash_only"]
    client = client_for(app, seller.user)
    client.set_cookie("locale", "en")
    html = client.get("/seller/statement").get_data(as_text=True)
    assert "Your balance: -10,000 toman" in html
    assert "Cash you collected" in html and "Market commission" in html
    response = client.get("/seller/statement.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["kind"] for r in rows] == ["sale", "commission", "cash_collected"]
    assert [int(r["balance_rial"]) for r in rows] == [1_000_000, 900_000, -100_000]
    assert rows[0]["date_jalali"].startswith("14")
    # Another seller's entries never show.
    other = client_for(app, market["paid"].user)
    assert "Cash you collected" not in other.get("/seller/statement").get_data(as_text=True)


def test_an_empty_statement_says_so(app):
    seller = factories.seller()
    client = client_for(app, seller.user)
    client.set_cookie("locale", "en")
    assert "Nothing yet" in client.get("/seller/statement").get_data(as_text=True)


def test_the_statement_pages_keep_the_running_balance(app, market):
    seller = market["paid"]
    for n in range(35):
        db.session.add(LedgerEntry(seller_id=seller.id, kind=EntryKind.PAYOUT, amount=-1,
                                   key=f"test:{n}", created_at=utcnow()))  # fmt: skip
    db.session.commit()
    first = ledger.statement(seller.id, 1, 30)
    second = ledger.statement(seller.id, 2, 30)
    assert first.total == 37 and len(second.items) == 7
    assert first.items[0].running == 900_000 - 35
    assert second.items[-1].running == 1_000_000  # the first entry: the sale
