"""Links the market sends out (e-mails, card-payment return addresses) are built from the
configured site address only, and a request for a host the market does not serve is refused
before anything else runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.core.extensions import db
from app.core.links import site_url, site_url_for, trusted_hosts
from app.core.timeutil import utcnow
from app.notifications.outbox import SentMail, sent_mail
from app.orders import cart as carts
from app.orders.models import Order
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments import services as payments
from app.payments.models import Payment, Provider
from tests import factories
from tests.conftest import running_app

SITE = "https://bazarche.example"
EVIL = "evil.example"

CHECKOUT = {
    "recipient_name": "مینا رضایی",
    "mobile": "09121234567",
    "province": "سیستان و بلوچستان",
    "city": "زاهدان",
    "address": "خیابان دانشگاه، پلاک ۱۲",
    "postal_code": "9816745639",
    "payment_method": "cash",
    "checkout_token": "site-links-token-0001",
}
ADDRESS = Address(
    **{k: v for k, v in CHECKOUT.items() if k not in ("payment_method", "checkout_token")}
)
LINK = re.compile(r"https?://[^\s\"'<>]+")


def build(tmp_path: Path, **extra: object) -> Iterator:
    yield from running_app(tmp_path, **extra)


@pytest.fixture
def site(tmp_path: Path) -> Iterator:
    """An app whose configured address differs from the host the test client talks to."""
    yield from build(tmp_path, SITE_URL=SITE)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator:
    """The same behind one reverse proxy that sets X-Forwarded-*."""
    yield from build(tmp_path, SITE_URL=SITE, PROXY_FIX=1)


def mails(app) -> list[SentMail]:  # type: ignore[no-untyped-def]
    return sent_mail(app.config["MAIL_DIR"])


def links(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [link for m in mails(app) for link in LINK.findall(m.text + m.html)]


def market() -> dict:
    seller = factories.seller(name="کارگاه سوزن‌دوزی")
    buyer = factories.user(email="mina@example.com", name="مینا")
    product = factories.product(seller, title="رومیزی سوزن‌دوزی", stock=5)
    return {"seller": seller, "buyer": buyer, "product": product}


def buyer_client(app, world):  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, world["buyer"].email)
    client.post("/cart/add", data={"product_id": world["product"].id, "quantity": 1})
    return client


def as_host(client, host: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Headers that send the client's own session to this app under another ``Host`` (as a
    client that connects to the market and names another host would)."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "logged in"
    client.set_cookie("session", cookie.value, domain=host)
    return {"Host": host}


def order_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order)) or 0


# ---- foreign hosts are refused -----------------------------------------------------------------


def test_a_checkout_for_a_foreign_host_is_refused_and_mails_nobody(site):
    world = market()
    client = buyer_client(site, world)
    response = client.post("/checkout", data=CHECKOUT, headers=as_host(client, EVIL))
    assert response.status_code == 400
    assert order_count() == 0
    assert mails(site) == []


def test_a_forwarded_foreign_host_is_refused_behind_a_proxy(proxied):
    world = market()
    client = buyer_client(proxied, world)
    response = client.post("/checkout", data=CHECKOUT, headers={"X-Forwarded-Host": EVIL})
    assert response.status_code == 400
    assert order_count() == 0
    assert mails(proxied) == []
    # The proxy's own name for the site is served.
    ok = client.get("/", headers={"X-Forwarded-Host": "bazarche.example"})
    assert ok.status_code == 200


def test_a_foreign_host_gets_a_plain_400_page_and_api_answer(site):
    client = site.test_client()
    page = client.get("/", headers={"Host": EVIL})
    assert page.status_code == 400
    assert EVIL not in page.get_data(as_text=True)
    api = client.get("/api/v1/products", headers={"Host": EVIL})
    assert api.status_code == 400
    assert api.get_json()["error"]["status"] == 400


def test_a_cached_page_is_not_served_to_a_foreign_host(site):
    market()
    client = site.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/").headers.get("X-Page-Cache") == "hit"  # the page is in the cache
    response = client.get("/", headers={"Host": EVIL})
    assert response.status_code == 400
    assert "X-Page-Cache" not in response.headers


def test_the_site_host_and_allowed_hosts_are_served(tmp_path):
    for app in build(tmp_path, SITE_URL=SITE, ALLOWED_HOSTS=["shop.example", ".mirror.example"]):
        client = app.test_client()
        for host in ("bazarche.example", "shop.example", "a.mirror.example", "localhost"):
            assert client.get("/", headers={"Host": host}).status_code == 200, host
        assert client.get("/", headers={"Host": "bazarche.example.evil"}).status_code == 400


def test_trusted_hosts_come_from_the_site_address_and_the_allowed_list():
    production = {
        "SITE_URL": "https://Bazarche.example:8443/market",
        "ALLOWED_HOSTS": "a.example, b.example",
    }
    assert trusted_hosts(production) == ["bazarche.example", "a.example", "b.example"]
    # Local names only when debugging or testing.
    assert "localhost" in trusted_hosts({**production, "DEBUG": True})
    assert "127.0.0.1" in trusted_hosts({**production, "TESTING": True})
    assert "localhost" not in trusted_hosts(production)
    # With no site address configured (the development default of `make run`), the local names
    # answer too, so http://localhost:5000 works as well as http://127.0.0.1:5000.
    assert trusted_hosts({}) == ["127.0.0.1", "localhost", "::1"]


# ---- every link in a message is the site's -----------------------------------------------------


def test_the_new_order_mails_link_to_the_site_address(site):
    world = market()
    client = buyer_client(site, world)
    response = client.post("/checkout", data=CHECKOUT)  # through the test host, localhost
    assert response.status_code == 303
    (order_id,) = db.session.scalars(sa.select(Order.id))
    seller_mail = [m for m in mails(site) if m.to == world["seller"].user.email]
    assert len(seller_mail) == 1
    assert f"{SITE}/seller/orders/{order_id}" in seller_mail[0].text
    found = links(site)
    assert found and all(link.startswith(SITE + "/") for link in found), found


def test_a_staff_hide_mails_a_link_to_the_site_address(site):
    world = market()
    staff = factories.user(Role.STAFF, name="Mahsa")
    client = site.test_client()
    factories.login(client, staff.email)
    product = world["product"]
    response = client.post(
        f"/admin/listings/{product.id}/hide", data={"reason": "عکس با کالا یکی نیست."}
    )
    assert response.status_code == 302
    (mail,) = mails(site)
    assert f"{SITE}/seller/listings/{product.id}/edit" in mail.text
    assert all(link.startswith(SITE + "/") for link in links(site))

    # The same hide sent to a foreign host changes nothing and mails nobody.
    other = factories.product(world["seller"], title="کاسه سفالی")
    refused = client.post(
        f"/admin/listings/{other.id}/hide",
        data={"reason": "عکس با کالا یکی نیست."},
        headers=as_host(client, EVIL),
    )
    assert refused.status_code == 400
    assert len(mails(site)) == 1


def test_a_command_builds_the_same_links_as_a_request(site):
    world = market()
    carts.add(world["buyer"], None, world["product"].id, 1)
    payment = payment_checkout.place_checkout(
        world["buyer"],
        ADDRESS,
        Provider.STRIPE,
        "site-links-card-token",
        currency="IRR",
        expiry_minutes=60,
        max_open_cash_orders=100,
    ).payment
    order_id = payment.orders[0].id
    db.session.get(Payment, payment.id).expires_at = utcnow() - timedelta(minutes=5)
    db.session.commit()

    result = site.test_cli_runner().invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    (mail,) = [m for m in mails(site) if m.to == "mina@example.com"]
    assert f"{SITE}/orders/{order_id}" in mail.text
    assert all(link.startswith(SITE + "/") for link in links(site))
    with site.test_request_context("/", headers={"Host": "localhost"}):
        inside = site_url_for("shop.order_detail", order_id=order_id)
    assert inside == site_url_for("shop.order_detail", order_id=order_id)
    assert inside == f"{SITE}/orders/{order_id}"


def test_card_payment_return_addresses_are_the_sites(site, monkeypatch):
    started: list[tuple[str, str]] = []

    def start(payment, *, success_url, cancel_url):  # type: ignore[no-untyped-def]
        started.append((success_url, cancel_url))
        return "https://pay.example/session/1"

    monkeypatch.setattr(payments, "card_payments_enabled", lambda: True)
    monkeypatch.setattr(payments, "start_card_payment", start)
    world = market()
    client = buyer_client(site, world)
    response = client.post("/checkout", data={**CHECKOUT, "payment_method": "card"})
    assert response.status_code == 303
    payment_id = db.session.scalar(sa.select(Payment.id))
    assert started == [(f"{SITE}/checkout/return/{payment_id}", f"{SITE}/cart")]


def test_the_old_mail_site_setting_still_names_the_site(tmp_path):
    for app in build(tmp_path, SITE_URL="", MAIL_SITE_URL="https://old.example/"):
        assert site_url() == "https://old.example"
        assert site_url_for("shop.home") == "https://old.example/"
        assert app.test_client().get("/", headers={"Host": "old.example"}).status_code == 200
        assert app.test_client().get("/", headers={"Host": EVIL}).status_code == 400


def test_a_site_under_a_path_keeps_its_path(tmp_path):
    for _app in build(tmp_path, SITE_URL="https://example.org/market/"):
        assert site_url_for("shop.cart") == "https://example.org/market/cart"


@pytest.mark.parametrize(
    "bad", ["bazarche.example", "ftp://bazarche.example", "https://", "https://a.example/?x=1"]
)
def test_a_site_address_that_is_no_web_address_stops_the_start(tmp_path, bad):
    from app import create_app

    with pytest.raises(ValueError, match="SITE_URL"):
        create_app(
            {
                "SITE_URL": bad,
                "SECRET_KEY": "x",
                "INSTANCE_DIR": str(tmp_path),
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
            }
        )
