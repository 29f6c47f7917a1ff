"""CSV of listings with options: the export (a row per variant), the import grouping a listing's
rows into its options and variants, errors on the rows they concern, and the round trip."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
import sqlalchemy as sa

from app.catalog import importer, listings, variants
from app.catalog.models import Product
from app.core.extensions import db
from tests import factories

HEADER = (
    "title,description,category,price,stock,status,images,option1_name,option1_value,"
    "option2_name,option2_value,option3_name,option3_value,sku,sale_price\n"
)


def _upload(client, body: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/seller/import",
        data={"file": (io.BytesIO(body.encode("utf-8")), "listings.csv")},
        content_type="multipart/form-data",
    )


def _token(html: str) -> str:
    match = re.search(r'name="token"[^>]*value="([0-9a-f]+)"', html) or re.search(
        r'value="([0-9a-f]{32})"[^>]*name="token"', html
    )
    assert match, "the preview offers no confirmation"
    return match.group(1)


def _products(seller_id: int) -> list[Product]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Product).where(Product.seller_id == seller_id).order_by(Product.id)
        )
    )


@pytest.fixture
def seller_client(client):  # type: ignore[no-untyped-def]
    seller = factories.seller()
    factories.login(client, seller.user.email)
    client.set_cookie("locale", "en")
    return client, seller


SHIRTS = HEADER + (
    "پیراهن بلوچی,دوخت دست,{cat},۱۲۰٬۰۰۰,۲,draft,,سایز,S,رنگ,آبی,,,SH-1,\n"
    "پیراهن بلوچی,دوخت دست,{cat},120000,0,draft,,سایز,S,رنگ,قرمز,,,,\n"
    "پیراهن بلوچی,دوخت دست,{cat},130000,5,draft,,سایز,M,رنگ,آبی,,,SH-3,110000\n"
    "رومیزی,ساده,{cat},90000,4,draft,,,,,,,,,\n"
)


def test_import_groups_the_rows_of_a_listing_into_its_variants(seller_client):
    client, seller = seller_client
    cat = factories.category(slug="clothes")
    preview = _upload(client, SHIRTS.format(cat=cat.slug))
    html = unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200, re.findall(r'<p class="error">(.*?)</p>', html)
    assert "Save 2 listings" in html
    assert "A variant of line 2" in html
    response = client.post("/seller/import/confirm", data={"token": _token(html)})
    assert response.status_code == 302

    shirt, cloth = _products(seller.id)
    assert shirt.has_variants and not cloth.has_variants
    assert (shirt.price_amount, shirt.stock) == (1_200_000, 7)
    assert [(o.name, o.values) for o in variants.options_of(shirt.id)] == [
        ("سایز", ["S", "M"]),
        ("رنگ", ["آبی", "قرمز"]),
    ]
    found = {tuple(v.values): v for v in variants.variants_of(shirt.id)}
    assert found[("M", "آبی")].sale_price_amount == 1_100_000
    assert found[("S", "آبی")].sku == "SH-1"
    assert (cloth.price_amount, cloth.stock) == (900_000, 4)


@pytest.mark.parametrize(
    ("rows", "line", "text"),
    [
        (
            "a,,,100,1,,,سایز,S,,,,,,\na,,,100,1,,,رنگ,S,,,,,,\n",
            3,
            "The options' names differ from the first row of this listing (line 2).",
        ),
        ("a,,,100,1,,,سایز,,,,,,,\n", 2, "Give the option both its name and this row's value."),
        ("a,,,100,1,,,,,,,,,,5\n", 2, "A sale price can be given only on a variant's row"),
        ("a,,,100,1,,,,,,,,,X1,\n", 2, "A SKU can be given only on a variant's row"),
        ("a,,,100,1,,,سایز,S,,,,,bad sku,\n", 2, "Use Latin letters, digits"),
        ("a,,,100,1,,,سایز,S,,,,,,200\n", 2, "The sale price must be lower than the price."),
        ("a,,,100,1,,,سایز,S,,,,,,\na,,,100,1,,,سایز,S,,,,,,\n", 3, "Line 2 is the same variant."),
        ("a,,,100,1,,,سایز,S,,,,,K,\nb,,,100,1,,,سایز,S,,,,,K,\n", 3, "Line 2 has the same SKU."),
        ("a,,,100,1,,,سایز,S,,,,,,abc\n", 2, "The sale price must be a whole number of toman."),
        ("a,,,100,1,,," + "س" * 50 + ",S,,,,,,\n", 2, "An option's name can be at most 40"),
    ],
)
def test_variant_rows_with_errors_are_shown_on_their_line(seller_client, rows, line, text):
    client, seller = seller_client
    preview = _upload(client, HEADER + rows)
    assert preview.status_code == 400
    html = unescape(preview.get_data(as_text=True))
    row = re.search(rf'<tr id="line-{line}".*?</tr>', html, re.S)
    assert row is not None and text in row.group(0), re.findall(r'class="error">(.*?)<', html)
    assert _products(seller.id) == []


def test_a_sku_another_listing_uses_is_refused(seller_client):
    client, seller = seller_client
    listings.create_product(
        seller,
        listings.ListingData("x", "", None, 10, 1),
        options=variants.VariantsData(
            [variants.OptionData("سایز", ["S"])], [variants.VariantData(["S"], 100, 1, sku="K")]
        ),
    )
    preview = _upload(client, HEADER + "a,,,100,1,,,سایز,S,,,,,K,\n")
    assert preview.status_code == 400
    assert "Another of your listings already uses this SKU." in unescape(
        preview.get_data(as_text=True)
    )


def test_too_many_variant_rows_are_refused(seller_client):
    client, _ = seller_client
    body = HEADER + "".join(f"a,,,100,1,,,n,{v},,,,,,\n" for v in range(101))
    preview = _upload(client, body)
    assert preview.status_code == 400


def test_export_has_a_row_per_variant_and_imports_back(seller_client, client):
    _, seller = seller_client
    cat = factories.category(slug="clothes")
    factories.product(seller, title="رومیزی", price_amount=900_000, stock=4, category_row=cat)
    options = variants.VariantsData(
        [variants.OptionData("سایز", ["S", "M"]), variants.OptionData("رنگ", ["آبی"])],
        [
            variants.VariantData(["S", "آبی"], 1_200_000, 2, None, "SH-1"),
            variants.VariantData(["M", "آبی"], 1_300_000, 0, 1_100_000),
        ],
    )
    listings.create_product(
        seller, listings.ListingData("پیراهن", "دوخت دست", cat.id, None, 0), options=options
    )

    response = client.get("/seller/listings.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["title"] for r in table] == ["رومیزی", "پیراهن", "پیراهن"]
    assert table[0]["option1_name"] == "" and table[0]["price"] == "90000"
    assert table[1]["option1_value"] == "S" and table[1]["option2_value"] == "آبی"
    assert (table[1]["sku"], table[1]["price"], table[1]["stock"]) == ("SH-1", "120000", "2")
    assert (table[2]["sale_price"], table[2]["stock"]) == ("110000", "0")
    persian = client.get("/seller/listings.csv?headers=fa").data.decode("utf-8-sig")
    assert persian.splitlines()[0].startswith("عنوان,")

    # The file imports back into another shop as the same listings (published ones as drafts).
    other = factories.seller()
    body = response.data.replace(b"published", b"draft")
    plan = importer.validate(importer.parse_csv(body), other, None)
    assert plan.ok, [(r.line, e.code) for r in plan.rows for e in r.errors]
    made = importer.save(plan, other)
    assert len(made) == 2
    shirt = _products(other.id)[1]
    assert shirt.has_variants and (shirt.price_amount, shirt.stock) == (1_200_000, 2)
    assert [(v.values, v.sku, v.sale_price_amount) for v in variants.variants_of(shirt.id)] == [
        (["S", "آبی"], "SH-1", None),
        (["M", "آبی"], None, 1_100_000),
    ]


def test_a_file_without_variant_columns_reads_as_before(seller_client):
    client, seller = seller_client
    body = "title,price,stock\nالف,100,1\nالف,200,2\n"
    preview = _upload(client, body)
    html = unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200
    assert "Save 2 listings" in html
    client.post("/seller/import/confirm", data={"token": _token(html)})
    assert [p.price_amount for p in _products(seller.id)] == [1000, 2000]
