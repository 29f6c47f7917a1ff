"""Favourites and followed shops: hearts for guests and customers, the merge at login, the
JSON the browser marks hearts from, shared pages without anyone's hearts, sellers' counts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.accounts.models import Role
from app.catalog import favourites
from app.catalog.models import Favourite, FollowedShop, ProductStatus, SellerStatus
from app.core.extensions import db
from tests import factories


def _clear_g(sender, **extra):  # type: ignore[no-untyped-def]
    g.__dict__.clear()


@pytest.fixture(autouse=True)
def fresh_g():  # type: ignore[no-untyped-def]
    request_started.connect(_clear_g)
    yield
    request_started.disconnect(_clear_g)


def rows(model) -> list[tuple]:  # type: ignore[no-untyped-def]
    db.session.rollback()
    table = model.__table__
    return [tuple(r) for r in db.session.execute(sa.select(*table.primary_key.columns))]


def press(client, product_id: int, want: str, **headers):  # type: ignore[no-untyped-def]
    return client.post(
        f"/favourites/{product_id}", data={"want": want, "next": "/"}, headers=headers
    )


def ids(client) -> dict:  # type: ignore[no-untyped-def]
    response = client.get("/favourites/ids")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_json()


def test_a_guest_keeps_favourites_in_the_session(client):
    item = factories.product(title="گلیم")
    assert ids(client)["products"] == []
    response = press(client, item.id, "1")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert press(client, item.id, "1").status_code == 302  # again: nothing more
    answer = ids(client)
    assert answer["products"] == [item.id] and answer["signed_in"] is False
    assert "گلیم" in client.get("/favourites").get_data(as_text=True)
    assert rows(Favourite) == []
    press(client, item.id, "0")
    press(client, item.id, "0")
    assert ids(client)["products"] == []
    page = client.get("/favourites").get_data(as_text=True)
    assert 'class="empty"' in page


def test_guest_favourites_are_bounded():
    kept: list[int] = []
    for n in range(1, favourites.GUEST_LIMIT + 10):
        kept = favourites.set_guest_favourite(kept, n, True)
    assert len(kept) == favourites.GUEST_LIMIT and kept[-1] == favourites.GUEST_LIMIT + 9
    assert favourites.guest_ids(["x", -1, 3, 3, True, 4]) == [3, 4]
    assert favourites.guest_ids("nonsense") == []


def test_guest_favourites_join_the_account_at_login(app, client):
    user = factories.user(email="sara@example.com")
    mine = factories.product(title="قدیمی")
    guest_pick = factories.product(title="تازه")
    hidden = factories.product(title="پنهان")
    favourites.set_favourite(user, mine.id, True)
    press(client, guest_pick.id, "1")
    press(client, mine.id, "1")
    with client.session_transaction() as sess:  # a product hidden since it was picked
        sess["favourites"] = [*sess["favourites"], hidden.id, "junk"]
    hidden.status = ProductStatus.DRAFT
    db.session.commit()
    assert factories.login(client, "sara@example.com").status_code == 302
    assert sorted(rows(Favourite)) == sorted([(user.id, mine.id), (user.id, guest_pick.id)])
    with client.session_transaction() as sess:
        assert "favourites" not in sess
    assert sorted(ids(client)["products"]) == sorted([mine.id, guest_pick.id])


def test_guest_favourites_join_a_new_account(app, client):
    pick = factories.product()
    press(client, pick.id, "1")
    pw = "a long enough passphrase"
    client.post(
        "/auth/register",
        data={"name": "Sara", "email": "new@example.com", "password": pw, "confirm": pw},
    )
    assert [pid for _, pid in rows(Favourite)] == [pick.id]


def test_a_customer_toggles_idempotently_with_json(app, client):
    user = factories.user(email="sara@example.com")
    item = factories.product()
    factories.login(client, "sara@example.com")
    fetch = {"X-Requested-With": "fetch"}
    for _ in range(2):
        response = press(client, item.id, "1", **fetch)
        assert response.status_code == 200
        assert response.get_json() == {"product_id": item.id, "favourite": True}
        assert response.headers["Cache-Control"] == "private, no-store"
    assert rows(Favourite) == [(user.id, item.id)]
    assert ids(client)["products"] == [item.id]
    for _ in range(2):
        assert press(client, item.id, "0", **fetch).get_json()["favourite"] is False
    assert rows(Favourite) == []


def test_bad_presses_change_nothing(app, client):
    factories.user(email="sara@example.com")
    draft = factories.product(status=ProductStatus.DRAFT)
    item = factories.product()
    factories.login(client, "sara@example.com")
    assert press(client, 999_999, "1").status_code == 404
    assert press(client, draft.id, "1").status_code == 404
    assert client.get(f"/favourites/{draft.id}").status_code == 404
    assert press(client, item.id, "maybe").status_code == 400
    assert client.post(f"/favourites/{item.id}", data={}).status_code == 400
    assert client.post("/following/999999", data={"want": "1"}).status_code == 404
    assert rows(Favourite) == [] and rows(FollowedShop) == []


def test_no_script_page_and_safe_next(app, client):
    item = factories.product(title="سبد")
    page = client.get(f"/favourites/{item.id}?next=/c/x").get_data(as_text=True)
    assert 'value="/c/x"' in page and 'name="want" type="hidden" value="1"' in page
    evil = client.get(f"/favourites/{item.id}?next=//evil.example").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/favourites"' in evil
    response = client.post(
        f"/favourites/{item.id}", data={"want": "1", "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/favourites"


def test_shared_pages_hold_no_ones_hearts(app, client):
    app.config["PAGE_CACHE_ENABLED"] = True
    category = factories.category(slug="hearts")
    item = factories.product(title="کوزه", category_row=category)
    user = factories.user(email="sara@example.com")
    favourites.set_favourite(user, item.id, True)
    favourites.set_follow(user, item.seller_id, True)
    factories.login(client, "sara@example.com")
    for url in (f"/p/{item.id}", "/c/hearts", f"/s/{item.seller.slug}", "/"):
        response = client.get(url)
        if response.status_code in (301, 302, 308):
            response = client.get(response.headers["Location"])
        html = response.get_data(as_text=True)
        assert 'aria-pressed="true"' not in html, url
        assert response.headers.get("X-Page-Cache") in ("miss", "hit"), url
    heart = f'data-favourite="{item.id}" role="button" aria-pressed="false"'
    signed_in = client.get("/c/hearts").get_data(as_text=True)
    assert heart in signed_in
    anonymous = client.application.test_client().get("/c/hearts")
    assert anonymous.headers["X-Page-Cache"] == "hit"
    assert heart in anonymous.get_data(as_text=True)


def test_cards_draw_the_heart_as_the_macro_does(app):
    from app.catalog.queries import CardPlace, CardSeller, ProductCard
    from app.web.cards import product_cards

    seller = CardSeller("s", CardPlace("زاهدان", "Zahedan"))
    macro = app.jinja_env.from_string(
        '{% from "shop/_favourite.html" import favourite_heart %}{{ favourite_heart(pid) }}'
    )
    with app.test_request_context("/c/گلدوزی's"):
        html = str(product_cards([ProductCard(7, "t", 10, 3, seller, None)]))
        assert macro.render(pid=7) in html
        assert 'href="/favourites/7?next=' in html


def test_followed_shops_and_their_new_listings(app, client):
    user = factories.user(email="sara@example.com")
    shop = factories.seller(name="کارگاه نمد")
    factories.product(shop, title="نمد تازه")
    other = factories.product(title="دیگری")
    assert "/auth/login" in client.get(f"/following/{shop.id}").headers["Location"]
    factories.login(client, "sara@example.com")
    empty = client.get("/following").get_data(as_text=True)
    assert 'class="empty"' in empty
    assert client.post(f"/following/{shop.id}", data={"want": "1"}).status_code == 302
    assert client.post(f"/following/{shop.id}", data={"want": "1"}).status_code == 302
    assert rows(FollowedShop) == [(user.id, shop.id)]
    assert ids(client)["shops"] == [shop.id]
    page = client.get("/following").get_data(as_text=True)
    assert "کارگاه نمد" in page and "نمد تازه" in page and "دیگری" not in page
    assert other.seller_id != shop.id
    client.post(f"/following/{shop.id}", data={"want": "0"})
    assert rows(FollowedShop) == []
    suspended = factories.seller(status=SellerStatus.SUSPENDED)
    assert client.post(f"/following/{suspended.id}", data={"want": "1"}).status_code == 404


def test_sellers_see_how_many_keep_each_listing(app, client):
    owner = factories.user(Role.SELLER, email="shop@example.com")
    shop = factories.seller(owner=owner)
    loved = factories.product(shop, title="محبوب")
    factories.product(shop, title="تنها")
    for n in range(3):
        favourites.set_favourite(factories.user(email=f"c{n}@example.com"), loved.id, True)
    assert favourites.favourite_counts([loved.id, 999]) == {loved.id: 3}
    factories.login(client, "shop@example.com")
    html = client.get("/seller/listings").get_data(as_text=True)
    assert "Favourited by" in html or "علاقه" in html
    assert re.search(r"<td>۳</td>|<td>3</td>", html)


def test_personal_data_and_account_deletion(app):
    from app.auth import closing, personal_data

    user = factories.user(email="sara@example.com")
    item = factories.product(title="گلدان")
    favourites.set_favourite(user, item.id, True)
    favourites.set_follow(user, item.seller_id, True)
    data = personal_data.export(user)
    assert data["favourites"][0]["product_id"] == item.id
    assert data["followed_shops"][0]["seller_id"] == item.seller_id
    closing.delete_account(user)
    assert rows(Favourite) == [] and rows(FollowedShop) == []


def test_guest_favourites_join_the_account_on_mobile_log_in_and_sign_up(app):
    from tests.test_mobile_login import last_code
    from tests.test_mobile_signup import proved

    first, second = factories.product(), factories.product()
    user = factories.with_mobile(factories.user(email="sara@example.com"), "09121234567")
    client = app.test_client()
    press(client, first.id, "1")
    client.post("/auth/mobile", data={"mobile": "09121234567"})
    assert client.post("/auth/mobile/code", data={"code": last_code(app)}).status_code == 302
    assert rows(Favourite) == [(user.id, first.id)]

    newcomer = app.test_client()
    press(newcomer, second.id, "1")
    done = proved(app, newcomer)
    made = newcomer.post(done.headers["Location"], data={"name": "Mina"})
    assert made.status_code == 302
    assert len(rows(Favourite)) == 2 and (user.id, second.id) not in rows(Favourite)


def test_presses_are_rate_limited(tmp_path):
    from tests.conftest import make_app

    limited = make_app(tmp_path, RATELIMIT_ENABLED=True, FAVOURITE_RATE_LIMIT="3 per minute")
    with limited.app_context():
        item = factories.product()
        client = limited.test_client()
        answers = [press(client, item.id, "1").status_code for _ in range(4)]
        assert answers == [302, 302, 302, 429]
        assert client.get("/favourites/ids").status_code == 200  # reading is not limited
        db.session.remove()
        db.engine.dispose()


def test_looking_makes_no_session_a_press_asks_for_a_token(app, client):
    answer = client.get("/favourites/ids")
    assert "Set-Cookie" not in answer.headers
    assert answer.get_json()["csrf_token"] == ""
    asked = client.get("/favourites/ids?token=1")
    assert asked.get_json()["csrf_token"] and "Set-Cookie" in asked.headers
    assert client.get("/favourites/ids").get_json()["csrf_token"]  # the session has one now
