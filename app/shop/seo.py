"""What search engines and link previews read in a public page's ``<head>``: the canonical
address, the same page in each language (``hreflang``), Open Graph and Twitter card tags, and
schema.org data (JSON-LD: ``Product``/``Offer``, ``BreadcrumbList``, ``Organization``).

Every address is absolute and built from ``SITE_URL`` (:mod:`app.core.links`), never from the
request's host, so a page is the same for every visitor and may be cached with the rest of it.
The language of a page is chosen by the ``lang`` query parameter when present (then the cookie,
the account, ``fa``): the Persian page is the plain address and ``x-default``, the English one
the same address with ``?lang=en``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request
from markupsafe import Markup

from app.catalog.slugs import slugify
from app.core.links import site_url, site_url_for
from app.media.store import quote_key
from app.shop import bp
from app.web.i18n import gettext as _
from app.web.i18n import locale_code

OG_LOCALES = {"fa": "fa_IR", "en": "en_US"}
DESCRIPTION_LENGTH = 200
JSON_LD_REVIEWS = 3  # reviews given to search engines with a product's rating
# Characters that could end a <script> element or open a comment in it, as JSON escapes.
_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
_SCRIPT_SAFE.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


# Words after ``/p/<id>/`` that name other pages of a product: never a title's slug.
PRODUCT_SUBPAGES = frozenset({"ask", "reviews"})


def safe_product_slug(slug: str) -> str:
    """``slug``, or nothing when it would name another page of the product."""
    return "" if slug in PRODUCT_SUBPAGES else slug


def product_slug(product: Any) -> str:
    """The readable part of a product's address: its title's slug (Persian letters kept)."""
    return safe_product_slug(slugify(product.title))


def product_args(product: Any) -> dict[str, Any]:
    """``url_for`` arguments of a product's canonical address ``/p/<id>/<slug>``."""
    slug = product_slug(product)
    return {"product_id": product.id, "slug": slug} if slug else {"product_id": product.id}


def json_ld(data: Any) -> Markup:
    """``data`` as JSON that is safe inside ``<script type="application/ld+json">``: ``<``,
    ``>`` and ``&`` (so no ``</script>`` or ``<!--``) and the JavaScript line separators are
    escaped; the JSON means the same."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.translate(_SCRIPT_SAFE))  # noqa: S704 - escaped above


def absolute_media(key: str) -> str:
    """The absolute address of stored file ``key`` (a CDN's when ``MEDIA_BASE_URL`` is set)."""
    base = current_app.config.get("MEDIA_BASE_URL") or ""
    if base:
        base = base.rstrip("/")
        if base.startswith("/"):
            base = site_url() + base
        return f"{base}/{quote_key(key)}"
    return site_url_for("shop.media", key=key)


def _locale_url(endpoint: str, args: dict[str, Any], locale: str) -> str:
    url = site_url_for(endpoint, **args)
    if locale != current_app.config["BABEL_DEFAULT_LOCALE"]:
        url += ("&" if "?" in url else "?") + urlencode({"lang": locale})
    return url


def _page_args(args: dict[str, Any], keep: tuple[str, ...] = ("page",)) -> dict[str, Any]:
    """``args`` with the query arguments that name another page of the same list (page > 1)."""
    out = dict(args)
    for name in keep:
        value = request.args.get(name, "")
        if name == "page":
            if value.isdigit() and int(value) > 1:
                out[name] = int(value)
        elif value:
            out[name] = value[:200]
    return out


def _truncate(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _organization() -> dict[str, Any]:
    return {
        "@type": "Organization",
        "name": _("Bazarche"),
        "url": site_url_for("shop.home"),
        "logo": site_url() + "/static/icons/logo.svg",
    }


def _breadcrumbs(trail: list[Any], last: tuple[str, str] | None = None) -> dict[str, Any]:
    """A ``BreadcrumbList``: home, each category of ``trail`` (root first), then ``last``
    (name, address) when given."""
    locale = locale_code()
    items = [(_("Bazarche"), _locale_url("shop.home", {}, locale))]
    items += [
        (c.name(locale), _locale_url("shop.category", {"slug": c.slug}, locale)) for c in trail
    ]
    if last is not None:
        items.append(last)
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": url}
            for n, (name, url) in enumerate(items, start=1)
        ],
    }


