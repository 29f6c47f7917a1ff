"""The cart: guests in the session, customers in the database, the merge at login, the flags a
line gets when its product changes, and requests that try to slip bad values in."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.accounts.models import Role
from app.catalog.models import Product, ProductStatus, SellerStatus
from app.core.extensions import db
from app.orders.cart import MAX_QUANTITY
from app.orders.models import CartLine, Order
from app.payments.models import Payment
from tests import factories
from tests.helpers import flashes

QUANTITY_MESSAGE = "Choose a quantity from 1 to 99."
UNAVAILABLE_MESSAGE = "This product is not for sale at the moment."


# --- helpers -------------------------------------------------------------------------------------


def english(client):  # type: ignore[no-untyped-def]
    """Pages in English, so messages read the same whatever the Persian catalogue holds."""
    client.set_cookie("locale", "en")
    return client


def add(client, product_id: object, quantity: object = 1, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/cart/add",
        data={"product_id": product_id, "quantity": quantity, **extra},
        follow_redirects=True,
    )


def update(client, product_id: object, quantity: object):  # type: ignore[no-untyped-def]
    return client.post(
        "/cart/update", data={"product_id": product_id, "quantity": quantity}, follow_redirects=True
    )


def guest_cart(client) -> dict:  # type: ignore[no-untyped-def]
    with client.session_transaction() as session:
        return dict(session.get("cart") or {})


def db_cart(user_id: int) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(CartLine).where(CartLine.user_id == user_id))
    return {line.product_id: line.quantity for line in rows}


def customer(email: str = "mina@example.com", locale: str = "en"):  # type: ignore[no-untyped-def]
    user = factories.user(email=email, name="مینا")
    user.locale = locale
    db.session.commit()
    return user


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    """Two sellers, three published products."""
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    return {
        "a": a,
        "b": b,
        "cloth": factories.product(a, title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=5),
        "pillow": factories.product(a, title="کوسن بلوچ", price_amount=800_000, stock=10),
        "bowl": factories.product(b, title="کاسه سفالی", price_amount=450_000, stock=3),
    }


# --- guests and customers ------------------------------------------------------------------------


def test_a_guest_cart_lives_in_the_session_grouped_by_seller(client, shop):
    english(client)
    response = add(client, shop["cloth"].id, 2)
    assert response.status_code == 200
    assert flashes(response, "success") == ["“رومیزی سوزن‌دوزی” is in your cart."]
    add(client, shop["bowl"].id, 1)
    add(client, shop["cloth"].id, 1)  # adds up

    assert guest_cart(client) == {
        str(shop["cloth"].id): [3, 1_250_000],
        str(shop["bowl"].id): [1, 450_000],
    }
    html = unescape(client.get("/cart").get_data(as_text=True))
    assert "From کارگاه سوزن‌دوزی" in html and "From سفال کلپورگان" in html
    # Subtotals per seller (375,000 and 45,000 toman) and the total.
    assert "Subtotal: <strong>375,000 toman</strong>" in html
    assert "Subtotal: <strong>45,000 toman</strong>" in html
    assert "Total: <strong>420,000 toman</strong>" in html
    assert 'class="cart-count"' in html and ">4</span>" in html
    assert db.session.scalar(sa.select(sa.func.count(CartLine.id))) == 0


def test_a_customer_cart_lives_in_the_database(client, shop):
    user = customer()
    factories.login(english(client), user.email)
    add(client, shop["cloth"].id, 2)
    add(client, shop["bowl"].id, "۲")  # Persian digits
    assert db_cart(user.id) == {shop["cloth"].id: 2, shop["bowl"].id: 2}
    assert guest_cart(client) == {}
    html = unescape(client.get("/cart").get_data(as_text=True))
    assert "Total: <strong>340,000 toman</strong>" in html


def test_quantity_edits_and_removal(client, shop):
    english(client)
    add(client, shop["cloth"].id, 1)
    add(client, shop["bowl"].id, 1)
    response = update(client, shop["cloth"].id, "3")
    assert flashes(response, "success") == ["Your cart is updated."]
    assert guest_cart(client)[str(shop["cloth"].id)][0] == 3
    response = update(client, shop["cloth"].id, 0)
    assert flashes(response, "success") == ["Removed from your cart."]
    assert list(guest_cart(client)) == [str(shop["bowl"].id)]
    update(client, shop["bowl"].id, 0)
    # An empty cart leaves the session: the visitor gets shared cached pages again.
    with client.session_transaction() as session:
        assert "cart" not in session


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize("bad", ["0", "-1", str(10**9), "abc", "", "1.5", "۱۰۰"])
def test_tampered_quantities_change_nothing(client, shop, logged_in, bad):
    english(client)
    user = customer()
    if logged_in:
        factories.login(client, user.email)
    add(client, shop["cloth"].id, 2)
    before = (guest_cart(client), db_cart(user.id))

    response = add(client, shop["cloth"].id, bad)
    assert response.status_code == 200
    assert flashes(response) == [QUANTITY_MESSAGE]
    response = update(client, shop["cloth"].id, bad)
    if bad != "0":  # 0 is the remove button, tested above
        assert flashes(response) == [QUANTITY_MESSAGE]
        assert (guest_cart(client), db_cart(user.id)) == before


@pytest.mark.parametrize("logged_in", [False, True])
def test_unpublished_foreign_or_bogus_product_ids_are_refused(client, shop, logged_in):
    english(client)
    user = customer()
    if logged_in:
        factories.login(client, user.email)
    draft = factories.product(shop["a"], title="پیش‌نویس", status=ProductStatus.DRAFT)
    hidden = factories.product(shop["a"], title="پنهان", status=ProductStatus.HIDDEN_BY_STAFF)
    pending_shop = factories.seller(status=SellerStatus.APPLIED)
    not_approved = factories.product(pending_shop, title="هنوز نه")
    for product_id in (draft.id, hidden.id, not_approved.id, 999_999, "abc", "", -3, 10**12):
        response = add(client, product_id, 1)
        assert flashes(response) == [UNAVAILABLE_MESSAGE], product_id
    assert guest_cart(client) == {} and db_cart(user.id) == {}
    # Updating a product that is not in the cart changes nothing either.
    response = update(client, draft.id, 1)
    assert flashes(response) == ["That product is not in your cart."]


def test_a_posted_price_is_ignored(client, shop):
    english(client)
    add(client, shop["cloth"].id, 1, price_amount=10, price=10, seen_price_amount=10)
    assert guest_cart(client) == {str(shop["cloth"].id): [1, 1_250_000]}


def test_more_than_the_stock_is_refused_with_the_number_left(client, shop):
    english(client)
    response = add(client, shop["bowl"].id, 4)
    assert flashes(response) == ["Only 3 of “کاسه سفالی” left. Choose a smaller quantity."]
    shop["bowl"].stock = 0
    db.session.commit()
    response = add(client, shop["bowl"].id, 1)
    assert flashes(response) == ["“کاسه سفالی” is sold out."]
    assert guest_cart(client) == {}


def test_adding_caps_at_the_maximum_quantity(client, shop):
    english(client)
    shop["pillow"].stock = 500
    db.session.commit()
    for _ in range(3):
        add(client, shop["pillow"].id, 40)
    assert guest_cart(client)[str(shop["pillow"].id)][0] == MAX_QUANTITY


# --- merging at login ----------------------------------------------------------------------------


def test_the_guest_cart_merges_into_the_account_at_login(client, shop):
    user = customer()
    db.session.add_all(
        [
            CartLine(
                user_id=user.id,
                product_id=shop["cloth"].id,
                quantity=2,
                seen_price_amount=1_250_000,
            ),
            CartLine(
                user_id=user.id,
                product_id=shop["pillow"].id,
                quantity=97,
                seen_price_amount=800_000,
            ),
        ]
    )
    db.session.commit()
    shop["pillow"].stock = 500
    db.session.commit()
    english(client)
    add(client, shop["cloth"].id, 3)
    add(client, shop["pillow"].id, 5)
    add(client, shop["bowl"].id, 1)

    response = factories.login(client, user.email)
    assert response.status_code == 302
    assert db_cart(user.id) == {
        shop["cloth"].id: 5,  # 2 + 3
        shop["pillow"].id: MAX_QUANTITY,  # 97 + 5, capped
        shop["bowl"].id: 1,
    }
    with client.session_transaction() as session:
        assert "cart" not in session


def test_the_guest_cart_merges_at_registration(client, shop):
    english(client)
    add(client, shop["bowl"].id, 2)
    response = client.post(
        "/auth/register",
        data={
            "name": "سارا",
            "email": "sara@example.com",
            "password": "a long enough passphrase",
            "confirm": "a long enough passphrase",
            "next": "/checkout",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/checkout"
    from app.accounts.models import User

    user = db.session.scalar(sa.select(User).where(User.email == "sara@example.com"))
    assert db_cart(user.id) == {shop["bowl"].id: 2}


# --- flags before checkout -----------------------------------------------------------------------


def test_changed_products_are_flagged_and_checkout_waits_until_resolved(client, shop):
    user = customer()
    factories.login(english(client), user.email)
    add(client, shop["cloth"].id, 2)
    add(client, shop["pillow"].id, 4)
    add(client, shop["bowl"].id, 1)

    shop["cloth"].price_amount = 1_500_000  # price changed
    shop["pillow"].stock = 3  # below the quantity
    shop["bowl"].status = ProductStatus.DRAFT  # unpublished
    db.session.commit()

    html = unescape(client.get("/cart").get_data(as_text=True))
    # The header counts every unit in the cart, the unpublished product's too.
    assert re.search(r'class="cart-count"><span [^>]*>[^<]*</span>7</span>', html)
    assert "Some items need your attention before checkout." in html
    assert "The price changed from 125,000 toman to 150,000 toman since you added it." in html
    assert "Only 3 left. Lower the quantity to continue." in html
    assert "This product is no longer for sale. Remove it to continue." in html
    assert 'action="/cart/accept-prices"' in html
    assert '<a class="button" href="/checkout">' not in html

    response = client.get("/checkout", follow_redirects=True)
    assert flashes(response) == ["Some items in your cart need your attention before checkout."]

    # Resolve them one by one: take the new price, lower the quantity, remove the draft.
    response = client.post("/cart/accept-prices", follow_redirects=True)
    assert flashes(response, "success") == ["The cart now shows today's prices."]
    assert "The price changed" not in response.get_data(as_text=True)
    update(client, shop["pillow"].id, 3)
    update(client, shop["bowl"].id, 0)
    html = client.get("/cart").get_data(as_text=True)
    assert "need your attention" not in html and '<a class="button" href="/checkout">' in html
    assert client.get("/checkout").status_code == 200


def test_a_guest_sees_the_same_flags(client, shop):
    english(client)
    add(client, shop["cloth"].id, 1)
    shop["cloth"].price_amount = 1_000_000
    db.session.commit()
    html = unescape(client.get("/cart").get_data(as_text=True))
    assert "The price changed from 125,000 toman to 100,000 toman" in html
    client.post("/cart/accept-prices")
    assert guest_cart(client) == {str(shop["cloth"].id): [1, 1_000_000]}


def test_a_deleted_product_can_be_removed(client, shop):
    english(client)
    add(client, shop["pillow"].id, 1)
    db.session.delete(db.session.get(Product, shop["pillow"].id))
    db.session.commit()
    html = unescape(client.get("/cart").get_data(as_text=True))
    assert "No longer available" in html and "A product that was removed" in html
    update(client, shop["pillow"].id, 0)
    assert guest_cart(client) == {}


# --- who may buy -------------------------------------------------------------------------------


def test_a_seller_buys_from_others_but_not_from_themselves(client, shop):
    factories.login(english(client), shop["a"].user.email)
    response = add(client, shop["cloth"].id, 1)
    assert flashes(response) == ["This is your own product: you cannot buy it."]
    add(client, shop["bowl"].id, 1)
    assert db_cart(shop["a"].user_id) == {shop["bowl"].id: 1}


def test_a_seller_whose_guest_cart_held_their_own_product_is_stopped_at_checkout(client, shop):
    english(client)
    add(client, shop["cloth"].id, 1)
    factories.login(client, shop["a"].user.email)  # merged
    html = unescape(client.get("/cart").get_data(as_text=True))
    assert "This is your own product: you cannot buy it. Remove it to continue." in html
    response = client.get("/checkout", follow_redirects=True)
    assert flashes(response) == ["Your cart holds your own products. Remove them to continue."]


def test_staff_do_not_buy(client, shop):
    staff = factories.user(Role.STAFF, email="staff@example.com")
    factories.login(english(client), staff.email)
    response = add(client, shop["cloth"].id, 1)
    assert flashes(response) == ["Programme staff accounts cannot buy in the market."]
    assert db_cart(staff.id) == {}
    response = client.get("/checkout", follow_redirects=True)
    assert flashes(response) == ["Programme staff accounts cannot buy in the market."]
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


# --- the product page and the header -------------------------------------------------------------


def _clear_g(sender, **extra):  # type: ignore[no-untyped-def]
    g.__dict__.clear()


def test_the_product_page_has_the_form_unless_sold_out(client, shop):
    html = client.get(f"/p/{shop['cloth'].id}").get_data(as_text=True)
    assert 'action="/cart/add"' in html and f'name="product_id" value="{shop["cloth"].id}"' in html
    shop["cloth"].stock = 0
    db.session.commit()
    html = client.get(f"/p/{shop['cloth'].id}").get_data(as_text=True)
    assert 'action="/cart/add"' not in html


def test_add_to_cart_works_from_a_cached_page_with_csrf_on(csrf_app):
    """The cached product page carries each visitor's own CSRF token."""
    csrf_app.config["PAGE_CACHE_ENABLED"] = True
    request_started.connect(_clear_g)
    try:
        item = factories.product(title="گلیم", stock=4)
        factories.product(title="warm-up")
        first, second = csrf_app.test_client(), csrf_app.test_client()
        first.get(f"/p/{item.id}")  # fills the cache
        page = second.get(f"/p/{item.id}")
        assert page.headers["X-Page-Cache"] == "hit"
        html = page.get_data(as_text=True)
        assert "__bazarche_csrf_token__" not in html
        assert "Cart" in html or "سبد" in html or 'href="/cart"' in html
        assert 'class="cart-count"' not in html  # nothing personal on a shared page
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        response = second.post(
            "/cart/add", data={"csrf_token": token, "product_id": item.id, "quantity": "1"}
        )
        assert response.status_code == 302 and response.headers["Location"] == "/cart"
        with second.session_transaction() as session:
            assert session["cart"] == {str(item.id): [1, item.price_amount]}
        # Without a token the form is refused.
        refused = first.post("/cart/add", data={"product_id": item.id, "quantity": "1"})
        assert refused.status_code == 400
        # With a cart the visitor no longer gets the shared page; the header counts the cart.
        html = second.get(f"/p/{item.id}").get_data(as_text=True)
        assert 'class="cart-count"' in html
    finally:
        request_started.disconnect(_clear_g)


