"""The public JSON API /api/v1: shapes and values, visibility, pagination, facets, forgiving
parameters, and the OpenAPI document as the contract every answer here is checked against."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.catalog import indexing
from app.catalog.models import (
    Product,
    ProductImage,
    ProductStatus,
    Seller,
    SellerStatus,
)
from app.core.extensions import db
from tests import factories
from tests.conftest import count_queries

PREFIX = "/api/v1"


# --- a validator for the part of JSON Schema the document uses ----------------------------------

KEYWORDS = {
    "$ref",
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "oneOf",
    "nullable",
    "minimum",
    "maximum",
    "maxLength",
    "format",
    "description",
    "default",
    "additionalProperties",
}
TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def resolve(ref: str, doc_part: dict[str, Any], prefix: str) -> dict[str, Any]:
    assert ref.startswith(prefix), f"unsupported $ref {ref}"
    name = ref[len(prefix) :]
    assert name in doc_part, f"$ref to a missing component: {ref}"
    return doc_part[name]


def validate(
    instance: Any, schema: dict[str, Any], components: dict[str, Any], where: str = "$"
) -> None:
    """Raise AssertionError unless ``instance`` matches ``schema``.

    Objects are closed: a property the schema does not name is an error (unless the schema
    says ``additionalProperties``), so the document must describe every field an answer has.
    """
    unknown = set(schema) - KEYWORDS
    assert not unknown, f"{where}: the validator does not know {unknown}"
    if "$ref" in schema:
        target = resolve(schema["$ref"], components["schemas"], "#/components/schemas/")
        validate(instance, target, components, where)
    if schema.get("nullable") and instance is None:
        return
    if "oneOf" in schema:
        passed = []
        for option in schema["oneOf"]:
            try:
                validate(instance, option, components, where)
            except AssertionError:
                continue
            passed.append(option)
        assert len(passed) == 1, f"{where}: matches {len(passed)} of oneOf {schema['oneOf']}"
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert any(TYPES[k](instance) for k in kinds), f"{where}: {instance!r} is not {kinds}"
    if "enum" in schema:
        assert instance in schema["enum"], f"{where}: {instance!r} not in {schema['enum']}"
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in schema:
            assert instance >= schema["minimum"], f"{where}: {instance} < {schema['minimum']}"
        if "maximum" in schema:
            assert instance <= schema["maximum"], f"{where}: {instance} > {schema['maximum']}"
    if isinstance(instance, str):
        if "maxLength" in schema:
            assert len(instance) <= schema["maxLength"], f"{where}: too long"
        if schema.get("format") == "uri":
            parts = urlsplit(instance)
            assert parts.scheme in ("http", "https") and parts.netloc, f"{where}: {instance!r}"
        if schema.get("format") == "date":
            date.fromisoformat(instance)
    if isinstance(instance, dict) and ("properties" in schema or "required" in schema):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in instance, f"{where}: missing {name!r}"
        for name, value in instance.items():
            if name in props:
                validate(value, props[name], components, f"{where}.{name}")
            else:
                extra = schema.get("additionalProperties", False)
                assert extra is not False, f"{where}: undocumented property {name!r}"
                if isinstance(extra, dict):
                    validate(value, extra, components, f"{where}.{name}")
    if isinstance(instance, list) and "items" in schema:
        for i, value in enumerate(instance):
            validate(value, schema["items"], components, f"{where}[{i}]")


def test_the_validator_rejects_what_it_should():
    components = {
        "schemas": {"Thing": {"type": "object", "required": ["a"], "properties": {"a": {}}}}
    }
    thing = {"$ref": "#/components/schemas/Thing"}
    validate({"a": 1}, thing, components)
    for bad, schema in [
        ({}, thing),
        ({"a": 1, "b": 2}, thing),
        (True, {"type": "integer"}),
        (None, {"type": "string"}),
        ("x", {"enum": ["y"]}),
        (0, {"type": "integer", "minimum": 1}),
        ([1, "2"], {"type": "array", "items": {"type": "integer"}}),
        ("/relative", {"type": "string", "format": "uri"}),
        (None, {"oneOf": [{"type": "null"}, {"type": ["string", "null"]}]}),
    ]:
        with pytest.raises(AssertionError):
            validate(bad, schema, components)
    validate(None, {"oneOf": [thing, {"type": "null"}]}, components)
    validate(None, {"type": "string", "nullable": True}, components)


@pytest.fixture(autouse=True)
def close_search_index(app):  # type: ignore[no-untyped-def]
    """Close the index's open files with the test, not whenever the app is collected."""
    yield
    backend = app.extensions.get("bazarche_search")
    if backend is not None and hasattr(backend, "close"):
        backend.close()


