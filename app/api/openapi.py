"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

It is the API's contract: the tests check that it names exactly the routes of the blueprint and
that every answer they receive validates against its schemas.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.search import SORTS
from app.search.backend import MAX_PER_PAGE

DESCRIPTION = """\
Read-only JSON of the Bazarche catalogue: products of trained home businesses, their sellers,
search with facets and search-box suggestions. Only **published products of approved sellers**
exist here; anything else answers 404, exactly as the storefront does.

**Money.** `price` is what a unit costs now (a sale or a market campaign included; `list_price`
and `discount` say what it came from; sorting and the price filters use it too) and is an integer in the smallest unit of `currency` (IRR: rials; the storefront
shows Persian visitors toman, 10 rials). The `min_price` and `max_price` filters take the **same
unit as `price`** (rials for IRR), not toman as the storefront's search form does.

**Names.** Categories, counties and sectors carry both their Persian (`name_fa`) and English
(`name_en`) names; answers never depend on the caller's language.

**Forgiving parameters.** A malformed or out-of-range query parameter is never an error: it falls
back to its default (`page=abc` is page 1, `per_page` above 100 is 100, an unknown `sort` is
`relevance`, a `category` that is not a positive id is ignored, a non-numeric price is no bound).
A page past the last one answers an empty `items` list.

**Errors** have the body `{"error": {"status": <HTTP status>, "message": <text>}}`.

**Caching.** Successful answers carry `Cache-Control: public, max-age=60`.

**Degraded search.** When the search index is unavailable, `/products` answers from a plain
database search and says so with `degraded: true`; facets are then empty (option facets list
only the chosen values), there is no suggestion,
some filters may not be applied, and a page past the last one answers the last page.
"""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def _array(items: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


_STRING = {"type": "string"}
_URL = {"type": "string", "format": "uri"}
_ID = {"type": "integer", "minimum": 1}
_COUNT = {"type": "integer", "minimum": 0}


def _place(kind: str) -> dict[str, Any]:
    return _object(
        {
            "slug": {
                "type": "string",
                "description": f"The {kind}'s key, as in the `{kind}` filter.",
            },
            "name_fa": _STRING,
            "name_en": _STRING,
        },
        f"A programme {kind}.",
    )


def _facet(ref_schema: dict[str, Any]) -> dict[str, Any]:
    props = dict(ref_schema["properties"])
    props["count"] = {**_COUNT, "description": "Matching products (other filters applied)."}
    return _object(props)


def schemas() -> dict[str, Any]:
    category = _object(
        {"id": _ID, "name_fa": _STRING, "name_en": _STRING},
        "A product category (`id` is the value of the `category` filter).",
    )
    county = _place("county")
    sector = _place("sector")
    variant = _object(
        {"width": _COUNT, "height": _COUNT, "url": _URL},
        "One stored size of a picture (WebP, cached for a year).",
    )
    money = {
        "type": "integer",
        "minimum": 0,
        "description": "In the smallest unit of `currency` (rials for IRR).",
    }
    currency = {"type": "string", "description": "ISO 4217 code of the market currency."}
    prices = {
        "price": {
            **money,
            "description": "What one unit costs now (a running sale or market campaign "
            "included), in the smallest unit of `currency`.",
        },
        "list_price": {**money, "description": "The seller's price before any discount."},
        "discount": {**money, "description": "`list_price` − `price` (0 without a discount)."},
        "discount_source": _nullable(
            {"type": "string", "enum": ["sale", "campaign"], "description": "Where it comes from."}
        ),
        "campaign": _nullable(
            _object({"name_fa": _STRING, "name_en": _STRING}, "The market campaign giving it.")
        ),
    }
    variant_fields = {
        "has_variants": {
            "type": "boolean",
            "description": "Whether the product is sold by its variants (size, colour...); "
            "`price` is then the lowest of their prices and `in_stock` says whether any has "
            "stock.",
        },
        "options": _array(
            _ref("Option"), "The product's options in order; empty without variants."
        ),
        "variants": _array(
            _ref("Variant"), "The variants on sale, in the seller's order; empty without."
        ),
    }
    return {
        "Error": _object(
            {
                "error": _object(
                    {"status": {"type": "integer"}, "message": _STRING},
                )
            },
            "The body of every error answer.",
        ),
        "Category": category,
        "County": county,
        "Sector": sector,
        "ImageVariant": variant,
        "Image": _object(
            {
                "alt": _STRING,
                "width": {**_COUNT, "description": "Width of the upright original."},
                "height": {**_COUNT, "description": "Height of the upright original."},
                "variants": _array(_ref("ImageVariant"), "Narrowest first."),
            },
            "A product photo.",
        ),
        "SellerRef": _object({"slug": _STRING, "name": _STRING}),
        "Option": _object(
            {
                "name": {**_STRING, "description": "As the seller wrote it, e.g. «رنگ»."},
                "values": _array(_STRING, "In the order the product page offers them."),
            },
            "One of a product's options (at most three).",
        ),
        "Variant": _object(
            {
                "id": _ID,
                "values": _array(_STRING, "Its value of each option, in the options' order."),
                "label": {**_STRING, "description": "The options' names with its values."},
                "sku": {"type": ["string", "null"], "description": "The seller's code."},
                "price": money,
                "price_now": {
                    **money,
                    "description": "What one unit costs now: its sale price while the "
                    "product's sale runs, else `price`.",
                },
                "in_stock": {"type": "boolean"},
                "image_url": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "Its own photo (the largest size), or null.",
                },
            },
            "One choice of a product with options.",
        ),
        "OptionFacet": _object(
            {
                "name": _STRING,
                "values": _array(
                    _object(
                        {
                            "value": _STRING,
                            "count": _COUNT,
                            "chosen": {
                                "type": "boolean",
                                "description": "Whether an `opt` parameter asks for it.",
                            },
                        }
                    ),
                    "Most products first.",
                ),
            },
            "Counts of the matching products per value of one option; each option is counted "
            "with every filter but its own applied.",
        ),
        "ProductSummary": _object(
            {
                "id": _ID,
                "title": _STRING,
                **prices,
                "currency": currency,
                "in_stock": {"type": "boolean"},
                "seller": _ref("SellerRef"),
                "county": _ref("County"),
                "category": _nullable(_ref("Category")),
                "url": {**_URL, "description": "The product's page in the shop."},
                "images": _array(
                    _ref("ImageVariant"),
                    "The sizes of the cover photo, narrowest first; empty while no photo is ready.",
                ),
                **variant_fields,
            },
            "A product as a search result lists it.",
        ),
        "ProductDetail": _object(
            {
                "id": _ID,
                "title": _STRING,
                "description": _STRING,
                **prices,
                "currency": currency,
                "stock": {**_COUNT, "description": "Units available now."},
                "in_stock": {"type": "boolean"},
                "category": _nullable(_ref("Category")),
                "category_path": _array(
                    _ref("Category"),
                    "From the root category down to `category`; empty without one.",
                ),
                "seller": _object(
                    {
                        "slug": _STRING,
                        "name": _STRING,
                        "url": {**_URL, "description": "The seller's page in the shop."},
                        "county": _ref("County"),
                        "sector": _ref("Sector"),
                    }
                ),
                "url": {**_URL, "description": "The product's page in the shop."},
                "images": _array(
                    _ref("Image"),
                    "Every photo ready to show (not those still being processed), the cover first.",
                ),
                **variant_fields,
            },
            "One product with everything its page shows.",
        ),
        "Facets": _object(
            {
                "category": _array(_facet(category), "Most products first."),
                "county": _array(_facet(county), "Most products first."),
                "sector": _array(_facet(sector), "Most products first."),
            },
            "Counts of the matching products per category, county and sector; each facet is "
            "counted with every *other* filter applied.",
        ),
        "ProductList": _object(
            {
                "items": _array(_ref("ProductSummary")),
                "total": {**_COUNT, "description": "Matching products on all pages."},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "pages": {"type": "integer", "minimum": 1},
                "facets": _ref("Facets"),
                "option_facets": _array(
                    _ref("OptionFacet"),
                    "The options of the matching products with variants (the most common "
                    "first); a value an `opt` parameter chose is listed even with no product.",
                ),
                "suggestion": {
                    "type": ["string", "null"],
                    "description": 'A corrected query ("did you mean"), or null.',
                },
                "corrected": {
                    "type": ["string", "null"],
                    "description": "When the results are those of a corrected query (a typo, or "
                    "a query that found nothing), that query; null when they are the query's "
                    "own. `exact=1` turns correction off.",
                },
                "degraded": {
                    "type": "boolean",
                    "description": "True when the search index was unavailable (see above).",
                },
            }
        ),
        "Seller": _object(
            {
                "slug": _STRING,
                "name": _STRING,
                "bio": _STRING,
                "county": _ref("County"),
                "sector": _ref("Sector"),
                "trained": {
                    "type": "boolean",
                    "description": "Whether the seller completed the programme's training.",
                },
                "training_completed_on": {"type": ["string", "null"], "format": "date"},
                "url": {**_URL, "description": "The seller's page in the shop."},
                "logo_url": {"type": ["string", "null"], "format": "uri"},
                "product_count": {**_COUNT, "description": "Products the seller has on sale."},
            },
            "An approved seller (a trained home business).",
        ),
        "Suggestions": _object(
            {
                "suggestions": _array(
                    _STRING, "Product titles, category and seller names; at most 8."
                )
            }
        ),
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _parameters() -> list[dict[str, Any]]:
    price_note = "in the smallest currency unit, the unit of `price` (rials for IRR); inclusive"
    return [
        _query(
            "q",
            {"type": "string", "maxLength": 200},
            "Free text (Persian or English); "
            "longer text is cut to 200 characters. Empty: every product.",
        ),
        _query(
            "category",
            {"type": "integer", "minimum": 1},
            "A category id; matches it and its subcategories.",
        ),
        _query("county", {"type": "string"}, "A county slug."),
        _query("sector", {"type": "string"}, "A sector slug."),
        _query("min_price", {"type": "integer", "minimum": 0}, f"Lowest price, {price_note}."),
        _query("max_price", {"type": "integer", "minimum": 0}, f"Highest price, {price_note}."),
        _query(
            "in_stock",
            {"type": "boolean", "default": False},
            "`true` (or `1`) lists only products in stock.",
        ),
        {
            **_query(
                "opt",
                {"type": "array", "items": {"type": "string", "maxLength": 81}},
                "`<option name>:<value>` (e.g. `رنگ:آبی`), several allowed: a product must "
                "offer one of the values asked of each option named (OR within an option, AND "
                "across options). Malformed values are ignored.",
            ),
            "style": "form",
            "explode": True,
        },
        _query(
            "exact",
            {"type": "string", "enum": ["1"]},
            "`1` searches the words as typed: no typo is corrected (see `corrected`).",
        ),
        _query(
            "sort",
            {"type": "string", "enum": list(SORTS), "default": "relevance"},
            "`relevance` without `q` is newest first.",
        ),
        _query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1},
            "Page number.",
        ),
        _query(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PER_PAGE,
                "default": current_app.config["PAGE_SIZE"],
            },
            f"Products per page; larger values are {MAX_PER_PAGE}.",
        ),
    ]


