"""Odd input is refused with a 400 or 404, never a 500 (PostgreSQL refuses NUL in text and
integers past 32 bits, so these tests matter most there; they run on both databases).

- a NUL byte (or another C0 control character but tab, newline and carriage return) in a path,
  a query string or any form field of any form endpoint → 400, nothing written;
- ids past the database's integer range in forms and query strings → a clear refusal;
- a correctly signed Stripe webhook whose body is not a JSON object → 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from app.accounts.models import Role, User
from app.catalog.models import Product
from app.core.extensions import db
from tests import factories
from tests.conftest import make_app
from tests.fake_stripe import fake_stripe_fixture, signed  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parent.parent
NUL = "\x00"
TOO_BIG = ["99999999999", "2147483648", "9" * 30, "-2147483649"]


# ---- the world the endpoints act on -----------------------------------------------------------------


@pytest.fixture
def world(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    staff = factories.user(Role.STAFF, email="staff@example.com")
    owner = factories.user(Role.SELLER, email="maker@example.com")
    shop = factories.seller(owner=owner)
    item = factories.product(shop, title="Kilim", stock=5)
    customer = factories.user(email="buyer@example.com")
    return {
        "staff": staff.email,
        "seller": owner.email,
        "customer": customer.email,
        "ids": {
            "product_id": item.id,
            "image_id": item.images[0].id,
            "seller_id": shop.id,
        },
    }


def form_field_names() -> set[str]:
    """Every field name of every form: WTForms classes and the hand-written forms' inputs."""
    import app.admin  # noqa: F401  (every blueprint's forms imported)
    import app.auth  # noqa: F401
    import app.sellers  # noqa: F401
    import app.shop  # noqa: F401

    names: set[str] = set()
    stack = list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for klass in cls.__mro__:
            names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    for template in (ROOT / "templates").rglob("*.html"):
        names.update(re.findall(r'name="([A-Za-z_][\w\-]*)"', template.read_text()))
    names.discard("csrf_token")
    return names


def post_endpoints(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rules = [
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and rule.endpoint != "shop.stripe_webhook"
    ]
    return sorted(rules)


def role_for(path: str) -> str | None:
    if path.startswith("/admin"):
        return "staff"
    if path.startswith("/seller") and not path.startswith("/seller/apply"):
        return "seller"
    if path.startswith("/auth/register") or path.startswith("/auth/login"):
        return None
    return "customer"


def url_for_rule(rule: str, ids: dict[str, int]) -> str:
    return re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule)


def client_as(app, world: dict[str, Any], role: str | None):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role is not None:
        reply = factories.login(client, world[role])
        assert reply.status_code == 302, reply.status_code
    return client


def _all_post_rules() -> Iterator[str]:
    # Listed at collection time from a throw-away app, so each endpoint is its own test.
    import tempfile

    from app import create_app
    from tests.conftest import settings

    scratch = create_app(settings(Path(tempfile.mkdtemp(prefix="bazarche-rules-"))))
    for endpoint, _rule in post_endpoints(scratch):
        yield endpoint


POST_ENDPOINTS = list(_all_post_rules())


# ---- NUL and other control characters ------------------------------------------------------------


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_a_nul_in_any_field_of_any_form_is_refused(app, world, endpoint):  # type: ignore[no-untyped-def]
    rule = next(r for e, r in post_endpoints(app) if e == endpoint)
    client = client_as(app, world, role_for(rule))
    url = url_for_rule(rule, world["ids"])
    names = sorted(form_field_names())
    before = _row_counts()
    for name in names:
        response = client.post(url, data={name: f"ok{NUL}ok"})
        assert response.status_code == 400, (endpoint, name, response.status_code)
    # All fields at once, as a browser would send a whole form.
    response = client.post(url, data={name: f"x{NUL}" for name in names})
    assert response.status_code == 400, (endpoint, response.status_code)
    assert _row_counts() == before  # nothing written


def _row_counts() -> dict[str, int]:
    db.session.rollback()
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
        if table.name not in ("login_session",)
    }


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x1b", "\x1f"])
def test_anonymous_registration_refuses_control_characters(client, char):  # type: ignore[no-untyped-def]
    form = {
        "name": "Zahra",
        "email": "zahra@example.com",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    for field in form:
        response = client.post("/auth/register", data={**form, field: form[field] + char})
        assert response.status_code == 400, (field, response.status_code)
        assert "could not be understood" in response.get_data(as_text=True) or (
            "lang=" in response.get_data(as_text=True)
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_anonymous_checkout_with_a_nul_is_refused(app, world):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.post("/cart/add", data={"product_id": world["ids"]["product_id"], "quantity": "1"})
    form = {
        "recipient_name": "Mina",
        "mobile": "09121234567",
        "province": "تهران",
        "city": "Tehran",
        "address": "Enghelab St 1",
        "postal_code": "1234567890",
        "payment_method": "cash",
        "email": "guest@example.com",
    }
    for field in form:
        response = client.post("/checkout", data={**form, field: "a" + NUL})
        assert response.status_code == 400, (field, response.status_code)


def test_tab_newline_and_carriage_return_are_ordinary_text(app, world):  # type: ignore[no-untyped-def]
    client = client_as(app, world, "seller")
    product_id = world["ids"]["product_id"]
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data={
            "title": "Kilim\tblue",
            "description": "Line one\r\nLine two\nLine three",
            "category_id": "0",
            "price_toman": "1000",
            "stock": "2",
            "status": "draft",
        },
    )
    assert response.status_code == 302, response.status_code
    db.session.rollback()
    assert "Line two" in db.session.get(Product, product_id).description


@pytest.mark.parametrize(
    "path",
    [
        "/s/%00",
        "/c/%00",
        "/county/%00",
        "/s/a%00b",
        "/search?q=%00",
        "/search?q=rug%01",
        "/?sort=%00",
        "/api/v1/products?q=%00",
        "/api/v1/sellers/%00",
        "/auth/login?next=%00",
        "/seller/listings?status=%00",
        "/admin/offline-sales?seller_id=1%00",
    ],
)
def test_a_nul_in_a_path_or_query_is_a_400(app, world, path):  # type: ignore[no-untyped-def]
    client = client_as(app, world, "staff")
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)


