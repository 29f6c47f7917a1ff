"""Two machines, one market: what a visitor does on one machine, the other shows at once.

Two gunicorn instances (machine A and machine B), each with an instance folder of its own — its
own media, search, mail and job-queue folders, as a second machine has — share only what the
machines of a real deployment share (docs/deploy.md): one PostgreSQL database (data and the
PostgreSQL search backend), one Redis (rate limits, and the job queue with a job worker of its
own folder) and one S3 bucket (photos, on moto's server started here). CSRF protection is on,
so every form posted carries the token of a page one of the machines served.

It needs PostgreSQL (two machines cannot share a SQLite file): on the SQLite pass it is skipped.
It needs Redis on 127.0.0.1:6379 (``.ci/run`` starts one); its keys carry a random prefix (rate
limits) and a random queue name (jobs) in a database number no other test uses, and only those
keys are deleted afterwards.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import Role, User
from app.catalog.models import CatalogVersion, PhotoStatus, Product, ProductImage, SellerStatus
from app.core.extensions import db
from app.core.formatting import format_money
from app.notifications.models import OutgoingMail
from app.search import PostgresBackend
from tests import factories
from tests.conftest import DATABASE_URL, settings
from tests.fake_s3 import new_bucket, s3_client, s3_server, s3_settings
from tests.helpers import jpeg
from tests.live_server import Browser, Reply, Server, fresh, gunicorn, job_worker

pytestmark = [pytest.mark.slow, pytest.mark.serial]

# A database number of Redis no other test uses, and names of this run's own in it.
REDIS_URL = "redis://127.0.0.1:6379/13"
LOGINS_PER_MINUTE = 8
WORKERS_PER_MACHINE = 2
# "Too many failed attempts for this account." in Persian, the default locale
LOCKED = "تلاش‌های ناموفق برای این حساب بیش از حد بود"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Market:
    a: Server
    b: Server
    bucket: str
    s3: Any  # a boto3 client of the bucket's server
    redis: Any
    limit_prefix: str
    worker_log: Path
    index: PostgresBackend  # the search index the machines share

    def machines(self) -> list[Server]:
        return [self.a, self.b]


def _delete_keys(store: Any, pattern: str) -> None:
    keys = list(store.scan_iter(pattern))
    if keys:
        store.delete(*keys)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    if not DATABASE_URL.startswith("postgresql"):
        pytest.skip(
            "two machines share one PostgreSQL database; a SQLite file is one machine's "
            "(runs on the PostgreSQL pass: TEST_DATABASE_URL)"
        )
    if not _redis_answers():
        pytest.skip("no Redis answers on 127.0.0.1:6379 (start redis-server to run this test)")
    import redis

    run = secrets.token_hex(6)
    limit_prefix = f"bazarche-two-machines-{run}"
    queue_name = f"bazarchetwomachines{run}"  # huey keeps letters and digits of the name
    store = redis.Redis.from_url(REDIS_URL)
    with ExitStack() as stack:
        stack.callback(store.close)
        stack.callback(_delete_keys, store, f"*{queue_name}*")
        stack.callback(_delete_keys, store, f"*{limit_prefix}*")
        # What a deployment does once (flask search reindex): the shared index's tables.
        index = PostgresBackend(DATABASE_URL)
        stack.callback(index.close)
        stack.callback(index.drop)
        index.rebuild([])
        endpoint = stack.enter_context(s3_server())
        s3 = s3_client(endpoint)
        bucket = new_bucket(s3)
        settings: dict[str, Any] = {
            **s3_settings(endpoint, bucket),
            "WTF_CSRF_ENABLED": True,
            "PAGE_CACHE_ENABLED": True,
            "SEARCH_BACKEND": "postgres",
            "SEARCH_SYNC_ON_REQUEST": True,  # through the job queue, run by the job worker
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": limit_prefix,
            "LOGIN_RATE_LIMIT": f"{LOGINS_PER_MINUTE} per minute",
        }
        # Read when the app is imported, so given as the environment.
        environ = {
            "JOBS_BACKEND": "redis",
            "JOBS_REDIS_URL": REDIS_URL,
            "JOBS_QUEUE_NAME": queue_name,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        folders = {name: tmp_path_factory.mktemp(f"machine-{name}") for name in ("a", "b", "jobs")}
        a, b = (
            stack.enter_context(
                gunicorn(folders[name], settings, environ=environ, workers=WORKERS_PER_MACHINE)
            )
            for name in ("a", "b")
        )
        worker_log = stack.enter_context(job_worker(folders["jobs"], settings, environ=environ))
        yield Market(a, b, bucket, s3, store, limit_prefix, worker_log, index)


_versions = itertools.count(1_000_000, 1_000_000)


@pytest.fixture
def machines(app, market: Market) -> Iterator[Market]:  # type: ignore[no-untyped-def]
    """The market, its tables emptied (by ``app``) and its rate-limit counters reset.

    The catalogue version only grows in a real market; emptying the tables between tests would
    start it again, and pages the machines cached in an earlier test could match a new test's
    pages. Each test starts it above every earlier test's.
    """
    db.session.add(CatalogVersion(id=1, version=next(_versions)))
    db.session.commit()
    _delete_keys(market.redis, f"*{market.limit_prefix}*")
    yield market
    for machine in market.machines():
        tail = machine.log()
        if "Traceback" in tail:
            print(f"gunicorn log of {machine.url}:\n{tail[-5000:]}")


# ---- visitors -----------------------------------------------------------------------------------


def csrf_token(reply: Reply) -> str:
    """The CSRF token of the first form of the page."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', reply.text)
    assert found, f"no CSRF token in the page ({reply.status}):\n{reply.text[-2000:]}"
    return unescape(found.group(1))


