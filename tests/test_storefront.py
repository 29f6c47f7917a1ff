"""The storefront: what is public, pagination, sorting, breadcrumbs, accessibility, query counts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.catalog.models import ProductStatus, SellerStatus
from app.core.extensions import db
from tests import factories
from tests.conftest import count_queries, make_app


def page(client, url: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def cards(html: str) -> int:
    return html.count('<li class="card">')


def card_titles(html: str) -> list[str]:
    return re.findall(r'<span class="card-title">(.*?)</span>', html)


# --- what is public -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [ProductStatus.DRAFT, ProductStatus.HIDDEN_BY_STAFF])
def test_unpublished_products_are_not_found(client, status):
    item = factories.product(status=status)
    page(client, f"/p/{item.id}", 404)
    assert client.get(f"/api/v1/products/{item.id}").status_code == 404


@pytest.mark.parametrize(
    "status", [SellerStatus.APPLIED, SellerStatus.REJECTED, SellerStatus.SUSPENDED]
)
def test_products_of_sellers_who_may_not_trade_are_not_found(client, status):
    item = factories.product(seller_row=factories.seller(status=status))
    page(client, f"/p/{item.id}", 404)
    page(client, f"/s/{item.seller.slug}", 404)
    assert client.get(f"/api/v1/products/{item.id}").status_code == 404


def test_only_public_products_are_listed_anywhere(client):
    county = factories.county()
    category = factories.category()
    approved = factories.seller(county_row=county)
    factories.product(approved, title="گلیم پیدا", category_row=category)
    factories.product(
        approved, title="گلیم پیش‌نویس", status=ProductStatus.DRAFT, category_row=category
    )
    factories.product(
        approved, title="گلیم پنهان", status=ProductStatus.HIDDEN_BY_STAFF, category_row=category
    )
    for status in (SellerStatus.APPLIED, SellerStatus.REJECTED, SellerStatus.SUSPENDED):
        shop = factories.seller(status=status, county_row=county)
        factories.product(shop, title=f"گلیم فروشنده {status.value}", category_row=category)

    for url in (
        "/",
        f"/c/{category.slug}",
        f"/county/{county.slug}",
        f"/s/{approved.slug}",
        "/search?q=گلیم",
        "/search",
    ):
        assert card_titles(page(client, url)) == ["گلیم پیدا"], url
    # The counts leave them out too.
    for url in (f"/c/{category.slug}", f"/county/{county.slug}", f"/s/{approved.slug}"):
        assert '<span class="count">(۱)</span>' in page(client, url), url


def test_counties_count_only_approved_sellers(client):
    county = factories.county()
    factories.product(factories.seller(county_row=county))
    factories.product(factories.seller(status=SellerStatus.SUSPENDED, county_row=county))
    html = page(client, "/")
    assert f'href="/county/{county.slug}">{county.name_fa} <span class="count">(۱)</span>' in html


def test_unknown_slugs_are_not_found(client):
    page(client, "/c/no-such-category", 404)
    page(client, "/county/no-such-county", 404)
    page(client, "/s/no-such-seller", 404)
    page(client, "/p/999999", 404)


def test_not_found_page_is_friendly(client):
    client.set_cookie("locale", "en")
    html = page(client, "/c/no-such-category", 404)
    assert "We could not find that page." in html
    assert 'href="/"' in html and "<main" in html


# --- pagination and sorting ---------------------------------------------------------------------


@pytest.fixture
def thirty(app):  # type: ignore[no-untyped-def]
    app.config["PAGE_SIZE"] = 24
    shop = factories.seller()
    category = factories.category(slug="dates")
    for n in range(30):
        factories.product(shop, title=f"خرما {n}", category_row=category, price_amount=10_000 + n)
    return category, shop


def test_pages_hold_page_size_products(client, thirty):
    category, shop = thirty
    for base in (f"/c/{category.slug}", f"/s/{shop.slug}", "/search?q=خرما&"):
        sep = "&" if "?" in base else "?"
        first = page(client, base)
        second = page(client, f"{base}{sep}page=2")
        assert cards(first) == 24, base
        assert cards(second) == 6, base
        assert not set(card_titles(first)) & set(card_titles(second))
        assert 'rel="next"' in first and 'rel="prev"' in second


def test_bad_page_numbers_do_not_break_the_page(client, thirty):
    category, _ = thirty
    cases = [("abc", 24), ("-5", 24), ("0", 24), ("99999", 6), ("1e9", 24), ("9" * 30, 6), ("", 24)]
    for arg, expected in cases:
        assert cards(page(client, f"/c/{category.slug}?page={arg}")) == expected, arg


def test_a_page_past_the_last_shows_the_last_with_the_whole_count(client, thirty):
    category, shop = thirty
    for base in (f"/c/{category.slug}", f"/s/{shop.slug}", f"/county/{shop.county.slug}"):
        html = page(client, f"{base}?page=7&sort=price_asc")
        assert cards(html) == 6, base
        assert "(۳۰)" in html and 'rel="prev"' in html and 'rel="next"' not in html, base
        assert card_titles(html)[0] == "خرما 24", base
    empty = factories.category(slug="empty")
    for arg in ("1", "3"):
        html = page(client, f"/c/{empty.slug}?page={arg}")
        assert cards(html) == 0 and "(۰)" in html and 'class="pager"' not in html


@pytest.fixture
def three(app):  # type: ignore[no-untyped-def]
    shop = factories.seller()
    category = factories.category()
    # Created in this order, so "newest" is C, B, A.
    factories.product(shop, title="AAA", price_amount=30_000, category_row=category)
    factories.product(shop, title="BBB", price_amount=10_000, category_row=category)
    factories.product(shop, title="CCC", price_amount=20_000, category_row=category)
    return category


def test_sort_orders(client, three):
    cases = [
        ("price_asc", ["BBB", "CCC", "AAA"]),
        ("price_desc", ["AAA", "CCC", "BBB"]),
        ("newest", ["CCC", "BBB", "AAA"]),
        ("", ["CCC", "BBB", "AAA"]),  # unknown values fall back to newest
        ("cheapest'; drop table product; --", ["CCC", "BBB", "AAA"]),
    ]
    for sort, order in cases:
        assert card_titles(page(client, f"/c/{three.slug}?sort={sort}")) == order, sort


def test_pagination_links_keep_the_sort(client, thirty):
    category, _ = thirty
    html = page(client, f"/c/{category.slug}?sort=price_desc")
    assert card_titles(html)[0] == "خرما 29"
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "sort=price_desc" in next_link and "page=2" in next_link
    assert card_titles(page(client, next_link))[-1] == "خرما 0"


def test_links_to_other_pages_ignore_hostile_query_keys(client, thirty):
    """Query keys that url_for would read as its own options never reach it."""
    category, shop = thirty
    hostile = "_method=POST&_external=1&_scheme=javascript&x=%0Aalert(1)&endpoint=x&slug=other"
    for base in (f"/c/{category.slug}", f"/s/{shop.slug}", f"/county/{shop.county.slug}"):
        html = page(client, f"{base}?{hostile}")
        links = [
            href.replace("&amp;", "&")
            for href in re.findall(r'<nav class="(?:pager|sorts)".*?</nav>', html, re.S)
            for href in re.findall(r'href="([^"]+)"', href)
        ]
        assert links, base
        for link in links:
            assert link.startswith(base + "?"), link  # same page, relative, own slug
            assert "_scheme" not in link and "_method" not in link and "endpoint" not in link
    html = page(client, f"/search?q=خرما&{hostile}")
    assert "javascript:" not in html


def test_search_page_with_a_spelling_suggestion(client):
    from app.catalog import indexing

    shop = factories.seller()
    for title in ("گلیم دستباف", "گلیم قدیمی", "سفال کلپورگان"):
        factories.product(shop, title=title)
    indexing.reindex()
    try:
        html = page(client, "/search?q=گلیک&page=2&_scheme=javascript")
    finally:
        indexing.backend().close()  # its open files go with the test
    link = re.search(r'class="did-you-mean".*?href="([^"]+)"', html, re.S)
    assert link, "a 'did you mean' link"
    assert "page=" not in link.group(1) and "_scheme" not in link.group(1)


# --- categories and breadcrumbs -----------------------------------------------------------------


def test_category_page_includes_products_of_sub_categories(client):
    root = factories.category(slug="handicrafts")
    child = factories.category(slug="needlework", parent=root)
    grandchild = factories.category(slug="tablecloths", parent=child)
    other = factories.category(slug="food")
    shop = factories.seller()
    factories.product(shop, title="در ریشه", category_row=root)
    factories.product(shop, title="در زیرشاخه", category_row=child)
    factories.product(shop, title="در نوه", category_row=grandchild)
    factories.product(shop, title="جای دیگر", category_row=other)

    assert sorted(card_titles(page(client, "/c/handicrafts"))) == sorted(
        ["در ریشه", "در زیرشاخه", "در نوه"]
    )
    assert sorted(card_titles(page(client, "/c/needlework"))) == sorted(["در زیرشاخه", "در نوه"])
    assert card_titles(page(client, "/c/tablecloths")) == ["در نوه"]


def test_a_loop_of_parent_categories_does_not_hang_the_page(client):
    first = factories.category(slug="loop-a")
    second = factories.category(slug="loop-b", parent=first)
    first.parent_id = second.id  # bad data: each is the other's parent
    db.session.commit()
    factories.product(title="در حلقه", category_row=second)
    assert card_titles(page(client, "/c/loop-a")) == ["در حلقه"]
    assert card_titles(page(client, "/c/loop-b")) == ["در حلقه"]


def county_options(html: str) -> list[str]:
    select = re.search(r'<select id="county".*?</select>', html, re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(0)) if select else []


def test_category_and_county_lists_kept_per_process_follow_the_catalogue(app, client):
    """With the page cache off, the category table and the counties of the filter are read
    once per catalogue version: a second render reads neither, and a change of a category or
    a seller (each bumps the version) shows on the next render."""
    app.config["PAGE_CACHE_ENABLED"] = False
    root = factories.category(slug="handicrafts")
    first = factories.county()
    factories.product(factories.seller(county_row=first), category_row=root)
    db.session.commit()
    html = page(client, "/c/handicrafts")
    assert county_options(html) == [first.slug]
    assert '<ul class="chips">' not in html

    with count_queries(db.engine) as statements:
        page(client, "/c/handicrafts")
    assert not [s for s in statements if "FROM category" in s or "FROM county" in s]

    child = factories.category(slug="needlework", parent=root)
    assert 'href="/c/needlework"' in page(client, "/c/handicrafts")
    child.name_fa = "سوزن‌دوزی بلوچ"
    db.session.commit()
    assert "سوزن‌دوزی بلوچ" in page(client, "/c/handicrafts")

    second = factories.county()
    shop = factories.seller(status=SellerStatus.APPLIED, county_row=second)
    factories.product(shop, category_row=root)
    assert county_options(page(client, "/c/handicrafts")) == [first.slug]
    shop.status = SellerStatus.APPROVED
    db.session.commit()
    assert sorted(county_options(page(client, "/c/handicrafts"))) == sorted(
        [first.slug, second.slug]
    )
    shop.status = SellerStatus.SUSPENDED
    db.session.commit()
    assert county_options(page(client, "/c/handicrafts")) == [first.slug]


def breadcrumb_items(html: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S)
    assert nav, "the page has breadcrumbs"
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li.*?</li>", nav.group(0))]


def test_breadcrumbs(client):
    client.set_cookie("locale", "en")
    root = factories.category(slug="handicrafts")
    child = factories.category(slug="needlework", parent=root)
    item = factories.product(title="Tablecloth", category_row=child)

    assert breadcrumb_items(page(client, f"/p/{item.id}")) == [
        "Home", root.name_en, child.name_en, "Tablecloth",
    ]  # fmt: skip
    html = page(client, "/c/needlework")
    assert breadcrumb_items(html) == ["Home", root.name_en, child.name_en]
    assert f'<li aria-current="page">{child.name_en}</li>' in html


# --- the product page ---------------------------------------------------------------------------


def test_product_page_shows_price_in_toman_and_stock(client):
    item = factories.product(title="رومیزی", price_amount=1_250_000, stock=5)
    html = page(client, f"/p/{item.id}")
    assert '<p class="price big">۱۲۵٬۰۰۰ تومان</p>' in html
    assert re.search(r'<p class="stock in">[^<]*۵[^<]*</p>', html)
    assert item.seller.display_name in html


def test_sold_out_product(client):
    item = factories.product(stock=0)
    html = page(client, f"/p/{item.id}")
    assert 'class="stock out"' in html and 'class="stock in"' not in html
    assert "ناموجود" in html
    client.set_cookie("locale", "en")
    assert "Sold out" in page(client, f"/p/{item.id}")
    assert "Sold out" in page(client, "/")  # the badge on the card


# --- accessibility basics -----------------------------------------------------------------------


class Outline(HTMLParser):
    """The parts of a page the accessibility checks look at."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_home_page_accessibility_basics(client):
    factories.product(title="خرمای مضافتی")
    outline = Outline()
    outline.feed(page(client, "/"))

    html_tag = outline.all("html")[0]
    assert html_tag.get("lang") == "fa" and html_tag.get("dir") == "rtl"
    first_link = outline.all("a")[0]
    assert first_link.get("href") == "#main" and "skip-link" in (first_link.get("class") or "")
    assert any(attrs.get("id") == "main" for attrs in outline.all("main"))
    navs = outline.all("nav")
    assert navs and all(attrs.get("aria-label") for attrs in navs)
    images = outline.all("img")
    assert images and all("alt" in attrs for attrs in images)
    assert any(attrs.get("alt") == "خرمای مضافتی" for attrs in images)
    search = [a for a in outline.all("input") if a.get("type") == "search"]
    assert search, "the page has a search box"
    labels = {a.get("for") for a in outline.all("label")}
    assert all(a.get("id") in labels or a.get("aria-label") for a in search)
    assert outline.all("meta") and any(a.get("name") == "viewport" for a in outline.all("meta"))


