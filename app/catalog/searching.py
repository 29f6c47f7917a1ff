"""The storefront's search: request parameters → SearchQuery → products from the database.

If the index is missing, broken, marked degraded or has lost products
(:func:`app.catalog.indexing.index_problem`), the page still answers from a plain database
search, with a notice, and the problem is logged. The query is bounded before it reaches a
backend (:data:`MAX_QUERY_CHARS` characters; the backends take at most
:data:`app.search.normalize.MAX_QUERY_WORDS` words and spend "did you mean" work on short words
only), so no query costs much more than a normal one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from itertools import islice
from typing import Any

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from app.catalog import indexing, queries, synonyms
from app.catalog.models import Category, Product
from app.core.db import database_id
from app.core.extensions import db
from app.core.inputs import parse_local_int, parse_money
from app.core.pagination import Page
from app.reference.models import County, Sector
from app.search import SORTS, IndexUnavailable, SearchQuery, SearchResult
from app.search.backend import MAX_PER_PAGE, clamp_options, option_key, wanted_options

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 200


def _int(value: str | None, low: int = 0, high: int = 10**15) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = parse_local_int(value)
    except ValueError:
        return None
    if number < low:
        return None
    return min(number, high)


def _price(value: str | None, currency: str) -> int | None:
    """A price bound typed in the market's unit (toman), in the stored unit; None for nothing
    or anything that is no amount, at most a typo's worth."""
    if value is None or value.strip() == "":
        return None
    try:
        amount = parse_money(value, currency)
    except ValueError:
        return None
    return None if amount < 0 else min(amount, 10**16)


MAX_OPTION_PARAMS = 40
"""``opt`` parameters read from one request (the rest are ignored)."""


def parse_options(values: Iterable[str]) -> dict[str, list[str]] | None:
    """The ``opt`` parameters (``<option name>:<value>``, several allowed: OR within a name,
    AND across names) as :attr:`SearchQuery.options`; a malformed one is ignored, and the
    number and lengths are bounded (:func:`app.search.backend.clamp_options`)."""
    options: dict[str, list[str]] = {}
    for raw in islice(values, MAX_OPTION_PARAMS):
        text = "".join(ch for ch in str(raw) if ch >= " ")
        name, sep, value = text.partition(":")
        if sep and name.strip() and value.strip():
            options.setdefault(name, []).append(value)
    return clamp_options(options)


def option_args(args: Mapping[str, str]) -> list[str]:
    """Every ``opt`` value of ``args`` (a request's MultiDict, or a plain mapping)."""
    getlist = getattr(args, "getlist", None)
    if getlist is not None:
        return list(islice(getlist("opt"), MAX_OPTION_PARAMS))
    value = args.get("opt")
    return [value] if value else []


def parse_args(args: Mapping[str, str], per_page: int) -> SearchQuery:
    """Read the search page's parameters; anything malformed is ignored, never an error."""
    text = (args.get("q") or "")[:MAX_QUERY_CHARS]
    currency = current_app.config["MARKET_CURRENCY"]
    sort = args.get("sort") or "relevance"
    return SearchQuery(
        text=text,
        category=database_id(args.get("category")),
        county=(args.get("county") or "")[:60] or None,
        sector=(args.get("sector") or "")[:60] or None,
        min_price=_price(args.get("min_price"), currency),
        max_price=_price(args.get("max_price"), currency),
        in_stock=args.get("in_stock") in ("1", "on", "true"),
        sort=sort if sort in SORTS else "relevance",
        page=_int(args.get("page"), 1, 10_000) or 1,
        per_page=per_page,
        exact=args.get("exact") == "1",
        options=parse_options(option_args(args)),
    ).clamped()


def _facet_rows(facets: dict[str, dict[str, int]]) -> dict[str, list[tuple[Any, int]]]:
    out: dict[str, list[tuple[Any, int]]] = {}
    cat_ids = [int(k) for k in facets.get("category", {}) if k.isdigit()]
    cats = (
        {c.id: c for c in db.session.scalars(sa.select(Category).where(Category.id.in_(cat_ids)))}
        if cat_ids
        else {}
    )
    out["category"] = sorted(
        (
            (cats[int(k)], n)
            for k, n in facets.get("category", {}).items()
            if k.isdigit() and int(k) in cats
        ),
        key=lambda row: -row[1],
    )
    slugs = list(facets.get("county", {}))
    counties = (
        {c.slug: c for c in db.session.scalars(sa.select(County).where(County.slug.in_(slugs)))}
        if slugs
        else {}
    )
    out["county"] = sorted(
        ((counties[k], n) for k, n in facets.get("county", {}).items() if k in counties),
        key=lambda r: -r[1],
    )
    slugs = list(facets.get("sector", {}))
    sectors = (
        {s.slug: s for s in db.session.scalars(sa.select(Sector).where(Sector.slug.in_(slugs)))}
        if slugs
        else {}
    )
    out["sector"] = sorted(
        ((sectors[k], n) for k, n in facets.get("sector", {}).items() if k in sectors),
        key=lambda r: -r[1],
    )
    return out


