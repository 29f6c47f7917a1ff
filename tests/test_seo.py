"""Persian storefront addresses (with old ones redirecting for good) and what search engines and
link previews read: robots.txt, the sitemaps, canonical and hreflang links, Open Graph tags and
schema.org data on every public page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import g, request_started, url_for

from app.catalog import addresses, changes
from app.catalog.models import Category, Product, Seller, SlugHistory
from app.catalog.sellers import SellerProfile, update_profile
from app.catalog.slugs import is_valid_slug, slugify
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.shop import crawl_routes, seo
from tests import factories
from tests.test_migrations import app_for, fresh_databases, keep_logging  # noqa: F401

SITE = "https://bazarche.example"
SHOP = "سوزن‌دوزی گل‌افروز"
SHOP_SLUG = "سوزن-دوزی-گل-افروز"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture(autouse=True)
def fresh(app):  # type: ignore[no-untyped-def]
    """Requests share the test's app context: empty ``g`` as each starts; no kept sitemaps."""

    def clear(sender, **extra):  # type: ignore[no-untyped-def]
        g.__dict__.clear()

    request_started.connect(clear)
    crawl_routes.clear()
    yield
    request_started.disconnect(clear)
    crawl_routes.clear()


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    app.config["SITE_URL"] = SITE  # links never come from the request's host (localhost)
    parent = factories.category("handicrafts")
    parent.name_fa, parent.name_en = "صنایع دستی", "Handicrafts"
    child = factories.category("needlework", parent=parent)
    child.name_fa, child.name_en = "سوزن‌دوزی بلوچ", "Baluch needlework"
    shop = factories.seller(name=SHOP)
    shop.slug = SHOP_SLUG
    shop.bio = "دوخت دست </script><script>alert(1)</script>"
    db.session.commit()
    item = factories.product(
        shop, title="رومیزی </script> سوزن‌دوزی", price_amount=1_250_000, category_row=child
    )
    empty = factories.product(shop, title="کوسن", stock=0, category_row=child, with_image=False)
    return {"parent": parent, "child": child, "shop": shop, "item": item, "empty": empty}


# ---- slugs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        (SHOP, SHOP_SLUG),
        ("كيك خانگي", "کیک-خانگی"),  # Arabic kaf and yeh
        ("  خرمای  مضافتی!! (۱ کیلو) ", "خرمای-مضافتی-1-کیلو"),
        ("مُرَبّای هویج", "مربای-هویج"),  # diacritics dropped
        ("Dates & Co.", "dates-co"),
        ("ـــ", ""),
        ("گ" * 80, "گ" * 60),
    ],
)
def test_slugs_keep_persian_letters_in_one_spelling(text, slug):
    assert slugify(text) == slug
    assert slugify(slug) == slug


def test_only_normal_slugs_are_valid():
    assert is_valid_slug(SHOP_SLUG)
    assert not is_valid_slug("كيك-خانگي")  # Arabic letters: not the normal spelling
    assert not is_valid_slug("گل افروز")
    assert not is_valid_slug("admin")
    assert not is_valid_slug("ab")


# ---- addresses ----------------------------------------------------------------------------------


def test_a_shop_address_is_persian_and_percent_encoded(app, client, market):
    with app.test_request_context():
        url = url_for("shop.seller", slug=SHOP_SLUG)
    assert url == "/s/" + quote(SHOP_SLUG)
    assert url.isascii()
    response = client.get(url)
    assert response.status_code == 200
    assert SHOP in response.get_data(as_text=True)


