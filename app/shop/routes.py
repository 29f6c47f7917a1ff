"""Storefront browsing: home, categories, counties, products, seller pages, language."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.accounts.services import set_locale
from app.catalog import addresses, changes, queries, ratings, searching, variants
from app.core.inputs import parse_money
from app.core.pagination import Page
from app.media.images import ORIGINALS_PREFIX
from app.media.storage import Storage, StorageUnavailable
from app.media.store import storage
from app.program import trust, views
from app.reviews import services as reviews
from app.shipping import services as shipping
from app.shop import bp, seo
from app.shop.cache import cached_page, request_version
from app.shop.cart_routes import customer_province
from app.web.http import page_arg, safe_next

T = TypeVar("T")
RELATED_COUNT = 8  # cards in "more from this seller" and in related products
REVIEWS_SHOWN = 5  # the newest reviews on a product's page (the rest on its reviews page)


def _sort_arg() -> str:
    sort = request.args.get("sort", queries.DEFAULT_SORT)
    return sort if sort in queries.SORTS else queries.DEFAULT_SORT


def _found(row: T | None) -> T:
    """``row``, or a 404 answer when the page's subject does not exist (or is not public)."""
    if row is None:
        abort(404)
    return row


def _sorted_page(products_of: Callable[[T, int, int, str], Page], owner: T) -> tuple[Page, str]:
    """The page of ``owner``'s products the query string asks for (page and sort), and the
    sort in force."""
    sort = _sort_arg()
    return products_of(owner, page_arg(), current_app.config["PAGE_SIZE"], sort), sort


@bp.get("/")
@cached_page(scope=lambda: changes.HOME_SCOPE)
def home() -> ResponseReturnValue:
    return render_template(
        "shop/home.html",
        featured=queries.featured_products(8),
        newest=queries.newest_products(12),
        categories=queries.category_tree(),
        counties=queries.counties_with_sellers(request_version()[0]),
    )


# The query string a redirect to a shop's or category's current address keeps.
_KEPT_ARGS = ("page", "sort", "lang", "min_price", "max_price", "in_stock", "county")


def _moved(kind: str, endpoint: str, slug: str) -> NoReturn:
    """Redirect permanently to the current address of the shop or category ``slug`` named before
    (or names in another spelling); 404 when it names none."""
    current = addresses.current_slug(kind, slug)
    if current is None or current == slug:
        abort(404)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in _KEPT_ARGS}
    abort(redirect(url_for(endpoint, slug=current, **args), 301))


def _price_arg(name: str) -> int | None:
    """A price bound of the query string, typed in toman, in the stored unit; None for nothing
    or anything that is no amount (a filter never errs)."""
    raw = (request.args.get(name) or "").strip()[:20]
    if not raw:
        return None
    try:
        amount = parse_money(raw, current_app.config["MARKET_CURRENCY"])
    except ValueError:
        return None
    return min(amount, 10**16) if amount >= 0 else None


def _list_filters(counties: list[tuple[queries.CountyChoice, int]]) -> queries.ListFilters:
    """The category page's filters, as the search page names them: ``min_price``,
    ``max_price`` (toman), ``in_stock`` and ``county`` (a slug of one of ``counties``)."""
    slug = (request.args.get("county") or "")[:60]
    county_id = next((place.id for place, _n in counties if place.slug == slug), None)
    low, high = _price_arg("min_price"), _price_arg("max_price")
    if low is not None and high is not None and low > high:
        low, high = high, low
    return queries.ListFilters(
        min_price=low,
        max_price=high,
        in_stock=request.args.get("in_stock") in ("1", "on", "true"),
        county_id=county_id,
    )


@bp.get("/c/<slug>")
@cached_page(scope=changes.scope_of_category)
def category(slug: str) -> ResponseReturnValue:
    # The committed catalogue version (the page cache's key has read it already): the category
    # table and the counties' list are kept per process while it stays the same.
    version = request_version()[0]
    cat = queries.category_by_slug(slug, version)
    if cat is None:
        _moved(addresses.CATEGORY, "shop.category", slug)
    counties = queries.counties_with_sellers(version)
    filters = _list_filters(counties)
    sort = _sort_arg()
    page = queries.products_in_category(
        cat, page_arg(), current_app.config["PAGE_SIZE"], sort, filters
    )
    return render_template(
        "shop/category.html",
        category=cat,
        trail=queries.breadcrumbs(cat),
        page=page,
        sort=sort,
        filters=filters,
        counties=counties,
    )


@bp.get("/county/<slug>")
@cached_page(scope=changes.scope_of_county)
def county(slug: str) -> ResponseReturnValue:
    place = _found(queries.county_by_slug(slug))
    page, sort = _sorted_page(queries.products_in_county, place)
    return render_template("shop/county.html", county=place, page=page, sort=sort)


def _product_vary() -> tuple[str | None, int]:
    """What a product page depends on beyond its own scope: the customer's province (its
    shipping costs are priced for it) and the span of time its seller's figures, other listings
    and related listings were read in. Those change with other listings and other sales, which
    do not bump this page's scope; keyed by the span, the page shows them at most
    ``trust.KEEP_SECONDS`` late (spans shifted per product, so pages do not all expire at
    once), while its own price, stock and status are never late."""
    product_id = (request.view_args or {}).get("product_id", 0)
    return customer_province(), trust.figures_period(product_id)


def _product_scope(product_id: int, slug: str | None = None) -> str:
    return changes.scope_of_product(product_id)


