"""What search engines crawl: ``/robots.txt`` and the sitemaps.

``/sitemap.xml`` is a sitemap index naming one sitemap page per :data:`URLS_PER_SITEMAP`
addresses of each kind (products, shops, categories, counties), each with the time its newest
entry changed. A page reads only ids, slugs (a product's title, its slug's source) and change
times, in id order, a page at a time; each answer is kept for :data:`CACHE_SECONDS` in the
worker, so crawlers asking again cost nothing. Addresses come from ``SITE_URL``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from xml.sax.saxutils import escape

import sqlalchemy as sa
from flask import Response, abort
from flask.typing import ResponseReturnValue

from app.catalog.models import Category, Product, ProductStatus, Seller, SellerStatus
from app.catalog.slugs import slugify
from app.core.extensions import db
from app.core.links import site_url_for
from app.reference.models import County
from app.shop import bp, seo

# At most this many addresses in one sitemap page (the sitemap protocol's limit).
URLS_PER_SITEMAP = 50_000
CACHE_SECONDS = 600
KINDS = ("products", "shops", "categories", "counties")
# Areas that are a visitor's own or staff's: never worth crawling.
DISALLOWED = (
    "/auth/",
    "/cart",
    "/checkout",
    "/orders",
    "/payments/",
    "/messages",
    "/notifications",
    "/seller/",
    "/admin/",
    "/api/",
    "/lang/",
    "/search/suggest",
    "/sandbox/",
)
_XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

_kept: dict[str, tuple[float, bytes]] = {}
_lock = threading.Lock()


def clear() -> None:
    with _lock:
        _kept.clear()


def _cached(name: str, make: Iterator[str]) -> bytes:
    now = time.monotonic()
    with _lock:
        kept = _kept.get(name)
    if kept is not None and kept[0] > now:
        return kept[1]
    body = "".join(make).encode()
    with _lock:
        _kept[name] = (now + CACHE_SECONDS, body)
    return body


def _xml(body: bytes) -> Response:
    response = Response(body, mimetype="application/xml")
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


@bp.get("/robots.txt")
def robots() -> ResponseReturnValue:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED), "Allow: /", ""]
    lines.append(f"Sitemap: {site_url_for('shop.sitemap_index')}")
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


def _public_products() -> sa.Select:
    return (
        sa.select(Product.id, Product.title, Product.updated_at)
        .join(Seller, Seller.id == Product.seller_id)
        .where(Product.status == ProductStatus.PUBLISHED, Seller.status == SellerStatus.APPROVED)
    )


def _statement(kind: str) -> sa.Select:
    """The rows of ``kind``'s sitemap, in id order: (id, slug or title, last change or None)."""
    if kind == "products":
        return _public_products().order_by(Product.id)
    if kind == "shops":
        return (
            sa.select(Seller.id, Seller.slug, Seller.updated_at)
            .where(Seller.status == SellerStatus.APPROVED)
            .order_by(Seller.id)
        )
    listed = _public_products().subquery()
    if kind == "categories":
        newest = (
            sa.select(Product.category_id, sa.func.max(listed.c.updated_at).label("changed"))
            .join(listed, listed.c.id == Product.id)
            .group_by(Product.category_id)
            .subquery()
        )
        return (
            sa.select(Category.id, Category.slug, newest.c.changed)
            .outerjoin(newest, newest.c.category_id == Category.id)
            .order_by(Category.id)
        )
    newest = (
        sa.select(Seller.county_id, sa.func.max(listed.c.updated_at).label("changed"))
        .join(Product, Product.seller_id == Seller.id)
        .join(listed, listed.c.id == Product.id)
        .group_by(Seller.county_id)
        .subquery()
    )
    return (  # counties with something to show
        sa.select(County.id, County.slug, newest.c.changed)
        .join(newest, newest.c.county_id == County.id)
        .order_by(County.id)
    )


def _count(kind: str) -> tuple[int, datetime | None]:
    rows = _statement(kind).order_by(None).subquery()
    count, changed = db.session.execute(sa.select(sa.func.count(), sa.func.max(rows.c[2]))).one()
    return count, changed


def _lastmod(when: datetime | None) -> str:
    return f"<lastmod>{when.strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>" if when else ""


def _index() -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_XMLNS}">\n'
    for kind in KINDS:
        count, changed = _count(kind)
        for page in range(1, max(1, -(-count // URLS_PER_SITEMAP)) + 1):
            url = site_url_for("shop.sitemap_page", kind=kind, page=page)
            yield f"<sitemap><loc>{escape(url)}</loc>{_lastmod(changed)}</sitemap>\n"
    yield "</sitemapindex>\n"


def _address(kind: str, key: int, name: str) -> str:
    if kind == "products":
        slug = seo.safe_product_slug(slugify(name))
        args = {"product_id": key, "slug": slug} if slug else {"product_id": key}
        return site_url_for("shop.product", **args)
    endpoint = {"shops": "shop.seller", "categories": "shop.category"}.get(kind, "shop.county")
    return site_url_for(endpoint, slug=name)


def _page(kind: str, page: int) -> Iterator[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_XMLNS}">\n'
    rows = db.session.execute(
        _statement(kind).offset((page - 1) * URLS_PER_SITEMAP).limit(URLS_PER_SITEMAP),
        execution_options={"yield_per": 2000},
    )
    for key, name, changed in rows:
        url = escape(_address(kind, key, name))
        yield f"<url><loc>{url}</loc>{_lastmod(changed)}</url>\n"
    yield "</urlset>\n"


@bp.get("/sitemap.xml")
def sitemap_index() -> ResponseReturnValue:
    return _xml(_cached("index", _index()))


@bp.get("/sitemap-<kind>-<int:page>.xml")
def sitemap_page(kind: str, page: int) -> ResponseReturnValue:
    if kind not in KINDS or page < 1:
        abort(404)
    name = f"{kind}-{page}"
    with _lock:
        kept = _kept.get(name)
    if kept is None or kept[0] <= time.monotonic():
        count, _changed = _count(kind)
        if page > max(1, -(-count // URLS_PER_SITEMAP)):
            abort(404)
    return _xml(_cached(name, _page(kind, page)))
