"""PostgreSQL restarted under load: while it is down every page answers 503 "temporarily
unavailable" (translated, with Retry-After), never 500; once it is back the same gunicorn
workers serve again (no restart of the app), and nothing is half-written: every order has its
lines, every payment its orders and their sum, and stock plus units sold is the initial stock.

The cluster is the test's own (initdb and pg_ctl on a free port, see :mod:`tests.faults.services`),
never the machine's shared server, so the test needs no TEST_DATABASE_URL: it runs in the SQLite
pass of ``make test`` and is skipped in the PostgreSQL pass, which would only repeat it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import create_app
from app.catalog.models import Product
from app.core.extensions import db
from app.orders.models import Order, OrderLine
from app.payments.models import Payment
from tests import factories
from tests.conftest import DATABASE_URL, close_search, settings
from tests.faults.services import PrivatePostgres, private_postgres
from tests.live_server import Browser, Reply, Server, customers, log_in, post_checkout

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        DATABASE_URL.startswith("postgresql"),
        reason="runs its own PostgreSQL cluster: once, in the SQLite pass, is enough",
    ),
]

STOCK = 10_000
UNAVAILABLE_EN = "The market is temporarily unavailable. Please try again in a minute."
UNAVAILABLE_FA = "بازار موقتاً در دسترس نیست. لطفاً یک دقیقهٔ دیگر دوباره تلاش کنید."


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    """The private cluster, with the market's schema."""
    with private_postgres() as pg:
        schema_app = create_app(
            settings(tmp_path_factory.mktemp("schema"), SQLALCHEMY_DATABASE_URI=pg.url)
        )
        with schema_app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()
        close_search(schema_app)
        yield pg


@pytest.fixture(scope="module")
def server_database_url(cluster: PrivatePostgres) -> str:
    return cluster.url


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    # The page cache on: its version read goes through a raw driver connection of its own.
    return {"PAGE_CACHE_ENABLED": True, "MAX_OPEN_CASH_ORDERS": 10_000}


@pytest.fixture
def pg_app(cluster: PrivatePostgres, tmp_path: Path) -> Iterator[Any]:
    """An app of the test process on the private cluster (the workers' database)."""
    app = create_app(settings(tmp_path, SQLALCHEMY_DATABASE_URI=cluster.url))
    with app.app_context():
        yield app
        try:
            db.session.remove()
        except sa.exc.DBAPIError:  # its connection died with the restart
            db.session().invalidate()
        names = ", ".join(f'"{t.name}"' for t in reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        db.engine.dispose()
    close_search(app)


class Load:
    """Customers adding to their carts and checking out, each in a thread, until stopped."""

    def __init__(self, browsers: list[Browser], product_id: int) -> None:
        self.browsers = browsers
        self.product_id = product_id
        self.stop = threading.Event()
        self.replies: list[tuple[float, str, Reply]] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(b,)) for b in browsers]

    def _keep(self, what: str, reply: Reply) -> None:
        with self.lock:
            self.replies.append((time.monotonic(), what, reply))

    def _run(self, browser: Browser) -> None:
        while not self.stop.is_set():
            self._keep(
                "add", browser.post("/cart/add", {"product_id": self.product_id, "quantity": 1})
            )
            result = post_checkout(browser)
            self._keep("checkout", result.reply)
            self._keep("page", browser.get(f"/p/{self.product_id}"))
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def since(self, moment: float) -> list[tuple[str, Reply]]:
        with self.lock:
            return [(what, r) for at, what, r in self.replies if at >= moment]


def wait_for(check: Any, timeout: float, what: str, load: Load | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        seen = Counter((w, r.status, r.location) for _, w, r in load.replies) if load else ""
        assert time.monotonic() < deadline, f"no {what} within {timeout} s {seen}"
        time.sleep(0.1)


def test_a_database_restart_gives_503_then_the_same_workers_serve_again(
    pg_app: Any, cluster: PrivatePostgres, server: Server
) -> None:
    product = factories.product(title="کوزهٔ سفالی", stock=STOCK)
    product_id = product.id
    buyers = log_in(server, customers(6))
    visitor = Browser(server.url)
    assert visitor.get("/lang/en?next=/").status == 302  # English, in the session and a cookie
    anonymous = Browser(server.url)  # Persian, the default
    assert anonymous.get("/").status == 200
    workers = server.workers()
    assert len(workers) == 4
    db.session.close()  # the test's own connection goes back to the pool (pre-pinged later)

    with Load(buyers, product_id) as load:
        wait_for(lambda: any(placed_reply(r) for _, r in load.since(0)), 20, "order placed", load)
        cluster.stop("immediate")  # as a crash: the transactions in flight are cut off
        down_at = time.monotonic()
        time.sleep(1.5)
        for browser, text in ((visitor, UNAVAILABLE_EN), (anonymous, UNAVAILABLE_FA)):
            for path in ("/", f"/p/{product_id}", "/api/v1/products"):
                reply = browser.get(path)
                assert reply.status == 503, (path, reply.status, reply.text[:500])
                assert reply.headers.get("Retry-After") == "30", reply.headers
                if not path.startswith("/api/"):
                    assert text in reply.text, (path, reply.text[:500])
        down = load.since(down_at)
        cluster.start()
        up_at = time.monotonic()
        wait_for(lambda: anonymous.get("/").status == 200, 20, "page after the restart")
        wait_for(
            lambda: any(placed_reply(r) for w, r in load.since(up_at) if w == "checkout"),
            20,
            "order placed after the restart",
            load,
        )

    statuses = Counter((what, r.status) for _, what, r in load.replies)
    assert not [s for s in statuses if s[1] >= 500 and s[1] != 503], (
        statuses,
        server.log()[-5000:],
    )
    assert any(r.status == 503 for _, r in down), statuses  # the load met the outage...
    # ...and the very workers that answered 503 serve again: the app was never restarted.
    assert server.workers() == workers
    assert "database unavailable" in server.log()

    check_nothing_half_written(product_id)


def placed_reply(reply: Reply) -> bool:
    return reply.status == 303 and "/checkout/return/" in reply.location


def check_nothing_half_written(product_id: int) -> None:
    db.session.rollback()
    sold = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0)).where(
            OrderLine.product_id == product_id
        )
    )
    left = db.session.scalar(sa.select(Product.stock).where(Product.id == product_id))
    assert sold > 0 and left + sold == STOCK
    orders = db.session.scalars(sa.select(Order)).all()
    assert orders
    for order in orders:
        assert order.lines, f"order {order.id} has no lines"
        assert order.subtotal_amount == sum(line.line_total_amount for line in order.lines)
        assert order.total_amount == order.subtotal_amount + order.shipping_amount
    for payment in db.session.scalars(sa.select(Payment)).all():
        assert payment.orders, f"payment {payment.id} has no orders"
        assert payment.amount == sum(order.total_amount for order in payment.orders)
