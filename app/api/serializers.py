"""Catalogue rows → the plain JSON values of ``/api/v1`` (shapes documented in openapi.py).

Both the Persian and the English names are given, so an answer never depends on the visitor's
language and may be cached by anyone.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from app.catalog import browse, queries
from app.catalog import variants as product_variants
from app.catalog.models import Category, Product, ProductImage, Seller
from app.catalog.variant_reads import Offer
from app.media import store
from app.reference.models import County, Sector


def media_url(key: str) -> str:
    """The absolute address of a stored image (``MEDIA_BASE_URL`` or this app's ``/media/``)."""
    return store.media_url(key, external=True)


def category_ref(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {"id": category.id, "name_fa": category.name_fa, "name_en": category.name_en}


def place_ref(place: County | Sector) -> dict[str, Any]:
    return {"slug": place.slug, "name_fa": place.name_fa, "name_en": place.name_en}


def variants(image: ProductImage | None) -> list[dict[str, Any]]:
    """The stored sizes of one picture, narrowest first."""
    if image is None:
        return []
    out = []
    for entry in image.variants or []:
        width, height, key = entry[0], entry[1], entry[2]
        out.append({"width": int(width), "height": int(height), "url": media_url(str(key))})
    return out


def _prices(product: Product) -> dict[str, Any]:
    """The price now (sale or campaign included), the list price, the discount and its
    source, computed by the one pricing rule (``Product.price_quote``)."""
    quote = product.price_quote
    campaign = quote.campaign
    return {
        "price": quote.amount,
        "list_price": product.price_amount,
        "discount": quote.discount,
        "discount_source": quote.source,
        "campaign": (
            {"name_fa": campaign.name_fa, "name_en": campaign.name_en}
            if campaign is not None
            else None
        ),
    }


def _largest(image: ProductImage | None) -> str | None:
    sizes = variants(image)
    return sizes[-1]["url"] if sizes else None


def variant_fields(product: Product, offer: Offer | None) -> dict[str, Any]:
    """``has_variants``, ``options`` and ``variants`` of a product (empty lists without
    options). A variant's ``price_now`` is its sale price while the product's sale runs."""
    if not product.has_variants or offer is None:
        return {"has_variants": False, "options": [], "variants": []}
    return {
        "has_variants": True,
        "options": [{"name": o.name, "values": list(o.values or [])} for o in offer.options],
        "variants": [
            {
                "id": variant.id,
                "values": variant.values,
                "label": product_variants.label(variant, offer.options),
                "sku": variant.sku,
                "price": variant.price_amount,
                "price_now": product_variants.price_now(variant, product),
                "in_stock": variant.in_stock,
                "image_url": _largest(image),
            }
            for variant, image in offer.variants
        ],
    }


def product_summary(product: Product, offer: Offer | None = None) -> dict[str, Any]:
    """A product as a list shows it; with options, ``price`` is the lowest of its variants'
    (the "from" price the cards show)."""
    seller = product.seller
    return {
        "id": product.id,
        "title": product.title,
        **_prices(product),
        "currency": current_app.config["MARKET_CURRENCY"],
        "in_stock": product.in_stock,
        "seller": {"slug": seller.slug, "name": seller.display_name},
        "county": place_ref(seller.county),
        "category": category_ref(product.category),
        "url": url_for("shop.product", product_id=product.id, _external=True),
        "images": variants(product.cover),
        **variant_fields(product, offer),
    }


def product_detail(product: Product, offer: Offer | None = None) -> dict[str, Any]:
    seller = product.seller
    return {
        "id": product.id,
        "title": product.title,
        "description": product.description or "",
        **_prices(product),
        "currency": current_app.config["MARKET_CURRENCY"],
        "stock": product.stock,
        "in_stock": product.in_stock,
        "category": category_ref(product.category),
        "category_path": [category_ref(c) for c in queries.breadcrumbs(product.category)],
        "seller": {
            "slug": seller.slug,
            "name": seller.display_name,
            "url": url_for("shop.seller", slug=seller.slug, _external=True),
            "county": place_ref(seller.county),
            "sector": place_ref(seller.sector),
        },
        "url": url_for("shop.product", product_id=product.id, _external=True),
        "images": [
            {
                "alt": image.alt_text or "",
                "width": image.width,
                "height": image.height,
                "variants": variants(image),
            }
            for image in product.ready_images
        ],
        **variant_fields(product, offer),
    }


def seller_detail(seller: Seller) -> dict[str, Any]:
    trained_on = seller.training_completed_on
    return {
        "slug": seller.slug,
        "name": seller.display_name,
        "bio": seller.bio or "",
        "county": place_ref(seller.county),
        "sector": place_ref(seller.sector),
        "trained": trained_on is not None,
        "training_completed_on": trained_on.isoformat() if trained_on else None,
        "url": url_for("shop.seller", slug=seller.slug, _external=True),
        "logo_url": media_url(seller.logo_key) if seller.logo_key else None,
        "product_count": browse.published_count(seller),
    }


def option_facets(rows: list[tuple[str, list[tuple[str, int, bool]]]]) -> list[dict[str, Any]]:
    """The search's option facets as JSON: each option name with its values and counts."""
    return [
        {
            "name": name,
            "values": [
                {"value": value, "count": n, "chosen": chosen} for value, n, chosen in values
            ],
        }
        for name, values in rows
    ]


def facets(rows: dict[str, list[tuple[Any, int]]]) -> dict[str, list[dict[str, Any]]]:
    """The search's facet rows (model, count) as JSON; every key present, even when empty."""
    return {
        "category": [
            {**(category_ref(cat) or {}), "count": n} for cat, n in rows.get("category", [])
        ],
        "county": [{**place_ref(c), "count": n} for c, n in rows.get("county", [])],
        "sector": [{**place_ref(s), "count": n} for s, n in rows.get("sector", [])],
    }
