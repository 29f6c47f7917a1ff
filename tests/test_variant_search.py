"""Variants in search: a product's option values are searchable words and its (name, value)
pairs are filters (``opt=<name>:<value>``: OR within a name, AND across names) and facets
counted over the results, in the index and in the database fallback; a change of a variant
marks its product dirty and makes its cached pages stale; hostile parameters are no error."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.catalog import indexing, searching, variants
from app.catalog.models import Product, ProductVariant
from app.catalog.variants import OptionData, VariantData, VariantsData
from app.core.extensions import db
from app.search import SearchDoc, SearchQuery, doc_stamp
from tests import factories

SIZE, COLOUR = "سایز", "رنگ"


def _shirt(seller, title: str, rows: list[tuple[str, str, int]]) -> Product:  # type: ignore[no-untyped-def]
    product = factories.product(seller, title=title, with_image=False)
    sizes = list(dict.fromkeys(r[0] for r in rows))
    colours = list(dict.fromkeys(r[1] for r in rows))
    variants.save(
        product,
        VariantsData(
            options=[OptionData(SIZE, sizes), OptionData(COLOUR, colours)],
            variants=[VariantData([s, c], 500_000, stock) for s, c, stock in rows],
        ),
    )
    return product


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    seller = factories.seller(name="کارگاه دوخت")
    blue = _shirt(seller, "پیراهن نخی", [("S", "آبی", 2), ("42", "قرمز", 0)])
    red = _shirt(seller, "پیراهن کتان", [("S", "قرمز", 1), ("M", "قرمز", 1)])
    plain = factories.product(seller, title="پیراهن ساده", with_image=False)
    indexing.reindex()
    return {"blue": blue, "red": red, "plain": plain}


def ids(outcome: dict) -> set[int]:
    return {p.id for p in outcome["page"].items}


def search(**args: object) -> dict:
    return searching.run(searching.parse_args(MultiDict(args), 24))  # type: ignore[arg-type]


@pytest.fixture(params=["index", "database"])
def backend_state(request, shop):  # type: ignore[no-untyped-def]
    """The index answers, or it is marked degraded and the database answers."""
    if request.param == "database":
        indexing.backend().mark_degraded("test")
    return request.param


def test_option_values_are_searchable_words(shop, backend_state) -> None:  # type: ignore[no-untyped-def]
    if backend_state == "database":
        pytest.skip("the database fallback searches titles and descriptions only")
    assert ids(search(q="آبی")) == {shop["blue"].id}
    assert ids(search(q="آبي")) == {shop["blue"].id}  # Arabic yeh folds


def test_option_filters_or_within_and_across(shop, backend_state) -> None:  # type: ignore[no-untyped-def]
    blue, red, plain = shop["blue"].id, shop["red"].id, shop["plain"].id
    assert ids(search(q="پیراهن")) == {blue, red, plain}
    assert ids(search(q="پیراهن", opt=f"{COLOUR}:آبی")) == {blue}
    assert ids(search(opt=[f"{COLOUR}:آبی", f"{COLOUR}:قرمز"])) == {blue, red}
    assert ids(search(opt=[f"{COLOUR}:قرمز", f"{SIZE}:M"])) == {red}
    assert ids(search(opt=[f"{COLOUR}:آبی", f"{SIZE}:M"])) == set()
    # an out-of-stock variant still counts as offered; an inactive one does not
    assert ids(search(opt=f"{SIZE}:42")) == {blue}
    outcome = search(opt=f"{SIZE}:42")
    assert outcome["degraded"] is (backend_state == "database")


def test_facets_count_each_option_with_the_others_applied(shop) -> None:  # type: ignore[no-untyped-def]
    outcome = search(q="پیراهن")
    rows = {
        name: {v: (n, chosen) for v, n, chosen in values} for name, values in outcome["options"]
    }
    assert rows[COLOUR] == {"قرمز": (2, False), "آبی": (1, False)}
    assert rows[SIZE]["S"] == (2, False)
    assert rows[SIZE]["42"] == (1, False)
    outcome = search(q="پیراهن", opt=f"{COLOUR}:آبی")
    rows = {
        name: {v: (n, chosen) for v, n, chosen in values} for name, values in outcome["options"]
    }
    # the colours still counted over every shirt (their own filter left out)...
    assert rows[COLOUR] == {"قرمز": (2, False), "آبی": (1, True)}
    # ...the sizes over the blue ones only
    assert rows[SIZE] == {"S": (1, False), "42": (1, False)}


def test_search_page_shows_option_facets_with_links(app, shop) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    html = client.get("/search", query_string={"q": "پیراهن"}).get_data(as_text=True)
    assert COLOUR in html
    assert "۴۲" in html  # numeric values in Persian digits
    link = re.search(r'href="([^"]*opt=[^"]*)"[^>]*>\s*آبی', html)
    assert link is not None
    page = client.get(unescape(link.group(1)))
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "پیراهن نخی" in body and "پیراهن کتان" not in body
    # a second value of another option keeps the first filter (AND across names)
    link = re.search(r'href="([^"]*opt=[^"]*)"[^>]*>\s*S\b', body)
    assert link is not None
    assert unescape(link.group(1)).count("opt=") == 2


@pytest.mark.parametrize(
    "opt",
    [
        "",
        ":",
        "no-colon",
        ":آبی",
        "رنگ:",
        "\x00رنگ:آبی\x00",
        "رنگ:" + "آ" * 5000,
        "%" * 300 + ":x",
        "'; DROP TABLE product; --:x",
        "<script>:</script>",
    ],
)
def test_hostile_option_parameters_are_no_error(app, shop, opt: str) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    ok = (200, 400) if "\x00" in opt else (200,)  # the app refuses NUL in any parameter
    assert client.get("/search", query_string={"opt": opt}).status_code in ok
    assert client.get("/api/v1/products", query_string={"opt": opt}).status_code in ok
    indexing.backend().mark_degraded("test")
    assert client.get("/search", query_string={"opt": opt}).status_code in ok


def test_many_option_parameters_are_bounded(app, shop) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    many = [f"n{i}:v{j}" for i in range(50) for j in range(30)]
    assert client.get("/search", query_string={"opt": many}).status_code == 200
    params = searching.parse_args(MultiDict({"opt": many}), 24)  # type: ignore[arg-type]
    assert params.options is not None
    assert len(params.options) <= 6


def test_variant_change_marks_product_dirty_and_pages_stale(app, shop) -> None:  # type: ignore[no-untyped-def]
    red = shop["red"]
    assert not db.session.get(Product, red.id).search_dirty
    before = factories.pages_changed_count()
    variant = db.session.scalars(
        sa.select(ProductVariant).where(ProductVariant.product_id == red.id)
    ).first()
    assert variant is not None
    variant.sku = "SHIRT-S"  # a change of the variant alone, not of the product row
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Product, red.id).search_dirty
    assert factories.pages_changed_count() > before
    # and the index picks the new values up
    variants.save(
        red,
        VariantsData(
            options=[OptionData(COLOUR, ["سبز"])],
            variants=[VariantData(["سبز"], 400_000, 3)],
        ),
    )
    indexing.sync_dirty()
    assert ids(search(q="سبز")) == {red.id}
    assert ids(search(opt=f"{COLOUR}:قرمز")) == {shop["blue"].id}


def test_product_without_options_indexes_as_before(app, shop) -> None:  # type: ignore[no-untyped-def]
    plain = db.session.get(Product, shop["plain"].id)
    paths = indexing._category_paths()
    doc = indexing.doc_for(plain, paths, indexing.option_pairs([plain.id]))
    assert doc.options == []
    assert doc_stamp(doc) == doc_stamp(SearchDoc(**{**_fields(doc), "options": []}))
    assert indexing.verify() == {"missing": [], "extra": [], "stale": []}


def _fields(doc: SearchDoc) -> dict:
    return {name: getattr(doc, name) for name in SearchDoc.__slots__}  # type: ignore[attr-defined]


def test_reindex_keeps_options(app, shop) -> None:  # type: ignore[no-untyped-def]
    indexing.reindex()
    result = indexing.backend().search(SearchQuery(options={COLOUR: ["آبی"]}))
    assert result.ids == [shop["blue"].id]
    assert result.options[COLOUR] == {"قرمز": 2, "آبی": 1}  # its own filter left out
    assert result.options[SIZE] == {"S": 1, "42": 1}
