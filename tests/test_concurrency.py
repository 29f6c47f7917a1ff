"""Concurrency: a real gunicorn with several worker processes on the test database (the SQLite
file, or PostgreSQL with TEST_DATABASE_URL), driven by many simultaneous HTTP clients.

- 50 one-unit checkouts of a product with 5 in stock: exactly 5 orders, stock 0, 45 clear
  sold-out answers, no 5xx;
- two-line carts filled in opposite orders: no deadlock, no partial order, stock taken exactly
  once per successful checkout;
- 20 simultaneous deliveries of one Stripe event: one payment, each order paid once, one e-mail
  per recipient;
- 10 simultaneous cancellations of one order: its stock comes back once.

The test process prepares rows with the factories and commits; the workers see them through the
same database. Each simulated customer is a real user logged in over HTTP with a cookie jar of
its own.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from html import unescape
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from app import notify
from app.accounts.models import User
from app.catalog.models import Product
from app.extensions import db
from app.orders.models import CartLine, Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from tests import factories
from tests.conftest import DATABASE_URL
from tests.fake_stripe import FakeStripe, signed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
THREADS = 50
BURST_TIMEOUT = 60  # seconds: a deadlock shows up as a burst that does not finish

ADDRESS = {
    "recipient_name": "Mina Rezaei",
    "mobile": "09121234567",
    "province": "سیستان و بلوچستان",
    "city": "Zahedan",
    "address": "Daneshgah St, Alley 3, No 12",
    "postal_code": "9816745639",
}

T = TypeVar("T")


# ---- the server ---------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    mail_dir: Path
    log_path: Path
    stripe: FakeStripe

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            response.read()
        return True
    except urllib.error.HTTPError as exc:
        exc.close()
        return True  # any HTTP answer: the server is up
    except OSError:
        return False


@pytest.fixture(scope="module")
def fake_stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, fake_stripe_server: FakeStripe
) -> Iterator[Server]:
    """gunicorn with several sync workers on the test database; stopped after the module."""
    instance = tmp_path_factory.mktemp("gunicorn")
    log_path = instance / "gunicorn.log"
    port = _free_port()
    env = {
        **os.environ,
        "BAZARCHE_TEST_DATABASE_URL": DATABASE_URL,
        "BAZARCHE_TEST_INSTANCE_DIR": str(instance),
        "BAZARCHE_TEST_STRIPE_URL": fake_stripe_server.url,
        "BAZARCHE_INSTANCE": str(instance),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "1",  # the idle workers are killed after a second at the end
        "--log-level",
        "warning",
        "--preload",  # import the app once, then fork the workers
        "tests.concurrency_app:app",
    ]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not _answers(url + "/auth/login"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"gunicorn did not start (exit {proc.poll()}):\n"
                        + log_path.read_text(errors="replace")
                    )
                time.sleep(0.1)
            yield Server(url, instance / "mail", log_path, fake_stripe_server)
        finally:
            proc.send_signal(signal.SIGINT)  # quick shutdown (TERM waits for idle workers)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def live(app, server: Server) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The server, with an empty outbox; its log is shown when the test fails."""
    if server.mail_dir.is_dir():
        for path in server.mail_dir.iterdir():
            path.unlink()
    start = len(server.log())
    yield server
    tail = server.log()[start:]
    if "Traceback" in tail or "Error" in tail:
        print("gunicorn log during the test:\n" + tail)


# ---- simulated customers ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    location: str
    text: str

    def flashes(self, category: str = "") -> list[str]:
        pattern = rf'<p class="flash flash-{category or "[a-z]+"}">(.*?)</p>'
        return [unescape(m) for m in re.findall(pattern, self.text, re.S)]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """One visitor: a cookie jar of its own, redirects not followed (the tests look at them)."""

    def __init__(self, base: str, jar: CookieJar | None = None) -> None:
        self.base = base
        self.jar = jar or CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, Any] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            response = self.opener.open(req, timeout=BURST_TIMEOUT)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            location = response.headers.get("Location") or ""
            return Reply(response.status, location, response.read().decode("utf-8", "replace"))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any]) -> Reply:
        return self.request("POST", path, form=form)

    def follow(self, reply: Reply) -> Reply:
        """GET the page a redirect points to (same site only)."""
        assert reply.location, reply
        parsed = urllib.parse.urlsplit(reply.location)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        return self.get(path)

    def clone(self) -> Browser:
        """Another tab of the same visitor: a new jar holding the same cookies."""
        jar = CookieJar()
        for cookie in self.jar:
            jar.set_cookie(cookie)
        return Browser(self.base, jar)


