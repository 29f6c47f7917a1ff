"""A real gunicorn with several worker processes on the test database, and simulated visitors.

Tests that need concurrency import the fixtures (``server``, ``live``, ``fake_stripe_server``) and
the helpers from here. Extra settings for the workers can be given per module by overriding the
``server_settings`` fixture (a dict merged into ``tests.concurrency_app``'s settings), extra
environment variables (settings read at import, such as ``JOBS_BACKEND``) by overriding
``server_env``, and another database than the test process's by overriding
``server_database_url`` (the fault tests' private PostgreSQL cluster).
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Product, ProductVariant
from app.core.extensions import db
from app.orders.models import CartLine
from tests import factories
from tests.conftest import DATABASE_URL
from tests.fake_stripe import FakeStripe

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
    stripe: FakeStripe | None = None
    pid: int = 0  # gunicorn's master process
    instance: Path = Path()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def workers(self) -> set[int]:
        """The ids of the master's worker processes now."""
        return children(self.pid)


def children(pid: int) -> set[int]:
    """The ids of the live processes whose parent is ``pid`` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # "pid (name) state ppid ...": the name may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _listening_socket() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1, for gunicorn to inherit: the port is
    never free between being chosen and being served (another test process could take it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


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
def server_settings() -> dict[str, Any]:
    """Settings the workers get on top of ``tests.concurrency_app``'s; a module may override it."""
    return {}


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Environment variables the workers get on top of the test process's; a module may
    override it (settings that are read at import, such as ``JOBS_BACKEND``)."""
    return {}


@pytest.fixture(scope="module")
def server_database_url() -> str:
    """The database the workers use: the test process's, unless a module overrides it."""
    return DATABASE_URL


def _environment(
    instance: Path,
    settings: dict[str, Any],
    environ: dict[str, str] | None,
    database_url: str | None = None,
) -> dict[str, str]:
    """The environment of a process of ``tests.concurrency_app`` on the test database (or
    ``database_url``), with ``instance`` as its instance folder; ``environ`` adds what is read
    at import (``JOBS_*``)."""
    return {
        **os.environ,
        "BAZARCHE_TEST_DATABASE_URL": database_url or DATABASE_URL,
        "BAZARCHE_TEST_INSTANCE_DIR": str(instance),
        "BAZARCHE_INSTANCE": str(instance),
        "BAZARCHE_TEST_SETTINGS": json.dumps(settings),
        **(environ or {}),
    }


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextmanager
def gunicorn(
    instance: Path,
    settings: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    stripe: FakeStripe | None = None,
    workers: int = WORKERS,
    database_url: str | None = None,
) -> Iterator[Server]:
    """gunicorn with ``workers`` sync workers serving ``tests.concurrency_app`` on the test
    database, from its own ``instance`` folder (as one machine has), stopped when the block ends
    (a failure included). ``settings`` are added to the app's; ``environ`` to the environment."""
    log_path = instance / "gunicorn.log"
    listener = _listening_socket()
    port = int(listener.getsockname()[1])
    env = _environment(instance, settings or {}, environ, database_url)
    if stripe is not None:
        env["BAZARCHE_TEST_STRIPE_URL"] = stripe.url
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"fd://{listener.fileno()}",  # 127.0.0.1:port, bound above
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
    with open(log_path, "wb") as log, listener:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            pass_fds=(listener.fileno(),),
        )
        listener.close()  # gunicorn holds it now
        try:
            deadline = time.monotonic() + 30
            while not _answers(url + "/auth/login"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"gunicorn did not start (exit {proc.poll()}):\n"
                        + log_path.read_text(errors="replace")
                    )
                time.sleep(0.1)
            yield Server(url, instance / "mail", log_path, stripe, proc.pid, instance)
        finally:
            _stop(proc)  # SIGINT: quick shutdown (TERM waits for idle workers)


