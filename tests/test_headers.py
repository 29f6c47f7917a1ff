"""Response headers: HSTS over HTTPS, and no browser or proxy keeps a page made for one visitor
(``Cache-Control: no-store``), while anonymous pages stay in the page cache and static files
and photos keep their long cache."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from tests import factories

HSTS = "Strict-Transport-Security"


def logged_in(app, role: Role = Role.CUSTOMER):  # type: ignore[no-untyped-def]
    user = factories.user(role, email=f"{role.value}@example.com")
    client = app.test_client()
    assert factories.login(client, user.email).status_code == 302
    return client, user


def test_pages_served_over_https_carry_hsts(client):  # type: ignore[no-untyped-def]
    response = client.get("/", base_url="https://bazarche.example")
    assert response.headers[HSTS].startswith("max-age=31536000")
    assert HSTS in client.get("/auth/login", base_url="https://bazarche.example").headers


def test_pages_served_over_plain_http_do_not(client):  # type: ignore[no-untyped-def]
    assert HSTS not in client.get("/").headers


def test_https_behind_a_proxy_counts_as_https(tmp_path):  # type: ignore[no-untyped-def]
    from app.core.extensions import db
    from tests.conftest import make_app

    app = make_app(tmp_path, PROXY_FIX=1)
    with app.app_context():
        try:
            response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
            assert HSTS in response.headers
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("path", ["/", "/orders", "/cart", "/checkout", "/auth/password"])
def test_every_page_for_a_logged_in_customer_is_no_store(app, path):  # type: ignore[no-untyped-def]
    client, _user = logged_in(app)
    response = client.get(path)
    assert response.status_code < 500
    assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)


def test_a_product_page_seen_logged_in_is_no_store(app):  # type: ignore[no-untyped-def]
    client, _user = logged_in(app)
    product = factories.product(title="Rug", stock=3)
    client.post("/cart/add", data={"product_id": product.id, "quantity": "1"})
    response = client.get(f"/p/{product.id}")
    assert response.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("path", ["/seller/", "/seller/listings", "/seller/orders"])
def test_seller_pages_are_no_store(app, path):  # type: ignore[no-untyped-def]
    client, user = logged_in(app, Role.SELLER)
    factories.seller(owner=user)
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    assert response.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("path", ["/admin/", "/admin/sellers", "/admin/payments"])
def test_staff_pages_are_no_store(app, path):  # type: ignore[no-untyped-def]
    client, _user = logged_in(app, Role.STAFF)
    response = client.get(path)
    assert response.status_code < 400, (path, response.status_code)
    assert response.headers.get("Cache-Control") == "no-store"


def test_a_response_that_sets_the_session_is_no_store(client):  # type: ignore[no-untyped-def]
    product = factories.product(title="Rug", stock=3)
    response = client.post("/cart/add", data={"product_id": product.id, "quantity": "1"})
    assert "Set-Cookie" in response.headers  # an anonymous cart in the session
    assert response.headers.get("Cache-Control") == "no-store"
    page = client.get("/cart")  # shows this visitor's cart and its flashed message
    assert page.headers.get("Cache-Control") == "no-store"


def test_anonymous_pages_stay_in_the_page_cache(app, client):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_ENABLED"] = True
    product = factories.product(title="Kilim", stock=2)
    caches = [client.get(f"/p/{product.id}").headers.get("X-Page-Cache") for _ in range(3)]
    assert caches == ["miss", "hit", "hit"]


def test_static_files_and_photos_keep_their_long_cache(app):  # type: ignore[no-untyped-def]
    client, _user = logged_in(app)
    response = client.get("/static/css/bazarche.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_logged_out_visitor_pages_are_not_marked(client):  # type: ignore[no-untyped-def]
    client.get("/")  # the session cookie is set (and that reply is no-store)
    response = client.get("/search?q=rug")
    assert "Set-Cookie" not in response.headers
    assert response.headers.get("Cache-Control") != "no-store"