def log_in(server: Server, users: list[User]) -> list[Browser]:
    """A browser per user, each logged in over HTTP, one after the other (set-up, not a burst)."""
    browsers = []
    for user in users:
        browser = Browser(server.url)
        reply = browser.post(
            "/auth/login", {"email": user.email, "password": factories.PASSWORD, "next": "/cart"}
        )
        assert reply.status == 302, (reply.status, reply.text[-2000:])
        browsers.append(browser)
    return browsers


def burst(actions: list[Callable[[], T]]) -> list[T]:
    """Run every action at once (a barrier releases them together); all must end in time."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], T]) -> T:
        barrier.wait(BURST_TIMEOUT)
        return action()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        futures = [pool.submit(run, action) for action in actions]
        _, pending = wait(futures, timeout=BURST_TIMEOUT)
        assert not pending, f"{len(pending)} requests still running after {BURST_TIMEOUT}s"
        return [f.result() for f in futures]


# ---- data -----------------------------------------------------------------------------------------


def customers(n: int) -> list[User]:
    users = [factories.user(email=f"buyer{i}-{secrets.token_hex(3)}@example.com") for i in range(n)]
    for user in users:
        user.locale = "en"
    db.session.commit()
    return users


def put_in_cart(user: User, *items: tuple[Product, int]) -> None:
    for product, quantity in items:
        db.session.add(
            CartLine(
                user_id=user.id,
                product_id=product.id,
                quantity=quantity,
                seen_price_amount=product.price_amount,
            )
        )
    db.session.commit()


def fresh() -> None:
    """End the test process's transaction: read what the workers committed."""
    db.session.rollback()
    db.session.expire_all()


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def stock(product_id: int) -> int:
    return db.session.scalar(sa.select(Product.stock).where(Product.id == product_id))


def checkout_form(method: str = "cash") -> dict[str, str]:
    return {**ADDRESS, "payment_method": method, "checkout_token": secrets.token_urlsafe(24)}


def assert_no_server_errors(server: Server, replies: list[Reply]) -> None:
    unique = list({id(r): r for r in replies}.values())  # a page that is its own reply once
    errors = [r for r in unique if r.status >= 500]
    assert not errors, f"{len(errors)} server errors; the server said:\n" + server.log()[-5000:]


@dataclass
class CheckoutResult:
    reply: Reply
    page: Reply  # the page a refusal leads to (else the reply itself)


def post_checkout(browser: Browser, method: str = "cash") -> CheckoutResult:
    """POST the checkout form; a refusal is followed to the cart page that says why."""
    reply = browser.post("/checkout", checkout_form(method))
    page = browser.follow(reply) if reply.status == 302 else reply
    return CheckoutResult(reply, page)


def sold_out(result: CheckoutResult, title: str) -> bool:
    return (
        result.reply.status == 302
        and result.reply.location.endswith("/cart")
        and f"“{title}” has just sold out. Please change your cart." in result.page.flashes("error")
    )


def placed(result: CheckoutResult) -> bool:
    return result.reply.status == 303 and "/checkout/return/" in result.reply.location


# ---- the tests ------------------------------------------------------------------------------------


