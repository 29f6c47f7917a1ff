"""The seller's listings: drafts, publish rules, the listings table, quick edits, copies, deletion."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.accounts.models import Role
from app.catalog.models import Product, ProductImage, ProductStatus, SellerStatus
from app.core.extensions import db
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.helpers import flashes, jpeg

QUICK_EDIT_ERROR = "Enter a price above 0 and a stock of 0 or more."


# --- helpers -------------------------------------------------------------------------------------


def message(code: str) -> str:
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def field_errors(response, field: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(
        rf'<p class="error" id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S
    )
    return unescape(found.group(1)) if found else ""


def upload(client, product_id: int, *files: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/seller/listings/{product_id}/photos",
        data={"photos": [(io.BytesIO(body), f"photo-{i}.jpg") for i, body in enumerate(files)]},
        content_type="multipart/form-data",
    )


def media_files(app) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def fresh(product_id: int) -> Product | None:
    db.session.expire_all()
    return db.session.get(Product, product_id)


def product_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Product.id)))


def edit_rows(response) -> list[int]:  # type: ignore[no-untyped-def]
    """Product ids of the rows of the listings table, in order."""
    return [
        int(n)
        for n in re.findall(
            r'<td><a href="/seller/listings/(\d+)/edit">', response.get_data(as_text=True)
        )
    ]


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    """An approved seller, logged in, with English messages."""
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
        "title": "رومیزی سوزن‌دوزی بلوچ",
        "description": "دوخت دست، ۴۰ در ۴۰",
        "category_id": str(category.id),
        "price_toman": "۱۲۵٬۰۰۰",
        "stock": "۳",
        "status": "draft",
    }
    data.update(fields)
    return data


def new_draft(client, category, **fields: str) -> Product:  # type: ignore[no-untyped-def]
    response = client.post("/seller/listings/new", data=listing(category, **fields))
    assert response.status_code == 302, html_of(response)
    product_id = int(re.search(r"/seller/listings/(\d+)/edit", response.headers["Location"])[1])
    return fresh(product_id)


# --- drafts and prices ---------------------------------------------------------------------------


def test_a_new_listing_is_a_draft_with_the_price_entered_in_toman(shop, category):
    seller, client = shop
    assert client.get("/seller/listings/new").status_code == 200

    product = new_draft(client, category)

    assert product.seller_id == seller.id
    assert product.status == ProductStatus.DRAFT
    assert product.price_amount == 1_250_000  # 125,000 toman in rials
    assert product.stock == 3
    assert product.title == "رومیزی سوزن‌دوزی بلوچ"
    assert product.category_id == category.id
    assert product.published_at is None

    page = client.get(f"/seller/listings/{product.id}/edit")
    assert page.status_code == 200
    assert 'value="125000"' in page.get_data(as_text=True)  # shown back in toman
    assert message("needs_photo") in html_of(page)


@pytest.mark.parametrize(
    ("typed", "rials"),
    [("125000", 1_250_000), ("125,000", 1_250_000), ("۱۲۵۰۰۰", 1_250_000), ("٣٠٠", 3_000)],
)
def test_prices_accept_latin_persian_and_arabic_digits_with_separators(
    shop, category, typed, rials
):
    _, client = shop
    assert new_draft(client, category, price_toman=typed).price_amount == rials


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field is required."),
        ({"price_toman": "abc"}, "price_toman", "Please enter a whole number."),
        ({"price_toman": "12.5"}, "price_toman", "Please enter a whole number."),
        ({"price_toman": "-5"}, "price_toman", "Enter a price from 0."),
        ({"stock": "-1"}, "stock", "Stock must be between 0 and 1,000,000."),
        ({"stock": str(10**9)}, "stock", "Stock must be between 0 and 1,000,000."),
        ({"stock": "۱۰۰۰۰۰۰۰۰۰"}, "stock", "Stock must be between 0 and 1,000,000."),
        ({"title": "x" * 201}, "title", "200"),
    ],
)
def test_a_bad_listing_is_refused_with_a_clear_message(shop, category, fields, field, expected):
    _, client = shop

    response = client.post("/seller/listings/new", data=listing(category, **fields))

    assert response.status_code == 400
    assert expected in field_errors(response, field)
    assert product_count() == 0


# --- publish rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({}, ["needs_photo"]),
        ({"price_toman": ""}, ["needs_photo", "needs_price"]),
        ({"price_toman": "0"}, ["needs_photo", "needs_price"]),
        ({"category_id": "0"}, ["needs_photo", "needs_category"]),
        ({"price_toman": "", "category_id": "0"}, ["needs_photo", "needs_price", "needs_category"]),
    ],
)
def test_publishing_a_new_listing_lists_exactly_what_is_missing(shop, category, fields, missing):
    _, client = shop

    response = client.post(
        "/seller/listings/new", data=listing(category, status="published", **fields)
    )

    assert response.status_code == 400
    shown = field_errors(response, "status")
    for code in ("needs_photo", "needs_price", "needs_category"):
        assert (message(code) in shown) == (code in missing), code
    assert product_count() == 0


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"price_toman": ""}, ["needs_photo", "needs_price"]),
        ({"category_id": "0"}, ["needs_photo", "needs_category"]),
    ],
)
def test_publishing_a_draft_without_photo_price_or_category_changes_nothing(
    shop, category, fields, missing
):
    _, client = shop
    product = new_draft(client, category)

    response = client.post(
        f"/seller/listings/{product.id}/edit",
        data=listing(category, status="published", title="عنوان تازه", **fields),
    )

    assert response.status_code == 400
    shown = field_errors(response, "status")
    for code in ("needs_photo", "needs_price", "needs_category"):
        assert (message(code) in shown) == (code in missing), code
    after = fresh(product.id)
    assert after.status == ProductStatus.DRAFT
    assert after.title == "رومیزی سوزن‌دوزی بلوچ"  # the whole save was refused
    assert after.price_amount == 1_250_000
    assert after.category_id == category.id


def test_the_publish_button_says_what_is_missing(shop, category):
    _, client = shop
    product = new_draft(client, category, price_toman="0")

    response = client.post(
        f"/seller/listings/{product.id}/status",
        data={"status": "published"},
        follow_redirects=True,
    )

    shown = flashes(response)
    assert message("needs_photo") in shown
    assert message("needs_price") in shown
    assert message("needs_category") not in shown
    assert fresh(product.id).status == ProductStatus.DRAFT


def test_a_listing_with_a_photo_price_and_category_can_be_published(app, shop, category):
    _, client = shop
    product = new_draft(client, category)

    uploaded = upload(client, product.id, jpeg((200, 150), (180, 40, 40)))
    assert uploaded.status_code == 302
    response = client.post(
        f"/seller/listings/{product.id}/status",
        data={"status": "published"},
        follow_redirects=True,
    )

    assert flashes(response) == []
    product = fresh(product.id)
    assert product.status == ProductStatus.PUBLISHED
    assert product.published_at is not None
    assert app.test_client().get(f"/p/{product.id}").status_code == 200

    # and back to draft, which hides it again
    client.post(f"/seller/listings/{product.id}/status", data={"status": "draft"})
    assert fresh(product.id).status == ProductStatus.DRAFT
    assert app.test_client().get(f"/p/{product.id}").status_code == 404


def test_publishing_from_the_edit_form_works_once_a_photo_is_there(shop, category):
    _, client = shop
    product = new_draft(client, category)
    upload(client, product.id, jpeg((200, 150), (180, 40, 40)))

    response = client.post(
        f"/seller/listings/{product.id}/edit", data=listing(category, status="published")
    )

    assert response.status_code == 302
    assert fresh(product.id).status == ProductStatus.PUBLISHED


@pytest.mark.parametrize("status", ["hidden_by_staff", "deleted", ""])
def test_the_status_button_accepts_only_draft_or_published(shop, category, status):
    _, client = shop
    product = new_draft(client, category)

    response = client.post(f"/seller/listings/{product.id}/status", data={"status": status})

    assert response.status_code == 400
    assert fresh(product.id).status == ProductStatus.DRAFT


def test_a_listing_hidden_by_staff_cannot_be_published_by_the_seller(shop, category):
    seller, client = shop
    product = factories.product(seller, status=ProductStatus.HIDDEN_BY_STAFF, category_row=category)
    product.hidden_reason = "Photo shows a different item."
    db.session.commit()

    by_button = client.post(
        f"/seller/listings/{product.id}/status", data={"status": "published"}, follow_redirects=True
    )
    assert message("hidden_by_staff") in flashes(by_button)
    assert fresh(product.id).status == ProductStatus.HIDDEN_BY_STAFF

    by_form = client.post(
        f"/seller/listings/{product.id}/edit", data=listing(category, status="published")
    )
    assert by_form.status_code == 400
    assert message("hidden_by_staff") in field_errors(by_form, "status")
    assert fresh(product.id).status == ProductStatus.HIDDEN_BY_STAFF

    page = client.get(f"/seller/listings/{product.id}/edit")
    assert "Photo shows a different item." in html_of(page)

    # saving it as a draft resubmits it for staff review; the note stays until staff release it
    client.post(f"/seller/listings/{product.id}/edit", data=listing(category, status="draft"))
    after = fresh(product.id)
    assert after.status == ProductStatus.DRAFT
    assert after.hidden_reason == "Photo shows a different item."

    # and the seller cannot publish it around the review
    again = client.post(
        f"/seller/listings/{product.id}/status", data={"status": "published"}, follow_redirects=True
    )
    assert message("awaiting_review") in flashes(again)
    assert fresh(product.id).status == ProductStatus.DRAFT


# --- the listings table --------------------------------------------------------------------------


def test_the_table_filters_by_status_and_searches_titles(shop, category):
    seller, client = shop
    rug = factories.product(seller, title="گلیم دستباف", category_row=category)
    pot = factories.product(
        seller, title="کوزه سفالی", status=ProductStatus.DRAFT, category_row=category
    )
    hidden = factories.product(
        seller, title="گلیم کوچک", status=ProductStatus.HIDDEN_BY_STAFF, category_row=category
    )
    strangers = factories.product(title="گلیم همسایه")

    everything = client.get("/seller/listings")
    assert everything.status_code == 200
    assert sorted(edit_rows(everything)) == sorted([rug.id, pot.id, hidden.id])
    assert strangers.title not in html_of(everything)

    assert edit_rows(client.get("/seller/listings?status=published")) == [rug.id]
    assert edit_rows(client.get("/seller/listings?status=draft")) == [pot.id]
    assert edit_rows(client.get("/seller/listings?status=hidden_by_staff")) == [hidden.id]
    assert len(edit_rows(client.get("/seller/listings?status=bogus"))) == 3

    assert sorted(edit_rows(client.get("/seller/listings", query_string={"q": "گلیم"}))) == sorted(
        [rug.id, hidden.id]
    )
    both = client.get("/seller/listings", query_string={"q": "گلیم", "status": "published"})
    assert edit_rows(both) == [rug.id]
    nothing = client.get("/seller/listings", query_string={"q": "100%_"})
    assert nothing.status_code == 200 and edit_rows(nothing) == []
    assert "No listings match this filter." in html_of(nothing)


def test_the_table_shows_25_listings_a_page(shop, category):
    seller, client = shop
    ids = {
        factories.product(seller, title=f"محصول {n}", with_image=False, category_row=category).id
        for n in range(30)
    }

    first = client.get("/seller/listings")
    second = client.get("/seller/listings?page=2")
    beyond = client.get("/seller/listings?page=99")

    assert len(edit_rows(first)) == 25
    assert len(edit_rows(second)) == 5
    assert set(edit_rows(first)) | set(edit_rows(second)) == ids
    assert edit_rows(beyond) == edit_rows(second)
    assert "(30)" in html_of(first)
    assert 'rel="next"' in first.get_data(as_text=True)
    assert 'rel="next"' not in second.get_data(as_text=True)


# --- quick edits ---------------------------------------------------------------------------------


def test_quick_edit_changes_price_and_stock(shop, category):
    seller, client = shop
    product = factories.product(seller, price_amount=1_000_000, stock=5, category_row=category)

    response = client.post(
        f"/seller/listings/{product.id}/quick",
        data={"price_toman": "۹۵٬۰۰۰", "stock": "0"},
        follow_redirects=True,
    )

    assert flashes(response) == []
    product = fresh(product.id)
    assert product.price_amount == 950_000
    assert product.stock == 0
    assert product.status == ProductStatus.PUBLISHED


@pytest.mark.parametrize(
    "data",
    [
        {"price_toman": "abc", "stock": "5"},
        {"price_toman": "100000", "stock": "-1"},
        {"price_toman": "100000", "stock": str(10**9)},
        {"price_toman": "0", "stock": "5"},
        {"price_toman": "-100", "stock": "5"},
        {"price_toman": "100000", "stock": "two"},
        {"price_toman": "9" * 20, "stock": "5"},
    ],
)
def test_quick_edit_refuses_bad_numbers_and_changes_nothing(shop, category, data):
    seller, client = shop
    product = factories.product(seller, price_amount=1_000_000, stock=5, category_row=category)

    response = client.post(f"/seller/listings/{product.id}/quick", data=data, follow_redirects=True)

    assert response.status_code == 200
    assert QUICK_EDIT_ERROR in flashes(response)
    product = fresh(product.id)
    assert (product.price_amount, product.stock) == (1_000_000, 5)


def test_quick_edit_goes_back_to_the_filtered_table(shop, category):
    seller, client = shop
    product = factories.product(seller, category_row=category)
    back = "http://localhost/seller/listings?status=published&page=1"

    response = client.post(
        f"/seller/listings/{product.id}/quick",
        data={"price_toman": "1000", "stock": "1"},
        headers={"Referer": back},
    )
    elsewhere = client.post(
        f"/seller/listings/{product.id}/quick",
        data={"price_toman": "1000", "stock": "1"},
        headers={"Referer": "https://evil.example/seller/listings"},
    )

    assert response.headers["Location"].endswith("/seller/listings?status=published&page=1")
    assert elsewhere.headers["Location"].endswith("/seller/listings")
    assert "evil" not in elsewhere.headers["Location"]


# --- copies and deletion -------------------------------------------------------------------------


def test_duplicate_makes_a_draft_copy_without_photos(shop, category):
    seller, client = shop
    original = new_draft(client, category)
    upload(client, original.id, jpeg((200, 150), (180, 40, 40)))
    client.post(f"/seller/listings/{original.id}/status", data={"status": "published"})

    response = client.post(f"/seller/listings/{original.id}/duplicate")

    assert response.status_code == 302
    copy_id = int(re.search(r"/seller/listings/(\d+)/edit", response.headers["Location"])[1])
    assert copy_id != original.id
    copy = fresh(copy_id)
    original = fresh(original.id)
    assert copy.seller_id == seller.id
    assert copy.status == ProductStatus.DRAFT
    assert copy.images == []
    assert copy.title.startswith(original.title)
    assert (copy.price_amount, copy.stock, copy.category_id, copy.description) == (
        original.price_amount,
        original.stock,
        original.category_id,
        original.description,
    )
    assert original.status == ProductStatus.PUBLISHED
    assert len(original.images) == 1


def test_delete_removes_the_listing_and_its_unused_files(app, shop, category):
    _, client = shop
    product = new_draft(client, category)
    upload(client, product.id, jpeg((900, 600), (10, 120, 200)), jpeg((700, 500), (200, 200, 0)))
    keys = {v[2] for img in fresh(product.id).images for v in img.variants}
    assert keys and keys <= media_files(app)

    response = client.post(f"/seller/listings/{product.id}/delete", follow_redirects=True)

    assert response.status_code == 200
    assert fresh(product.id) is None
    assert db.session.scalar(sa.select(sa.func.count(ProductImage.id))) == 0
    assert keys.isdisjoint(media_files(app))
    assert "was deleted" in " ".join(flashes(response, "success"))
    assert app.test_client().get(f"/p/{product.id}").status_code == 404


def test_delete_keeps_files_another_listing_still_shows(app, shop, category):
    _, client = shop
    photo = jpeg((640, 480), (30, 160, 60))
    first = new_draft(client, category)
    second = new_draft(client, category, title="کپی")
    upload(client, first.id, photo)
    upload(client, second.id, photo)  # same bytes: the same content-addressed files
    shared = {v[2] for v in fresh(second.id).images[0].variants}

    client.post(f"/seller/listings/{first.id}/delete")

    assert fresh(first.id) is None
    assert shared <= media_files(app)
    with client.get(f"/media/{sorted(shared)[0]}") as served:
        assert served.status_code == 200


def test_delete_keeps_a_file_the_shop_logo_still_uses(app, shop, category):
    """A small photo and a logo made from the same picture are the same WebP file."""
    seller, client = shop
    picture = jpeg((200, 200), (90, 20, 120))
    product = new_draft(client, category)
    upload(client, product.id, picture)
    profile = {
        "display_name": seller.display_name,
        "slug": seller.slug,
        "county_id": str(seller.county_id),
        "sector_id": str(seller.sector_id),
        "phone": "09121234567",
        "logo": (io.BytesIO(picture), "logo.jpg"),
    }
    assert client.post("/seller/profile", data=profile).status_code == 302
    db.session.expire_all()
    logo_key = seller.logo_key
    assert logo_key in media_files(app)

    client.post(f"/seller/listings/{product.id}/delete")

    assert logo_key in media_files(app)


# --- saves from a form shown before the stock or price changed -----------------------------------


def sell(product_id: int, units: int) -> None:
    """Units bought while the seller's form is open: a checkout commits on its own connection."""
    with db.engine.begin() as conn:
        taken = conn.execute(
            sa.update(Product)
            .where(Product.id == product_id, Product.stock >= units)
            .values(stock=Product.stock - units)
        )
        assert taken.rowcount == 1