RATING = "rating"
RATED_MATCHES = 500
"""Sorted by rating, the search orders this many best matches (by relevance) by their ratings:
enough for every page a visitor reads, and bounded whatever the query."""


def _by_rating(params: SearchQuery) -> SearchResult:
    """The backend's best :data:`RATED_MATCHES` matches (by relevance), ordered by their rating
    summaries in the database, and the page ``params`` asks for of them."""
    asked = replace(params, sort="relevance", page=1, per_page=MAX_PER_PAGE)
    first = indexing.backend().search(asked)
    ids = list(first.ids)
    page_no = 1
    while len(ids) < min(first.total, RATED_MATCHES):
        page_no += 1
        more = indexing.backend().search(replace(asked, page=page_no))
        if not more.ids:
            break
        ids.extend(more.ids)
    ids = ids[:RATED_MATCHES]
    ordered = queries.ids_by_rating(ids)
    start = (params.page - 1) * params.per_page
    return replace(
        first,
        ids=ordered[start : start + params.per_page],
        total=len(ordered),
    )


def _database_answer(params: SearchQuery, *, degraded: bool) -> dict[str, Any]:
    """The search page from the plain database search (no facets but the chosen options)."""
    sort = {"price_asc": "price_asc", "price_desc": "price_desc", "rating": "rating"}.get(
        params.sort, "newest"
    )
    page = queries.search_products(
        params.text, params.page, params.per_page, sort, params, params.synonyms
    )
    queries.attach_ratings(page.items)
    return {
        "params": params,
        "page": page,
        "facets": {},
        "highlights": {},
        "suggestion": None,
        "corrected": None,
        "degraded": degraded,
        "options": option_rows({}, params),
    }


def run(params: SearchQuery) -> dict[str, Any]:
    """Everything the search page shows. ``corrected`` is the query whose results are shown
    when the shopper's own words were corrected (a typo, or a query that found nothing)."""
    if params.text and params.synonyms is None:
        params.synonyms = synonyms.synonym_map()
    try:
        problem = indexing.index_problem()
        if problem is not None:
            raise IndexUnavailable(problem)
        if params.options and not getattr(indexing.backend(), "options", False):
            # a backend that cannot filter by options: the database answers these searches
            return _database_answer(params, degraded=False)
        result = _by_rating(params) if params.sort == RATING else indexing.backend().search(params)
    except Exception as exc:  # whatever the index does, the page answers from the database
        log.error("search: index unavailable, answering from the database: %s", exc)
        indexing.repair_in_background()
        return _database_answer(params, degraded=True)
    products = (
        {
            p.id: p
            for p in db.session.scalars(queries.public_products().where(Product.id.in_(result.ids)))
        }
        if result.ids
        else {}
    )
    items = [products[i] for i in result.ids if i in products]
    queries.attach_ratings(items)
    page = Page(items=items, page=params.page, per_page=params.per_page, total=result.total)
    return {
        "params": params,
        "page": page,
        "facets": _facet_rows(result.facets),
        "highlights": {pid: Markup(html) for pid, html in result.highlights.items()},  # noqa: S704  (escaped by the backend)
        "suggestion": result.suggestion,
        "corrected": result.corrected,
        "degraded": False,
        "options": option_rows(result.options, params),
    }


def option_rows(
    options: Mapping[str, Mapping[str, int]], params: SearchQuery
) -> list[tuple[str, list[tuple[str, int, bool]]]]:
    """The option facets as the page lists them: (name, [(value, count, chosen)]); a chosen
    value the results no longer count is listed with 0, so it can be taken off."""
    chosen = wanted_options(params.options)
    rows: dict[str, tuple[str, list[tuple[str, int, bool]]]] = {}
    for name, values in options.items():
        key = option_key(name, "")[0]
        picked = chosen.get(key, frozenset())
        rows[key] = (
            name,
            [(value, n, option_key(name, value)[1] in picked) for value, n in values.items()],
        )
    for name, asked in (params.options or {}).items():
        key = option_key(name, "")[0]
        row = rows.setdefault(key, (name, []))
        listed = {option_key(name, value)[1] for value, _n, _chosen in row[1]}
        for value in asked:
            if option_key(name, value)[1] not in listed:
                row[1].append((value, 0, True))
                listed.add(option_key(name, value)[1])
    return list(rows.values())


def suggest(prefix: str) -> list[str]:
    prefix = prefix[:MAX_QUERY_CHARS]
    try:
        if indexing.index_problem() is not None:
            return []
        return indexing.backend().suggest(prefix, limit=8)
    except Exception as exc:
        log.warning("search: suggestions unavailable: %s", exc)
        return []