def test_a_renamed_shop_redirects_its_old_address_permanently(app, client, market):
    shop = market["shop"]
    update_profile(
        shop,
        SellerProfile(
            display_name=shop.display_name,
            slug="گل بی بی",
            bio="",
            county_id=shop.county_id,
            sector_id=shop.sector_id,
            phone="",
            registration_code=shop.registration_code,
            training_completed_on=shop.training_completed_on,
        ),
    )
    assert shop.slug == "گل-بی-بی"
    old = client.get("/s/" + quote(SHOP_SLUG) + "?page=2&utm=x")
    assert old.status_code == 301
    assert unquote(old.headers["Location"]) == "/s/گل-بی-بی?page=2"
    assert client.get(old.headers["Location"]).status_code == 200
    # Typed with Arabic letters: the normal spelling.
    arabic = client.get("/s/" + quote("گل-بي-بي"))
    assert arabic.status_code == 301
    assert client.get("/s/" + quote("نیست")).status_code == 404


def test_a_slug_held_now_wins_over_an_old_address(app, client, market):
    other = factories.seller(name="دیگری")
    addresses.remember(addresses.SELLER, other.slug, market["shop"].id)
    db.session.commit()
    assert client.get(f"/s/{other.slug}").status_code == 200


def test_an_old_category_address_redirects(app, client, market):
    child = market["child"]
    db.session.add(SlugHistory(kind="category", old_slug="needlework-old", object_id=child.id))
    db.session.commit()
    response = client.get("/c/needlework-old")
    assert response.status_code == 301
    assert response.headers["Location"] == "/c/" + quote(child.slug)


def test_a_product_address_carries_its_title(app, client, market):
    item = market["item"]
    slug = seo.product_slug(item)
    assert slug == "رومیزی-script-سوزن-دوزی"
    canonical = f"/p/{item.id}/{quote(slug)}"
    assert client.get(canonical).status_code == 200
    assert client.get(f"/p/{item.id}").status_code == 200  # the short address answers too
    stale = client.get(f"/p/{item.id}/{quote('عنوان-قدیمی')}?lang=en")
    assert stale.status_code == 301
    assert stale.headers["Location"] == canonical + "?lang=en"
    assert client.get(f"/p/{market['empty'].id + 999}/x").status_code == 404


def test_cached_persian_pages_follow_their_scopes(app, client, market):
    app.config["PAGE_CACHE_ENABLED"] = True
    url = "/s/" + quote(SHOP_SLUG)
    client.get(url)
    assert client.get(url).headers["X-Page-Cache"] == "hit"
    assert changes.scope_of_seller(SHOP_SLUG) == f"seller:{SHOP_SLUG}"
    market["item"].price_amount = 990_000
    db.session.commit()
    fresh = client.get(url)
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "۹۹٬۰۰۰" in fresh.get_data(as_text=True)


def test_the_anonymous_lane_keeps_percent_encoded_paths_apart(app, market):
    app.config["PAGE_CACHE_ENABLED"] = True
    reached: list[str] = []

    def started(sender, **extra):  # type: ignore[no-untyped-def]
        from flask import request

        reached.append(request.path)

    request_started.connect(started)
    try:
        visitor = app.test_client(use_cookies=False)
        shop_url = "/s/" + quote(SHOP_SLUG)
        category_url = "/c/" + quote(market["child"].slug)
        for url in (shop_url, category_url, shop_url, category_url):
            assert visitor.get(url).status_code == 200
        if db.engine.dialect.name == "postgresql":  # the lane runs there: Flask saw each once
            assert reached == ["/s/" + SHOP_SLUG, "/c/" + market["child"].slug]
        db.session.execute(
            sa.update(Product).where(Product.id == market["item"].id).values(stock=0)
        )
        changes.mark_pages_changed(db.session, {changes.scope_of_seller(SHOP_SLUG)})
        db.session.commit()
        reached.clear()
        assert visitor.get(shop_url).headers["X-Page-Cache"] == "miss"
        assert visitor.get(category_url).headers["X-Page-Cache"] == "hit"
        if db.engine.dialect.name == "postgresql":  # only the changed shop's page went through
            assert reached == ["/s/" + SHOP_SLUG]
    finally:
        request_started.disconnect(started)


def test_the_api_and_search_name_persian_shops(app, client, market):
    body = client.get("/api/v1/sellers/" + quote(SHOP_SLUG)).get_json()
    assert body["slug"] == SHOP_SLUG
    assert unquote(body["url"]).endswith("/s/" + SHOP_SLUG)