def head_tags(
    endpoint: str,
    args: dict[str, Any],
    title: str,
    description: str,
    *,
    image: str | None = None,
    og_type: str = "website",
    data: list[dict[str, Any]] | None = None,
    noindex: bool = False,
) -> Markup:
    """The ``<head>`` tags of a public page whose address is ``endpoint`` with ``args``."""
    locale = locale_code()
    languages = current_app.config["LANGUAGES"]
    alternates = [(code, _locale_url(endpoint, args, code)) for code in languages]
    default = _locale_url(endpoint, args, current_app.config["BABEL_DEFAULT_LOCALE"])
    # Straight from the environment: the tags read only these values (no context processors,
    # which the page's own render_template has run).
    template = current_app.jinja_env.get_template("shop/_seo.html")
    return Markup(  # noqa: S704 - an autoescaped template's output
        template.render(
            canonical=_locale_url(endpoint, args, locale),
            alternates=alternates,
            x_default=default,
            title=title,
            description=_truncate(description),
            image=image,
            og_type=og_type,
            og_locale=OG_LOCALES.get(locale, locale),
            og_alternates=[OG_LOCALES.get(c, c) for c in languages if c != locale],
            data=[json_ld(d) for d in data or []],
            noindex=noindex,
        )
    )


def _tagline() -> str:
    return _("Handmade goods and home products from trained home businesses.")


@bp.app_template_global()
def seo_home() -> Markup:
    organization = {"@context": "https://schema.org", **_organization()}
    website = {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": _("Bazarche"),
        "url": site_url_for("shop.home"),
        "potentialAction": {
            "@type": "SearchAction",
            "target": site_url_for("shop.search") + "?q={search_term_string}",
            "query-input": "required name=search_term_string",
        },
    }
    return head_tags("shop.home", {}, _("Bazarche"), _tagline(), data=[organization, website])


def _rating_data(rating: Any, reviews: Sequence[Any]) -> dict[str, Any]:
    """``aggregateRating`` and a few ``review`` items of a product with reviews (else nothing)."""
    if rating is None or not rating.count:
        return {}
    data: dict[str, Any] = {
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": f"{rating.average:.1f}",
            "reviewCount": rating.count,
            "bestRating": 5,
            "worstRating": 1,
        }
    }
    items = [
        {
            "@type": "Review",
            "reviewRating": {"@type": "Rating", "ratingValue": review.stars, "bestRating": 5},
            "author": {"@type": "Person", "name": review.author_name},
            "datePublished": review.created_at.date().isoformat(),
            **({"reviewBody": _truncate(review.body, 1000)} if review.body else {}),
        }
        for review in list(reviews)[:JSON_LD_REVIEWS]
    ]
    if items:
        data["review"] = items
    return data


@bp.app_template_global()
def seo_product(
    product: Any, trail: list[Any], rating: Any = None, reviews: Sequence[Any] = ()
) -> Markup:
    locale = locale_code()
    args = product_args(product)
    url = _locale_url("shop.product", args, locale)
    images = [absolute_media(image.storage_key) for image in product.ready_images]
    description = _truncate(product.description or product.title, 5000)
    seller = product.seller
    offer: dict[str, Any] = {
        "@type": "Offer",
        "url": url,
        # Money is kept in integer rials, the unit schema.org's IRR prices are in.
        "price": str(product.effective_price),
        "priceCurrency": current_app.config["MARKET_CURRENCY"],
        "availability": "https://schema.org/" + ("InStock" if product.in_stock else "OutOfStock"),
        "itemCondition": "https://schema.org/NewCondition",
        "seller": {
            "@type": "Organization",
            "name": seller.display_name,
            "url": _locale_url("shop.seller", {"slug": seller.slug}, locale),
        },
    }
    item: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "description": description,
        "sku": str(product.id),
        "url": url,
        "offers": offer,
    }
    if images:
        item["image"] = images
    if product.category is not None:
        item["category"] = product.category.name(locale)
    item.update(_rating_data(rating, reviews))
    return head_tags(
        "shop.product",
        args,
        product.title,
        product.description or product.title,
        image=images[0] if images else None,
        og_type="product",
        data=[item, _breadcrumbs(trail, (product.title, url))],
    )


@bp.app_template_global()
def seo_category(category: Any, trail: list[Any]) -> Markup:
    name = category.name(locale_code())
    return head_tags(
        "shop.category",
        _page_args({"slug": category.slug}),
        name,
        _("Products in %(category)s from home businesses.", category=name),
        data=[_breadcrumbs(trail)],
    )


@bp.app_template_global()
def seo_seller(seller: Any) -> Markup:
    image = absolute_media(seller.logo_key) if seller.logo_key else None
    return head_tags(
        "shop.seller",
        _page_args({"slug": seller.slug}),
        seller.display_name,
        seller.bio or _tagline(),
        image=image,
        og_type="profile",
    )


@bp.app_template_global()
def seo_county(county: Any) -> Markup:
    name = county.name(locale_code())
    return head_tags(
        "shop.county",
        _page_args({"slug": county.slug}),
        name,
        _("Products from %(county)s", county=name),
    )


@bp.app_template_global()
def seo_search() -> Markup:
    """Result pages are for visitors, not an index: ``noindex, follow`` (their products are)."""
    q = request.args.get("q", "").strip()[:200]
    args = _page_args({}, keep=("q", "category", "county", "sector", "page"))
    title = _("Search: %(q)s", q=q) if q else _("All products")
    return head_tags("shop.search", args, title, _tagline(), noindex=True)
