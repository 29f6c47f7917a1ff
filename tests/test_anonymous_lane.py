"""The anonymous lane (app.shop.lane): cookie-less visitors of cached pages are answered before
Flask, with exactly what Flask answered, and never with a page they would not have got."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.catalog import changes
from app.catalog.models import Product
from app.core.extensions import db
from tests import factories


@pytest.fixture
def item(app):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_ENABLED"] = True
    return factories.product(title="سفال کلپورگان", price_amount=1_250_000, stock=5)


@pytest.fixture
def flask_requests(app):  # type: ignore[no-untyped-def]
    """How many requests reached Flask (the lane answers without a request context)."""
    seen: list[str] = []

    def started(sender, **extra):  # type: ignore[no-untyped-def]
        g.__dict__.clear()  # requests share the test's app context: start each afresh
        from flask import request

        seen.append(request.path)

    request_started.connect(started)
    yield seen
    request_started.disconnect(started)


def _lane_runs() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_a_cookie_less_visitor_gets_flasks_own_answer_without_flask(app, item, flask_requests):
    visitor = app.test_client(use_cookies=False)
    url = f"/c/{item.category.slug}"
    first = visitor.get(url)
    second = visitor.get(url)
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    if _lane_runs():
        assert flask_requests == [url]  # the second never reached Flask
    else:  # SQLite: no lane, Flask's own page cache answers
        assert flask_requests == [url, url]


def test_a_change_in_the_catalogue_shows_at_once(app, item, flask_requests):
    visitor = app.test_client(use_cookies=False)
    url = f"/c/{item.category.slug}"
    visitor.get(url)
    assert "۱۲۵٬۰۰۰" in visitor.get(url).get_data(as_text=True)
    db.session.execute(sa.update(Product).where(Product.id == item.id).values(price_amount=990_000))
    changes.mark_catalog_changed(db.session)
    db.session.commit()
    html = visitor.get(url).get_data(as_text=True)
    assert "۹۹٬۰۰۰" in html and "۱۲۵٬۰۰۰" not in html


def test_what_the_app_refuses_is_never_answered_from_the_lane(app, item, flask_requests):
    visitor = app.test_client(use_cookies=False)
    url = f"/c/{item.category.slug}"
    visitor.get(url)
    visitor.get(url)
    foreign = visitor.get(url, headers={"Host": "evil.example"})
    assert foreign.status_code == 400
    assert visitor.get(url + "?q=%00").status_code == 400
    english = visitor.get(url, headers={"Accept-Language": "en"})
    assert english.status_code == 200 and 'lang="en"' in english.get_data(as_text=True)
    assert 'lang="fa"' in visitor.get(url).get_data(as_text=True)


def test_visitors_with_a_cookie_and_product_pages_go_through_flask(app, item, flask_requests):
    browser = app.test_client()
    factories.user(email="sara@example.com", name="سارا رئیسی")
    factories.login(browser, "sara@example.com")
    url = f"/c/{item.category.slug}"
    app.test_client(use_cookies=False).get(url)
    app.test_client(use_cookies=False).get(url)
    flask_requests.clear()
    assert "سارا رئیسی" in browser.get(url).get_data(as_text=True)
    assert flask_requests == [url]

    product = f"/p/{item.id}"
    visitor = app.test_client(use_cookies=False)
    flask_requests.clear()
    for _ in range(3):
        assert visitor.get(product).status_code == 200
    assert flask_requests == [product] * 3  # each view is counted by the app


def test_the_lane_follows_the_cache_switch(app, item, flask_requests):
    visitor = app.test_client(use_cookies=False)
    url = f"/c/{item.category.slug}"
    visitor.get(url)
    visitor.get(url)
    app.config["PAGE_CACHE_ENABLED"] = False
    flask_requests.clear()
    response = visitor.get(url)
    assert response.status_code == 200 and "X-Page-Cache" not in response.headers
    assert flask_requests == [url]


def test_a_listing_change_passes_only_its_own_pages_through(app, item, flask_requests):
    other = factories.product(title="حصیر خرمایی", price_amount=600_000)
    visitor = app.test_client(use_cookies=False)
    mine, theirs = f"/c/{item.category.slug}", f"/c/{other.category.slug}"
    for url in (mine, theirs, mine, theirs):
        visitor.get(url)

    other.price_amount = 550_000  # through the ORM: the flush hook names the pages
    db.session.commit()
    flask_requests.clear()

    assert visitor.get(mine).headers["X-Page-Cache"] == "hit"
    html = visitor.get(theirs).get_data(as_text=True)
    assert "۵۵٬۰۰۰" in html and "۶۰٬۰۰۰" not in html
    assert visitor.get(theirs).headers["X-Page-Cache"] == "hit"
    if _lane_runs():
        assert flask_requests == [theirs]  # only the changed list went through Flask
    else:
        assert flask_requests == [mine, theirs, theirs]
