"""The account page and the download of one's own data: everything kept about the account, none
of its secrets, nobody else's, and only after a fresh login."""

from __future__ import annotations

import json

from app.accounts.models import Role
from app.catalog.models import SellerStatus
from app.core.extensions import db
from tests import factories
from tests.test_order_flow import as_user, place


def test_the_account_page_is_linked_from_the_header_and_offers_the_download(app):
    mina = factories.user(email="mina@example.com", name="مینا رضایی")
    client = as_user(app, mina)
    home = client.get("/").get_data(as_text=True)
    assert '<a href="/auth/account">مینا رضایی</a>' in home
    page = client.get("/auth/account").get_data(as_text=True)
    assert "mina@example.com" in page and 'href="/auth/account/data"' in page
    assert app.test_client().get("/auth/account").status_code == 302  # log in first


def test_the_download_holds_the_customers_own_data_and_no_secrets(app):
    mina = factories.user(email="mina@example.com", name="مینا")
    sara = factories.user(email="sara@example.com", name="سارا")
    product = factories.product(title="رومیزی", price_amount=1_250_000, stock=10)
    mine = place(mina, (product, 2)).orders[0]
    place(sara, (product, 1))
    client = as_user(app, mina)
    client.post("/cart/add", data={"product_id": product.id, "quantity": "1"})

    response = client.get("/auth/account/data")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "mina@example.com" and data["account"]["name"] == "مینا"
    assert [o["id"] for o in data["orders"]] == [mine.id]
    [order] = data["orders"]
    assert order["recipient"]["mobile"] == "09121234567" and order["total_amount"] > 0
    assert order["lines"] == [
        {
            "product_id": product.id,
            "title": "رومیزی",
            "seller": product.seller.display_name,
            "unit_price_amount": 1_250_000,
            "quantity": 2,
            "line_total_amount": 2_500_000,
        }
    ]
    assert [p["order_ids"] for p in data["payments"]] == [[mine.id]]
    assert data["cart"][0]["product_id"] == product.id and data["cart"][0]["quantity"] == 1
    assert len(data["logins"]) == 1 and data["shop"] is None
    assert data["saved_addresses"] == []
    text = response.get_data(as_text=True)
    for secret in (mina.password_hash, "sara@example.com", "checkout_token", "test-token-"):
        assert secret not in text


def test_a_seller_gets_the_shop_and_its_listings_too(app):
    owner = factories.user(Role.SELLER, email="golbibi@example.com")
    shop = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    factories.product(shop, title="پته کرمان")
    data = json.loads(as_user(app, owner).get("/auth/account/data").get_data(as_text=True))
    assert data["shop"]["slug"] == shop.slug and data["shop"]["status"] == "approved"
    assert [listing["title"] for listing in data["shop"]["listings"]] == ["پته کرمان"]


def test_a_login_restored_from_the_remember_cookie_confirms_the_password_first(app):
    factories.user(email="mina@example.com")
    client = app.test_client()
    client.post(
        "/auth/login",
        data={"email": "mina@example.com", "password": factories.PASSWORD, "remember": "y"},
    )
    client.delete_cookie("session")  # only the remember cookie logs this browser in again
    response = client.get("/auth/account/data")
    assert response.status_code == 302 and "/auth/confirm" in response.headers["Location"]
    db.session.rollback()