def test_fifty_buyers_of_five_units_make_exactly_five_orders(live: Server) -> None:
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=5)
    users = customers(THREADS)
    for user in users:
        put_in_cart(user, (bowl, 1))
    browsers = log_in(live, users)
    bowl_id = bowl.id
    fresh()

    results = burst([lambda b=b: post_checkout(b) for b in browsers])

    assert_no_server_errors(live, [r.reply for r in results] + [r.page for r in results])
    fresh()
    outcomes = Counter(
        "placed" if placed(r) else "sold_out" if sold_out(r, "Clay bowl") else "other"
        for r in results
    )
    assert outcomes == {"placed": 5, "sold_out": 45}, [
        (r.reply.status, r.reply.location, r.page.flashes()) for r in results if not placed(r)
    ][:5]
    assert stock(bowl_id) == 0
    assert count(Order) == count(Payment) == 5
    assert db.session.scalar(sa.select(sa.func.sum(OrderLine.quantity))) == 5
    assert count(Order, Order.status == OrderStatus.PLACED) == 5
    # The winners' carts were emptied; the others keep theirs to change.
    assert count(CartLine) == 45
    winners = {b_id for (b_id,) in db.session.execute(sa.select(Order.customer_id))}
    assert len(winners) == 5
    assert count(CartLine, CartLine.user_id.in_(winners)) == 0


def test_two_line_carts_filled_in_opposite_orders_never_deadlock_or_half_buy(
    live: Server,
) -> None:
    shop_a = factories.seller(name="Needlework Workshop")
    shop_b = factories.seller(name="Date Garden")
    # Enough cloth for everyone, dates for some: a refused checkout has taken its cloth first
    # (lower product id) and must give it back.
    buyers, dates_stock = 30, 12
    cloth = factories.product(shop_a, title="Needlework cloth", price_amount=1_250_000, stock=50)
    dates = factories.product(
        shop_b, title="Mazafati dates", price_amount=300_000, stock=dates_stock
    )
    users = customers(buyers)
    for i, user in enumerate(users):
        # Half fill the cart cloth-then-dates, half dates-then-cloth.
        put_in_cart(user, *((cloth, 1), (dates, 1))[:: 1 if i % 2 else -1])
    browsers = log_in(live, users)
    cloth_id, dates_id = cloth.id, dates.id
    fresh()

    started = time.monotonic()
    results = burst([lambda b=b: post_checkout(b) for b in browsers])
    elapsed = time.monotonic() - started

    assert_no_server_errors(live, [r.reply for r in results] + [r.page for r in results])
    assert elapsed < BURST_TIMEOUT
    fresh()
    outcomes = Counter(
        "placed" if placed(r) else "sold_out" if sold_out(r, "Mazafati dates") else "other"
        for r in results
    )
    assert outcomes == {"placed": dates_stock, "sold_out": buyers - dates_stock}, [
        (r.reply.status, r.reply.location, r.page.flashes()) for r in results if not placed(r)
    ][:5]
    # Stock taken exactly once per successful checkout, on both lines.
    assert (stock(cloth_id), stock(dates_id)) == (50 - dates_stock, 0)
    # No partial checkout: every payment has both lines, one order per seller.
    payments = db.session.scalars(sa.select(Payment)).all()
    assert len(payments) == dates_stock
    for payment in payments:
        lines = sorted(
            (line.product_id, line.quantity) for order in payment.orders for line in order.lines
        )
        assert lines == [(cloth_id, 1), (dates_id, 1)]
        assert len(payment.orders) == 2
    assert count(Order) == count(OrderLine) == 2 * dates_stock
    assert count(CartLine) == 2 * (buyers - dates_stock)  # the refused carts are kept whole


