"""``/api/v1``: read-only JSON of the public catalogue (published products of approved sellers).

Every parameter is forgiving, like the search page: a malformed or out-of-range value falls back
to its default instead of being an error. Unknown products and sellers answer 404 with the JSON
error body of the app's error handlers. The contract is the OpenAPI document in openapi.py,
served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from flask import Response, abort, current_app, request

from app.api import bp, openapi, serializers
from app.catalog import browse, queries, searching, variant_reads
from app.core.db import MAX_DATABASE_ID
from app.core.inputs import parse_local_int
from app.core.pagination import Page
from app.search import SearchQuery
from app.search.backend import MAX_PER_PAGE

CACHE_CONTROL = "public, max-age=60"
MAX_ID = MAX_DATABASE_ID  # product ids are 32-bit integers in the database
MAX_PRICE = 10**16  # smallest currency unit; far above any real price, far below BigInteger
MAX_SLUG = 80


def _json(data: Any) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(body, mimetype="application/json")


@bp.after_request
def cache_headers(response: Response) -> Response:
    if response.status_code == 200 and request.method in ("GET", "HEAD"):
        response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _text(value: str | None) -> str:
    """A query-string value without control characters (PostgreSQL rejects NUL in text)."""
    return "".join(ch for ch in (value or "") if ch >= " ")


def _whole(value: str | None, low: int, high: int) -> int | None:
    """A whole number in ``low..high``, or ``None`` for anything else (text, out of range)."""
    text = _text(value)
    if not text:
        return None
    try:
        number = parse_local_int(text)
    except ValueError:
        return None
    return number if low <= number <= high else None


def search_query(args: Mapping[str, str]) -> SearchQuery:
    """The API's parameters as the search page's :class:`SearchQuery`.

    Shared with the page: ``q``, ``category`` (and its subcategories), ``county``, ``sector``,
    ``in_stock``, ``sort``, ``page``, ``exact``, ``opt`` (several). Different: prices are in the smallest currency unit (the unit
    of ``price`` in the answers; the page takes toman), ``per_page`` is the caller's (1..100), and
    a category that is not a positive id is ignored rather than clamped.
    """
    page_args = {
        name: _text(args.get(name)) for name in ("q", "county", "sector", "sort", "page", "exact")
    }
    page_args["in_stock"] = _text(args.get("in_stock")).lower()
    category = _whole(args.get("category"), 1, MAX_ID)
    if category is not None:
        page_args["category"] = str(category)
    raw_per_page = _whole(args.get("per_page"), -(10**18), 10**18)
    per_page = (
        current_app.config["PAGE_SIZE"]
        if raw_per_page is None
        else min(max(raw_per_page, 1), MAX_PER_PAGE)
    )
    params = searching.parse_args(page_args, per_page)
    low = _whole(args.get("min_price"), 0, MAX_PRICE)
    high = _whole(args.get("max_price"), 0, MAX_PRICE)
    options = searching.parse_options(_text(v) for v in searching.option_args(args))
    return dataclasses.replace(
        params, min_price=low, max_price=high, per_page=per_page, options=options
    ).clamped()


@bp.get("/products")
def products() -> Response:
    params = search_query(request.args)
    outcome = searching.run(params)
    page: Page = outcome["page"]
    items = list(page.items)
    browse.preload_categories(items)
    offers = variant_reads.offers(items)
    return _json(
        {
            "items": [serializers.product_summary(p, offers.get(p.id)) for p in items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "pages": page.pages,
            "facets": serializers.facets(outcome["facets"]),
            "option_facets": serializers.option_facets(outcome["options"]),
            "suggestion": outcome["suggestion"] or None,
            "corrected": outcome["corrected"] or None,
            "degraded": bool(outcome["degraded"]),
        }
    )


@bp.get(f"/products/<int(max={MAX_ID}):product_id>")
def product(product_id: int) -> Response:
    item = queries.public_product(product_id)
    if item is None:
        abort(404)
    return _json(serializers.product_detail(item, variant_reads.offers([item]).get(item.id)))


@bp.get("/sellers/<slug>")
def seller(slug: str) -> Response:
    if len(slug) > MAX_SLUG or _text(slug) != slug:
        abort(404)
    shop = queries.public_seller(slug)
    if shop is None:
        abort(404)
    return _json(serializers.seller_detail(shop))


@bp.get("/suggest")
def suggest() -> Response:
    return _json({"suggestions": searching.suggest(_text(request.args.get("q")))})


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return _json(openapi.document())
