"""Saved addresses: each checkout's address is kept (the same one only moves up), the checkout
offers them (the last used first, another by a pick), the account page lists and removes them;
nobody sees or removes another's."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.orders import addresses
from app.orders.models import SavedAddress
from tests import factories
from tests.test_checkout import buyer, checkout, fill, shop  # noqa: F401 (fixtures)
from tests.test_order_flow import as_user


def saved_rows(user_id: int) -> list[SavedAddress]:
    db.session.rollback()
    return addresses.saved(user_id)


def test_each_checkout_keeps_its_address_and_the_next_offers_them(client, shop, buyer):  # noqa: F811
    fill(client, (shop["cloth"], 1))
    assert checkout(client, city="چابهار").status_code == 303
    fill(client, (shop["bowl"], 1))
    assert checkout(client, city="زاهدان").status_code == 303
    fill(client, (shop["pillow"], 1))
    assert checkout(client, city="زاهدان").status_code == 303  # the same again: moves up only
    rows = saved_rows(buyer.id)
    assert [r.city for r in rows] == ["زاهدان", "چابهار"]

    fill(client, (shop["pillow"], 1))
    page = client.get("/checkout").get_data(as_text=True)
    assert 'value="زاهدان"' in page  # the last used
    chabahar = next(r for r in rows if r.city == "چابهار")
    assert f'href="/checkout?address={chabahar.id}"' in page
    picked = client.get(f"/checkout?address={chabahar.id}").get_data(as_text=True)
    assert 'value="چابهار"' in picked


def test_another_customers_address_is_neither_shown_nor_removed(app, client, shop, buyer):  # noqa: F811
    fill(client, (shop["cloth"], 1))
    checkout(client, city="چابهار")
    [mine] = saved_rows(buyer.id)
    sara = as_user(app, factories.user(email="sara@example.com", name="سارا"))
    sara.post("/cart/add", data={"product_id": shop["bowl"].id, "quantity": 1})
    page = sara.get(f"/checkout?address={mine.id}").get_data(as_text=True)
    assert "چابهار" not in page
    assert sara.post(f"/auth/account/addresses/{mine.id}/remove").status_code == 404
    assert sara.get("/checkout?address=abc").status_code == 200
    assert len(saved_rows(buyer.id)) == 1


def test_the_account_page_lists_and_removes_them(client, shop, buyer):  # noqa: F811
    fill(client, (shop["cloth"], 1))
    checkout(client, city="چابهار")
    [row] = saved_rows(buyer.id)
    page = client.get("/auth/account").get_data(as_text=True)
    assert "چابهار" in page and f"/auth/account/addresses/{row.id}/remove" in page
    removed = client.post(f"/auth/account/addresses/{row.id}/remove", follow_redirects=True)
    assert "The address is removed." in removed.get_data(as_text=True)
    assert saved_rows(buyer.id) == []
    assert "No saved address yet" in client.get("/auth/account").get_data(as_text=True)


def test_only_the_most_recent_few_are_kept(app):
    from app.orders.placing import Address

    mina = factories.user(email="mina@example.com")
    for n in range(addresses.MAX_SAVED + 3):
        addresses.remember(
            mina.id,
            Address("مینا", "09121234567", "تهران", f"شهر {n}", "خیابان ۱", "1234567890"),
        )
    rows = saved_rows(mina.id)
    assert len(rows) == addresses.MAX_SAVED and rows[0].city == f"شهر {addresses.MAX_SAVED + 2}"
    assert db.session.scalar(sa.select(sa.func.count(SavedAddress.id))) == addresses.MAX_SAVED
