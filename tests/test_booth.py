"""Booth mode: entries a phone sends (again and again, or twice at once) make one offline sale
each; the JSON endpoint refuses bad entries with a message, never a server error; the seller's
and the staff's booth pages."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.program import offline, rebuild
from app.program.calendar import tehran_today
from app.program.offline import OfflineLineInput
from app.program.sales_models import OFFLINE, OfflineSale, SalesDaily
from tests import factories

KEY = "0b6f4d1e-3c2a-4f55-9a7e-2f1d0c9b8a71"


def offline_total(seller_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SalesDaily.amount), 0)).where(
            SalesDaily.seller_id == seller_id, SalesDaily.channel == OFFLINE
        )
    )


def sales(seller_id: int) -> list[OfflineSale]:
    return list(
        db.session.scalars(sa.select(OfflineSale).where(OfflineSale.seller_id == seller_id))
    )


def record(seller: Seller, product: Product, key: str | None = KEY, **kw):  # type: ignore[no-untyped-def]
    args = {
        "sold_on": tehran_today(),
        "place": "نمایشگاه صنایع دستی",
        "lines": [OfflineLineInput(product.id, "", 2, 2_400_000)],
        "client_key": key,
        "payment_method": "cash",
    }
    args.update(kw)
    return offline.record_offline_sale(seller, None, **args)


# --- the service -------------------------------------------------------------------------------


def test_an_entry_sent_again_is_the_same_sale_and_changes_nothing(app):
    seller = factories.seller()
    product = factories.product(seller, stock=5)
    first = record(seller, product, take_stock=True)
    again = record(seller, product, take_stock=True)
    assert again.id == first.id
    assert [s.id for s in sales(seller.id)] == [first.id]
    assert first.payment_method == "cash" and first.client_key == KEY
    assert offline_total(seller.id) == 2_400_000
    db.session.refresh(product)
    assert product.stock == 3  # taken once
    assert rebuild.verify() == []
    # Another seller may use the same key (keys are the phone's, per seller).
    other = factories.seller()
    other_product = factories.product(other)
    assert record(other, other_product).id != first.id
    # Records without a key are never merged.
    record(seller, product, key=None)
    record(seller, product, key=None)
    assert len(sales(seller.id)) == 3


def test_a_bad_key_or_payment_method_is_refused(app):
    seller = factories.seller()
    product = factories.product(seller)
    with pytest.raises(ValidationFailed) as bad_key:
        record(seller, product, key="x" * 41)
    assert bad_key.value.errors == {"client_key": ["invalid"]}
    with pytest.raises(ValidationFailed) as bad_method:
        record(seller, product, payment_method="cheque")
    assert bad_method.value.errors == {"payment_method": ["invalid"]}
    assert sales(seller.id) == []


def test_two_sends_of_one_entry_at_the_same_moment_make_one_sale(app, monkeypatch):
    """Both sends pass the first look for the key before either has written (a barrier holds
    them there); the unique index lets one insert win and the other answers with its record."""
    seller = factories.seller()
    product = factories.product(seller, stock=5)
    seller_id, product_id = seller.id, product.id
    db.session.remove()

    real_lookup = offline._by_client_key
    barrier = threading.Barrier(2, timeout=10)
    local = threading.local()
    looked_again: list[str] = []

    def first_look_finds_nothing(seller_id: int, key: str) -> OfflineSale | None:
        if not getattr(local, "looked", False):
            local.looked = True
            barrier.wait()
            return None
        looked_again.append(key)  # only after the unique index refused an insert
        return real_lookup(seller_id, key)

    monkeypatch.setattr(offline, "_by_client_key", first_look_finds_nothing)
    results: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with app.app_context():
                shop = db.session.get(Seller, seller_id)
                item = db.session.get(Product, product_id)
                results.append(record(shop, item, take_stock=True).id)
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == 2 and results[0] == results[1]
    assert looked_again == [KEY]  # the loser's insert failed and it answered with the winner's
    assert len(sales(seller_id)) == 1
    assert offline_total(seller_id) == 2_400_000
    assert db.session.get(Product, product_id).stock == 3
    assert rebuild.verify() == []


# --- the JSON endpoint -------------------------------------------------------------------------


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    seller = factories.seller()
    mine = factories.product(seller, title="کاسه سفالی", price_amount=1_200_000, stock=3)
    theirs = factories.product(factories.seller(), title="رومیزی")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, seller.user.email)
    return {"seller": seller, "mine": mine, "theirs": theirs, "client": client}


def entry(product_id: object, **kw: object) -> dict:
    body = {
        "client_key": KEY,
        "sold_on": tehran_today().isoformat(),
        "place": "نمایشگاه",
        "payment_method": "card",
        "take_stock": False,
        "lines": [{"product_id": product_id, "quantity": "۲", "price": "۱۲۰٬۰۰۰"}],
    }
    body.update(kw)
    return body


def post(client, body: object, url: str = "/seller/booth/entries"):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def test_an_entry_is_recorded_once_however_often_it_is_sent(app, shop):
    client = shop["client"]
    first = post(client, entry(shop["mine"].id))
    assert first.status_code == 200, first.get_data(as_text=True)
    answer = first.get_json()
    assert answer["client_key"] == KEY and answer["amount"] == 2_400_000
    assert answer["amount_text"] == "240,000 toman"
    again = post(client, entry(shop["mine"].id))
    assert again.status_code == 200 and again.get_json()["id"] == answer["id"]
    (sale,) = sales(shop["seller"].id)
    assert sale.payment_method == "card" and sale.recorded_by_id == shop["seller"].user_id
    assert [(x.product_id, x.quantity, x.amount) for x in sale.lines] == [
        (shop["mine"].id, 2, 2_400_000)
    ]


BAD = [
    pytest.param("{not json", "could not be read", id="not-json"),
    pytest.param("[1, 2]", "could not be read", id="a-list"),
    pytest.param({"client_key": KEY}, "", id="nearly-empty"),
    pytest.param(entry(1, client_key="short"), "key is not valid", id="bad-key"),
    pytest.param(entry(1, client_key=12345678), "key is not valid", id="key-a-number"),
    pytest.param(entry(1, payment_method="cheque"), "cash or card", id="bad-method"),
    pytest.param(entry(1, sold_on="1405-13-40"), "Date of the sale", id="bad-date"),
    pytest.param(
        entry(1, sold_on=(tehran_today() + timedelta(days=2)).isoformat()), "future", id="future"
    ),
    pytest.param(entry(1, place="  "), "Place", id="no-place"),
    pytest.param(entry(1, lines=[]), "Products", id="no-lines"),
    pytest.param(entry(1, lines="x"), "Products", id="lines-a-text"),
    pytest.param(entry(1, lines=[{"product_id": 1}] * 51), "Products", id="too-many-lines"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_a_bad_entry_is_a_400_with_a_message(app, shop, body, message):
    response = post(shop["client"], body)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] and message in answer["error"]
    assert sales(shop["seller"].id) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"quantity": -1}, "quantity of at least 1"),
        ({"quantity": 0}, "quantity of at least 1"),
        ({"quantity": 10**30}, "quantity of at least 1"),
        ({"quantity": "۱۰۰۰۰۰۱"}, "quantity of at least 1"),
        ({"quantity": True}, "quantity of at least 1"),
        ({"quantity": 1.5}, "quantity of at least 1"),
        ({"price": "-5"}, "amount in toman"),
        ({"price": "9" * 40}, "amount in toman"),
        ({"price": 1e300}, "amount in toman"),
        ({"price": None}, "amount in toman"),
        ({"price": "999999999999999", "quantity": 100_000}, "too large"),
        ({"product_id": 10**30}, "valid value"),
        ({"product_id": "abc"}, "valid value"),
        ({"product_id": None}, "valid value"),
    ],
)
def test_a_bad_line_is_a_400_with_a_message(app, shop, line, message):
    body = entry(shop["mine"].id)
    body["lines"][0].update(line)
    response = post(shop["client"], body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_json()["error"]
    assert sales(shop["seller"].id) == []


def test_another_sellers_product_and_missing_stock_are_refused(app, shop):
    client = shop["client"]
    response = post(client, entry(shop["theirs"].id))
    assert response.status_code == 400
    assert response.get_json()["error"] == "A product on the list is not one of yours."
    body = entry(shop["mine"].id, take_stock=True)
    body["lines"][0]["quantity"] = 4  # three in stock
    response = post(client, body)
    assert response.status_code == 409
    assert "Not enough" in response.get_json()["error"]
    assert sales(shop["seller"].id) == []
    db.session.refresh(shop["mine"])
    assert shop["mine"].stock == 3


def test_the_sellers_booth_page(app, shop):
    draft = factories.product(shop["seller"], title="پیش‌نویس", status=ProductStatus.DRAFT)
    html = shop["client"].get("/seller/booth").get_data(as_text=True)
    assert "data-booth" in html and "js/booth.js" in html
    assert "کاسه سفالی" in html and draft.title not in html and "رومیزی" not in html
    assert 'data-price="120000"' in html
    assert 'href="/seller/offline-sales"' in html  # the form, without script
    assert 'data-record-url="/seller/booth/entries"' in html
    assert 'data-worker-url="/seller/booth/worker.js"' in html
    assert "/seller/booth" in shop["client"].get("/seller/offline-sales").get_data(as_text=True)


def test_the_booth_worker_may_serve_the_booth_page_alone(app, shop):
    response = shop["client"].get("/seller/booth/worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/seller/booth"
    assert "bazarche-booth-" in response.get_data(as_text=True)


def test_staff_record_at_a_booth_for_a_seller(app, shop):
    staff = factories.user(Role.STAFF, email="staff@example.com")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    seller = shop["seller"]
    html = client.get(f"/admin/sellers/{seller.id}/booth").get_data(as_text=True)
    assert "کاسه سفالی" in html
    assert f'data-record-url="/admin/sellers/{seller.id}/booth/entries"' in html
    worker = client.get(f"/admin/sellers/{seller.id}/booth/worker.js")
    assert worker.headers["Service-Worker-Allowed"] == f"/admin/sellers/{seller.id}/booth"
    listing = client.get(f"/admin/offline-sales?seller_id={seller.id}").get_data(as_text=True)
    assert f"/admin/sellers/{seller.id}/booth" in listing
    url = f"/admin/sellers/{seller.id}/booth/entries"
    response = post(client, entry(shop["mine"].id), url)
    assert response.status_code == 200, response.get_data(as_text=True)
    (sale,) = sales(seller.id)
    assert sale.recorded_by_id == staff.id
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "offline_sale.create")
    )
    assert event is not None and event.actor_id == staff.id
    response = post(client, entry(shop["theirs"].id, client_key="a" * 36), url)
    assert response.status_code == 400
    assert "does not belong to this seller" in response.get_json()["error"]
    # Only approved sellers have a booth.
    applicant = factories.seller(status=SellerStatus.APPLIED)
    assert client.get(f"/admin/sellers/{applicant.id}/booth").status_code == 404
    assert post(client, entry(1), f"/admin/sellers/{applicant.id}/booth/entries").status_code == 404


def test_an_entry_needs_the_form_token_in_its_header(csrf_app):
    seller = factories.seller()
    product = factories.product(seller)
    client = csrf_app.test_client()
    client.set_cookie("locale", "en")
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/auth/login",
        data={"email": seller.user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    html = client.get("/seller/booth").get_data(as_text=True)
    token = html.split('data-csrf="', 1)[1].split('"', 1)[0]
    assert post(client, entry(product.id)).status_code == 400  # no token
    response = client.post(
        "/seller/booth/entries",
        data=json.dumps(entry(product.id)),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(sales(seller.id)) == 1
    assert date.fromisoformat(entry(1)["sold_on"]) == sales(seller.id)[0].sold_on


def test_a_listing_with_options_is_a_tile_per_variant_and_its_stock_is_the_variants(app, shop):
    shirt = factories.product_with_variants(shop["seller"], title="پیراهن نخی", stock=3)
    blue_m = factories.variant_of(shirt, "M", "آبی")
    html = shop["client"].get("/seller/booth").get_data(as_text=True)
    assert f'data-variant-id="{blue_m.id}"' in html
    assert "پیراهن نخی (سایز: M، رنگ: آبی)" in html
    line = {"product_id": shirt.id, "variant_id": blue_m.id, "quantity": 2, "price": "۹۰٬۰۰۰"}
    answer = post(shop["client"], entry(shirt.id, take_stock=True, lines=[line]))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(blue_m), blue_m.id).stock == 1
    assert db.session.get(type(shirt), shirt.id).stock == 6 * 3 - 2  # the mirror follows
    (sale,) = sales(shop["seller"].id)
    assert [(x.product_id, x.variant_id, x.quantity) for x in sale.lines] == [
        (shirt.id, blue_m.id, 2)
    ]
    # A variant id that is not a number is refused, never a 500.
    bad = dict(line, variant_id="abc")
    refused = post(shop["client"], entry(shirt.id, client_key="k" * 36, lines=[bad]))
    assert refused.status_code == 400
