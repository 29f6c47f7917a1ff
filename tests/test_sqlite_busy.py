"""Writers under several gunicorn workers: a busy database is a short wait, then a friendly 503.

Every transaction of a request that may write (POST, PUT, PATCH, DELETE) takes the SQLite write
lock when it begins, so a read-then-write request waits for another writer instead of failing
half-way with "database is locked"; a wait longer than ``SQLITE_BUSY_TIMEOUT_SECONDS`` ends in a
503 page ("busy, try again", with Retry-After), never a 500 or gunicorn killing the worker.
The bursts run on both databases; the lock-holding tests are SQLite's.
"""

from __future__ import annotations

import io
import secrets
import sqlite3
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from app.accounts.models import User
from app.catalog.models import Product, ProductImage
from app.core.extensions import db
from tests import factories
from tests.conftest import DATABASE_URL
from tests.live_server import (
    Browser,
    Reply,
    Server,
    assert_no_server_errors,
    burst,
    count,
    fresh,
    log_in,
)

pytestmark = pytest.mark.slow

BUSY_TIMEOUT = 2  # seconds the workers wait for the write lock here
ON_SQLITE = DATABASE_URL.startswith("sqlite")
sqlite_only = pytest.mark.skipif(
    not ON_SQLITE, reason="SQLite's single write lock; PostgreSQL locks rows"
)


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    return {"SQLITE_BUSY_TIMEOUT_SECONDS": BUSY_TIMEOUT}


def sellers_with_listings(n: int) -> tuple[list[Browser], list[int]]:
    """``n`` approved sellers, each with one draft listing, logged in over HTTP."""
    owners: list[User] = []
    ids: list[int] = []
    for i in range(n):
        owner = factories.user(factories.Role.SELLER, email=f"maker{i}-{secrets.token_hex(3)}@x.ir")
        owner.locale = "en"
        shop = factories.seller(owner=owner)
        ids.append(factories.product(shop, title=f"Rug {i}", price_amount=90_000, stock=3).id)
        owners.append(owner)
    db.session.commit()
    return owners, ids


def listing_form(title: str) -> dict[str, str]:
    return {
        "title": title,
        "description": "Hand-knotted wool",
        "category_id": "0",
        "price_toman": "12000",
        "stock": "4",
        "status": "draft",
    }


def save_listing(browser: Browser, product_id: int, title: str) -> Reply:
    return browser.post(f"/seller/listings/{product_id}/edit", listing_form(title))


def small_jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed * 11 % 256, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def upload_photo(browser: Browser, product_id: int, data: bytes) -> Reply:
    boundary = "----bazarche" + secrets.token_hex(8)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return browser.request(
        "POST",
        f"/seller/listings/{product_id}/photos",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


# ---- bursts: no 500, every write done (both databases) -------------------------------------------


def test_twenty_simultaneous_sign_ups_all_succeed(live: Server) -> None:
    emails = [f"new{i}-{secrets.token_hex(3)}@example.com" for i in range(20)]
    fresh()

    def sign_up(email: str) -> Reply:
        return Browser(live.url).post(
            "/auth/register",
            {
                "name": "Zahra",
                "email": email,
                "password": "a long enough password",
                "confirm": "a long enough password",
            },
        )

    replies = burst([lambda e=e: sign_up(e) for e in emails])

    assert_no_server_errors(live, replies)
    assert [r.status for r in replies] == [302] * 20
    fresh()
    assert count(User, User.email.in_(emails)) == 20


def test_twenty_simultaneous_listing_saves_all_succeed(live: Server) -> None:
    owners, ids = sellers_with_listings(20)
    browsers = log_in(live, owners)
    fresh()

    replies = burst(
        [
            lambda b=b, p=p, i=i: save_listing(b, p, f"Saved {i}")
            for i, (b, p) in enumerate(zip(browsers, ids, strict=True))
        ]  # fmt: skip
    )

    assert_no_server_errors(live, replies)
    assert [r.status for r in replies] == [302] * 20
    fresh()
    titles = set(db.session.scalars(sa.select(Product.title).where(Product.id.in_(ids))))
    assert titles == {f"Saved {i}" for i in range(20)}


def test_simultaneous_photo_uploads_all_succeed(live: Server) -> None:
    owners, ids = sellers_with_listings(10)
    browsers = log_in(live, owners)
    fresh()
    before = count(ProductImage, ProductImage.product_id.in_(ids))

    replies = burst(
        [
            lambda b=b, p=p, i=i: upload_photo(b, p, small_jpeg(i))
            for i, (b, p) in enumerate(zip(browsers, ids, strict=True))
        ]  # fmt: skip
    )

    assert_no_server_errors(live, replies)
    assert [r.status for r in replies] == [302] * 10
    fresh()
    assert count(ProductImage, ProductImage.product_id.in_(ids)) == before + 10


# ---- a writer that holds the lock too long (SQLite) ------------------------------------------------


class HeldWriteLock:
    """Another process's write transaction on the SQLite file, held until released."""

    def __init__(self) -> None:
        path = sa.engine.make_url(DATABASE_URL).database
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)

    def __enter__(self) -> HeldWriteLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