def on(machine: Server, browser: Browser) -> Browser:
    """The same visitor (the same cookies) sent to ``machine``, as a load balancer may."""
    return Browser(machine.url, browser.jar)


def log_in(machine: Server, browser: Browser, email: str, password: str) -> Reply:
    """The log-in form, fetched from ``machine`` and posted back to it."""
    token = csrf_token(browser.get("/auth/login"))
    return browser.post(
        "/auth/login", {"email": email, "password": password, "next": "", "csrf_token": token}
    )


def signed_in(machine: Server, user: User) -> Browser:
    browser = Browser(machine.url)
    reply = log_in(machine, browser, user.email, factories.PASSWORD)
    assert reply.status == 302, (reply.status, reply.text[-2000:])
    return browser


def shop_with_listing(
    with_image: bool = True, title: str = "رومیزی سوزن‌دوزی"
) -> tuple[User, Product]:
    owner = factories.user(Role.SELLER, name="Golbibi")
    owner.locale = "en"
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    product = factories.product(
        seller,
        title=title,
        price_amount=1_250_000,
        stock=5,
        category_row=factories.category("rugs"),
        with_image=with_image,
    )
    db.session.commit()
    return owner, product


def price(amount: int) -> str:
    """A price as the storefront shows it to a Persian reader (the default locale)."""
    return format_money(amount, "IRR", "fa")


def pages_until_cached(browser: Browser, path: str) -> list[Reply]:
    """GET ``path`` until every worker of the machine has answered from its page cache (the
    workers take requests in turn, so a few rounds reach them all)."""
    replies = [browser.get(path) for _ in range(4 * WORKERS_PER_MACHINE)]
    assert all(r.status == 200 for r in replies), [r.status for r in replies]
    assert "hit" in [r.headers.get("X-Page-Cache") for r in replies], path
    return replies


# ---- the checks ----------------------------------------------------------------------------------


def test_both_machines_are_ready_on_the_shared_services(machines: Market) -> None:
    for machine in machines.machines():
        reply = Browser(machine.url).get("/readyz")
        body = json.loads(reply.text)
        assert reply.status == 200, body
        assert {name: part["status"] for name, part in body["checks"].items()} == {
            "database": "ok",
            "search": "ok",
            "storage": "ok",
            "queue": "ok",
        }, body


def test_a_price_changed_on_one_machine_is_shown_by_the_other_at_once(machines: Market) -> None:
    owner, product = shop_with_listing()
    product_page, category_page = f"/p/{product.id}", "/c/rugs"
    visitor = Browser(machines.b.url)
    customer = signed_in(machines.b, factories.user(email="mina@example.com", name="Mina"))
    # B's workers hold both pages in their caches, for anonymous and signed-in visitors alike.
    for browser in (visitor, customer):
        for path in (product_page, category_page):
            for reply in pages_until_cached(browser, path):
                assert price(1_250_000) in reply.text

    seller = signed_in(machines.a, owner)
    listings = seller.get("/seller/listings")
    changed = seller.post(
        f"/seller/listings/{product.id}/quick",
        {
            "price_toman": "187000",
            "stock": "5",
            "seen_price_amount": "1250000",
            "seen_stock": "5",
            "csrf_token": csrf_token(listings),
        },
    )
    assert changed.status == 302, (changed.status, changed.text[-2000:])
    fresh()
    assert db.session.get(Product, product.id).price_amount == 1_870_000

    for browser in (visitor, customer):
        for path in (product_page, category_page):
            for _ in range(4 * WORKERS_PER_MACHINE):  # whichever worker of B answers
                reply = browser.get(path)
                assert reply.status == 200
                assert price(1_870_000) in reply.text, (path, reply.headers)
                assert price(1_250_000) not in reply.text, (path, reply.headers)