def test_a_nul_in_a_query_string_key_is_a_400(client):  # type: ignore[no-untyped-def]
    assert client.get("/?a%00b=1").status_code == 400


# ---- integers past the column range ---------------------------------------------------------------


@pytest.mark.parametrize("value", TOO_BIG)
def test_a_product_id_past_the_range_in_the_cart_forms_is_refused(app, world, value):  # type: ignore[no-untyped-def]
    for role in (None, "customer"):
        client = client_as(app, world, role)
        for url in ("/cart/add", "/cart/update"):
            response = client.post(url, data={"product_id": value, "quantity": "1"})
            assert response.status_code < 500, (role, url, response.status_code)
            assert response.status_code in (302, 303, 400, 404), (url, response.status_code)


@pytest.mark.parametrize("value", TOO_BIG)
def test_a_seller_id_past_the_range_is_refused(app, world, value):  # type: ignore[no-untyped-def]
    client = client_as(app, world, "staff")
    for url in (
        f"/admin/offline-sales?seller_id={value}",
        f"/admin/offline-sales/new?seller_id={value}",
    ):
        assert client.get(url).status_code < 500, url
    response = client.post("/admin/offline-sales/new", data={"seller_id": value})
    assert response.status_code < 500


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_numbers_past_the_range_in_any_form_field_are_never_a_500(app, world, endpoint):  # type: ignore[no-untyped-def]
    rule = next(r for e, r in post_endpoints(app) if e == endpoint)
    client = client_as(app, world, role_for(rule))
    url = url_for_rule(rule, world["ids"])
    names = sorted(form_field_names())
    for value in ("2147483648", "99999999999999999999", "-2147483649"):
        response = client.post(url, data={name: value for name in names})
        assert response.status_code < 500, (endpoint, value, response.status_code)


def get_endpoints(app) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and "<" not in rule.rule
        and not rule.rule.startswith(("/static", "/media", "/dev/"))
    )


def test_ids_past_the_range_in_any_query_string_are_never_a_500(app, world):  # type: ignore[no-untyped-def]
    query = "&".join(
        f"{name}={TOO_BIG[0]}"
        for name in (
            "page",
            "seller_id",
            "product_id",
            "category",
            "category_id",
            "county",
            "county_id",
            "sector",
            "sector_id",
            "order_id",
            "y",
            "m",
            "year",
            "month",
            "min_price",
            "max_price",
        )
    )
    for role in ("staff", "seller", "customer"):
        client = client_as(app, world, role)
        for path in get_endpoints(app):
            response = client.get(f"{path}?{query}")
            if path == "/readyz":  # its 503 is an answer (this test's folder has no search index)
                assert response.status_code in (200, 503), (role, path, response.status_code)
                assert response.get_json()["checks"]["database"]["status"] == "ok"
                continue
            assert response.status_code < 500, (role, path, response.status_code)


# ---- Stripe's webhook ---------------------------------------------------------------------------


@pytest.fixture
def stripe_app(tmp_path, fake_stripe) -> Iterator:  # type: ignore[no-untyped-def]
    from tests.fake_stripe import stripe_settings

    app = make_app(tmp_path, **stripe_settings(fake_stripe))
    with app.app_context():
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "event",
    [
        [],
        [{"id": "evt_1", "type": "checkout.session.completed"}],
        "an event",
        12,
        None,
    ],
    ids=["empty-array", "array", "string", "number", "null"],
)
def test_a_signed_webhook_that_is_not_an_object_is_a_400(stripe_app, event):  # type: ignore[no-untyped-def]
    body, signature = signed(event)  # type: ignore[arg-type]
    response = stripe_app.test_client().post(
        "/payments/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_1", "type": "checkout.session.completed", "data": []},
        {"id": "evt_2", "type": "checkout.session.completed", "data": {"object": []}},
        {"id": ["evt"], "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": "evt\u0000", "type": "checkout.session.completed", "data": {"object": {"id": "x"}}},
        {
            "id": "evt_3",
            "type": "checkout.session.completed",
            "data": {"object": {"id": "cs_\u0000", "metadata": ["payment_id"]}},
        },
        {
            "id": "evt_4",
            "type": "checkout.session.completed",
            "data": {"object": {"client_reference_id": "99999999999"}},
        },
        {
            "id": "evt_5",
            "type": "charge.refunded",
            "data": {"object": {"payment_intent": "pi_\u0000"}},
        },
    ],
)
def test_a_signed_webhook_of_odd_shape_is_never_a_500(stripe_app, event):  # type: ignore[no-untyped-def]
    body, signature = signed(event)
    response = stripe_app.test_client().post(
        "/payments/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code in (200, 400), response.status_code