@sqlite_only
def test_a_save_while_another_writer_holds_the_lock_is_a_friendly_503(live: Server) -> None:
    owners, ids = sellers_with_listings(1)
    (browser,) = log_in(live, owners)
    fresh()
    db.session.close()

    with HeldWriteLock():
        started = time.monotonic()
        reply = save_listing(browser, ids[0], "While locked")
        waited = time.monotonic() - started

    assert reply.status == 503, (reply.status, reply.text[-1500:])
    assert BUSY_TIMEOUT - 0.5 <= waited < BUSY_TIMEOUT + 5  # it waited, then gave up
    assert "busy" in reply.text.lower()
    assert "Traceback" not in live.log()
    # Once the lock is free, the same save works.
    reply = save_listing(browser, ids[0], "After the lock")
    assert reply.status == 302, (reply.status, reply.text[-1500:])
    fresh()
    assert db.session.get(Product, ids[0]).title == "After the lock"


@sqlite_only
def test_the_busy_page_is_persian_first_and_says_when_to_retry(live: Server) -> None:
    owners, ids = sellers_with_listings(1)
    owners[0].locale = "fa"
    db.session.commit()
    (browser,) = log_in(live, owners)
    fresh()
    db.session.close()

    with HeldWriteLock():
        response = _raw_post(browser, f"/seller/listings/{ids[0]}/edit", listing_form("x"))

    status, headers, text = response
    assert status == 503
    assert int(headers["Retry-After"]) > 0
    assert 'lang="fa"' in text
    assert "شلوغ" in text  # "busy"


@sqlite_only
def test_a_lock_released_during_the_wait_lets_the_save_through(live: Server) -> None:
    owners, ids = sellers_with_listings(1)
    (browser,) = log_in(live, owners)
    fresh()
    db.session.close()

    lock = HeldWriteLock().__enter__()
    timer = threading.Timer(BUSY_TIMEOUT / 4, lock.__exit__, args=(None, None, None))
    timer.start()
    try:
        reply = save_listing(browser, ids[0], "Waited")
    finally:
        timer.join()
    assert reply.status == 302, (reply.status, reply.text[-1500:])


def _raw_post(browser: Browser, path: str, form: dict[str, str]) -> tuple[int, Any, str]:
    import urllib.error
    import urllib.parse
    import urllib.request

    req = urllib.request.Request(
        browser.base + path,
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        response = browser.opener.open(req, timeout=60)
    except urllib.error.HTTPError as exc:
        response = exc
    with response:
        return response.status, response.headers, response.read().decode("utf-8", "replace")


# ---- the settings -------------------------------------------------------------------------------


def test_the_busy_timeout_is_a_setting_well_below_the_worker_timeout(app) -> None:
    from pathlib import Path

    from config import Config

    assert Config.SQLITE_BUSY_TIMEOUT_SECONDS == 10
    namespace: dict[str, Any] = {}
    conf = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    exec(compile(conf.read_text(), str(conf), "exec"), namespace)  # noqa: S102
    assert namespace["timeout"] >= 2 * Config.SQLITE_BUSY_TIMEOUT_SECONDS
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert ms == Config.SQLITE_BUSY_TIMEOUT_SECONDS * 1000


@sqlite_only
def test_an_api_write_while_locked_answers_503_json(tmp_path) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path, SQLITE_BUSY_TIMEOUT_SECONDS=0.2)

    @app.post("/api/v1/_test/touch")
    def touch():  # type: ignore[no-untyped-def]
        user = db.session.scalar(sa.select(User).limit(1))  # read, then write
        db.session.add(User(email=f"{secrets.token_hex(4)}@x.ir", name="t", password_hash="x"))
        db.session.commit()
        return {"ok": user is None}

    with app.app_context():
        try:
            with HeldWriteLock():
                response = app.test_client().post("/api/v1/_test/touch")
            assert response.status_code == 503
            assert response.is_json and response.json["error"]["status"] == 503
            assert int(response.headers["Retry-After"]) > 0
            assert app.test_client().post("/api/v1/_test/touch").status_code == 200
        finally:
            db.session.remove()
            db.engine.dispose()