def test_a_csv_import_names_categories_by_any_spelling_or_old_address(app):
    from app.catalog import importer

    seller = factories.seller()
    cat = factories.category("کیک-خانگی")
    addresses.remember(addresses.CATEGORY, "cakes", cat.id)
    db.session.commit()
    csv_text = "title,category,price,stock,status\nA,كيك خانگي,100,1,draft\nB,cakes,100,1,draft\n"
    plan = importer.validate(importer.parse_csv(csv_text.encode()), seller, None)
    assert [row.category_id for row in plan.rows] == [cat.id, cat.id]


# ---- robots.txt and sitemaps --------------------------------------------------------------------


def test_robots_keep_crawlers_out_of_private_areas(client, market):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for path in ("/auth/", "/cart", "/checkout", "/seller/", "/admin/", "/api/", "/orders"):
        assert f"Disallow: {path}\n" in text
    assert f"Sitemap: {SITE}/sitemap.xml\n" in text
    assert "Disallow: /s/" not in text and "Disallow: /p/" not in text


def _xml(response) -> ElementTree.Element:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.mimetype == "application/xml"
    return ElementTree.fromstring(response.get_data())  # noqa: S314 - the app's own answer


def _locs(response) -> list[str]:  # type: ignore[no-untyped-def]
    root = _xml(response)
    return [el.text or "" for el in root.iter(f"{{{NS['s']}}}loc")]


def test_the_sitemap_names_every_public_page(client, market):
    hidden = factories.product(market["shop"], title="پیش‌نویس", status="draft")
    pages = _locs(client.get("/sitemap.xml"))
    assert pages == [f"{SITE}/sitemap-{kind}-1.xml" for kind in crawl_routes.KINDS]
    index = _xml(client.get("/sitemap.xml"))
    assert index.find("s:sitemap/s:lastmod", NS) is not None

    def path(url: str) -> str:
        assert url.startswith(SITE + "/") and url.isascii()
        return unquote(urlsplit(url).path)

    products = [path(u) for u in _locs(client.get("/sitemap-products-1.xml"))]
    item, empty = market["item"], market["empty"]
    assert products == [f"/p/{item.id}/رومیزی-script-سوزن-دوزی", f"/p/{empty.id}/کوسن"]
    assert f"/p/{hidden.id}" not in " ".join(products)
    assert [path(u) for u in _locs(client.get("/sitemap-shops-1.xml"))] == [f"/s/{SHOP_SLUG}"]
    categories = {path(u) for u in _locs(client.get("/sitemap-categories-1.xml"))}
    assert f"/c/{market['child'].slug}" in categories
    assert [path(u) for u in _locs(client.get("/sitemap-counties-1.xml"))] == [
        f"/county/{market['shop'].county.slug}"
    ]
    urlset = _xml(client.get("/sitemap-products-1.xml"))
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", el.text or "")
        for el in urlset.iterfind("s:url/s:lastmod", NS)
    )
    assert client.get("/sitemap-products-2.xml").status_code == 404
    assert client.get("/sitemap-users-1.xml").status_code == 404


def test_the_sitemap_splits_past_its_page_size(client, market, monkeypatch):
    monkeypatch.setattr(crawl_routes, "URLS_PER_SITEMAP", 1)
    extra = factories.product(market["shop"], title="سبد حصیری")
    pages = _locs(client.get("/sitemap.xml"))
    assert [p for p in pages if "products" in p] == [
        f"{SITE}/sitemap-products-{n}.xml" for n in (1, 2, 3)
    ]
    seen = [_locs(client.get(f"/sitemap-products-{n}.xml")) for n in (1, 2, 3)]
    assert all(len(page) == 1 for page in seen)
    assert str(extra.id) in seen[2][0]
    assert client.get("/sitemap-products-4.xml").status_code == 404


