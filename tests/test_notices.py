"""The in-site list of notices: written when an event happens (here: an order completes, by the
customer's word or by the clock, and a payout is made), listed newest first with the unread
count in the header (cached pages included), opened (marked read), all marked read; nobody
opens another's notice."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.inputs import ascii_digits
from app.core.timeutil import utcnow
from app.notifications import site
from app.notifications.models import Notice
from app.notifications.outbox import sent_mail
from app.orders import completion
from app.orders.models import Order
from app.payouts import settlements
from tests import factories
from tests.helpers import client_for, flashes
from tests.test_completion import fresh, shipped_cash, shop  # noqa: F401 (fixture)

TODAY_PLUS = timedelta(days=1)


@pytest.fixture(autouse=True)
def in_english(shop):  # type: ignore[no-untyped-def]  # noqa: F811
    """Everyone reads English here (the titles and pages are checked by their words)."""
    for user in (shop["mina"], shop["reza"], shop["a"].user):
        user.locale = "en"
    db.session.commit()


def header_count(html: str) -> str | None:
    found = re.search(
        r'class="notices-link"[^>]*>.*?<span class="cart-count">(.*?)</span></a>', html, re.S
    )
    if found is None:
        return None
    text = re.sub(r"<[^>]+>", "", found.group(1))
    return ascii_digits(text.replace("unread:", "").replace("خوانده‌نشده:", "").strip())


def notices_of(user_id: int) -> list[Notice]:
    db.session.rollback()
    return list(
        db.session.scalars(sa.select(Notice).where(Notice.user_id == user_id).order_by(Notice.id))
    )


def test_a_completed_order_is_news_for_both_and_the_header_counts_it(app, shop):  # noqa: F811
    order = shipped_cash(shop)
    customer = client_for(app, shop["mina"])
    before = len(notices_of(shop["mina"].id))
    response = customer.post(f"/orders/{order.id}/received", follow_redirects=True)
    assert response.status_code == 200
    mine = notices_of(shop["mina"].id)
    assert len(mine) == before + 1 and str(order.id) in ascii_digits(mine[-1].title)
    assert "complete" in mine[-1].title
    seller_notices = notices_of(shop["a"].user.id)
    assert any("the sale is final" in n.title for n in seller_notices)
    assert any("complete" in m.subject for m in sent_mail(app.config["MAIL_DIR"]))

    unread = len([n for n in mine if n.read_at is None])
    page = customer.get("/orders").get_data(as_text=True)  # an uncached page
    assert header_count(page) == str(unread)
    home = customer.get("/").get_data(as_text=True)  # a cached page, the signed-in hit
    assert header_count(customer.get("/").get_data(as_text=True)) == str(unread)
    assert header_count(home) == str(unread)

    listing = unescape(customer.get("/notifications").get_data(as_text=True))
    assert mine[-1].title in listing and 'class="unread"' in listing
    opened = customer.get(f"/notifications/{mine[-1].id}")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/orders/{order.id}"
    assert notices_of(shop["mina"].id)[-1].read_at is not None
    assert header_count(customer.get("/").get_data(as_text=True)) == (
        str(unread - 1) if unread > 1 else None
    )


def test_someone_elses_notice_is_not_found_and_a_strange_link_is_not_followed(app, shop):  # noqa: F811
    db.session.add_all(
        [
            Notice(user_id=shop["mina"].id, kind="x", title="t", link="//elsewhere.example/x"),
            Notice(user_id=shop["reza"].id, kind="x", title="t", link="/orders"),
        ]
    )
    db.session.commit()
    mina_notice, reza_notice = notices_of(shop["mina"].id)[0], notices_of(shop["reza"].id)[0]
    customer = client_for(app, shop["mina"])
    assert customer.get(f"/notifications/{reza_notice.id}").status_code == 404
    assert customer.get("/notifications/99999999999999999999").status_code == 404
    assert notices_of(shop["reza"].id)[0].read_at is None  # untouched
    strange = customer.get(f"/notifications/{mina_notice.id}")
    assert strange.status_code == 302 and strange.headers["Location"] == "/notifications"
    assert app.test_client().get("/notifications").status_code == 302  # log in first


def test_mark_all_read_and_the_empty_list(app, shop):  # noqa: F811
    customer = client_for(app, shop["reza"])
    empty = unescape(customer.get("/notifications").get_data(as_text=True))
    assert "Nothing yet" in empty and "Mark all read" not in empty
    for n in range(25):
        db.session.add(Notice(user_id=shop["reza"].id, kind="x", title=f"notice {n}", link="/"))
    db.session.commit()
    page = unescape(customer.get("/notifications").get_data(as_text=True))
    assert "notice 24</a>" in page and "notice 4</a>" not in page and 'rel="next"' in page
    assert "notice 4</a>" in customer.get("/notifications?page=2").get_data(as_text=True)
    assert header_count(customer.get("/orders").get_data(as_text=True)) == "25"
    done = customer.post("/notifications/read", follow_redirects=True)
    assert flashes(done, "success") == ["All your notifications are marked read."]
    assert all(n.read_at is not None for n in notices_of(shop["reza"].id))
    assert header_count(customer.get("/orders").get_data(as_text=True)) is None


def test_the_header_stops_counting_at_99(app, shop):  # noqa: F811
    db.session.add_all(
        Notice(user_id=shop["reza"].id, kind="x", title="t", link="/") for _ in range(120)
    )
    db.session.commit()
    assert site.unread_count(shop["reza"].id) == 120
    assert header_count(client_for(app, shop["reza"]).get("/orders").get_data(as_text=True)) == (
        "99+"
    )


def test_completion_by_the_clock_and_a_payout_tell_the_seller(app, shop):  # noqa: F811
    order = shipped_cash(shop)
    db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id)
        .values(shipped_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    assert completion.complete_due() == 1
    assert any("the sale is final" in n.title for n in notices_of(shop["a"].user.id))

    # A card order completes with a balance the market owes the seller; a batch pays it.
    seller = shop["a"]
    seller.sheba = "IR062960000000100324200001"
    db.session.commit()
    from app.payments import state as payment_state
    from app.payments.models import Provider
    from tests.test_order_flow import place

    payment = place(shop["mina"], (shop["cloth"], 1), provider=Provider.STRIPE)
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    from app.orders import services as orders
    from app.orders.models import OrderStatus

    card_order = payment.orders[0]
    orders.seller_move(card_order, seller, seller.user, OrderStatus.SHIPPED, carrier="پست",
                       tracking_code="1")  # fmt: skip
    completion.complete_by_customer(fresh(card_order.id), shop["mina"])
    staff = factories.user(factories.Role.STAFF, email="staff@example.com")
    batch = settlements.create_batch(
        (utcnow() + TODAY_PLUS).date(), staff.id, today=(utcnow() + TODAY_PLUS).date()
    )
    settlements.mark_paid(batch.id, staff.id)
    paid = [n for n in notices_of(seller.user.id) if n.kind == "payout.made"]
    assert len(paid) == 1 and paid[0].link == "/seller/statement"
    assert any(
        "paid" in m.subject and "bank account" in m.subject
        for m in sent_mail(app.config["MAIL_DIR"])
    )