def test_market_commands_take_the_write_lock_when_a_transaction_begins(app, runner) -> None:
    """A command's read-then-write transaction would fail at once while a worker writes; the
    market's commands (not ``flask search``, which reads for long) begin them IMMEDIATE."""
    from app.core.db import wants_write_lock

    commands = app.cli.commands
    for name in ("create-staff", "orders", "payments", "import-products"):
        command = commands[name]
        subcommands = getattr(command, "commands", {name: command}).values()
        assert all(getattr(c.callback, "_bazarche_write_intent", False) for c in subcommands)
    assert not getattr(commands["search"].commands["reindex"].callback, "_bazarche_write_intent", 0)

    seen: list[bool] = []
    import click

    @click.command("probe")
    def probe() -> None:
        seen.append(wants_write_lock())

    from app.core.db import write_intent_command

    write_intent_command(probe)
    result = runner.invoke(probe)
    assert result.exit_code == 0, result.output
    assert seen == [True] and not wants_write_lock()


@sqlite_only
def test_a_write_request_never_waits_for_its_own_lock(tmp_path) -> None:
    """A POST holds the write lock from its first query; a second connection of the same
    request (noting that a login was used, say) must not wait the busy timeout for it."""
    from datetime import timedelta

    from app.accounts.models import LoginSession
    from app.core.timeutil import utcnow
    from tests.conftest import make_app

    app = make_app(tmp_path, SQLITE_BUSY_TIMEOUT_SECONDS=3)
    with app.app_context():
        try:
            user = factories.user(email="seen@example.com")
            product_id = factories.product(title="Rug", stock=5).id
            client = app.test_client()
            assert factories.login(client, user.email).status_code == 302
            db.session.execute(
                sa.update(LoginSession).values(last_seen_at=utcnow() - timedelta(hours=1))
            )
            db.session.commit()
            db.session.close()

            started = time.monotonic()
            response = client.post("/cart/add", data={"product_id": product_id, "quantity": "1"})
            elapsed = time.monotonic() - started

            assert response.status_code in (302, 303), response.status_code
            assert elapsed < 1.5, f"the request waited {elapsed:.1f}s for its own lock"
            db.session.rollback()
            seen = db.session.scalar(sa.select(LoginSession.last_seen_at))
            assert seen > utcnow() - timedelta(minutes=1)  # and the use of the login was noted
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL's lock timeout")
def test_a_postgresql_lock_timeout_is_the_friendly_503(tmp_path) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path)

    @app.post("/_test/restock/<int:product_id>")
    def restock(product_id: int):  # type: ignore[no-untyped-def]
        db.session.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
        db.session.execute(sa.update(Product).where(Product.id == product_id).values(stock=9))
        db.session.commit()
        return "ok"

    with app.app_context():
        other = None
        try:
            product_id = factories.product(title="Rug", stock=5).id
            db.session.close()
            other = db.engine.connect()
            other.execute(sa.select(Product.id).where(Product.id == product_id).with_for_update())
            response = app.test_client().post(f"/_test/restock/{product_id}")
            assert response.status_code == 503
            assert int(response.headers["Retry-After"]) > 0
            other.rollback()
            assert app.test_client().post(f"/_test/restock/{product_id}").status_code == 200
        finally:
            if other is not None:
                other.close()
            db.session.remove()
            db.engine.dispose()


def test_other_database_errors_stay_server_errors(tmp_path) -> None:
    """Only "busy, try again" errors become the 503; a broken query is still a 500 (and logged)."""
    from tests.conftest import make_app

    app = make_app(tmp_path, TESTING=False)

    @app.post("/_test/broken")
    def broken():  # type: ignore[no-untyped-def]
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
        return "ok"

    with app.app_context():
        try:
            response = app.test_client().post("/_test/broken")
            assert response.status_code == 500
            assert "Retry-After" not in response.headers
        finally:
            db.session.remove()
            db.engine.dispose()