def reprice(product_id: int, price_amount: int) -> None:
    """The price changed elsewhere (another tab of the seller) while this form was open."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(Product).where(Product.id == product_id).values(price_amount=price_amount)
        )


def hidden_inputs(html: str, form_action: str = "") -> dict[str, str]:
    """The hidden inputs of the page (of the form posting to ``form_action`` if given)."""
    if form_action:
        found = re.search(
            rf'<form[^>]*action="{re.escape(form_action)}"[^>]*>(.*?)</form>', html, re.S
        )
        assert found, form_action
        html = found.group(1)
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        attrs = dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            found[attrs["name"]] = unescape(attrs.get("value", ""))
    return found


def edit_form(client, product_id: int, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What the seller's browser sends: the edit form as shown, with ``fields`` typed over it."""
    html = client.get(f"/seller/listings/{product_id}/edit").get_data(as_text=True)
    data = hidden_inputs(html.split('class="listing-form"', 1)[1].split("</form>", 1)[0])
    product = fresh(product_id)
    data.update(
        title=product.title,
        description=product.description,
        category_id=str(product.category_id or 0),
        price_toman=str(product.price_amount // 10),
        stock=str(product.stock),
        status="published" if product.status == ProductStatus.PUBLISHED else "draft",
    )
    data.update(fields)
    db.session.rollback()  # the page is shown: the test's own read transaction ends with it
    return data


def test_a_stale_edit_form_does_not_overwrite_stock_sold_meanwhile(shop, category):
    seller, client = shop
    product = factories.product(seller, stock=5, category_row=category)
    form = edit_form(client, product.id, stock="10", title="رومیزی سوزن‌دوزی، آبی")

    sell(product.id, 3)
    response = client.post(f"/seller/listings/{product.id}/edit", data=form, follow_redirects=True)

    assert response.status_code == 200
    saved = fresh(product.id)
    assert saved.stock == 2  # the three sold units stay sold
    assert saved.title == "رومیزی سوزن‌دوزی، آبی"  # the seller's other changes are kept
    assert any(
        m.startswith("Stock changed to 2 while you were editing") and "10" in m
        for m in flashes(response, "warning")
    ), flashes(response, "warning")
    assert "Listing saved." in flashes(response, "success")
    assert 'value="2"' in html_of(response).split('id="stock"', 1)[1][:200]  # the form shows 2


def test_the_stale_stock_warning_uses_persian_digits_in_persian(shop, category):
    seller, client = shop
    client.set_cookie("locale", "fa")
    product = factories.product(seller, stock=5, category_row=category)
    form = edit_form(client, product.id, stock="۱۰")

    sell(product.id, 3)
    response = client.post(f"/seller/listings/{product.id}/edit", data=form, follow_redirects=True)

    assert fresh(product.id).stock == 2
    [warning] = flashes(response, "warning")
    assert warning.startswith("موجودی در مدتی که ویرایش می‌کردید به ۲ تغییر کرد")
    assert "۱۰" in warning
    assert not re.search(r"[0-9]", warning)


def test_an_untouched_stock_field_does_not_bring_sold_units_back(shop, category):
    seller, client = shop
    product = factories.product(seller, stock=5, category_row=category)
    form = edit_form(client, product.id, description="دوخت دست، ۴۰ در ۴۰، آبی")  # stock still 5

    sell(product.id, 3)
    client.post(f"/seller/listings/{product.id}/edit", data=form)

    saved = fresh(product.id)
    assert (saved.stock, saved.description) == (2, "دوخت دست، ۴۰ در ۴۰، آبی")


def test_a_stale_edit_form_does_not_overwrite_a_price_changed_meanwhile(shop, category):
    seller, client = shop
    product = factories.product(seller, price_amount=1_000_000, category_row=category)
    form = edit_form(client, product.id, price_toman="90000", stock="7")

    reprice(product.id, 1_200_000)
    response = client.post(f"/seller/listings/{product.id}/edit", data=form, follow_redirects=True)

    saved = fresh(product.id)
    assert (saved.price_amount, saved.stock) == (1_200_000, 7)
    assert any(
        m.startswith("Price changed to 120,000 toman while you were editing") and "90,000" in m
        for m in flashes(response, "warning")
    ), flashes(response, "warning")


def test_a_fresh_edit_form_saves_stock_and_price_without_a_warning(shop, category):
    seller, client = shop
    product = factories.product(seller, price_amount=1_000_000, stock=5, category_row=category)
    form = edit_form(client, product.id, price_toman="95000", stock="10")

    response = client.post(f"/seller/listings/{product.id}/edit", data=form, follow_redirects=True)

    saved = fresh(product.id)
    assert (saved.price_amount, saved.stock) == (950_000, 10)
    assert flashes(response, "warning") == []


def test_a_refused_edit_keeps_what_the_form_first_showed(shop, category):
    """After a validation error the form is shown again; the next save still sees the sale."""
    seller, client = shop
    product = factories.product(seller, stock=5, category_row=category)
    form = edit_form(client, product.id, stock="10", title="")

    refused = client.post(f"/seller/listings/{product.id}/edit", data=form)
    assert refused.status_code == 400
    again = hidden_inputs(refused.get_data(as_text=True).split('class="listing-form"', 1)[1])
    sell(product.id, 3)
    client.post(f"/seller/listings/{product.id}/edit", data={**form, **again, "title": "رومیزی"})

    saved = fresh(product.id)
    assert (saved.stock, saved.title) == (2, "رومیزی")


def quick_form(client, product_id: int, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The quick-edit form of the product's row on the listings page, with ``fields`` typed."""
    html = client.get("/seller/listings").get_data(as_text=True)
    data = hidden_inputs(html, f"/seller/listings/{product_id}/quick")
    data.update(fields)
    db.session.rollback()
    return data


def test_a_stale_quick_edit_does_not_overwrite_stock_sold_meanwhile(shop, category):
    seller, client = shop
    product = factories.product(seller, price_amount=1_000_000, stock=5, category_row=category)
    form = quick_form(client, product.id, price_toman="95000", stock="10")

    sell(product.id, 3)
    response = client.post(f"/seller/listings/{product.id}/quick", data=form, follow_redirects=True)

    saved = fresh(product.id)
    assert (saved.price_amount, saved.stock) == (950_000, 2)
    assert any(
        m.startswith("Stock changed to 2 while you were editing")
        for m in flashes(response, "warning")
    ), flashes(response, "warning")


def test_a_stale_quick_edit_does_not_overwrite_a_price_changed_meanwhile(shop, category):
    seller, client = shop
    product = factories.product(seller, price_amount=1_000_000, stock=5, category_row=category)
    form = quick_form(client, product.id, price_toman="95000", stock="6")

    reprice(product.id, 1_200_000)
    response = client.post(f"/seller/listings/{product.id}/quick", data=form, follow_redirects=True)

    saved = fresh(product.id)
    assert (saved.price_amount, saved.stock) == (1_200_000, 6)
    assert any(m.startswith("Price changed to 120,000 toman") for m in flashes(response, "warning"))


def test_the_listing_service_refuses_to_overwrite_what_changed_since_the_form_was_shown(
    shop, category
):
    from app.catalog import listings as catalog

    seller, _ = shop
    product = factories.product(seller, price_amount=1_000_000, stock=5, category_row=category)
    data = catalog.ListingData(
        title="رومیزی نو",
        description="",
        category_id=category.id,
        price_amount=900_000,
        stock=10,
        status=ProductStatus.PUBLISHED,
        seen_price_amount=1_000_000,
        seen_stock=5,
    )

    sell(product.id, 3)
    kept = catalog.update_product(product, data)

    assert kept == [catalog.ChangedWhileEditing("stock", current=2, entered=10)]
    saved = fresh(product.id)
    assert (saved.title, saved.price_amount, saved.stock) == ("رومیزی نو", 900_000, 2)

    kept = catalog.quick_update(
        saved, price_amount=800_000, stock=1, seen_price_amount=1_000_000, seen_stock=2
    )

    assert kept == [catalog.ChangedWhileEditing("price_amount", current=900_000, entered=800_000)]
    saved = fresh(product.id)
    assert (saved.price_amount, saved.stock) == (900_000, 1)