def test_english_pages_are_ltr(client):
    client.get("/lang/en")
    outline = Outline()
    outline.feed(page(client, "/"))
    html_tag = outline.all("html")[0]
    assert html_tag.get("lang") == "en" and html_tag.get("dir") == "ltr"


# --- no N+1 queries -----------------------------------------------------------------------------

MAX_QUERIES = 12


def test_listing_pages_run_a_constant_number_of_queries(tmp_path):
    """Queries per page do not grow with the products shown (each with photos, seller, county)."""
    app = make_app(tmp_path, PAGE_CACHE_ENABLED=False, PAGE_SIZE=24)
    with app.app_context():
        engine = db.engine
        root = factories.category(slug="handicrafts")
        child = factories.category(slug="needlework", parent=root)
        counties = [factories.county() for _ in range(3)]
        sellers = [factories.seller(county_row=c) for c in counties]
        main_seller_slug = sellers[0].slug
        urls = [
            "/",
            "/c/handicrafts",
            "/c/needlework",
            f"/s/{main_seller_slug}",
            f"/county/{counties[0].slug}",
            "/search?q=محصول",
        ]

        seller_ids = [s.id for s in sellers]
        category_ids = (root.id, child.id)

        def add_products(count: int) -> None:
            from app.catalog.models import Category, Seller

            shops = [db.session.get(Seller, i) for i in seller_ids]
            parent, sub = (db.session.get(Category, i) for i in category_ids)
            for n in range(count):
                shop = shops[0] if n % 2 == 0 else shops[n % 3]
                item = factories.product(
                    shop, title=f"محصول {n}", category_row=sub if n % 3 else parent
                )
                item.featured = n % 4 == 0
                db.session.commit()

        add_products(6)
        db.session.remove()

    def measure() -> dict[str, int]:
        # Each request in its own app context and session, as in production (nothing preloaded).
        client = app.test_client()
        counts = {}
        for url in urls:
            assert client.get(url).status_code == 200  # warm: connections, first-use queries
            with count_queries(engine) as statements:
                html = client.get(url).get_data(as_text=True)
            counts[url] = len(statements)
            assert cards(html) > 0, url
        return counts

    small = measure()
    with app.app_context():
        add_products(42)  # main seller: 24 on the seller page; 24 on category pages
        db.session.remove()
    large = measure()
    with app.app_context():
        client = app.test_client()
        assert cards(client.get(f"/s/{main_seller_slug}").get_data(as_text=True)) == 24
        assert cards(client.get("/c/handicrafts").get_data(as_text=True)) == 24
        db.session.remove()
    engine.dispose()  # after the session has given its connection back

    assert large == small, f"query counts grow with the products shown: {small} -> {large}"
    assert max(large.values()) <= MAX_QUERIES, large


