"""Product-page views: counted in memory per product and Tehran day, written in batches."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.catalog.models import ProductStatus
from app.extensions import db
from app.program import views
from app.program.models import ProductViewDay
from tests import factories
from tests.conftest import count_queries

# 1 Azar 1405 00:10 in Tehran is still 21 November in UTC.
AZAR_1_0010 = datetime(2026, 11, 21, 20, 40, tzinfo=UTC)
AZAR_1 = date(2026, 11, 22)


@pytest.fixture
def item(app, monkeypatch):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_ENABLED"] = True
    monkeypatch.setattr(views, "utcnow", lambda: AZAR_1_0010)
    return factories.product(title="سفال کلپورگان", price_amount=1_250_000, stock=5)


def stored() -> dict[tuple[int, date], int]:
    db.session.rollback()  # see what other connections committed
    return {
        (r.product_id, r.day): r.views for r in db.session.scalars(sa.select(ProductViewDay)).all()
    }


def test_views_wait_in_memory_and_a_flush_writes_them(app, client, item):
    url = f"/p/{item.id}"
    caches = [client.get(url).headers["X-Page-Cache"] for _ in range(5)]
    assert caches == ["miss", "hit", "hit", "hit", "hit"]  # hits count as well, once each
    assert stored() == {}
    assert views.counter().waiting() == {(item.id, AZAR_1): 5}
    assert views.flush() == 5
    assert stored() == {(item.id, AZAR_1): 5}
    assert views.counter().waiting() == {}
    # The next batch adds to the day's row.
    client.get(url)
    client.get(url)
    assert views.flush() == 2
    assert stored() == {(item.id, AZAR_1): 7}


def test_a_page_view_issues_no_write(app, client, item):
    url = f"/p/{item.id}"
    client.get(url)  # fill the cache
    with count_queries(db.engine) as statements:
        for _ in range(20):
            assert client.get(url).status_code == 200
    assert not [s for s in statements if "product_view_day" in s]
    with count_queries(db.engine) as statements:
        views.flush()
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(writes) == 1 and "product_view_day" in writes[0]


def test_logged_in_visitors_count_and_robots_heads_and_missing_pages_do_not(app, item):
    customer = factories.user(email="sara@example.com")
    client = app.test_client()
    factories.login(client, customer.email)
    response = client.get(f"/p/{item.id}")
    assert response.status_code == 200 and response.headers.get("X-Page-Cache") != "hit"
    anonymous = app.test_client()
    anonymous.get(
        f"/p/{item.id}", headers={"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
    )
    anonymous.get(f"/p/{item.id}", headers={"User-Agent": "Baiduspider"})
    anonymous.get(f"/p/{item.id}", headers={"User-Agent": "SomeCrawler/1.0"})
    anonymous.get(f"/p/{item.id}", headers={"Sec-Purpose": "prefetch"})
    anonymous.head(f"/p/{item.id}")
    hidden = factories.product(item.seller, status=ProductStatus.DRAFT)
    assert anonymous.get(f"/p/{hidden.id}").status_code == 404
    assert anonymous.get("/p/999999").status_code == 404
    assert views.counter().waiting() == {(item.id, AZAR_1): 1}


def test_the_day_is_the_tehran_day(app, client, item, monkeypatch):
    client.get(f"/p/{item.id}")
    monkeypatch.setattr(views, "utcnow", lambda: datetime(2026, 11, 21, 20, 20, tzinfo=UTC))
    client.get(f"/p/{item.id}")  # 30 Aban 23:50 in Tehran
    views.flush()
    assert stored() == {(item.id, AZAR_1): 1, (item.id, date(2026, 11, 21)): 1}


def test_a_failed_flush_keeps_the_counts(app, client, item):
    for _ in range(3):
        client.get(f"/p/{item.id}")
    counter = views.counter()
    counter.lock_timeout_ms = 100
    other = db.engine.connect()
    try:
        # Another writer holds the lock the batch needs.
        if db.engine.dialect.name == "sqlite":
            other.exec_driver_sql("COMMIT")  # end the connection's automatic BEGIN, if any
            other.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
        else:
            other.execute(
                sa.insert(ProductViewDay).values(product_id=item.id, day=AZAR_1, views=100)
            )
        assert views.flush() == 0  # no error, nothing written
        assert counter.waiting() == {(item.id, AZAR_1): 3}
        client.get(f"/p/{item.id}")  # the page still works meanwhile
    finally:
        if db.engine.dialect.name == "sqlite":
            other.connection.dbapi_connection.execute("ROLLBACK")
        else:
            other.rollback()
        other.close()
    assert views.flush() == 4
    assert stored() == {(item.id, AZAR_1): 4}


def test_a_batch_is_written_when_due_after_the_response(app, client, item):
    counter = views.counter()
    counter.max_views = 3
    for n in range(1, 4):
        with client.get(f"/p/{item.id}") as response:
            assert response.status_code == 200
        if n < 3:
            assert stored() == {}
    assert stored() == {(item.id, AZAR_1): 3}  # written when the third response closed
    counter.seconds = 0  # and by time: every view is due at once
    with client.get(f"/p/{item.id}"):
        pass
    assert stored() == {(item.id, AZAR_1): 4}


def test_views_of_a_deleted_product_are_dropped(app, client, item):
    other = factories.product(item.seller, title="کاسه")
    client.get(f"/p/{item.id}")
    client.get(f"/p/{other.id}")
    db.session.delete(db.session.get(type(other), other.id))
    db.session.commit()
    assert views.flush() == 1
    assert stored() == {(item.id, AZAR_1): 1}
    assert views.counter().waiting() == {}


def test_deleting_a_product_deletes_its_view_rows(app, client, item):
    client.get(f"/p/{item.id}")
    views.flush()
    db.session.rollback()  # a fresh transaction: the batch was written on another connection
    db.session.delete(db.session.get(type(item), item.id))
    db.session.commit()
    assert stored() == {}


def test_counting_is_thread_safe(app, item):
    counter = views.counter()
    counter.seconds = counter.max_views = 10**9
    product_id = item.id

    def work() -> None:
        for _ in range(500):
            views.record_view(product_id, user_agent="Mozilla/5.0", app=app)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.waiting() == {(item.id, AZAR_1): 4000}
    assert views.flush(app) == 4000
    assert stored() == {(item.id, AZAR_1): 4000}


def test_the_exit_hook_writes_what_is_left(app, client, item, monkeypatch):
    client.get(f"/p/{item.id}")
    # Test apps are left out of the exit hook (VIEW_FLUSH_AT_EXIT); a served app is in it.
    assert views.counter() not in views._counters
    monkeypatch.setattr(views, "_counters", views.weakref.WeakSet([views.counter()]))
    views._flush_all()
    assert stored() == {(item.id, AZAR_1): 1}


def test_robots_by_their_user_agent():
    assert views.is_robot("Mozilla/5.0 (compatible; bingbot/2.0)")
    assert views.is_robot("Screaming Frog SEO Spider")
    assert not views.is_robot("Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile")
    assert not views.is_robot(None)