def test_twenty_deliveries_of_one_webhook_event_pay_once_and_mail_once(live: Server) -> None:
    shop_a = factories.seller(name="Needlework Workshop")
    shop_b = factories.seller(name="Soap Makers")
    for shop in (shop_a, shop_b):
        shop.user.locale = "en"
    cloth = factories.product(shop_a, title="Needlework cloth", price_amount=12_500, stock=5)
    soap = factories.product(shop_b, title="Olive soap", price_amount=800, stock=10)
    (buyer,) = customers(1)
    put_in_cart(buyer, (cloth, 1), (soap, 2))
    recipients = {buyer.email, shop_a.user.email, shop_b.user.email}
    (browser,) = log_in(live, [buyer])
    fresh()

    reply = browser.post("/checkout", checkout_form("card"))
    assert reply.status == 303, (reply.status, reply.text[-1000:])
    session_id = reply.location.rsplit("/", 1)[-1]
    assert reply.location == f"{live.stripe.url}/pay/{session_id}"
    paid = live.stripe.pay(session_id)
    event = live.stripe.event("checkout.session.completed", paid)
    body, signature = signed(event)
    hook = Browser(live.url)
    fresh()
    payment = db.session.scalar(sa.select(Payment))
    assert payment.status == PaymentStatus.PENDING and payment.provider == Provider.STRIPE
    payment_id = payment.id
    order_ids = sorted(o.id for o in payment.orders)
    assert len(order_ids) == 2
    fresh()

    replies = burst(
        [
            lambda: hook.request(
                "POST",
                "/payments/stripe/webhook",
                body=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
        ]
        * 20
    )

    assert_no_server_errors(live, replies)
    assert [r.status for r in replies] == [200] * 20
    results = Counter(json.loads(r.text)["result"] for r in replies)
    assert results == {"paid": 1, "duplicate": 19}
    fresh()
    assert count(PaymentEvent, PaymentEvent.event_id == event["id"]) == 1
    assert db.session.get(Payment, payment_id).status == PaymentStatus.SUCCEEDED
    for order_id in order_ids:
        order = db.session.get(Order, order_id)
        assert order.status == OrderStatus.PAID and order.paid_at is not None
        assert (
            count(
                OrderStatusChange,
                OrderStatusChange.order_id == order_id,
                OrderStatusChange.to_status == OrderStatus.PAID,
            )
            == 1
        )
    mails = notify.sent_mail(live.mail_dir)
    assert Counter(m.to for m in mails) == dict.fromkeys(recipients, 1)
    subjects = {m.to: m.subject for m in mails}
    numbers = ", ".join(str(i) for i in order_ids)
    assert subjects[buyer.email] == f"Payment received for orders {numbers}"
    assert subjects[shop_a.user.email].startswith("New paid order ")
    assert subjects[shop_b.user.email].startswith("New paid order ")


def test_ten_simultaneous_cancellations_give_the_stock_back_once(live: Server) -> None:
    shop = factories.seller(name="Mat Weavers")
    shop.user.locale = "en"
    mat = factories.product(shop, title="Palm-leaf mat", price_amount=900_000, stock=10)
    (buyer,) = customers(1)
    put_in_cart(buyer, (mat, 3))
    (browser,) = log_in(live, [buyer])
    mat_id, buyer_email, seller_email = mat.id, buyer.email, shop.user.email
    fresh()
    result = post_checkout(browser)
    assert placed(result), (result.reply.status, result.reply.location)
    fresh()
    order = db.session.scalar(sa.select(Order))
    order_id = order.id
    assert stock(mat_id) == 7
    fresh()
    for path in live.mail_dir.iterdir():
        path.unlink()  # the "placed" mails
    tabs = [browser.clone() for _ in range(10)]

    def cancel(tab: Browser) -> CheckoutResult:
        reply = tab.post(f"/orders/{order_id}/cancel", {"reason": "changed my mind"})
        return CheckoutResult(reply, tab.follow(reply) if reply.status == 302 else reply)

    results = burst([lambda t=t: cancel(t) for t in tabs])

    assert_no_server_errors(live, [r.reply for r in results] + [r.page for r in results])
    assert all(r.reply.location.endswith(f"/orders/{order_id}") for r in results)
    said = Counter(
        "cancelled"
        if r.page.flashes("success") == [f"Order {order_id} is cancelled."]
        else "refused"
        if r.page.flashes("error") == ["This order can no longer be cancelled (status: Cancelled)."]
        else repr(r.page.flashes())
        for r in results
    )
    assert said == {"cancelled": 1, "refused": 9}
    fresh()
    assert stock(mat_id) == 10
    order = db.session.get(Order, order_id)
    assert order.status == OrderStatus.CANCELLED and order.stock_released
    assert (
        count(
            OrderStatusChange,
            OrderStatusChange.order_id == order_id,
            OrderStatusChange.to_status == OrderStatus.CANCELLED,
        )
        == 1
    )
    mails = notify.sent_mail(live.mail_dir)
    assert Counter(m.to for m in mails) == {buyer_email: 1, seller_email: 1}
