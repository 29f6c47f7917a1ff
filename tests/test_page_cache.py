"""The page cache is never stale and never shows one visitor's parts to another; catalogue changes mark search work."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g, request_started

from app.catalog import changes
from app.catalog.models import Product, SellerStatus
from app.core.extensions import db
from tests import factories


def _clear_g(sender, **extra):  # type: ignore[no-untyped-def]
    g.__dict__.clear()


@pytest.fixture(autouse=True)
def fresh_g():  # type: ignore[no-untyped-def]
    """Requests share the test's app context, and a cache hit is served before make_app's own
    before_request hook empties ``g``: empty it when each request starts, as in production."""
    request_started.connect(_clear_g)
    yield
    request_started.disconnect(_clear_g)


@pytest.fixture
def item(app):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_ENABLED"] = True
    return factories.product(title="سفال کلپورگان", price_amount=1_250_000, stock=5)


def get(client, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    return response, response.get_data(as_text=True)


def test_second_anonymous_visit_is_served_from_the_cache(client, item):
    first, html1 = get(client, f"/p/{item.id}")
    second, html2 = get(client, f"/p/{item.id}")
    assert first.headers["X-Page-Cache"] == "miss"
    assert second.headers["X-Page-Cache"] == "hit"
    assert html1 == html2
    assert second.status_code == 200
    # Another visitor gets the same cached page.
    other = client.application.test_client()
    assert other.get(f"/p/{item.id}").headers["X-Page-Cache"] == "hit"


def test_an_orm_change_shows_at_once(client, item):
    url = f"/p/{item.id}"
    get(client, url)
    assert get(client, url)[0].headers["X-Page-Cache"] == "hit"

    item.price_amount = 990_000
    db.session.commit()  # the flush hook bumps the catalogue version in this transaction

    response, html = get(client, url)
    assert response.headers["X-Page-Cache"] == "miss"
    assert "۹۹٬۰۰۰ تومان" in html and "۱۲۵٬۰۰۰ تومان" not in html
    # Lists too: the home page rendered before the change is not reused either.
    assert "۹۹٬۰۰۰ تومان" in get(client, "/")[1]


def test_a_bulk_stock_change_shows_at_once(client, item):
    url = f"/p/{item.id}"
    get(client, url)
    assert 'class="stock in"' in get(client, url)[1]

    db.session.execute(sa.update(Product).where(Product.id == item.id).values(stock=0))
    changes.mark_catalog_changed(db.session)
    db.session.commit()

    response, html = get(client, url)
    assert response.headers["X-Page-Cache"] == "miss"
    assert 'class="stock out"' in html


def test_a_suspended_sellers_products_disappear_at_once(client, item):
    url = f"/p/{item.id}"
    get(client, url)
    get(client, "/")
    assert get(client, url)[0].status_code == 200

    item.seller.status = SellerStatus.SUSPENDED
    db.session.commit()

    response, _ = get(client, url)
    assert response.status_code == 404
    assert "سفال کلپورگان" not in get(client, "/")[1]
    assert get(client, f"/s/{item.seller.slug}")[0].status_code == 404


def test_signed_in_visitors_share_the_page_with_their_own_header(app, client, item):
    """Two users, one cache: each sees the shared page with only their own header."""
    from app.accounts.models import Role

    anonymous = app.test_client()
    sara = factories.user(email="sara@example.com", name="سارا رئیسی")
    factories.user(Role.SELLER, email="reza@example.com", name="رضا کرمانی")
    factories.login(client, sara.email)
    client.post("/cart/add", data={"product_id": item.id, "quantity": 3})
    reza = app.test_client()
    factories.login(reza, "reza@example.com")

    for url in ("/", f"/c/{item.category.slug}", f"/p/{item.id}", f"/s/{item.seller.slug}"):
        first, sara_html = get(client, url)
        second, reza_html = get(reza, url)
        third, anon_html = get(anonymous, url)
        assert first.headers["X-Page-Cache"] == "miss", url
        assert second.headers["X-Page-Cache"] == "hit", url
        assert third.headers["X-Page-Cache"] == "hit", url
        assert "سفال کلپورگان" in sara_html and "سفال کلپورگان" in reza_html
        # Sara's name and cart count are on her page only; Reza's shop link on his only.
        assert "سارا رئیسی" in sara_html and 'class="cart-count"' in sara_html
        assert "سارا رئیسی" not in reza_html and 'class="cart-count"' not in reza_html
        assert "رضا کرمانی" in reza_html and 'href="/seller/' in reza_html
        assert "رضا کرمانی" not in sara_html and 'href="/seller/apply' in sara_html
        assert "سارا رئیسی" not in anon_html and "رضا کرمانی" not in anon_html
        assert "/auth/logout" not in anon_html and 'class="cart-count"' not in anon_html
        for html in (sara_html, reza_html, anon_html):
            assert "<!--bazarche:" not in html
        # The logout form carries each user's own token, never a marker.
        tokens = [
            re.search(r'action="/auth/logout".*?value="([^"]+)"', html, re.S)
            for html in (sara_html, reza_html)
        ]
        assert tokens[0] and tokens[1]
        assert "__bazarche" not in tokens[0].group(1) + tokens[1].group(1)


def test_the_staff_links_are_the_visitors_own(app, client, item):
    from app.accounts.models import Role

    factories.user(Role.STAFF, email="staff@example.com", name="مینا")
    factories.login(client, "staff@example.com")
    get(app.test_client(), "/")  # an anonymous visitor fills the cache
    response, html = get(client, "/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert 'href="/admin' in html and "cart-link" not in html and "مینا" in html
    assert 'href="/admin' not in get(app.test_client(), "/")[1]


def test_per_user_pages_are_never_served_from_the_cache(app, client, item):
    factories.user(email="sara@example.com", name="سارا رئیسی")
    factories.login(client, "sara@example.com")
    client.post("/cart/add", data={"product_id": item.id, "quantity": 1})
    for url in ("/cart", "/orders"):
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.headers.get("X-Page-Cache") is None, url


def test_a_visitor_logged_in_by_the_remember_cookie_gets_their_own_header(app, client, item):
    anonymous = app.test_client()
    get(anonymous, "/")
    assert get(anonymous, "/")[0].headers["X-Page-Cache"] == "hit"

    factories.user(email="sara@example.com", name="سارا رئیسی")
    client.post(
        "/auth/login",
        data={"email": "sara@example.com", "password": factories.PASSWORD, "remember": "y"},
    )
    client.delete_cookie("session")  # the browser was closed; only the remember cookie is left
    response, html = get(client, "/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert "سارا رئیسی" in html and "/auth/logout" in html
    assert "سارا رئیسی" not in get(anonymous, "/")[1]


def test_the_locale_is_part_of_the_key(client, item):
    get(client, "/")
    fa_response, fa_html = get(client, "/")
    assert fa_response.headers["X-Page-Cache"] == "hit"
    assert 'lang="fa"' in fa_html

    client.get("/lang/en")
    en_response, en_html = get(client, "/")
    assert en_response.headers["X-Page-Cache"] == "miss"
    assert 'lang="en"' in en_html and "125,000 toman" in en_html
    assert get(client, "/")[0].headers["X-Page-Cache"] == "hit"

    # Someone who never chose English still gets the Persian page.
    persian = client.application.test_client()
    assert 'lang="fa"' in get(persian, "/")[1]


def test_flashed_messages_are_shown_once_to_their_visitor_only(app, client, item):
    client.set_cookie("locale", "en")
    get(client, "/")  # the page is in the cache
    client.post("/auth/logout")  # flashes "You have logged out." for the next page
    response, html = get(client, "/")
    assert "You have logged out." in html
    assert response.headers["X-Page-Cache"] == "hit"

    for visitor in (client, app.test_client()):
        visitor.set_cookie("locale", "en")
        for _ in range(2):
            assert "You have logged out." not in get(visitor, "/")[1]


def test_query_strings_are_part_of_the_key(client, item):
    factories.product(item.seller, title="گلیم", price_amount=10, category_row=item.category)
    slug = item.category.slug
    cheap = get(client, f"/c/{slug}?sort=price_asc")[1]
    dear = get(client, f"/c/{slug}?sort=price_desc")[1]
    assert cheap.index("گلیم") < cheap.index("سفال کلپورگان")
    assert dear.index("سفال کلپورگان") < dear.index("گلیم")


def test_the_cache_can_be_switched_off(app, client, item):
    app.config["PAGE_CACHE_ENABLED"] = False
    get(client, "/")
    assert get(client, "/")[0].headers.get("X-Page-Cache") is None


def test_each_visitor_of_a_cached_page_gets_their_own_csrf_token(csrf_app):
    from app.shop import cache

    cache.clear()
    item = factories.product(stock=5)
    url = f"/p/{item.id}"

    def token(response) -> str:  # type: ignore[no-untyped-def]
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        assert match, "the add-to-cart form carries a token"
        return match.group(1)

    first, second = csrf_app.test_client(), csrf_app.test_client()
    first_page, second_page = first.get(url), second.get(url)
    assert second_page.headers["X-Page-Cache"] == "hit"
    assert token(first_page) != token(second_page)
    assert cache.CSRF_MARKER not in second_page.get_data(as_text=True)

    data = {"product_id": item.id, "quantity": 1}
    stolen = second.post("/cart/add", data=dict(data, csrf_token=token(first_page)))
    assert stolen.status_code == 400  # another visitor's token is refused
    own = second.post("/cart/add", data=dict(data, csrf_token=token(second_page)))
    assert own.status_code in (302, 303)
    cache.clear()


# --- search_dirty -------------------------------------------------------------------------------


def _all_clean() -> None:
    db.session.execute(sa.update(Product).values(search_dirty=False))
    db.session.commit()


def _dirty_titles() -> set[str]:
    return set(db.session.scalars(sa.select(Product.title).where(Product.search_dirty)))


def test_a_new_or_changed_product_is_dirty(item):
    other = factories.product(title="گلیم")
    assert _dirty_titles() == {"سفال کلپورگان", "گلیم"}
    _all_clean()
    other.price_amount = 5_000_000
    db.session.commit()
    assert _dirty_titles() == {"گلیم"}


def test_renaming_a_seller_marks_their_products(item):
    other = factories.product(title="گلیم")
    factories.product(item.seller, title="کوزه")
    _all_clean()

    item.seller.display_name = "کارگاه سفال"
    db.session.commit()
    assert _dirty_titles() == {"سفال کلپورگان", "کوزه"}
    assert other.title not in _dirty_titles()


def test_renaming_a_category_marks_its_products(item):
    factories.product(title="گلیم")
    _all_clean()

    item.category.name_fa = "سفالینه"
    db.session.commit()
    assert _dirty_titles() == {"سفال کلپورگان"}


def test_a_change_in_photos_marks_the_product(item):
    factories.product(title="گلیم")
    _all_clean()

    item.images[0].alt_text = "کاسه سفالی آبی"
    db.session.commit()
    assert _dirty_titles() == {"سفال کلپورگان"}


def test_a_signed_in_visitors_log_out_form_on_a_cached_page_works(csrf_app):
    """The log-out form of a filled-in header carries the visitor's own token, not another's."""
    from app.shop import cache

    cache.clear()
    item = factories.product(stock=5)
    factories.user(email="sara@example.com", name="سارا")
    factories.user(email="nika@example.com", name="سارا")  # the same name: the same links
    pages = {}
    clients = {}
    for email in ("sara@example.com", "nika@example.com"):
        client = csrf_app.test_client()
        login_page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)
        assert token
        client.post(
            "/auth/login",
            data={"email": email, "password": factories.PASSWORD, "csrf_token": token.group(1)},
        )
        clients[email] = client
        pages[email] = client.get(f"/p/{item.id}")
    assert pages["nika@example.com"].headers["X-Page-Cache"] == "hit"

    def logout_token(response) -> str:  # type: ignore[no-untyped-def]
        html = response.get_data(as_text=True)
        match = re.search(r'action="/auth/logout".*?value="([^"]+)"', html, re.S)
        assert match
        return match.group(1)

    sara, nika = clients["sara@example.com"], clients["nika@example.com"]
    assert logout_token(pages["sara@example.com"]) != logout_token(pages["nika@example.com"])
    refused = nika.post(
        "/auth/logout", data={"csrf_token": logout_token(pages["sara@example.com"])}
    )
    assert refused.status_code == 400
    done = nika.post("/auth/logout", data={"csrf_token": logout_token(pages["nika@example.com"])})
    assert done.status_code in (302, 303)
    assert "/auth/logout" in sara.get(f"/p/{item.id}").get_data(as_text=True)
    assert "/auth/logout" not in nika.get(f"/p/{item.id}").get_data(as_text=True)
    cache.clear()


def test_a_signed_in_hit_reads_the_visitor_with_the_version_in_one_query(app, client, item):
    """On PostgreSQL a signed-in visitor's hit opens no ORM session: their login, name, role,
    cart units and last province come with the catalogue version in one round trip."""
    from tests.conftest import count_queries

    sara = factories.user(email="sara@example.com", name="سارا رئیسی")
    factories.login(client, sara.email)
    client.post("/cart/add", data={"product_id": item.id, "quantity": 2})
    url = f"/c/{item.category.slug}"
    get(app.test_client(), url)  # an anonymous visitor fills the cache
    with count_queries(db.engine) as statements:
        response, html = get(client, url)
    assert response.headers["X-Page-Cache"] == "hit"
    assert "سارا رئیسی" in html
    assert re.search(r'class="cart-count">.*?۲</span>', html)
    if db.engine.dialect.name == "postgresql":
        assert statements == []
    else:  # SQLite: the session loads the user and counts the cart as on any page
        assert statements
    # Her page is in her own language, from the same shared pages.
    sara.locale = "en"
    db.session.commit()
    for state in ("miss", "hit"):  # the English page is made once, then shared
        response, html = get(client, url)
        assert response.headers["X-Page-Cache"] == state
        assert 'lang="en"' in html and "سارا رئیسی" in html


def test_a_hit_never_serves_an_ended_or_inactive_login_as_signed_in(app, client, item):
    from app.accounts.models import LoginSession, User

    sara = factories.user(email="sara@example.com", name="سارا رئیسی")
    factories.login(client, sara.email)
    get(app.test_client(), "/")
    assert "سارا رئیسی" in get(client, "/")[1]

    db.session.execute(sa.update(User).where(User.id == sara.id).values(active=False))
    db.session.commit()
    response, html = get(client, "/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert "سارا رئیسی" not in html and "/auth/logout" not in html

    db.session.execute(sa.update(User).where(User.id == sara.id).values(active=True))
    db.session.commit()
    assert "سارا رئیسی" in get(client, "/")[1]
    # Her login ended elsewhere (a log-out on another device, a password change).
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == sara.id)
        .values(ended_at=sa.func.current_timestamp())
    )
    db.session.commit()
    response, html = get(client, "/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert "سارا رئیسی" not in html and "/auth/logout" not in html


def test_edits_of_a_listing_no_one_can_see_keep_the_cached_pages(client, item):
    """A draft being written (its text, price, photos) or deleted shows on no public page: the
    cached pages stay; publishing it, or unpublishing a listing, makes them stale at once."""
    from app.catalog.models import ProductImage, ProductStatus

    draft = factories.product(
        item.seller, title="پیش‌نویس", status=ProductStatus.DRAFT, category_row=item.category
    )
    url = f"/c/{item.category.slug}"
    get(client, url)
    version = factories.pages_changed_count()

    draft.title = "پیش‌نویس تازه"
    draft.price_amount = 990_000
    draft.images.append(
        ProductImage(position=1, storage_key="cc/dd/x-640.webp", variants=[], width=1, height=1)
    )
    db.session.commit()
    assert factories.pages_changed_count() == version
    assert get(client, url)[0].headers["X-Page-Cache"] == "hit"

    draft.status = ProductStatus.PUBLISHED
    db.session.commit()
    assert factories.pages_changed_count() > version
    response, html = get(client, url)
    assert response.headers["X-Page-Cache"] == "miss" and "پیش‌نویس تازه" in html

    version = factories.pages_changed_count()
    item.status = ProductStatus.DRAFT
    db.session.commit()
    assert factories.pages_changed_count() > version
    assert "سفال کلپورگان" not in get(client, url)[1]

    version = factories.pages_changed_count()
    db.session.delete(item)
    db.session.commit()
    assert factories.pages_changed_count() == version


# --------------------------------------------------------------------------------------------
# A listing's change makes only the pages it shows on stale


def _cache_state(client, url: str) -> str:  # type: ignore[no-untyped-def]
    return get(client, url)[0].headers["X-Page-Cache"]


def _warm(client, urls) -> None:  # type: ignore[no-untyped-def]
    for url in urls:
        get(client, url)
        assert _cache_state(client, url) == "hit", url


def test_a_listing_change_leaves_the_pages_it_is_not_on_cached(client, item):
    parent = factories.category()
    child = factories.category(parent=parent)
    mine = factories.product(title="گلیم نقش‌دار", price_amount=800_000, category_row=child)
    mine_pages = (
        f"/p/{mine.id}",
        f"/c/{child.slug}",
        f"/c/{parent.slug}",
        f"/s/{mine.seller.slug}",
        f"/county/{mine.seller.county.slug}",
        "/",
    )
    other_pages = (
        f"/p/{item.id}",
        f"/c/{item.category.slug}",
        f"/s/{item.seller.slug}",
        f"/county/{item.seller.county.slug}",
    )
    _warm(client, mine_pages + other_pages)

    mine.price_amount = 700_000
    db.session.commit()

    for url in mine_pages:
        response, html = get(client, url)
        assert response.headers["X-Page-Cache"] == "miss", url
        assert "۷۰٬۰۰۰ تومان" in html and "۸۰٬۰۰۰ تومان" not in html, url
    for url in other_pages:
        assert _cache_state(client, url) == "hit", url


def test_a_listing_moved_to_another_category_leaves_both_lists_at_once(client, item):
    before, after = item.category, factories.category()
    _warm(client, (f"/c/{before.slug}", f"/c/{after.slug}"))

    db.session.rollback()  # the listing is expired: its old category must still be known
    item.category_id = after.id
    db.session.commit()

    assert "سفال کلپورگان" not in get(client, f"/c/{before.slug}")[1]
    assert "سفال کلپورگان" in get(client, f"/c/{after.slug}")[1]


def test_a_sale_stales_the_product_page_and_the_lists_only_when_it_sells_out(client, item):
    from app.orders import stock

    other = factories.product(title="حصیر", category_row=item.category, seller_row=item.seller)
    lists = (f"/c/{item.category.slug}", f"/s/{item.seller.slug}", "/")
    _warm(client, (f"/p/{item.id}", f"/p/{other.id}", *lists))

    stock.take([(item.id, None, 2)], published_only=True)  # 5 → 3: the cards do not change
    db.session.commit()
    response, html = get(client, f"/p/{item.id}")
    assert response.headers["X-Page-Cache"] == "miss" and "۳" in html
    assert _cache_state(client, f"/p/{other.id}") == "hit"
    for url in lists:
        assert _cache_state(client, url) == "hit", url

    stock.take([(item.id, None, 3)], published_only=True)  # sold out: every card says so
    db.session.commit()
    for url in lists:
        response, html = get(client, url)
        assert response.headers["X-Page-Cache"] == "miss", url
        assert "badge-muted" in html, url
    assert _cache_state(client, f"/p/{other.id}") == "hit"

    stock.give_back([(item.id, None, 1)])  # back in stock: the cards change again
    db.session.commit()
    for url in lists:
        assert _cache_state(client, url) == "miss", url


def test_a_published_listing_deleted_leaves_its_pages_at_once(client, item):
    other = factories.product(title="حصیر", category_row=item.category)
    pages = (f"/p/{item.id}", f"/c/{item.category.slug}", f"/s/{item.seller.slug}", "/")
    _warm(client, (*pages, f"/p/{other.id}"))

    db.session.rollback()  # expired, as after any commit
    db.session.delete(item)
    db.session.commit()

    assert get(client, f"/p/{item.id}")[0].status_code == 404
    for url in pages[1:]:
        response, html = get(client, url)
        assert response.headers["X-Page-Cache"] == "miss" and "سفال کلپورگان" not in html, url
    assert _cache_state(client, f"/p/{other.id}") == "hit"
