"""On SQLite every transaction of a POST begins IMMEDIATE (it holds the one write lock), so slow
work that needs no database — hashing a password, decoding a picture, talking to the mail server —
must run with no transaction open, or every other writer of every worker waits behind it.

Each test makes the slow step ask, while it runs, whether another connection could take the
write lock at once.
"""

from __future__ import annotations

import io
import re
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from flask_mailman import EmailMultiAlternatives

from app.accounts import passwords
from app.accounts import services as accounts
from app.accounts.models import Role
from app.catalog import photos
from app.catalog.models import ProductStatus, SellerStatus
from app.core.extensions import db
from tests import factories
from tests.helpers import jpeg
from tests.test_sessions import a_seller, profile_form


def _sqlite_only(app) -> None:  # type: ignore[no-untyped-def]
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single write lock; PostgreSQL reads take no lock that blocks writers")


def another_writer_gets_the_lock() -> bool:
    """Whether a separate connection can begin a write transaction right now (no waiting)."""
    con = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        con.close()


def spy(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[bool]:
    """Wrap ``owner.name`` so that each call first records whether the lock was free."""
    seen: list[bool] = []
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        seen.append(another_writer_gets_the_lock())
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)
    return seen


def test_a_login_checks_the_password_holding_no_lock(app, client, monkeypatch):
    _sqlite_only(app)
    factories.user(email="buyer@example.com")
    seen = spy(monkeypatch, passwords, "verify")
    response = factories.login(client, "buyer@example.com")
    assert response.status_code == 302
    assert seen == [True]
    # A wrong password too.
    client.post("/auth/logout")
    seen.clear()
    response = client.post(
        "/auth/login", data={"email": "buyer@example.com", "password": "not the password"}
    )
    assert response.status_code != 302
    assert seen == [True]


def test_a_registration_hashes_the_password_holding_no_lock(app, client, monkeypatch):
    _sqlite_only(app)
    seen = spy(monkeypatch, accounts, "hash_password")
    response = client.post(
        "/auth/register",
        data={
            "name": "Mina",
            "email": "mina@example.com",
            "password": "a long and unusual phrase 42",
            "confirm": "a long and unusual phrase 42",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert seen == [True]


def test_order_mails_go_out_holding_no_lock(app, client, monkeypatch):
    _sqlite_only(app)
    shop = factories.seller(name="Mat Weavers")
    mat = factories.product(shop, title="Palm-leaf mat", stock=5)
    factories.user(email="buyer@example.com")
    factories.login(client, "buyer@example.com")
    client.post("/cart/add", data={"product_id": mat.id, "quantity": 1})
    html = client.get("/checkout").get_data(as_text=True)
    fields = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', html))
    seen = spy(monkeypatch, EmailMultiAlternatives, "send")
    response = client.post(
        "/checkout",
        data={
            **fields,
            "recipient_name": "Mina Rezaei",
            "mobile": "09121234567",
            "province": "سیستان و بلوچستان",
            "city": "Zahedan",
            "address": "Daneshgah St 12",
            "postal_code": "9816745639",
            "payment_method": "cash",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    assert seen and all(seen), seen  # the customer's and the seller's mail


def test_a_logo_is_decoded_holding_no_lock(app, client, monkeypatch):
    _sqlite_only(app)
    seller = a_seller()
    factories.login(client, "shop@example.com")
    seen = spy(monkeypatch, photos, "process_image")
    response = client.post(
        "/seller/profile",
        data={**profile_form(seller), "logo": (io.BytesIO(jpeg((120, 120))), "logo.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert seen == [True]


def test_listing_photos_are_decoded_holding_no_lock(app, client, monkeypatch):
    _sqlite_only(app)
    owner = factories.user(Role.SELLER, email="shop@example.com")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    product = factories.product(seller, status=ProductStatus.DRAFT, with_image=False)
    factories.login(client, "shop@example.com")
    seen = spy(monkeypatch, photos, "process_image")
    pictures = [(io.BytesIO(jpeg((120, 90))), "a.jpg"), (io.BytesIO(jpeg((90, 120))), "b.jpg")]
    response = client.post(
        f"/seller/listings/{product.id}/photos",
        data={"photos": pictures},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert seen == [True, True]


def test_imported_photos_are_decoded_holding_no_lock(app, monkeypatch, tmp_path):
    _sqlite_only(app)
    seller = factories.seller()
    (tmp_path / "bowl.jpg").write_bytes(jpeg((120, 90)))
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("title,price,images\nKalpurgan bowl,450000,bowl.jpg\n", encoding="utf-8")
    seen = spy(monkeypatch, photos, "process_image")
    args = ["import-products", "--seller", seller.slug, str(csv_file), "--images", str(tmp_path)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert seen == [True]


def test_postgresql_waits_for_a_lock_no_longer_than_the_busy_timeout(app):
    """PostgreSQL's own lock wait is unbounded; the app's connections end it like SQLite's busy
    wait, so a stuck lock gives the 503 page before gunicorn kills the worker."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout")
    seconds = app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]
    shown = db.session.scalar(sa.text("SHOW lock_timeout"))
    assert shown == f"{int(seconds)}s", shown
