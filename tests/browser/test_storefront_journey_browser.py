"""The storefront's journey on a phone, in Persian, in a real Chromium: a seller lists a product
with two photos in one save; a customer finds it with a misspelt query and with a Finglish one,
opens its gallery and buys it. (Tap targets and overflow on every public page kind:
test_phone_first_browser.py; the gallery's gestures: test_listing_photos_browser.py.)"""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.browser.conftest import Visit, person
from tests.browser.test_accounts_messages_browser import submit, type_persian
from tests.browser.test_listing_photos_browser import until

pytestmark = pytest.mark.browser

PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
SELLER = "seller1@bazarche.example"  # approved (seller3 is suspended in the demo)
CUSTOMER = "customer@bazarche.example"
TITLE = "رومیزی ترمه دست‌دوز"  # «ترمه» (termeh): in no other demo listing
TIMEOUT = 30_000


def phone(browser, live_server: str):  # type: ignore[no-untyped-def]
    """One person on a 390 x 844 touch screen."""
    return person(browser, live_server, (390, 844), TIMEOUT)


def log_in(visit: Visit, email: str) -> None:
    visit.go("/auth/login")
    visit.page.fill("input[name=email]", email)
    visit.page.fill("input[name=password]", PASSWORD)
    submit(visit)
    assert "/auth/login" not in visit.page.url


def list_with_two_photos(seller: Visit, tmp_path) -> int:  # type: ignore[no-untyped-def]
    """A published listing with two photos, made by one save of the new-listing form."""
    page = seller.page
    files = []
    for name, colour in (("a.png", (160, 40, 40)), ("b.png", (40, 120, 60))):
        path = tmp_path / name
        Image.new("RGB", (800, 600), colour).save(path)
        files.append(str(path))
    seller.go("/seller/listings/new")
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=category_id]", index=1)
    type_persian(seller, "input[name=price_toman]", "450000")
    type_persian(seller, "input[name=stock]", "3")
    page.select_option("select[name=status]", "published")
    page.set_input_files("#photos-input", files)
    until(seller, "document.querySelectorAll('li.staged.uploaded').length === 2", 30)
    with page.expect_navigation():
        page.click("form[data-listing-form] button[data-save-listing]")
    found = re.search(r"/seller/listings/(\d+)/edit", page.url)
    assert found, page.inner_text("main")
    return int(found[1])


def finds(customer: Visit, query: str, product_id: int) -> str:
    """Search ``query`` from the header's search box; the page's main text. The product is
    among the results."""
    customer.go("/")
    customer.page.fill("header input[name=q]", query)
    with customer.page.expect_navigation():
        customer.page.press("header input[name=q]", "Enter")
    links = customer.js(
        "[...document.querySelectorAll('main a[href^=\"/p/\"]')].map(a => a.pathname)"
    )
    shown = customer.page.inner_text("main")
    assert any(re.match(rf"/p/{product_id}(/|$)", str(link)) for link in links), (query, shown)
    return shown


def open_gallery(customer: Visit, product_id: int) -> None:
    page = customer.page
    customer.go(f"/p/{product_id}")
    assert customer.js("document.querySelectorAll('[data-gallery-thumb]').length") == 2
    page.click("[data-gallery-main]")
    until(customer, "document.querySelector('dialog.viewer[open]') !== null")
    page.keyboard.press("Escape")
    until(customer, "!document.querySelector('dialog.viewer').open")


def buy(customer: Visit, product_id: int) -> None:
    page = customer.page
    customer.go(f"/p/{product_id}")
    submit(customer, "form.add-to-cart button[type=submit]")
    customer.go("/checkout")
    page.fill("input[name=recipient_name]", "مشتری نمونه")
    type_persian(customer, "input[name=mobile]", "09121234567")
    page.select_option("select[name=province]", index=1)
    page.fill("input[name=city]", "زاهدان")
    page.fill("textarea[name=address]", "خیابان دانشگاه، پلاک ۱۲")
    type_persian(customer, "input[name=postal_code]", "9816745639")
    page.check("input[name=payment_method][value=cash]")
    submit(customer, "form.checkout-form button[data-place-order]")
    assert "/checkout/return/" in page.url, page.inner_text("main")
    assert TITLE in page.inner_text("main") or customer.js(
        "document.querySelectorAll('main a[href*=\"/orders/\"]').length"
    )


def test_a_listing_made_in_one_save_is_found_misspelt_and_in_finglish_and_bought(
    browser, live_server, tmp_path
):
    with phone(browser, live_server) as seller:
        log_in(seller, SELLER)
        product_id = list_with_two_photos(seller, tmp_path)

    with phone(browser, live_server) as customer:
        assert customer.go("/") and customer.js("document.dir") == "rtl"
        open_gallery(customer, product_id)  # published, with its two photos
        finds(customer, "ترمه", product_id)
        misspelt = finds(customer, "ترنه", product_id)  # one letter off «ترمه»
        assert "ترمه" in misspelt  # "showing results for ترمه"
        finds(customer, "termeh", product_id)  # Finglish
        open_gallery(customer, product_id)
        log_in(customer, CUSTOMER)
        buy(customer, product_id)
