"""Product-page views: one per visitor, product and Tehran day, noted in memory and written in
batches; a visitor counted by one worker is not counted again by another."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import ProductStatus
from app.core.extensions import db
from app.program import views
from app.program.models import ProductViewDay, ProductViewVisitor
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


def visit(client, product_id: int, agent: str = "Mozilla/5.0 (Android 14)"):  # type: ignore[no-untyped-def]
    return client.get(f"/p/{product_id}", headers={"User-Agent": agent})


def test_three_hundred_views_by_one_visitor_count_once(app, client, item):
    caches = [visit(client, item.id).headers["X-Page-Cache"] for _ in range(300)]
    assert caches[:3] == ["miss", "hit", "hit"]  # hits are seen as well
    assert stored() == {}
    assert views.counter().waiting() == {(item.id, AZAR_1): 1}
    assert views.flush() == 1
    assert stored() == {(item.id, AZAR_1): 1}
    assert views.counter().waiting() == {}
    # The same visitor again the same day, in a later batch: still one.
    for _ in range(20):
        visit(client, item.id)
    assert views.flush() == 0
    assert stored() == {(item.id, AZAR_1): 1}


def test_three_visitors_count_three(app, item):
    for agent in ("Firefox/133", "Chrome/131", "Safari/18"):
        browser = app.test_client()
        for _ in range(5):
            visit(browser, item.id, agent)
    assert views.flush() == 3
    assert stored() == {(item.id, AZAR_1): 3}


def test_a_logged_in_visitor_is_one_visitor_on_any_device(app, item):
    users = [factories.user(email=f"u{n}@example.com") for n in range(2)]
    for user in users:
        for agent in ("Phone/1", "Laptop/2"):
            browser = app.test_client()
            factories.login(browser, user.email)
            visit(browser, item.id, agent)
    assert views.flush() == 2
    assert stored() == {(item.id, AZAR_1): 2}


def test_the_next_day_the_same_visitor_counts_again(app, client, item, monkeypatch):
    visit(client, item.id)
    views.flush()
    next_day = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)  # 2 Azar 00:30 in Tehran
    monkeypatch.setattr(views, "utcnow", lambda: next_day)
    visit(client, item.id)
    visit(client, item.id)
    assert views.flush() == 1
    assert stored() == {(item.id, AZAR_1): 1, (item.id, date(2026, 11, 23)): 1}


def test_only_a_keyed_hash_of_the_visitor_is_kept_and_only_for_a_few_days(
    app, client, item, monkeypatch
):  # type: ignore[no-untyped-def]
    visit(client, item.id, "Firefox/133")
    views.flush()
    db.session.rollback()
    (row,) = db.session.scalars(sa.select(ProductViewVisitor)).all()
    assert (
        len(row.visitor) == 32 and "Firefox" not in row.visitor and "127.0.0.1" not in row.visitor
    )
    later = datetime(2026, 11, 21, 20, 40, tzinfo=UTC) + timedelta(days=views.VISITOR_DAYS + 1)
    monkeypatch.setattr(views, "utcnow", lambda: later)
    visit(client, item.id, "Firefox/133")
    assert views.flush() == 1
    db.session.rollback()
    assert {r.day for r in db.session.scalars(sa.select(ProductViewVisitor))} == {
        later.date() + timedelta(days=1)  # Tehran is ahead: 00:10 the next day
    }
    assert sum(stored().values()) == 2  # the daily counts stay


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
    assert len(writes) == 2
    assert "product_view_visitor" in writes[0] and "product_view_day" in writes[1]


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
    for n in range(3):
        visit(client, item.id, f"Agent/{n}")
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
        visit(client, item.id, "Agent/3")  # the page still works meanwhile
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
        with visit(client, item.id, f"Agent/{n}") as response:
            assert response.status_code == 200
        if n < 3:
            assert stored() == {}
    assert stored() == {(item.id, AZAR_1): 3}  # written when the third response closed
    counter.seconds = 0  # and by time: every view is due at once
    with visit(client, item.id, "Agent/4"):
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

    def work(thread: int) -> None:
        for n in range(500):
            views.record_view(
                product_id, visitor=f"{thread}-{n}", user_agent="Mozilla/5.0", app=app
            )
            views.record_view(
                product_id, visitor=f"{thread}-{n}", user_agent="Mozilla/5.0", app=app
            )

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
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


# ---- across gunicorn's workers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_settings() -> dict[str, object]:
    return {"VIEW_FLUSH_SECONDS": 0}  # every worker writes its batch after each response


def settled_views(product_id: int, expected: int) -> int:
    """The stored views of ``product_id`` once the workers' batches are in (they are written
    after each response is sent)."""
    import time

    deadline = time.monotonic() + 10
    total = 0
    while time.monotonic() < deadline:
        db.session.rollback()
        total = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ProductViewDay.views), 0)).where(
                ProductViewDay.product_id == product_id
            )
        )
        if total >= expected:
            time.sleep(0.5)  # anything more would have arrived by now
            db.session.rollback()
            return db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(ProductViewDay.views), 0)).where(
                    ProductViewDay.product_id == product_id
                )
            )
        time.sleep(0.1)
    return total


@pytest.mark.slow
def test_one_visitor_counts_once_across_all_workers(live) -> None:  # type: ignore[no-untyped-def]
    from tests.live_server import Browser, assert_no_server_errors, burst

    product_id = factories.product(title="Gabbeh rug", stock=3).id
    db.session.commit()
    replies = []
    for _ in range(6):  # 300 page views, 50 at a time, spread over the workers
        replies += burst(
            [
                lambda: Browser(live.url).request(
                    "GET", f"/p/{product_id}", headers={"User-Agent": "Firefox/133"}
                )
                for _ in range(50)
            ]
        )
    assert_no_server_errors(live, replies)
    assert {r.status for r in replies} == {200}
    assert settled_views(product_id, 1) == 1

    for agent in ("Chrome/131", "Safari/18"):
        burst(
            [
                lambda agent=agent: Browser(live.url).request(
                    "GET", f"/p/{product_id}", headers={"User-Agent": agent}
                )
                for _ in range(20)
            ]
        )
    assert settled_views(product_id, 3) == 3