def test_a_listing_changed_on_one_machine_is_found_by_search_on_the_other(
    machines: Market,
) -> None:
    owner, product = shop_with_listing(title="گلیم کلپورگان")
    seller = signed_in(machines.a, owner)
    listings = seller.get("/seller/listings")
    changed = seller.post(
        f"/seller/listings/{product.id}/quick",
        {"price_toman": "99000", "stock": "2", "csrf_token": csrf_token(listings)},
    )
    assert changed.status == 302, (changed.status, changed.text[-2000:])
    # A queued the index update in Redis; the job worker wrote it to the shared index.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh()
        if not db.session.scalar(sa.select(Product.search_dirty).where(Product.id == product.id)):
            break
        time.sleep(0.2)
    assert product.id in machines.index.all_ids_with_stamp(), machines.worker_log.read_text()
    found = Browser(machines.b.url).get("/search?" + urlencode({"q": "کلپورگان"}))
    assert found.status == 200
    assert f'href="/p/{product.id}"' in found.text
    assert price(990_000) in found.text


def test_a_photo_uploaded_on_one_machine_is_served_by_the_other(machines: Market) -> None:
    owner, product = shop_with_listing(with_image=False)
    seller = signed_in(machines.a, owner)
    form = seller.get(f"/seller/listings/{product.id}/edit")
    picture = jpeg((320, 240), (200, 40, 90))
    reply = seller.upload(
        f"/seller/listings/{product.id}/photos",
        "photos",
        [("golbibi.jpg", picture, "image/jpeg")],
        headers={"X-CSRFToken": csrf_token(form)},
    )
    assert reply.status == 200, (reply.status, reply.text[-2000:])
    assert json.loads(reply.text)["added"] == 1

    # The job worker (reading the shared queue) makes the variants from the original in the
    # bucket; the photo is shown once they exist.
    deadline = time.monotonic() + 30
    while True:
        fresh()
        [photo] = db.session.scalars(
            sa.select(ProductImage).where(ProductImage.product_id == product.id)
        )
        if photo.status == PhotoStatus.READY or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert photo.status == PhotoStatus.READY, (photo.status, photo.failure)
    keys = {photo.storage_key, *(v[2] for v in photo.variants)}
    page = Browser(machines.b.url).get(f"/p/{product.id}")
    assert f"/media/{photo.storage_key}" in page.text
    visitor = Browser(machines.b.url)
    for key in keys:
        status, body, headers = visitor.fetch(f"/media/{key}")
        assert status == 200, (key, status)
        assert headers["Content-Type"] == "image/webp"
        stored = machines.s3.get_object(Bucket=machines.bucket, Key=f"market/{key}")
        with stored["Body"] as stream:
            assert body == stream.read()
    # Nothing went to a machine's own disk: B could never have served it from there.
    for machine in machines.machines():
        media = machine.mail_dir.parent / "media"
        assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_login_on_one_machine_is_a_session_on_the_other(machines: Market) -> None:
    factories.user(email="mina@example.com", name="Mina Rezaei")
    on_a = signed_in(machines.a, db.session.scalar(sa.select(User)))
    on_b = on(machines.b, on_a)

    orders = on_b.get("/orders")
    assert orders.status == 200, (orders.status, orders.location)
    assert "Mina Rezaei" in orders.text
    # A form served by A is accepted by B (one SECRET_KEY: the session's CSRF token holds).
    token = csrf_token(on_a.get("/orders"))
    out = on_b.post("/auth/logout", {"csrf_token": token})
    assert out.status == 302 and not out.location.endswith("/auth/login"), out
    # The log-out B recorded ends the session on A too (login sessions live in the database).
    again = on_a.get("/orders")
    assert again.status == 302 and "/auth/login" in again.location, again