def test_a_signed_token_kept_for_cached_pages_is_accepted(csrf_app):
    """Served pages reuse a token signed minutes ago for the same session (signing costs as much
    as the rest of a hit); such a token is accepted, and another session never gets it."""
    csrf_app.config["PAGE_CACHE_ENABLED"] = True
    request_started.connect(_clear_g)
    try:
        item = factories.product(title="گلیم", stock=4)
        csrf_app.test_client().get(f"/p/{item.id}")  # fills the cache

        def logged_in(email: str):  # type: ignore[no-untyped-def]
            client = csrf_app.test_client()
            user = factories.user(email=email)
            page = client.get("/auth/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
            client.post(
                "/auth/login",
                data={
                    "email": user.email,
                    "password": factories.PASSWORD,
                    "csrf_token": token.group(1),
                },
            )
            return client

        def token_on(client) -> str:  # type: ignore[no-untyped-def]
            response = client.get(f"/p/{item.id}")
            assert response.headers["X-Page-Cache"] == "hit"
            html = response.get_data(as_text=True)
            return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

        mina, sara = logged_in("mina@example.com"), logged_in("sara@example.com")
        kept = token_on(mina)
        assert token_on(mina) == kept  # signed once, served again
        assert token_on(sara) != kept  # another session, another token
        added = mina.post(
            "/cart/add", data={"csrf_token": kept, "product_id": item.id, "quantity": "1"}
        )
        assert added.status_code == 302 and added.headers["Location"] == "/cart"
        stolen = sara.post(
            "/cart/add", data={"csrf_token": kept, "product_id": item.id, "quantity": "1"}
        )
        assert stolen.status_code == 400
    finally:
        request_started.disconnect(_clear_g)