def test_the_layout_links_follow_where_the_market_is_mounted(app, client):
    """The layout's fixed links (static files, pages without values) are built once per mount
    point: a market served under a path prefix links under it, and the root one does not."""
    app.config["PAGE_CACHE_ENABLED"] = False
    root = client.get("/").get_data(as_text=True)
    mounted = client.get("/", base_url="http://localhost/market/").get_data(as_text=True)
    again = client.get("/").get_data(as_text=True)
    assert 'href="/static/css/bazarche.css"' in root and 'href="/cart"' in root
    assert 'href="/market/static/css/bazarche.css"' in mounted
    assert 'href="/market/cart"' in mounted and 'action="/market/search"' in mounted
    assert again == root


def test_a_card_shows_the_first_ready_photo_or_none(client):
    """A card's picture is the product's first ready photo by position: one still being made
    or that failed is passed over, and a product with no ready photo shows the empty frame."""
    from app.catalog.models import PhotoStatus, ProductImage

    def photo(position: int, name: str, status: PhotoStatus) -> ProductImage:
        variants = [[320, 240, f"aa/bb/{name}-320.webp"], [640, 480, f"aa/bb/{name}-640.webp"]]
        if status != PhotoStatus.READY:
            variants = []
        return ProductImage(
            position=position,
            storage_key=f"aa/bb/{name}-640.webp",
            variants=variants,
            width=640,
            height=480,
            alt_text=f"عکس {name}",
            status=status,
        )

    category = factories.category(slug="mixed")
    shop = factories.seller()
    waiting = factories.product(shop, title="در انتظار", category_row=category, with_image=False)
    waiting.images.extend(
        [
            photo(0, "busy", PhotoStatus.PROCESSING),
            photo(1, "broken", PhotoStatus.FAILED),
            photo(2, "second", PhotoStatus.READY),
            photo(3, "third", PhotoStatus.READY),
        ]
    )
    bare = factories.product(shop, title="بی‌عکس", category_row=category, with_image=False)
    bare.images.append(photo(0, "busy2", PhotoStatus.PROCESSING))
    db.session.commit()

    html = page(client, "/c/mixed")
    assert cards(html) == 2
    shown = re.search(rf'<li class="card">\s*<a href="/p/{waiting.id}">(.*?)</a>', html, re.S)
    assert shown is not None
    assert 'src="/media/aa/bb/second-640.webp"' in shown.group(1)
    assert (
        'srcset="/media/aa/bb/second-320.webp 320w, /media/aa/bb/second-640.webp 640w"'
        in shown.group(1)
    )
    assert 'width="320" height="240"' in shown.group(1) and 'alt="عکس second"' in shown.group(1)
    assert "busy" not in html and "broken" not in html and "third" not in html
    empty = re.search(rf'<a href="/p/{bare.id}">\s*<span class="no-image "', html)
    assert empty is not None