# ---- head tags ----------------------------------------------------------------------------------


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, list[str]] = {}
        self.data: list[object] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            self.links.append(a)
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta.setdefault(a.get("property") or a["name"], []).append(a.get("content", ""))
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.data.append(json.loads(data))


def _head(client, url: str) -> _Head:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    parser = _Head()
    parser.feed(response.get_data(as_text=True))
    return parser


def _check_links(head: _Head, canonical: str) -> None:
    assert [link["href"] for link in head.links if link.get("rel") == "canonical"] == [canonical]
    alternates = {
        link["hreflang"]: link["href"] for link in head.links if link.get("rel") == "alternate"
    }
    fa = canonical.replace("?lang=en", "").replace("&lang=en", "")
    assert alternates == {
        "fa": fa,
        "en": fa + ("&" if "?" in fa else "?") + "lang=en",
        "x-default": fa,
    }
    assert head.meta["og:url"] == [canonical]
    for name in ("og:title", "og:description", "og:type", "og:locale", "twitter:card"):
        assert head.meta.get(name) and head.meta[name][0], name
    for url in [link["href"] for link in head.links if "hreflang" in link]:
        assert url.startswith(SITE + "/") and url.isascii()


def _of_type(head: _Head, kind: str) -> list[dict]:
    return [d for d in head.data if isinstance(d, dict) and d.get("@type") == kind]


def _check_breadcrumbs(crumbs: dict, names: list[str]) -> None:
    assert crumbs["@context"] == "https://schema.org"
    items = crumbs["itemListElement"]
    assert [i["position"] for i in items] == list(range(1, len(names) + 1))
    assert [i["name"] for i in items] == names
    assert all(i["@type"] == "ListItem" and i["item"].startswith(SITE + "/") for i in items)


@pytest.mark.parametrize("cached", [False, True])
def test_every_public_page_has_its_head_tags(app, client, market, cached):
    app.config["PAGE_CACHE_ENABLED"] = cached
    item, child, shop = market["item"], market["child"], market["shop"]
    product_path = f"/p/{item.id}/{quote(seo.product_slug(item))}"
    pages = {
        "home": "/",
        "category": f"/c/{quote(child.slug)}",
        "product": product_path,
        "shop": f"/s/{quote(SHOP_SLUG)}",
        "county": f"/county/{shop.county.slug}",
        "search": "/search?q=" + quote("رومیزی"),
    }
    for _round in range(2 if cached else 1):  # the second round from the cache
        heads = {kind: _head(client, url) for kind, url in pages.items()}
        for kind, url in pages.items():
            _check_links(heads[kind], SITE + url)

    home = heads["home"]
    organization = _of_type(home, "Organization")[0]
    assert organization["@context"] == "https://schema.org"
    assert organization["url"] == SITE + "/"

    product = heads["product"]
    data = _of_type(product, "Product")[0]
    assert data["name"] == item.title  # "</script>" in the title did not end the script
    assert data["image"] == [f"{SITE}/media/aa/bb/test-640.webp"]
    assert data["offers"] == {
        "@type": "Offer",
        "url": SITE + product_path,
        "price": "1250000",
        "priceCurrency": "IRR",
        "availability": "https://schema.org/InStock",
        "itemCondition": "https://schema.org/NewCondition",
        "seller": {"@type": "Organization", "name": SHOP, "url": f"{SITE}/s/{quote(SHOP_SLUG)}"},
    }
    assert product.meta["og:image"] == [f"{SITE}/media/aa/bb/test-640.webp"]
    assert product.meta["og:type"] == ["product"]
    assert product.meta["twitter:card"] == ["summary_large_image"]
    _check_breadcrumbs(
        _of_type(product, "BreadcrumbList")[0],
        ["بازارچه", "صنایع دستی", "سوزن‌دوزی بلوچ", item.title],
    )
    _check_breadcrumbs(
        _of_type(heads["category"], "BreadcrumbList")[0], ["بازارچه", "صنایع دستی", "سوزن‌دوزی بلوچ"]
    )
    assert heads["search"].meta["robots"] == ["noindex, follow"]
    assert "robots" not in heads["product"].meta
    assert heads["shop"].meta["og:description"][0].startswith("دوخت دست </script>")


