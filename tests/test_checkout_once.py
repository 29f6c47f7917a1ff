"""A cart becomes orders at most once, through the real gunicorn (several worker processes) on
the test database (SQLite file, or PostgreSQL with TEST_DATABASE_URL).

Every load of the checkout page gives a new checkout token, so two tabs (or a reload and a
second click) are two checkouts of one cart. Six copies of one customer's browser each load the
checkout page and then all post at once: one checkout is made, the stock is taken once, and the
other five are sent to the order that was made. The cash-on-delivery limit holds under such a
burst too.
"""

from __future__ import annotations

import time
from collections import Counter
from html import unescape

import pytest
import sqlalchemy as sa

from app.catalog.models import Product
from app.core.extensions import db
from app.orders.models import CartLine, Order, OrderStatus
from app.payments.models import Payment, Provider
from tests import factories
from tests.live_server import (
    Browser,
    Reply,
    Server,
    assert_no_server_errors,
    burst,
    checkout_page,
    count,
    customers,
    fresh,
    log_in,
    put_in_cart,
    stock,
)

pytestmark = pytest.mark.slow

COPIES = 6
ALREADY = (
    "This cart was already ordered (from another window or an earlier click), so nothing new "
    "was ordered. Here is the order that was made."
)


def tabs_of(browser: Browser, n: int) -> list[tuple[Browser, dict[str, str]]]:
    """``n`` tabs of one visitor, each having loaded the checkout page (one after the other)."""
    tabs = []
    for _ in range(n):
        tab = browser.clone()
        tabs.append((tab, checkout_page(tab)))
    return tabs


def post_all(tabs: list[tuple[Browser, dict[str, str]]]) -> list[Reply]:
    return burst([lambda t=t, f=f: t.post("/checkout", f) for t, f in tabs])


def test_six_tabs_posting_one_cart_at_once_make_one_checkout(live: Server) -> None:
    shop_a = factories.seller(name="Needlework Workshop")
    shop_b = factories.seller(name="Date Garden")
    cloth = factories.product(shop_a, title="Needlework cloth", price_amount=1_250_000, stock=10)
    dates = factories.product(shop_b, title="Mazafati dates", price_amount=300_000, stock=10)
    (mina,) = customers(1)
    put_in_cart(mina, (cloth, 1), (dates, 1))  # a 2-unit cart from two sellers
    (browser,) = log_in(live, [mina])
    ids = (cloth.id, dates.id)
    fresh()
    tabs = tabs_of(browser, COPIES)
    assert len({form["checkout_token"] for _, form in tabs}) == COPIES  # six checkouts

    replies = post_all(tabs)

    assert_no_server_errors(live, replies)
    fresh()
    assert count(Payment) == 1
    payment_id = db.session.scalar(sa.select(Payment.id))
    assert count(Order) == 2  # one per seller, once
    assert [stock(pid) for pid in ids] == [9, 9]  # taken once
    assert count(CartLine) == 0
    # Every tab ends on the page of the one checkout that was made.
    assert Counter(r.status for r in replies) == {303: COPIES}
    assert {r.location.rsplit("/", 1)[-1] for r in replies} == {str(payment_id)}
    said = [tab.follow(r).flashes() for (tab, _), r in zip(tabs, replies, strict=True)]
    assert sum(ALREADY in messages for messages in said) == COPIES - 1
    # One "order placed" e-mail per order, not one per tab.
    mails = list(live.mail_dir.iterdir()) if live.mail_dir.is_dir() else []
    assert len([m for m in mails if mina.email in m.read_text(errors="replace")]) <= 2


def test_two_posts_ten_milliseconds_apart_make_one_checkout_every_time(live: Server) -> None:
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=50)
    (nima,) = customers(1)
    (browser,) = log_in(live, [nima])
    bowl_id = bowl.id
    for round_ in range(1, 6):
        fresh()
        put_in_cart(nima, (db.session.get(Product, bowl_id), 2))
        fresh()
        (one, form_one), (two, form_two) = tabs_of(browser, 2)

        def late(tab: Browser = two, form: dict[str, str] = form_two) -> Reply:
            time.sleep(0.01)
            return tab.post("/checkout", form)

        replies = burst([lambda tab=one, form=form_one: tab.post("/checkout", form), late])
        assert_no_server_errors(live, replies)
        fresh()
        assert count(Payment) == round_, f"round {round_}"
        assert stock(bowl_id) == 50 - 2 * round_
        assert {r.status for r in replies} == {303}
        # Delivered, so the cash-on-delivery limit (3) does not end the rounds.
        db.session.execute(sa.update(Order).values(status=OrderStatus.DELIVERED))
        db.session.commit()


def test_tabs_without_the_cart_version_still_make_one_checkout(live: Server) -> None:
    """Older pages (no cart version in the form) are held by the cart lock alone."""
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=10)
    (reza,) = customers(1)
    put_in_cart(reza, (bowl, 2))
    (browser,) = log_in(live, [reza])
    bowl_id = bowl.id
    fresh()
    tabs = [
        (t, {k: v for k, v in f.items() if k != "cart_version"})
        for t, f in tabs_of(browser, COPIES)
    ]

    replies = post_all(tabs)

    assert_no_server_errors(live, replies)
    fresh()
    assert count(Payment) == 1 and count(Order) == 1
    assert stock(bowl_id) == 8
    assert Counter(r.status for r in replies) == {303: COPIES}
    assert len({r.location for r in replies}) == 1


def test_the_cash_limit_holds_under_a_burst(live: Server) -> None:
    """Limit 3 (the live server's setting), two checkouts open: one more is made, then none."""
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=50)
    cup = factories.product(shop, title="Clay cup", price_amount=150_000, stock=50)
    (sara,) = customers(1)
    (browser,) = log_in(live, [sara])
    for _ in range(2):
        fresh()
        put_in_cart(sara, (bowl, 1))
        form = checkout_page(browser)
        assert browser.post("/checkout", form).status == 303
    ids = (bowl.id, cup.id)
    fresh()

    fresh()
    put_in_cart(sara, (bowl, 1), (cup, 1))
    fresh()
    replies = post_all(tabs_of(browser, COPIES))
    assert_no_server_errors(live, replies)
    fresh()
    assert count(Payment) == 3
    assert count(Order, Order.status == OrderStatus.PLACED) == 3

    fresh()
    put_in_cart(sara, (cup, 2))
    fresh()
    replies = post_all(tabs_of(browser, COPIES))
    assert_no_server_errors(live, replies)
    fresh()
    assert count(Payment) == 3  # the limit held: nothing more
    assert [stock(pid) for pid in ids] == [47, 49]
    assert Counter(r.status for r in replies) == {400: COPIES}
    assert all(
        "You have 3 open cash-on-delivery orders, and 3 is the most you can have at a time."
        in unescape(r.text)
        for r in replies
    )
    assert count(Payment, Payment.provider == Provider.CASH) == 3