@contextmanager
def job_worker(
    instance: Path,
    settings: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    threads: int = 1,
) -> Iterator[Path]:
    """A job worker (``app.jobs.run_worker``, no schedule) of ``tests.concurrency_app`` with
    ``instance`` as its folder, for a queue named by ``environ`` (``JOBS_BACKEND``…); stopped
    when the block ends. Yields the path of its log."""
    log_path = instance / "jobs.log"
    code = (
        "from tests.concurrency_app import build; from app import jobs; "
        f"jobs.run_worker(build(), workers={int(threads)}, periodic=False)"
    )
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=_environment(instance, settings or {}, environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield log_path
    finally:
        _stop(proc, signal.SIGTERM)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    fake_stripe_server: FakeStripe,
    server_settings: dict[str, Any],
    server_env: dict[str, str],
    server_database_url: str,
) -> Iterator[Server]:
    """gunicorn with several sync workers on the test database; stopped after the module."""
    with gunicorn(
        tmp_path_factory.mktemp("gunicorn"),
        server_settings,
        environ=server_env,
        stripe=fake_stripe_server,
        database_url=server_database_url,
    ) as running:
        yield running


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
    headers: dict[str, str] = field(default_factory=dict)

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
            text = response.read().decode("utf-8", "replace")
            return Reply(response.status, location, text, dict(response.headers.items()))

    def fetch(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        """GET ``path`` as bytes (a picture): the status, the body and the headers."""
        req = urllib.request.Request(self.base + path, method="GET")
        try:
            response = self.opener.open(req, timeout=BURST_TIMEOUT)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            return response.status, response.read(), dict(response.headers.items())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any]) -> Reply:
        return self.request("POST", path, form=form)

    def upload(
        self,
        path: str,
        field_name: str,
        files: list[tuple[str, bytes, str]],
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """POST ``files`` (name, bytes, content type) as the multipart field ``field_name``, the
        way the photo form's script does (it asks for a JSON answer); ``headers`` are added."""
        boundary = "----bazarche" + secrets.token_hex(8)
        payload = b"".join(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{field_name}"; filename="{name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + body
            + b"\r\n"
            for name, body, content_type in files
        )
        return self.request(
            "POST",
            path,
            body=payload + f"--{boundary}--\r\n".encode(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Requested-With": "fetch",
                "Accept": "application/json",
                **(headers or {}),
            },
        )

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


def put_variant_in_cart(user: User, variant: ProductVariant, quantity: int) -> None:
    """A line of one variant of a product with options (at its price; no sale running)."""
    db.session.add(
        CartLine(
            user_id=user.id,
            product_id=variant.product_id,
            variant_id=variant.id,
            quantity=quantity,
            seen_price_amount=variant.price_amount,
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


def hidden(html: str, name: str) -> str:
    """The value of the hidden form field ``name`` on a page."""
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    assert found, f"no {name} on the page"
    return unescape(found.group(1))


def checkout_page(browser: Browser) -> dict[str, str]:
    """GET /checkout as this tab: the form it would post, with this page's token and version."""
    page = browser.get("/checkout")
    assert page.status == 200, (page.status, page.location)
    return {
        **ADDRESS,
        "payment_method": "cash",
        "checkout_token": hidden(page.text, "checkout_token"),
        "cart_version": hidden(page.text, "cart_version"),
    }


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


def checkout_burst(server: Server, browsers: list[Browser], scarce: str) -> Counter[str]:
    """Every browser checks out at once: no server error, no deadlock (the burst ends within
    :data:`BURST_TIMEOUT`); returns how many checkouts were ``placed``, refused because
    ``scarce`` (a title) had ``sold_out``, or ended ``other``wise (with a sample to read)."""
    started = time.monotonic()
    results = burst([lambda b=b: post_checkout(b) for b in browsers])
    elapsed = time.monotonic() - started
    assert_no_server_errors(server, [r.reply for r in results] + [r.page for r in results])
    assert elapsed < BURST_TIMEOUT
    fresh()
    outcomes = Counter(
        "placed" if placed(r) else "sold_out" if sold_out(r, scarce) else "other" for r in results
    )
    if outcomes["other"]:
        odd = [(r.reply.status, r.reply.location, r.page.flashes()) for r in results]
        raise AssertionError(f"checkouts neither placed nor sold out: {odd[:5]}")
    return outcomes