def _ok(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}},
        "content": {"application/json": {"schema": _ref(schema_name)}},
    }


_NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
_DEFAULT = {"$ref": "#/components/responses/Error"}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bazarche public catalogue API",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/products": {
                "get": {
                    "operationId": "listProducts",
                    "summary": "Search and list products, with facets",
                    "parameters": _parameters(),
                    "responses": {
                        "200": _ok("ProductList", "One page of matching products."),
                        "default": _DEFAULT,
                    },
                }
            },
            "/products/{product_id}": {
                "get": {
                    "operationId": "getProduct",
                    "summary": "One product",
                    "parameters": [
                        {
                            "name": "product_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {
                        "200": _ok("ProductDetail", "The product."),
                        "404": _NOT_FOUND,
                        "default": _DEFAULT,
                    },
                }
            },
            "/sellers/{slug}": {
                "get": {
                    "operationId": "getSeller",
                    "summary": "One seller",
                    "parameters": [
                        {
                            "name": "slug",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 80},
                        }
                    ],
                    "responses": {
                        "200": _ok("Seller", "The seller."),
                        "404": _NOT_FOUND,
                        "default": _DEFAULT,
                    },
                }
            },
            "/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Completions for a search box",
                    "parameters": [
                        _query("q", {"type": "string", "maxLength": 200}, "What was typed so far.")
                    ],
                    "responses": {
                        "200": _ok("Suggestions", "Completions; empty for an unusable prefix."),
                        "default": _DEFAULT,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document of this API.",
                            "headers": {
                                "Cache-Control": {"$ref": "#/components/headers/CacheControl"}
                            },
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "default": _DEFAULT,
                    },
                }
            },
        },
        "components": {
            "schemas": schemas(),
            "responses": {
                "NotFound": {
                    "description": "No such public product or seller.",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
                "Error": {
                    "description": "Any other error.",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
            },
            "headers": {
                "CacheControl": {
                    "description": "`public, max-age=60`.",
                    "schema": {"type": "string"},
                }
            },
        },
    }
