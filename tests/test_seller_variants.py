"""The seller's options and variants: the listing form's section (made rows, errors, Persian
digits, read-only price and stock, removal), the listings service's rules for a listing sold by
its variants, and the listings table."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.accounts.models import Role
from app.catalog import listings, variants
from app.catalog.models import Product, ProductStatus, ProductVariant, SellerStatus
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.helpers import flashes


def message(code: str) -> str:
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def fresh(product_id: int) -> Product:
    db.session.expire_all()
    product = db.session.get(Product, product_id)
    assert product is not None
    return product


def active_variants(product_id: int) -> list[ProductVariant]:
    db.session.expire_all()
    return variants.variants_of(product_id)


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    owner = factories.user(Role.SELLER, name="Golbibi")
    seller = factories.seller(status=SellerStatus.APPROVED, owner=owner)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return seller, client


@pytest.fixture
def category():  # type: ignore[no-untyped-def]
    return factories.category()


def listing(category, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {
        "title": "پیراهن بلوچی",
        "description": "دوخت دست",
        "category_id": str(category.id),
        "price_toman": "",
        "stock": "",
        "status": "draft",
        "variants-editor": "1",
    }
    data.update(fields)
    return data


def two_options(**fields: str) -> dict[str, str]:
    data = {"options-0-name": "سایز", "options-0-values": "S، M", "options-1-name": "رنگ"}
    data["options-1-values"] = "آبی, قرمز"
    data.update(fields)
    return data


def rows(*typed: tuple[str, str, str, str]) -> dict[str, str]:
    """Rows for S/آبی, S/قرمز, M/آبی, M/قرمز (in that order): price, sale price, stock, SKU."""
    combos = [("S", "آبی"), ("S", "قرمز"), ("M", "آبی"), ("M", "قرمز")]
    data: dict[str, str] = {}
    for j, ((v1, v2), (price, sale, stock, sku)) in enumerate(zip(combos, typed, strict=False)):
        data |= {
            f"variants-{j}-value1": v1,
            f"variants-{j}-value2": v2,
            f"variants-{j}-price": price,
            f"variants-{j}-sale_price": sale,
            f"variants-{j}-stock": stock,
            f"variants-{j}-sku": sku,
        }
    return data


FOUR = (
    ("۱۲۰٬۰۰۰", "", "۲", "SH-S-B"),
    ("120000", "", "0", "SH-S-R"),
    ("١٣٠,٠٠٠", "۱۱۰٬۰۰۰", "۵", ""),
    ("130000", "", "1", ""),
)


def created(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, html_of(response)[:3000]
    return int(re.search(r"/seller/listings/(\d+)/edit", response.headers["Location"])[1])


def with_variants(client, category) -> int:  # type: ignore[no-untyped-def]
    return created(
        client.post("/seller/listings/new", data=listing(category) | two_options() | rows(*FOUR))
    )


# --- the form ------------------------------------------------------------------------------------


def test_make_the_rows_makes_every_combination_and_keeps_what_was_typed(shop, category):
    _, client = shop
    first = client.post(
        "/seller/listings/new",
        data=listing(category, title="") | two_options() | {"variants-make": "1"},
    )
    assert first.status_code == 200
    page = html_of(first)
    for j, (v1, v2) in enumerate([("S", "آبی"), ("S", "قرمز"), ("M", "آبی"), ("M", "قرمز")]):
        assert f'name="variants-{j}-value1" value="{v1}"' in page
        assert f'name="variants-{j}-value2" value="{v2}"' in page
    assert "variants-4-" not in page
    # Nothing saved, and the title's emptiness is not an error yet.
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    assert message("required") not in page

    # A value added: the typed rows keep their price; the new ones come empty.
    again = client.post(
        "/seller/listings/new",
        data=listing(category)
        | two_options(**{"options-0-values": "S، M، L"})
        | rows(*FOUR)
        | {"variants-make": "1"},
    )
    page = html_of(again)
    assert again.status_code == 200
    assert 'name="variants-0-price" value="۱۲۰٬۰۰۰"' in page
    assert 'name="variants-4-value1" value="L"' in page
    assert 'name="variants-4-price" value=""' in page


def test_a_new_listing_with_variants_mirrors_them_and_reads_persian_digits(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    product = fresh(product_id)
    assert product.has_variants
    assert product.stock == 2 + 0 + 5 + 1
    assert product.price_amount == 1_200_000
    assert product.sale_price_amount is None  # no sale period yet
    found = {tuple(v.values): v for v in active_variants(product_id)}
    assert found[("M", "آبی")].price_amount == 1_300_000
    assert found[("M", "آبی")].sale_price_amount == 1_100_000
    assert found[("S", "آبی")].sku == "SH-S-B"
    assert [o.name for o in variants.options_of(product_id)] == ["سایز", "رنگ"]

    page = html_of(client.get(f"/seller/listings/{product_id}/edit"))
    assert 'id="price-from"' in page and "readonly" in page
    assert 'name="price_toman"' not in page and 'name="stock"' not in page
    assert 'name="variants-2-sale_price" value="110,000"' in page  # English page, Latin digits


def test_row_errors_are_shown_per_row_and_nothing_is_saved(shop, category):
    _, client = shop
    bad = (
        ("abc", "", "2", "SKU 1"),
        ("120000", "130000", "", ""),
        ("130000", "", "-1", "DUP"),
        ("130000", "", "1", "DUP"),
    )
    response = client.post(
        "/seller/listings/new", data=listing(category) | two_options() | rows(*bad)
    )
    assert response.status_code == 400
    page = html_of(response)
    assert message("number_invalid") in page
    assert message("required") in page
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0

    # Numbers read: now the service's rules speak, each on its row.
    bad = (
        ("120000", "", "2", "SKU 1"),
        ("120000", "130000", "1", ""),
        ("130000", "", "1", "DUP"),
        ("130000", "", "1", "DUP"),
    )
    response = client.post(
        "/seller/listings/new", data=listing(category) | two_options() | rows(*bad)
    )
    assert response.status_code == 400
    page = html_of(response)
    assert message("sku_invalid") in page
    assert message("sale_not_lower") in page
    assert message("duplicate_sku") in page
    assert 'id="variants-0-sku" name="variants-0-sku" value="SKU 1"' in page  # kept as typed
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_options_errors_and_saving_without_rows(shop, category):
    _, client = shop
    response = client.post(
        "/seller/listings/new",
        data=listing(category)
        | {"options-0-name": "سایز", "options-0-values": "S، S", "options-1-values": "آبی"},
    )
    assert response.status_code == 400
    page = html_of(response)
    assert message("option_values_invalid") in page
    assert message("variants_required") in page

    response = client.post(
        "/seller/listings/new",
        data=listing(category) | two_options(**{"options-1-name": "سایز"}) | rows(*FOUR),
    )
    assert response.status_code == 400
    assert message("duplicate_option") in html_of(response)


def test_editing_changes_variants_and_leaves_the_price_and_stock_fields_alone(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    # A stale page's price and stock (or hostile ones) are not written.
    edited = FOUR[:3] + (("۹۰٬۰۰۰", "", "۷", "SH-M-R"),)
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category, price_toman="1", stock="999") | two_options() | rows(*edited),
    )
    assert response.status_code == 302, re.findall(
        r"class=\"error\"[^>]*>(.*?)</p>", html_of(response), re.S
    )
    product = fresh(product_id)
    assert product.price_amount == 900_000
    assert product.stock == 2 + 0 + 5 + 7

    # An option value removed: its rows go off sale (kept for carts and orders).
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category)
        | two_options(**{"options-1-values": "آبی"})
        | {
            "variants-0-value1": "S",
            "variants-0-value2": "آبی",
            "variants-0-price": "100000",
            "variants-0-stock": "3",
            "variants-1-value1": "M",
            "variants-1-value2": "آبی",
            "variants-1-price": "110000",
            "variants-1-stock": "4",
        },
    )
    assert response.status_code == 302, re.findall(
        r"class=\"error\"[^>]*>(.*?)</p>", html_of(response), re.S
    )
    assert len(active_variants(product_id)) == 2
    assert fresh(product_id).stock == 7


def test_a_row_left_over_from_old_options_asks_to_make_the_rows_again(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category) | two_options(**{"options-1-values": "سبز، قرمز"}) | rows(*FOUR),
    )
    assert response.status_code == 400
    assert message("variant_values_invalid") in html_of(response)


def test_removing_every_option_asks_for_confirmation_then_sells_one_item(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    response = client.post(f"/seller/listings/{product_id}/edit", data=listing(category))
    assert response.status_code == 400
    page = html_of(response)
    assert message("single_item_confirm") in page
    assert 'name="variants-single"' in page
    assert fresh(product_id).has_variants

    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category, price_toman="5", stock="1") | {"variants-single": "1"},
    )
    assert response.status_code == 302, re.findall(
        r"class=\"error\"[^>]*>(.*?)</p>", html_of(response), re.S
    )
    product = fresh(product_id)
    assert not product.has_variants
    assert active_variants(product_id) == []
    # The last mirrored price and stock stay, for the seller to edit now.
    assert (product.price_amount, product.stock) == (1_200_000, 8)
    page = html_of(client.get(f"/seller/listings/{product_id}/edit"))
    assert 'name="price_toman"' in page

    # Now the single item's fields are written again.
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category, price_toman="50000", stock="4"),
    )
    assert response.status_code == 302
    assert (fresh(product_id).price_amount, fresh(product_id).stock) == (500_000, 4)


def test_a_form_without_the_section_leaves_the_variants_alone(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    data = listing(category, title="پیراهن")
    del data["variants-editor"]
    response = client.post(f"/seller/listings/{product_id}/edit", data=data)
    assert response.status_code == 302
    assert fresh(product_id).has_variants and fresh(product_id).title == "پیراهن"
    assert len(active_variants(product_id)) == 4


def test_a_listing_without_options_saves_as_before(shop, category):
    _, client = shop
    response = client.post(
        "/seller/listings/new", data=listing(category, price_toman="۱۲۵٬۰۰۰", stock="۳")
    )
    product = fresh(created(response))
    assert not product.has_variants
    assert (product.price_amount, product.stock) == (1_250_000, 3)


def test_the_sale_of_a_listing_with_variants_is_a_period(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    today = date.today()
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(
            category,
            sale_starts_on=(today - timedelta(days=1)).isoformat(),
            sale_ends_on=(today + timedelta(days=5)).isoformat(),
        )
        | two_options()
        | rows(*FOUR),
    )
    assert response.status_code == 302, re.findall(
        r"class=\"error\"[^>]*>(.*?)</p>", html_of(response), re.S
    )
    product = fresh(product_id)
    assert product.sale_starts_at is not None
    assert product.sale_price_amount == 1_100_000  # the variant's, mirrored with the period
    assert product.effective_price == 1_100_000

    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category, sale_starts_on=today.isoformat()) | two_options() | rows(*FOUR),
    )
    assert response.status_code == 400
    response = client.post(
        f"/seller/listings/{product_id}/edit", data=listing(category) | two_options() | rows(*FOUR)
    )
    product = fresh(product_id)
    assert product.sale_starts_at is None and product.sale_price_amount is None


def test_a_variant_photo_is_one_of_the_listings_photos(shop, category):
    seller, client = shop
    product_id = with_variants(client, category)
    other = factories.product(factories.seller(), title="دیگری")
    own = factories.product(seller, title="عکس‌دار")
    page = html_of(client.get(f"/seller/listings/{own.id}/edit"))
    assert "variants-0-image_id" not in page  # no rows yet
    data = listing(category) | two_options() | rows(*FOUR)
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=data | {"variants-0-image_id": str(other.images[0].id)},
    )
    assert response.status_code == 400
    assert message("invalid") in html_of(response)
    response = client.post(
        f"/seller/listings/{own.id}/edit",
        data=data
        | {
            "variants-0-image_id": str(own.images[0].id),
            "variants-0-sku": "X1",
            "variants-1-sku": "",
        },
    )
    assert response.status_code == 302, re.findall(
        r"class=\"error\"[^>]*>(.*?)</p>", html_of(response), re.S
    )
    assert active_variants(own.id)[0].image_id == own.images[0].id
    page = html_of(client.get(f"/seller/listings/{own.id}/edit"))
    assert f'<option value="{own.images[0].id}" selected>' in page


@pytest.mark.parametrize(
    "hostile",
    [
        {"variants-0-price": "9" * 40},
        {"variants-0-stock": "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰"},
        {"variants-0-image_id": "99999999999999999999999"},
        {"variants-0-image_id": "-3"},
        {"variants-0-value1": "x" * 5000},
        {"options-0-values": "،" * 3000},
        {"options-0-name": "\x00"},
        {"options-2-values": ",".join(str(n) for n in range(50))},
        {f"variants-{j}-price": "1" for j in range(130)},
    ],
)
def test_hostile_input_is_a_form_error_not_a_crash(shop, category, hostile):
    _, client = shop
    response = client.post(
        "/seller/listings/new", data=listing(category) | two_options() | rows(*FOUR) | hostile
    )
    assert response.status_code == 400
    response = client.post(
        "/seller/listings/new",
        data=listing(category) | two_options() | hostile | {"variants-make": "1"},
    )
    assert response.status_code in (200, 400)


def test_too_many_combinations_are_refused_when_making_the_rows(shop, category):
    _, client = shop
    many = ",".join(str(n) for n in range(20))
    response = client.post(
        "/seller/listings/new",
        data=listing(category)
        | {
            "options-0-name": "a",
            "options-0-values": many,
            "options-1-name": "b",
            "options-1-values": many,
            "variants-make": "1",
        },
    )
    assert response.status_code == 400
    assert message("too_many_variants") in html_of(response)


# --- the listings table and quick edits ---------------------------------------------------------


def test_the_listings_table_shows_the_variants_and_the_ones_running_low(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    page = html_of(client.get("/seller/listings"))
    assert "4 variants" in page
    assert "سایز: S، رنگ: قرمز: sold out" in page
    assert "سایز: S، رنگ: آبی: 2 left" in page
    assert f'action="/seller/listings/{product_id}/quick"' not in page


def test_quick_edit_refuses_the_price_and_stock_of_a_listing_with_variants(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    response = client.post(
        f"/seller/listings/{product_id}/quick",
        data={"price_toman": "1000", "stock": "50"},
        follow_redirects=True,
    )
    assert message("has_variants") in " ".join(flashes(response))
    product = fresh(product_id)
    assert (product.price_amount, product.stock) == (1_200_000, 8)


# --- the service ---------------------------------------------------------------------------------


def _data(**fields: object) -> listings.ListingData:
    values: dict[str, object] = {
        "title": "پیراهن",
        "description": "",
        "category_id": None,
        "price_amount": 10,
        "stock": 999,
    }
    values.update(fields)
    return listings.ListingData(**values)  # type: ignore[arg-type]


def _options() -> variants.VariantsData:
    return variants.VariantsData(
        [variants.OptionData("سایز", ["S", "M"])],
        [variants.VariantData(["S"], 50_000, 2), variants.VariantData(["M"], 60_000, 0, 40_000)],
    )


def test_service_update_product_does_not_write_price_or_stock_of_a_listing_with_variants(app):
    seller = factories.seller()
    product = listings.create_product(seller, _data(), options=_options())
    assert (product.price_amount, product.stock, product.has_variants) == (50_000, 2, True)
    listings.update_product(product, _data(price_amount=1, stock=1000))
    product = fresh(product.id)
    assert (product.price_amount, product.stock) == (50_000, 2)
    with pytest.raises(ValidationFailed) as caught:
        listings.quick_update(product, price_amount=20, stock=None)
    assert caught.value.errors == {"price_amount": ["has_variants"]}
    with pytest.raises(ValidationFailed) as caught:
        listings.quick_update(product, price_amount=None, stock=5)
    assert caught.value.errors == {"stock": ["has_variants"]}
    # A sale period makes the variants' sale prices count.
    first = utcnow().date()
    listings.update_product(
        product, _data(sale_given=True, sale_first_day=first, sale_last_day=first)
    )
    assert fresh(product.id).sale_price_amount == 40_000


def test_service_a_copy_keeps_options_and_variants_without_skus(app):
    seller = factories.seller()
    options = _options()
    options.variants[0].sku = "A-1"
    product = listings.create_product(seller, _data(), options=options)
    copy = listings.duplicate_product(product)
    assert copy.has_variants and copy.status == ProductStatus.DRAFT
    copied = variants.variants_of(copy.id)
    assert [(v.values, v.sku) for v in copied] == [(["S"], None), (["M"], None)]
    assert copy.stock == 2


def test_the_persian_form_shows_the_rows_in_persian_digits(shop, category):
    _, client = shop
    product_id = with_variants(client, category)
    client.set_cookie("locale", "fa")
    page = html_of(client.get(f"/seller/listings/{product_id}/edit"))
    assert 'name="variants-0-price" value="۱۲۰٬۰۰۰"' in page
    assert 'name="variants-2-stock" value="۵"' in page
    assert "گزینه‌ها و گونه‌ها" in page
    listing_page = html_of(client.get("/seller/listings"))
    assert "۴ گونه" in listing_page


def test_units_sold_while_the_editor_was_open_are_not_overwritten(shop, category):
    """The form carries each saved variant's stock as it showed it: a variant sold meanwhile
    keeps its stock (the seller is warned), the other rows save what was typed."""
    from app.orders import stock

    _, client = shop
    product_id = with_variants(client, category)
    page = html_of(client.get(f"/seller/listings/{product_id}/edit"))
    seen = dict(re.findall(r'name="variants-(\d+)-seen_stock" value="(\d+)"', page))
    assert seen == {"0": "2", "1": "0", "2": "5", "3": "1"}
    m_blue = next(v for v in active_variants(product_id) if v.values == ["M", "آبی"])
    stock.take([(product_id, m_blue.id, 2)])  # two sold while the seller edits
    db.session.commit()
    typed = FOUR[:2] + (("١٣٠,٠٠٠", "۱۱۰٬۰۰۰", "۵", ""), ("130000", "", "4", ""))
    carried = {f"variants-{j}-seen_stock": value for j, value in seen.items()}
    response = client.post(
        f"/seller/listings/{product_id}/edit",
        data=listing(category) | two_options() | rows(*typed) | carried,
        follow_redirects=True,
    )
    assert response.status_code == 200
    db.session.expire_all()
    by_values = {tuple(v.values): v.stock for v in active_variants(product_id)}
    assert by_values[("M", "آبی")] == 3  # 5 − 2 sold, not the 5 the page showed
    assert by_values[("M", "قرمز")] == 4  # unchanged since shown: what was typed is saved
    assert fresh(product_id).stock == 2 + 0 + 3 + 4
    assert "while you were editing" in html_of(response) or "هنگام ویرایش" in html_of(response)