def test_an_out_of_stock_product_says_so(client, market):
    empty = market["empty"]
    head = _head(client, f"/p/{empty.id}")
    data = _of_type(head, "Product")[0]
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert "image" not in data and "og:image" not in head.meta
    assert head.meta["twitter:card"] == ["summary"]
    # The short address names the full one as canonical.
    _check_links(head, f"{SITE}/p/{empty.id}/{quote('کوسن')}")


def test_the_english_page_is_chosen_by_its_address(client, market):
    head = _head(client, "/?lang=en")
    _check_links(head, f"{SITE}/?lang=en")
    assert head.meta["og:locale"] == ["en_US"] and head.meta["og:locale:alternate"] == ["fa_IR"]
    assert _of_type(head, "Organization")[0]["name"] == "Bazarche"
    # Choosing a language from such a page drops the address's choice, which would outrank it.
    back = client.get("/lang/fa?next=" + quote("/c/x?lang=en&page=2"))
    assert back.headers["Location"] == "/c/x?page=2"


def test_json_ld_cannot_end_its_script():
    text = str(seo.json_ld({"name": "</script><!-- & \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><!-- & \u2028"}


# ---- the migration ------------------------------------------------------------------------------


def _seller_at_0023(name: str) -> sa.Row:
    """A seller row written with the columns the table had at revision 0023 (the model has
    gained more since, which that schema lacks)."""
    owner = factories.user(factories.Role.SELLER)
    county, sector = factories.county(), factories.sector()
    table = Seller.__table__
    inserted = db.session.execute(
        sa.insert(table).values(
            user_id=owner.id,
            slug=f"seller-old-{owner.id}",
            display_name=name,
            bio="",
            county_id=county.id,
            sector_id=sector.id,
            status="approved",
            created_at=utcnow(),
            updated_at=utcnow(),
        )  # fmt: skip
    )
    db.session.commit()
    (seller_id,) = inserted.inserted_primary_key
    return db.session.execute(
        sa.select(table.c.id, table.c.slug).where(table.c.id == seller_id)
    ).one()


@pytest.mark.usefixtures("keep_logging")
def test_the_migration_gives_existing_rows_persian_slugs_and_keeps_the_old_ones(tmp_path, request):
    url, _ = request.getfixturevalue("fresh_databases")
    app = app_for(tmp_path, url)
    with app.app_context():
        flask_migrate.upgrade(revision="0023")
        first = _seller_at_0023(SHOP)
        twin = _seller_at_0023(SHOP)
        category = factories.category("needlework")
        ids = (first.id, twin.id, category.id)
        old = (first.slug, twin.slug, "needlework")
        db.session.remove()
        flask_migrate.upgrade()
        slugs = dict(db.session.execute(sa.select(Seller.id, Seller.slug)).tuples().all())
        assert (slugs[ids[0]], slugs[ids[1]]) == (SHOP_SLUG, SHOP_SLUG + "-2")
        renamed = db.session.get(Category, ids[2])
        assert renamed.slug == slugify(renamed.name_fa) and renamed.slug.startswith("دسته-")
        history = set(
            db.session.execute(
                sa.select(SlugHistory.kind, SlugHistory.old_slug, SlugHistory.object_id)
            )
        )
        assert history == {
            ("seller", old[0], ids[0]),
            ("seller", old[1], ids[1]),
            ("category", old[2], ids[2]),
        }
        assert addresses.current_slug(addresses.SELLER, old[1]) == SHOP_SLUG + "-2"
        db.session.remove()
        flask_migrate.downgrade(revision="0023")
        slugs = dict(db.session.execute(sa.select(Seller.id, Seller.slug)).tuples().all())
        assert (slugs[ids[0]], slugs[ids[1]]) == old[:2]
        db.session.remove()
        db.engine.dispose()
