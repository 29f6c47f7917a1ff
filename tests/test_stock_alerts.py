"""Back-in-stock alerts: a signed-in customer asks on a sold-out product (guests log in first),
cancels; a restock (a seller's edit, a cancelled order giving its stock back) tells each waiting
customer once after the commit, also when two restocks run at once; a product still sold out
tells nobody; the account's list, data download and deletion."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.accounts.models import Role
from app.auth import closing, personal_data
from app.catalog import listings, stock_alerts
from app.catalog.models import ProductStatus, StockAlert
from app.core.extensions import db
from app.notifications.models import Notice
from app.notifications.outbox import sent_mail
from app.notifications.sms_gateway import written_sms
from tests import factories
from tests.test_notifications import _place


def _clear_g(sender, **extra):  # type: ignore[no-untyped-def]
    g.__dict__.clear()


@pytest.fixture(autouse=True)
def fresh_g():  # type: ignore[no-untyped-def]
    request_started.connect(_clear_g)
    yield
    request_started.disconnect(_clear_g)


def alerts() -> list[tuple[int, int, bool]]:
    """(user, product, told) of every alert."""
    db.session.rollback()
    return [
        (a.user_id, a.product_id, a.notified_at is not None)
        for a in db.session.scalars(sa.select(StockAlert).order_by(StockAlert.id))
    ]


def mails_to(app, email: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == email]


def press(client, product_id: int, want: str, **headers):  # type: ignore[no-untyped-def]
    return client.post(
        f"/stock-alerts/{product_id}", data={"want": want, "next": "/"}, headers=headers
    )


def test_a_guest_is_sent_to_log_in_first_and_comes_back(app, client):
    item = factories.product(title="گلیم", stock=0)
    page = client.get(f"/p/{item.id}").get_data(as_text=True)
    assert f'data-stock-alert="{item.id}"' in page and 'aria-pressed="false"' in page
    response = client.get(f"/stock-alerts/{item.id}?next=/p/{item.id}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert press(client, item.id, "1").status_code == 302
    assert alerts() == []
    assert client.get("/favourites/ids").get_json()["alerts"] == []
    # No button on a page of a product in stock.
    stocked = factories.product(title="کاسه", stock=3)
    assert "data-stock-alert" not in client.get(f"/p/{stocked.id}").get_data(as_text=True)


def test_ask_and_cancel_idempotently(app, client):
    user = factories.user(email="sara@example.com")
    item = factories.product(title="گلیم", stock=0)
    factories.login(client, "sara@example.com")
    form = client.get(f"/stock-alerts/{item.id}?next=//evil.example/x")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "private, no-store"
    assert 'value="/account/stock-alerts"' in form.get_data(as_text=True)  # not the foreign one
    response = press(client, item.id, "1")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert press(client, item.id, "1").status_code == 302  # again: nothing more
    assert alerts() == [(user.id, item.id, False)]
    answer = client.get("/favourites/ids").get_json()
    assert answer["alerts"] == [item.id]
    listing = client.get("/account/stock-alerts").get_data(as_text=True)
    assert "گلیم" in listing
    cancelled = press(client, item.id, "0", **{"X-Requested-With": "fetch"})
    assert cancelled.get_json() == {"product_id": item.id, "waiting": False}
    assert press(client, item.id, "0").status_code == 302
    assert alerts() == []
    pressed = press(client, item.id, "1", **{"X-Requested-With": "fetch"})
    assert pressed.get_json() == {"product_id": item.id, "waiting": True}
    assert alerts() == [(user.id, item.id, False)]


def test_bad_requests_change_nothing(app, client):
    factories.user(email="sara@example.com")
    hidden = factories.product(title="پنهان", stock=0, status=ProductStatus.DRAFT)
    stocked = factories.product(title="کاسه", stock=2)
    item = factories.product(title="گلیم", stock=0)
    factories.login(client, "sara@example.com")
    assert press(client, 999_999, "1").status_code == 404
    assert client.get("/stock-alerts/999999").status_code == 404
    assert press(client, hidden.id, "1").status_code == 404
    assert press(client, item.id, "2").status_code == 400
    assert press(client, stocked.id, "1").status_code == 302  # told it is in stock
    assert press(client, stocked.id, "1", **{"X-Requested-With": "fetch"}).status_code == 409
    assert alerts() == []


def _ask(user, product) -> None:  # type: ignore[no-untyped-def]
    stock_alerts.ask(user, product)


def test_a_sellers_restock_tells_each_waiting_customer_once(app):
    sara = factories.user(email="sara@example.com")
    factories.with_mobile(sara, "09121234567")
    reza = factories.user(email="reza@example.com")
    item = factories.product(title="گلیم", stock=0)
    other = factories.product(title="کاسه", stock=0)
    _ask(sara, item)
    _ask(reza, item)
    _ask(sara, other)
    # A save that leaves the stock at zero tells nobody.
    listings.quick_update(item, price_amount=None, stock=0)
    assert stock_alerts.send_restocked() == 0
    listings.quick_update(item, price_amount=None, stock=4)
    assert stock_alerts.send_restocked() == 2
    assert len(mails_to(app, "sara@example.com")) == 1
    assert len(mails_to(app, "reza@example.com")) == 1
    assert [t.to for t in written_sms(app.config["SMS_DIR"])] == ["09121234567"]
    notices = db.session.scalars(sa.select(Notice).where(Notice.user_id == sara.id)).all()
    assert [n.link for n in notices] == [f"/p/{item.id}"]
    assert sorted(alerts()) == sorted(
        [(sara.id, item.id, True), (reza.id, item.id, True), (sara.id, other.id, False)]
    )
    # More stock, or the same product sold out and back: the told alerts are not told again.
    listings.quick_update(item, price_amount=None, stock=0)
    listings.quick_update(item, price_amount=None, stock=2)
    assert stock_alerts.send_restocked() == 0
    assert len(mails_to(app, "sara@example.com")) == 1
    # Once told, the customer may ask again.
    listings.quick_update(item, price_amount=None, stock=0)
    _ask(sara, item)
    assert (sara.id, item.id, False) in alerts()


def test_a_cancelled_order_giving_stock_back_tells_them(app, client):
    buyer = factories.user(email="buyer@example.com")
    waiting = factories.user(email="sara@example.com")
    item = factories.product(title="گلیم", stock=1)
    order = _place(buyer, item).orders[0]
    db.session.refresh(item)
    assert item.stock == 0
    _ask(waiting, item)
    factories.login(client, "buyer@example.com")
    response = client.post(f"/orders/{order.id}/cancel", data={"reason": ""})
    assert response.status_code == 302
    assert alerts() == [(waiting.id, item.id, True)]
    assert len(mails_to(app, "sara@example.com")) == 1


def test_a_rolled_back_restock_tells_nobody(app):
    sara = factories.user(email="sara@example.com")
    item = factories.product(title="گلیم", stock=0)
    _ask(sara, item)
    item.stock = 3
    db.session.flush()
    db.session.rollback()
    assert stock_alerts.send_restocked() == 0
    assert alerts() == [(sara.id, item.id, False)]


def test_account_page_data_download_and_deletion(app, client):
    sara = factories.user(email="sara@example.com")
    item = factories.product(title="گلیم", stock=0)
    _ask(sara, item)
    data = personal_data.export(sara)
    assert [a["product_id"] for a in data["stock_alerts"]] == [item.id]
    assert data["stock_alerts"][0]["notified_at"] is None
    factories.login(client, "sara@example.com")
    page = client.get("/account/stock-alerts")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    db.session.rollback()
    closing.delete_account(db.session.merge(sara))
    db.session.commit()
    assert alerts() == []


def test_two_restocks_at_once_tell_each_customer_once(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("threads writing at once need PostgreSQL")
    item = factories.product(title="گلیم", stock=0)
    users = [factories.user(email=f"c{i}@example.com", name="خریدار") for i in range(5)]
    for user in users:
        _ask(user, item)
    product_id = item.id
    db.session.execute(sa.update(type(item)).where(type(item).id == product_id).values(stock=3))
    db.session.commit()
    db.session.remove()
    start = threading.Barrier(4)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                claimed.append(stock_alerts.claim_and_send(product_id))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(claimed) == [0, 0, 0, 5]
    for i in range(5):
        assert len(mails_to(app, f"c{i}@example.com")) == 1
    assert all(told for _u, _p, told in alerts())


def test_only_customers_and_sellers_have_the_alerts_topic(app):
    from app.notifications import preferences

    staff = factories.user(Role.STAFF, email="staff@example.com")
    assert "alerts" not in {t.key for t in preferences.topics_for(staff)}


def test_the_expiry_job_tells_them_when_an_unpaid_checkout_gives_stock_back(app):
    from datetime import timedelta

    from app.core.timeutil import utcnow
    from app.jobs import tasks as jobs_tasks
    from app.payments.models import Provider

    buyer = factories.user(email="buyer@example.com")
    waiting = factories.user(email="sara@example.com")
    item = factories.product(title="گلیم", stock=1)
    payment = _place(buyer, item, provider=Provider.STRIPE)
    payment.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    db.session.refresh(item)
    assert item.stock == 0
    _ask(waiting, item)
    jobs_tasks.expire_unpaid_checkouts.call_local()
    assert alerts() == [(waiting.id, item.id, True)]
    assert len(mails_to(app, "sara@example.com")) == 1


def test_a_hidden_listing_restocked_waits_until_it_is_public_again(app):
    sara = factories.user(email="sara@example.com")
    item = factories.product(title="گلیم", stock=0)
    _ask(sara, item)
    item.status = ProductStatus.DRAFT
    db.session.commit()
    listings.quick_update(item, price_amount=None, stock=3)
    assert stock_alerts.send_restocked() == 0
    assert alerts() == [(sara.id, item.id, False)]
    item = db.session.merge(item)
    item.status = ProductStatus.PUBLISHED
    db.session.commit()
    assert stock_alerts.send_restocked() == 1
    assert len(mails_to(app, "sara@example.com")) == 1