def test_failed_logins_spread_over_both_machines_share_the_address_limit(
    machines: Market,
) -> None:
    visitor = Browser(machines.a.url)
    answers = [
        log_in(machine, on(machine, visitor), f"nobody{n}@example.com", "wrong password!!")
        for n, machine in zip(
            range(LOGINS_PER_MINUTE), itertools.cycle(machines.machines()), strict=False
        )
    ]
    assert [r.status for r in answers] == [400] * LOGINS_PER_MINUTE
    # Each machine has seen half of the attempts; the limit counts them together.
    for machine in machines.machines():
        over = log_in(machine, on(machine, visitor), "late@example.com", "wrong password!!")
        assert over.status == 429, (machine.url, over.status)


def test_failed_logins_of_one_account_over_both_machines_lock_it_on_both(
    machines: Market,
) -> None:
    user = factories.user(email="sara@example.com", name="Sara")
    user.locale = "en"
    db.session.commit()
    visitor = Browser(machines.a.url)
    # The fifth wrong password in a row locks the account, whichever machines counted them.
    for n, machine in zip(range(5), itertools.cycle(machines.machines()), strict=False):
        reply = log_in(machine, on(machine, visitor), user.email, "wrong password!!")
        assert reply.status == 400, (n, reply.status)
    for machine in machines.machines():
        right = log_in(machine, on(machine, visitor), user.email, factories.PASSWORD)
        assert right.status == 429 and LOCKED in right.text, (machine.url, right.status)
    # The owner is told, by the job worker, from the queue in Redis.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh()
        sent = db.session.scalars(
            sa.select(OutgoingMail).where(OutgoingMail.to == user.email)
        ).all()
        if sent and all(m.sent_at is not None for m in sent):
            break
        time.sleep(0.2)
    assert sent and all(m.sent_at is not None for m in sent), machines.worker_log.read_text()


def test_an_import_previewed_on_one_machine_is_confirmed_on_the_other(machines: Market) -> None:
    owner, product = shop_with_listing()
    seller = signed_in(machines.a, owner)
    form = seller.get("/seller/import")
    csv = (
        b"title,description,category,price,stock\n"
        b"Balochi needlework cushion,Hand stitched,rugs,125000,3\n"
        b"Kilim of Sistan,Wool,rugs,900000,1\n"
    )
    preview = seller.upload(
        "/seller/import",
        "file",
        [("listings.csv", csv, "text/csv")],
        headers={"X-CSRFToken": csrf_token(form)},
    )
    assert preview.status == 200, (preview.status, preview.text[-2000:])
    found = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', preview.text)
    assert found, preview.text[-2000:]
    confirm = {"token": found.group(1), "csrf_token": csrf_token(preview)}

    # The confirmation reaches the other machine.
    done = on(machines.b, seller).post("/seller/import/confirm", confirm)
    assert done.status == 302 and done.location.endswith("/seller/listings"), done
    # Pressed again, on the first machine: the file was claimed once, for both.
    again = seller.post("/seller/import/confirm", confirm)
    assert again.status == 302 and again.location.endswith("/seller/import"), again
    fresh()
    titles = db.session.scalars(
        sa.select(Product.title).where(Product.id != product.id).order_by(Product.id)
    ).all()
    assert titles == ["Balochi needlework cushion", "Kilim of Sistan"]


# ---- the one setting each machine must not make for itself --------------------------------------


@pytest.mark.parametrize(
    ("given", "shared", "warned"),
    [
        (False, {"JOBS_BACKEND": "redis"}, True),
        (False, {"RATELIMIT_STORAGE_URI": REDIS_URL}, True),
        (False, {}, False),  # one machine: its own key is right
        (True, {"JOBS_BACKEND": "redis", "MEDIA_BACKEND": "s3"}, False),
    ],
    ids=["redis-queue", "redis-limits", "one-machine", "key-given"],
)
def test_a_machine_signing_with_a_key_of_its_own_on_shared_services_warns(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    given: bool,
    shared: dict[str, str],
    warned: bool,
) -> None:
    if given:
        monkeypatch.setenv("SECRET_KEY", "the-same-on-every-machine")
    else:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    with caplog.at_level(logging.WARNING, logger="app"):
        app = create_app(settings(tmp_path, SECRET_KEY=None, **shared))
    try:
        messages = [r.getMessage() for r in caplog.records if r.name == "app"]
        assert any("Set the same SECRET_KEY on every machine" in m for m in messages) == warned
        assert app.config["SECRET_KEY"]
        assert (tmp_path / "secret_key").exists() != given
    finally:
        with app.app_context():
            db.engine.dispose()