def test_cards_draw_their_pictures_as_the_picture_macro_does(app):
    """The grid's cards (written in Python) show each picture exactly as the ``picture`` macro
    draws it with its defaults, escaping what the template escapes."""
    from app.catalog.queries import CardPhoto, CardPlace, CardSeller, ProductCard
    from app.web.cards import product_cards

    photo = CardPhoto(
        [[320, 240, "aa/bb/x-320.webp"], [640, 480, "aa/bb/x-640.webp"]], "a \"<b>\" & 'c'"
    )
    one_size = CardPhoto([[320, 240, "aa/bb/y-320.webp"]], "y")
    seller = CardSeller('<i>خانهٔ</i> & "دوخت"', CardPlace("زاهدان", "Zahedan"))
    items = [
        ProductCard(7, "<script>x</script>", 1_250_000, 0, seller, photo),
        ProductCard(8, "b", 10, 3, seller, one_size),
        ProductCard(9, "c", 10, 3, seller, None),
        ProductCard(10, "d", 10, 3, seller, CardPhoto([], "")),
    ]
    macro = app.jinja_env.from_string(
        '{% from "_macros.html" import picture %}{{ picture(image) }}'
    )
    with app.test_request_context("/"):
        html = str(product_cards(items))
        for item in items:
            assert macro.render(image=item.cover) in html
        assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
        sep = '<span class="sep" aria-hidden="true">|</span>'
        assert f"&lt;i&gt;خانهٔ&lt;/i&gt; &amp; &#34;دوخت&#34; {sep} زاهدان" in html
        assert html.count('<span class="badge badge-muted">ناموجود</span>') == 1
        assert '<span class="price">۱۲۵٬۰۰۰ تومان</span>' in html
        assert html.count('<li class="card">') == 4 and html.count("</li>") == 4


def test_list_reads_run_outside_the_session_and_survive_a_closed_connection(app, client):
    """On PostgreSQL the lists read on their own autocommit connection (no transaction for a
    page that only reads them; psycopg keeps their statements prepared), and a connection the
    server closed is replaced without the visitor seeing an error. Elsewhere the session reads."""
    import sqlalchemy as sa

    from app.core.reads import read_engine

    app.config["PAGE_CACHE_ENABLED"] = False
    category = factories.category(slug="read-here")
    factories.product(title="کاسهٔ سفالی", category_row=category)
    db.session.remove()
    engine = read_engine(app)
    if db.engine.dialect.name != "postgresql":
        assert engine is None
        assert "کاسهٔ سفالی" in page(client, "/c/read-here")
        return
    assert engine is not None
    for _ in range(6):
        assert "کاسهٔ سفالی" in page(client, "/c/read-here")
    with engine.connect() as conn:
        pid = conn.connection.driver_connection.info.backend_pid
        prepared = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()
    assert prepared >= 1  # kept across requests: nothing rolled them back
    with db.engine.connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    assert "کاسهٔ سفالی" in page(client, "/c/read-here")