@bp.get("/p/<int:product_id>")
@bp.get("/p/<int:product_id>/<slug>")
# Each view is counted after the request (no anonymous lane).
@cached_page(vary=_product_vary, scope=_product_scope, lane=False)
def product(product_id: int, slug: str | None = None) -> ResponseReturnValue:
    """A product's page. Its address is ``/p/<id>/<slug of its title>`` (the canonical one);
    ``/p/<id>`` answers too, and a slug the title no longer has redirects to the current one."""
    item = _found(queries.public_product(product_id))
    if slug is not None and slug != seo.product_slug(item):
        args: dict[str, Any] = {**seo.product_args(item)}
        args.update((k, v) for k, v in request.args.items() if k == "lang")
        return redirect(url_for("shop.product", **args), 301)
    province = customer_province()
    shop = item.seller
    offers = variants.offers(item) if item.has_variants else []
    return render_template(
        "shop/product.html",
        product=item,
        options=variants.options_of(item.id) if offers else [],
        offers=offers,
        trail=queries.breadcrumbs(item.category),
        province=province,
        shipping_options=shipping.options(item.seller_id, province, 1, item.effective_price),
        away_until=shop.away_until if shipping.is_away(shop) else None,
        figures=trust.seller_figures(shop.id, shop.user_id),
        rating=ratings.product_rating(item.id),
        latest_reviews=reviews.latest_reviews(item.id, REVIEWS_SHOWN),
        more_from_seller=queries.more_from_seller(shop.id, item.id, RELATED_COUNT),
        related=(
            queries.related_products(item.category_id, shop.id, RELATED_COUNT)
            if item.category_id is not None
            else []
        ),
    )


@bp.after_request
def count_product_view(response: Response) -> Response:
    """Count a product page seen, in memory. An after-request hook runs once for every product
    page, whether the view rendered it or the page cache answered before the view (a hit), so
    each view is seen; the visitor counts once per product and day. A batch that falls due is
    written after the visitor has the page."""
    if (
        request.endpoint == "shop.product"
        and request.method == "GET"
        and response.status_code == 200
        and views.record_view(
            (request.view_args or {}).get("product_id", 0),
            visitor=views.visitor_identity(
                current_user.id if current_user.is_authenticated else None,
                request.remote_addr,
                request.headers.get("User-Agent"),
            ),
            user_agent=request.headers.get("User-Agent"),
            prefetch="prefetch"
            in request.headers.get("Sec-Purpose", request.headers.get("Purpose", "")),
        )
    ):
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: views.flush(app, only_if_due=True))
    return response


@bp.get("/s/<slug>")
@cached_page(scope=changes.scope_of_seller)
def seller(slug: str) -> ResponseReturnValue:
    shop = queries.public_seller(slug)
    if shop is None:
        _moved(addresses.SELLER, "shop.seller", slug)
    page, sort = _sorted_page(queries.products_of_seller, shop)
    return render_template(
        "shop/seller.html",
        seller=shop,
        page=page,
        sort=sort,
        rating=ratings.seller_rating(shop.id),
    )


@bp.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the interface language and go back where the visitor was."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["locale"] = code
    if current_user.is_authenticated:
        set_locale(current_user, code)
    back = _without_lang(safe_next(request.args.get("next"), url_for("shop.home")))
    response = make_response(redirect(back))
    response.set_cookie(
        "locale",
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def _without_lang(path: str) -> str:
    """``path`` without a ``lang`` query argument, which would outrank the choice just made."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Product search with facets; answers from the database (with a notice) if the index fails."""
    params = searching.parse_args(request.args, current_app.config["PAGE_SIZE"])
    outcome = searching.run(params)
    return render_template("shop/search.html", **outcome)


@bp.get("/search/suggest")
def suggest() -> ResponseReturnValue:
    """Completions for the header search box (titles, categories, sellers)."""
    return {"suggestions": searching.suggest(request.args.get("q", ""))}


@bp.get("/media/<path:key>")
def media(key: str) -> ResponseReturnValue:
    """Stored image variants, content-addressed, so they may be cached for a year.

    A local file is sent by path (conditional requests and ranges included). A remote one (the
    s3 backend) is streamed from the bucket through the app, so the bucket can stay private;
    an ``If-None-Match`` naming its ETag gets 304. A storage that cannot be reached gives 503.
    Uploads waiting for their variants (``originals/``, with their metadata) are never served.
    """
    if key.startswith(ORIGINALS_PREFIX + "/"):
        abort(404)
    store = storage()
    try:
        path = store.path_for(key)
    except (KeyError, ValueError):
        abort(404)
    if path is None:
        return _remote_media(store, key)
    if not os.path.isfile(path):
        abort(404)
    response = send_file(path, mimetype=_media_type(key), max_age=31536000, conditional=True)
    return _immutable(response)


def _remote_media(store: Storage, key: str) -> Response:
    try:
        opener = getattr(store, "open", None)  # S3Storage: headers first, body as it is sent
        if opener is not None:
            obj = opener(key)
            if obj.etag and obj.etag in request.if_none_match:
                obj.close()
                response = Response(status=304)
            else:
                response = Response(
                    obj.chunks(), mimetype=_media_type(key), direct_passthrough=True
                )
                response.call_on_close(obj.close)  # also when the body is never read (HEAD)
                if obj.length is not None:
                    response.content_length = obj.length
            if obj.etag:
                response.set_etag(obj.etag)
        else:
            response = Response(store.get(key), mimetype=_media_type(key))
    except KeyError:
        abort(404)
    except StorageUnavailable:
        current_app.logger.warning("media storage unreachable serving %s", key)
        abort(503)
    return _immutable(response)


def _immutable(response: Response) -> Response:
    response.cache_control.max_age = 31536000
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _media_type(key: str) -> str:
    if key.endswith(".webp"):
        return "image/webp"
    if key.endswith(".png"):
        return "image/png"
    return "image/jpeg"