# --- the document, and answers checked against it ------------------------------------------------


@pytest.fixture
def doc(client) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _template_for(doc: dict[str, Any], path: str) -> str:
    assert path.startswith(PREFIX), path
    rest = path[len(PREFIX) :]
    for template in doc["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, rest):
            return template
    raise AssertionError(f"{path} is not documented")


def documented_schema(doc: dict[str, Any], template: str, status: int) -> dict[str, Any]:
    responses = doc["paths"][template]["get"]["responses"]
    response = responses.get(str(status)) or responses["default"]
    if "$ref" in response:
        response = resolve(
            response["$ref"], doc["components"]["responses"], "#/components/responses/"
        )
    return response["content"]["application/json"]["schema"]


def api_get(client, doc: dict[str, Any], url: str, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    assert response.mimetype == "application/json", url
    body = response.get_json()
    path = urlsplit(url).path
    if status == 200:
        assert response.headers["Cache-Control"] == "public, max-age=60"
        template = _template_for(doc, path)
        validate(body, documented_schema(doc, template, status), doc["components"], url)
    else:
        assert "public" not in response.headers.get("Cache-Control", "")
        assert body["error"]["status"] == status
        try:
            template = _template_for(doc, path)
        except AssertionError:  # an undocumented path answers the same error body
            schema: dict[str, Any] = {"$ref": "#/components/schemas/Error"}
        else:
            schema = documented_schema(doc, template, status)
        validate(body, schema, doc["components"], url)
    return body


def _rule_as_template(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule[len(PREFIX) :])


def test_the_document_names_exactly_the_routes_of_the_api(app, doc):
    assert doc["openapi"].startswith("3.1")
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
            routes.setdefault(_rule_as_template(rule.rule), set()).update(
                m.lower() for m in methods
            )
    documented = {path: set(item) for path, item in doc["paths"].items()}
    assert routes == documented
    assert doc["servers"] == [{"url": PREFIX}]
    path_params = {
        path: {p["name"] for p in op["get"].get("parameters", []) if p["in"] == "path"}
        for path, op in doc["paths"].items()
    }
    for path, names in path_params.items():
        assert names == set(re.findall(r"\{([^}]+)\}", path)), path


def test_every_reference_in_the_document_resolves_and_every_component_is_used(doc):
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for ref in refs:
        assert ref.startswith("#/components/"), ref
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in doc["components"][section], ref
    used = {ref.removeprefix("#/components/") for ref in refs}
    for section, entries in doc["components"].items():
        for name in entries:
            assert f"{section}/{name}" in used, f"unused component {section}/{name}"
    # The validator knows every keyword the schemas use, so it checks all they say.
    for schema in doc["components"]["schemas"].values():
        _known_keywords(schema)
    for item in doc["paths"].values():
        for param in item["get"].get("parameters", []):
            _known_keywords(param["schema"])


def _known_keywords(schema: Any) -> None:
    if isinstance(schema, dict):
        assert not (set(schema) - KEYWORDS), set(schema) - KEYWORDS
        for sub in schema.get("properties", {}).values():
            _known_keywords(sub)
        if "items" in schema:
            _known_keywords(schema["items"])
        for sub in schema.get("oneOf", []):
            _known_keywords(sub)


def test_the_list_documents_every_parameter_it_reads(app, doc):
    params = doc["paths"]["/products"]["get"]["parameters"]
    assert {p["name"] for p in params} == {
        "q",
        "category",
        "county",
        "sector",
        "min_price",
        "max_price",
        "in_stock",
        "exact",
        "opt",
        "sort",
        "page",
        "per_page",
    }
    by_name = {p["name"]: p for p in params}
    assert by_name["per_page"]["schema"]["maximum"] == 100
    assert by_name["per_page"]["schema"]["default"] == app.config["PAGE_SIZE"]
    assert "smallest currency unit" in by_name["min_price"]["description"]
    described = " ".join(doc["info"]["description"].replace("**", "").split())
    assert "`min_price` and `max_price` filters take the same unit as `price`" in described


# --- a small catalogue ---------------------------------------------------------------------------


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    """Two counties, two sectors, a parent category with a child and a second root; five
    public products and some that must stay out of sight."""
    zahedan, chabahar = factories.county("zahedan"), factories.county("chabahar")
    crafts, food = factories.sector("crafts"), factories.sector("food")
    textiles = factories.category("textiles")
    needlework = factories.category("needlework", parent=textiles)
    edible = factories.category("edible")
    ali = factories.seller(county_row=zahedan, sector_row=crafts, name="کارگاه علی")
    sara = factories.seller(county_row=chabahar, sector_row=food, name="آشپزخانه سارا")
    rows = {
        "mat": factories.product(
            ali, title="گلیم دستباف", price_amount=4_000_000, category_row=textiles
        ),
        "cloth": factories.product(
            ali, title="رومیزی سوزن‌دوزی", price_amount=1_250_000, category_row=needlework
        ),
        "bag": factories.product(
            ali,
            title="کیف سوزن‌دوزی",
            price_amount=900_000,
            stock=0,
            category_row=needlework,
            with_image=False,
        ),
        "dates": factories.product(
            sara, title="خرمای مضافتی", price_amount=350_000, category_row=edible
        ),
        "pickle": factories.product(
            sara, title="ترشی انبه", price_amount=250_000, category_row=edible
        ),
        "draft": factories.product(
            ali, title="گلیم پیش‌نویس", status=ProductStatus.DRAFT, category_row=textiles
        ),
        "hidden": factories.product(
            sara, title="ترشی پنهان", status=ProductStatus.HIDDEN_BY_STAFF, category_row=edible
        ),
    }
    suspended = factories.seller(
        status=SellerStatus.SUSPENDED, county_row=zahedan, sector_row=crafts
    )
    applied = factories.seller(status=SellerStatus.APPLIED, county_row=zahedan, sector_row=crafts)
    rows["suspended"] = factories.product(suspended, title="گلیم تعلیق", category_row=textiles)
    rows["applied"] = factories.product(applied, title="گلیم درخواست", category_row=textiles)
    indexing.reindex()
    return {
        "products": rows,
        "sellers": {"ali": ali, "sara": sara, "suspended": suspended, "applied": applied},
        "counties": {"zahedan": zahedan, "chabahar": chabahar},
        "sectors": {"crafts": crafts, "food": food},
        "categories": {"textiles": textiles, "needlework": needlework, "edible": edible},
    }


PUBLIC = {"mat", "cloth", "bag", "dates", "pickle"}


def _ids(market, names) -> set[int]:  # type: ignore[no-untyped-def]
    return {market["products"][n].id for n in names}


def _item_ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


# --- GET /products ---------------------------------------------------------------------------------


def test_the_list_has_every_public_product_and_its_fields(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/products?per_page=100")
    assert set(_item_ids(body)) == _ids(market, PUBLIC)
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (5, 1, 100, 1)
    assert body["suggestion"] is None and body["degraded"] is False

    cloth = market["products"]["cloth"]
    item = next(i for i in body["items"] if i["id"] == cloth.id)
    assert item["title"] == "رومیزی سوزن‌دوزی"
    assert item["price"] == 1_250_000 and item["currency"] == "IRR"
    assert item["in_stock"] is True
    assert item["seller"] == {"slug": cloth.seller.slug, "name": "کارگاه علی"}
    county = market["counties"]["zahedan"]
    assert item["county"] == {
        "slug": "zahedan",
        "name_fa": county.name_fa,
        "name_en": county.name_en,
    }
    needlework = market["categories"]["needlework"]
    assert item["category"] == {
        "id": needlework.id,
        "name_fa": needlework.name_fa,
        "name_en": needlework.name_en,
    }
    assert item["url"] == f"http://localhost/p/{cloth.id}"
    assert item["images"] == [
        {"width": 320, "height": 240, "url": "http://localhost/media/aa/bb/test-320.webp"},
        {"width": 640, "height": 480, "url": "http://localhost/media/aa/bb/test-640.webp"},
    ]
    bag = next(i for i in body["items"] if i["id"] == market["products"]["bag"].id)
    assert bag["images"] == [] and bag["in_stock"] is False


def test_the_image_urls_are_served_by_the_shop(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/products?q=رومیزی")
    url = body["items"][0]["images"][0]["url"]
    # The storage is empty in tests: the route exists and answers (404 for a missing file).
    assert client.get(urlsplit(url).path).status_code in (200, 404)
    assert urlsplit(url).path.startswith("/media/")


def test_a_product_without_category_has_null(client, doc, app):
    item = factories.product(title="بی‌دسته")
    item.category_id = None
    db.session.commit()
    indexing.reindex()
    body = api_get(client, doc, f"{PREFIX}/products")
    assert body["items"][0]["category"] is None
    detail = api_get(client, doc, f"{PREFIX}/products/{item.id}")
    assert detail["category"] is None and detail["category_path"] == []


def test_the_currency_is_the_market_currency(client, doc, app, market):
    app.config["MARKET_CURRENCY"] = "EUR"
    body = api_get(client, doc, f"{PREFIX}/products")
    assert {i["currency"] for i in body["items"]} == {"EUR"}
    detail = api_get(client, doc, f"{PREFIX}/products/{market['products']['mat'].id}")
    assert detail["currency"] == "EUR"


def test_products_that_are_not_public_are_not_listed_or_found(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/products?per_page=100&q=گلیم")
    assert set(_item_ids(body)) == _ids(market, {"mat"})
    for name in ("draft", "hidden", "suspended", "applied"):
        api_get(client, doc, f"{PREFIX}/products/{market['products'][name].id}", 404)
    for name in ("suspended", "applied"):
        api_get(client, doc, f"{PREFIX}/sellers/{market['sellers'][name].slug}", 404)


def test_a_stale_index_does_not_leak_a_suspended_sellers_products(client, doc, market):
    # The seller is suspended and the index not yet told: the rows come from the database,
    # which has the final word.
    sara = db.session.get(Seller, market["sellers"]["sara"].id)
    db.session.execute(
        sa.update(Seller).where(Seller.id == sara.id).values(status=SellerStatus.SUSPENDED)
    )
    db.session.commit()
    body = api_get(client, doc, f"{PREFIX}/products?per_page=100")
    assert set(_item_ids(body)) == _ids(market, {"mat", "cloth", "bag"})
    api_get(client, doc, f"{PREFIX}/products/{market['products']['dates'].id}", 404)
    api_get(client, doc, f"{PREFIX}/sellers/{sara.slug}", 404)


def test_pages_cover_every_product_once(client, doc, market):
    seen: list[int] = []
    for page in (1, 2, 3):
        body = api_get(client, doc, f"{PREFIX}/products?per_page=2&page={page}&sort=price_asc")
        assert (body["total"], body["page"], body["per_page"], body["pages"]) == (5, page, 2, 3)
        seen.extend(_item_ids(body))
    assert len(seen) == 5 and set(seen) == _ids(market, PUBLIC)
    past = api_get(client, doc, f"{PREFIX}/products?per_page=2&page=9")
    assert past["items"] == [] and past["total"] == 5 and past["pages"] == 3


def test_sorting_by_price(client, doc, market):
    cheap = api_get(client, doc, f"{PREFIX}/products?sort=price_asc")
    prices = [i["price"] for i in cheap["items"]]
    assert prices == sorted(prices) == [250_000, 350_000, 900_000, 1_250_000, 4_000_000]
    dear = api_get(client, doc, f"{PREFIX}/products?sort=price_desc")
    assert [i["price"] for i in dear["items"]] == prices[::-1]


def test_facets_count_the_matches(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/products")
    facets = body["facets"]
    cats = market["categories"]
    assert {f["id"]: f["count"] for f in facets["category"]} == {
        cats["textiles"].id: 1,
        cats["needlework"].id: 2,
        cats["edible"].id: 2,
    }
    assert {f["slug"]: f["count"] for f in facets["county"]} == {"zahedan": 3, "chabahar": 2}
    assert {f["slug"]: f["count"] for f in facets["sector"]} == {"crafts": 3, "food": 2}
    zahedan = next(f for f in facets["county"] if f["slug"] == "zahedan")
    assert zahedan["name_fa"] == market["counties"]["zahedan"].name_fa
    assert zahedan["name_en"] == market["counties"]["zahedan"].name_en
    needlework = next(f for f in facets["category"] if f["id"] == cats["needlework"].id)
    assert needlework["name_en"] == cats["needlework"].name_en

    # A county filter narrows the items and the other facets, not the county facet itself.
    body = api_get(client, doc, f"{PREFIX}/products?county=chabahar")
    assert set(_item_ids(body)) == _ids(market, {"dates", "pickle"})
    assert {f["slug"]: f["count"] for f in body["facets"]["county"]} == {
        "zahedan": 3,
        "chabahar": 2,
    }
    assert {f["slug"]: f["count"] for f in body["facets"]["sector"]} == {"food": 2}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("county=zahedan", {"mat", "cloth", "bag"}),
        ("sector=food", {"dates", "pickle"}),
        ("category={textiles}", {"mat", "cloth", "bag"}),  # with its subcategory
        ("category={needlework}", {"cloth", "bag"}),
        ("in_stock=true", {"mat", "cloth", "dates", "pickle"}),
        ("in_stock=1", {"mat", "cloth", "dates", "pickle"}),
        ("in_stock=false", PUBLIC),
        # Prices in rials, the unit of `price` (in toman these would match nothing).
        ("min_price=300000&max_price=1250000", {"dates", "bag", "cloth"}),
        ("min_price=۳۰۰۰۰۰&max_price=۱۲۵۰۰۰۰", {"dates", "bag", "cloth"}),
        ("max_price=250000", {"pickle"}),
        ("min_price=4000001", set()),
        ("q=گلیم", {"mat"}),
        ("q=سوزن‌دوزی", {"cloth", "bag"}),
        ("q=سوزن دوزی&county=zahedan&in_stock=1", {"cloth"}),
        ("county=nowhere", set()),
    ],
)
def test_filters(client, doc, market, query, expected):
    query = query.format(**{k: c.id for k, c in market["categories"].items()})
    body = api_get(client, doc, f"{PREFIX}/products?per_page=100&{query}")
    assert set(_item_ids(body)) == _ids(market, expected)
    assert body["total"] == len(expected)


def test_persian_text_is_normalised(client, doc, market):
    # Arabic yeh and kaf, and Persian digits, find the Persian spelling.
    body = api_get(client, doc, f"{PREFIX}/products?q=گليم")
    assert _item_ids(body) == [market["products"]["mat"].id]
    body = api_get(client, doc, f"{PREFIX}/products?q=كيف")
    assert _item_ids(body) == [market["products"]["bag"].id]


def test_a_misspelling_may_get_a_suggestion(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/products?q=خرمای مضافتیی")
    assert body["suggestion"] is None or isinstance(body["suggestion"], str)


# --- GET /products/<id> --------------------------------------------------------------------------


def test_one_product(client, doc, market):
    cloth = market["products"]["cloth"]
    db.session.add(
        ProductImage(
            product_id=cloth.id,
            position=1,
            storage_key="cc/dd/back-640.webp",
            variants=[[320, 427, "cc/dd/back-320.webp"], [480, 640, "cc/dd/back-640.webp"]],
            width=480,
            height=640,
            alt_text="پشت رومیزی",
        )
    )
    db.session.commit()
    body = api_get(client, doc, f"{PREFIX}/products/{cloth.id}")
    cats = market["categories"]
    ali = market["sellers"]["ali"]
    assert body["id"] == cloth.id
    assert body["title"] == "رومیزی سوزن‌دوزی"
    assert body["description"] == "توضیح محصول"
    assert (body["price"], body["currency"], body["stock"], body["in_stock"]) == (
        1_250_000,
        "IRR",
        5,
        True,
    )
    assert body["category"]["id"] == cats["needlework"].id
    assert [c["id"] for c in body["category_path"]] == [cats["textiles"].id, cats["needlework"].id]
    assert body["category_path"][0] == {
        "id": cats["textiles"].id,
        "name_fa": cats["textiles"].name_fa,
        "name_en": cats["textiles"].name_en,
    }
    assert body["seller"] == {
        "slug": ali.slug,
        "name": "کارگاه علی",
        "url": f"http://localhost/s/{ali.slug}",
        "county": {
            "slug": "zahedan",
            "name_fa": market["counties"]["zahedan"].name_fa,
            "name_en": market["counties"]["zahedan"].name_en,
        },
        "sector": {
            "slug": "crafts",
            "name_fa": market["sectors"]["crafts"].name_fa,
            "name_en": market["sectors"]["crafts"].name_en,
        },
    }
    assert body["url"] == f"http://localhost/p/{cloth.id}"
    assert [(i["alt"], i["width"], i["height"]) for i in body["images"]] == [
        ("رومیزی سوزن‌دوزی", 640, 480),
        ("پشت رومیزی", 480, 640),
    ]
    assert body["images"][1]["variants"] == [
        {"width": 320, "height": 427, "url": "http://localhost/media/cc/dd/back-320.webp"},
        {"width": 480, "height": 640, "url": "http://localhost/media/cc/dd/back-640.webp"},
    ]
    # The page and the API agree on where the product lives.
    assert client.get(urlsplit(body["url"]).path).status_code == 200


def test_a_sold_out_product_without_photos(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/products/{market['products']['bag'].id}")
    assert (body["stock"], body["in_stock"], body["images"]) == (0, False, [])


# --- GET /sellers/<slug> ---------------------------------------------------------------------------


def test_one_seller(client, doc, market):
    ali = db.session.get(Seller, market["sellers"]["ali"].id)
    ali.bio = "سوزن‌دوزی بلوچ از زاهدان"
    ali.logo_key = "ee/ff/logo-320.webp"
    db.session.commit()
    body = api_get(client, doc, f"{PREFIX}/sellers/{ali.slug}")
    assert body == {
        "slug": ali.slug,
        "name": "کارگاه علی",
        "bio": "سوزن‌دوزی بلوچ از زاهدان",
        "county": {
            "slug": "zahedan",
            "name_fa": market["counties"]["zahedan"].name_fa,
            "name_en": market["counties"]["zahedan"].name_en,
        },
        "sector": {
            "slug": "crafts",
            "name_fa": market["sectors"]["crafts"].name_fa,
            "name_en": market["sectors"]["crafts"].name_en,
        },
        "trained": True,
        "training_completed_on": "2025-05-01",
        "url": f"http://localhost/s/{ali.slug}",
        "logo_url": "http://localhost/media/ee/ff/logo-320.webp",
        "product_count": 3,  # the draft is not counted
    }
    assert client.get(urlsplit(body["url"]).path).status_code == 200


def test_a_seller_without_training_or_logo(client, doc, market):
    sara = db.session.get(Seller, market["sellers"]["sara"].id)
    sara.training_completed_on = None
    db.session.commit()
    body = api_get(client, doc, f"{PREFIX}/sellers/{sara.slug}")
    assert (body["trained"], body["training_completed_on"], body["logo_url"]) == (
        False,
        None,
        None,
    )
    assert body["product_count"] == 2  # hidden by staff is not counted


# --- GET /suggest ----------------------------------------------------------------------------------


def test_suggestions(client, doc, market):
    body = api_get(client, doc, f"{PREFIX}/suggest?q=گلی")
    assert "گلیم دستباف" in body["suggestions"]
    assert all("تعلیق" not in s and "پیش‌نویس" not in s for s in body["suggestions"])
    assert api_get(client, doc, f"{PREFIX}/suggest")["suggestions"] == []
    assert api_get(client, doc, f"{PREFIX}/suggest?q=")["suggestions"] == []
    assert len(api_get(client, doc, f"{PREFIX}/suggest?q=" + "ک" * 5000)["suggestions"]) <= 8


# --- forgiving parameters, errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [
        ("page=abc", 1, 24),
        ("page=-3", 1, 24),
        ("page=0", 1, 24),
        ("page=99999", 10_000, 24),
        ("page=99999999999999999999999", 1, 24),
        ("per_page=100000", 1, 100),
        ("per_page=0", 1, 1),
        ("per_page=-7", 1, 1),
        ("per_page=abc", 1, 24),
        ("per_page=2.5", 1, 24),
        ("per_page=", 1, 24),
        ("per_page=۳", 1, 3),
    ],
)
def test_bad_paging_falls_back_to_defaults(client, doc, market, query, page, per_page):
    body = api_get(client, doc, f"{PREFIX}/products?{query}")
    assert (body["page"], body["per_page"], body["total"]) == (page, per_page, 5)


@pytest.mark.parametrize(
    "query",
    [
        "sort=bogus",
        "sort=",
        "category=-1",
        "category=0",
        "category=abc",
        "category=99999999999999999999",
        "category=1.5",
        "min_price=text",
        "max_price=text",
        "min_price=-5",
        "min_price=1e9",
        "max_price=99999999999999999999999999",
        "in_stock=maybe",
        "county=",
        "sector=",
        "q=",
        "q=%27%22%3B--",
        "q=*",
        "q=a%20OR%20b%20AND%20NOT%20c",
        "q=(((",
        "q=title:x",
        "q=" + "گلیم%20" * 400,
        "sort=price_asc&sort=bogus",
        "page=1&page=abc",
    ],
)
def test_hostile_list_parameters_never_fail(client, doc, market, query):
    body = api_get(client, doc, f"{PREFIX}/products?{query}")
    assert body["page"] >= 1 and body["per_page"] >= 1


@pytest.mark.parametrize("query", ["county=%00", "sector=%00x", "q=%00", "q=a%01"])
def test_a_control_character_in_the_query_is_a_json_400(client, market, query):
    response = client.get(f"{PREFIX}/products?{query}")
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400


@pytest.mark.parametrize("path", ["/sellers/%00", "/sellers/x%00y"])
def test_a_control_character_in_the_path_is_a_json_400(client, market, path):
    response = client.get(f"{PREFIX}{path}")
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400


@pytest.mark.parametrize("query", ["category=-1", "category=0", "category=abc", "min_price=text"])
def test_a_meaningless_filter_is_ignored(client, doc, market, query):
    body = api_get(client, doc, f"{PREFIX}/products?{query}")
    assert body["total"] == 5


def test_an_unknown_sort_is_relevance(client, doc, market):
    bogus = api_get(client, doc, f"{PREFIX}/products?sort=bogus")
    relevance = api_get(client, doc, f"{PREFIX}/products?sort=relevance")
    assert _item_ids(bogus) == _item_ids(relevance)


@pytest.mark.parametrize(
    "path",
    [
        "/products/0",
        "/products/-1",
        "/products/abc",
        "/products/1.5",
        "/products/99999999999999999999",
        "/products/2147483648",
        "/products/123456",
        "/sellers/nobody",
        "/sellers/" + "s" * 500,
        "/sellers/%D9%81%D8%A7%D8%B1%D8%B3%DB%8C",
        "/nothing",
        "/products/1/extra",
    ],
)
def test_unknown_things_are_json_404(client, doc, market, path):
    api_get(client, doc, f"{PREFIX}{path}", 404)


def test_writing_is_not_allowed(client, doc, market):
    item = market["products"]["mat"]
    for method in (client.post, client.put, client.delete):
        response = method(f"{PREFIX}/products/{item.id}")
        assert response.status_code == 405
        assert response.get_json()["error"]["status"] == 405
        assert "public" not in response.headers.get("Cache-Control", "")


# --- when the index is not there ------------------------------------------------------------------


def test_without_an_index_the_list_answers_from_the_database(client, doc, app):
    item = factories.product(title="گلیم بی‌نمایه", price_amount=700_000)
    factories.product(title="پیش‌نویس", status=ProductStatus.DRAFT)
    # No reindex: the index directory does not exist.
    body = api_get(client, doc, f"{PREFIX}/products")
    assert body["degraded"] is True
    assert _item_ids(body) == [item.id]
    assert body["facets"] == {"category": [], "county": [], "sector": []}
    assert body["suggestion"] is None
    assert body["items"][0]["price"] == 700_000
    body = api_get(client, doc, f"{PREFIX}/products?q=گلیم")
    assert _item_ids(body) == [item.id]
    assert api_get(client, doc, f"{PREFIX}/suggest?q=گلیم")["suggestions"] == []
    # The other endpoints do not need the index.
    api_get(client, doc, f"{PREFIX}/products/{item.id}")
    api_get(client, doc, f"{PREFIX}/sellers/{item.seller.slug}")


# --- cost -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_index", [True, False])
def test_a_page_costs_the_same_few_queries_however_many_products(client, doc, app, with_index):
    def statements_for_list() -> int:
        if with_index:
            indexing.reindex()
        db.session.expunge_all()
        with count_queries(db.engine) as statements:
            body = api_get(client, doc, f"{PREFIX}/products?per_page=100")
        assert body["degraded"] is not with_index
        return len([s for s in statements if s.split()[0].upper() == "SELECT"])

    seller_id = factories.product(title="یک").seller_id
    few = statements_for_list()
    seller = db.session.get(Seller, seller_id)
    for n in range(12):
        factories.product(seller, title=f"کالای {n}")  # each in a category of its own
    many = statements_for_list()
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 13
    assert many == few, (few, many)


# --- products with options ------------------------------------------------------------------------


@pytest.fixture
def shirts(app):  # type: ignore[no-untyped-def]
    from app.catalog import variants
    from app.catalog.variants import OptionData, VariantData, VariantsData

    seller = factories.seller()
    shirt = factories.product(seller, title="پیراهن نخی", price_amount=900_000)
    image_id = db.session.get(Product, shirt.id).images[0].id
    variants.save(
        shirt,
        VariantsData(
            options=[OptionData("سایز", ["S", "M"]), OptionData("رنگ", ["آبی"])],
            variants=[
                VariantData(["S", "آبی"], 500_000, 2, sku="SH-S", image_id=image_id),
                VariantData(["M", "آبی"], 650_000, 0, sale_price_amount=600_000),
            ],
        ),
    )
    plain = factories.product(seller, title="پیراهن ساده", price_amount=300_000)
    indexing.reindex()
    return {"shirt": db.session.get(Product, shirt.id), "plain": plain}


def test_a_product_with_options_lists_its_variants(client, doc, shirts):
    shirt = shirts["shirt"]
    body = api_get(client, doc, f"{PREFIX}/products/{shirt.id}")
    assert body["has_variants"] is True
    assert body["price"] == 500_000  # the lowest, the "from" price
    assert body["options"] == [
        {"name": "سایز", "values": ["S", "M"]},
        {"name": "رنگ", "values": ["آبی"]},
    ]
    first, second = body["variants"]
    assert first["values"] == ["S", "آبی"] and first["sku"] == "SH-S"
    assert first["price"] == first["price_now"] == 500_000
    assert first["in_stock"] is True and first["image_url"].endswith("test-640.webp")
    assert first["label"] == "سایز: S، رنگ: آبی"
    assert second["in_stock"] is False and second["sku"] is None and second["image_url"] is None
    assert second["price_now"] == 650_000  # no sale period: the sale price waits
    listed = api_get(client, doc, f"{PREFIX}/products?q=پیراهن")
    by_id = {item["id"]: item for item in listed["items"]}
    assert by_id[shirt.id]["price"] == 500_000
    assert by_id[shirt.id]["variants"] == body["variants"]
    plain = by_id[shirts["plain"].id]
    assert (plain["has_variants"], plain["options"], plain["variants"]) == (False, [], [])
    assert plain["price"] == 300_000


def test_the_list_filters_and_counts_options(client, doc, shirts):
    body = api_get(client, doc, f"{PREFIX}/products?opt=سایز:M")
    assert _item_ids(body) == [shirts["shirt"].id]
    names = {f["name"]: f["values"] for f in body["option_facets"]}
    assert {"value": "M", "count": 1, "chosen": True} in names["سایز"]
    body = api_get(client, doc, f"{PREFIX}/products?opt=سایز:XL&opt=:&opt=x")
    assert body["items"] == []
    assert body["option_facets"][0]["values"][-1] == {"value": "XL", "count": 0, "chosen": True}
    body = api_get(client, doc, f"{PREFIX}/products")
    assert len(body["items"]) == 2
