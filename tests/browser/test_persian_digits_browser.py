"""Numbers typed with Persian digits and separators reach the server in a real browser.

A ``<input type="number">`` in Chromium drops ``۱۲۰٬۰۰۰`` before the form is sent, so these tests
type into the fields key by key, as a seller on a Persian keyboard does, and read the saved
values back from the pages the server renders afterwards.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

SELLER = "seller1@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٬", "0123456789,")


def log_in(visit, email: str = SELLER) -> None:  # type: ignore[no-untyped-def]
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def as_int(shown: str) -> int:
    """A number as a page shows it (Persian digits, maybe grouped) as an int."""
    return int(str(shown).translate(ASCII).replace(",", ""))


def test_new_listing_keeps_a_price_and_stock_typed_in_persian_digits(visit):
    page = visit.page
    log_in(visit)
    visit.go("/seller/listings/new")
    assert visit.js("document.documentElement.lang") == "fa"
    for name in ("price_toman", "stock"):
        kind = visit.js(f"document.querySelector('input[name={name}]').type")
        assert kind == "text", f"{name} is an <input type={kind}>"
        assert visit.js(f"document.querySelector('input[name={name}]').inputMode") == "numeric"
    page.fill("input[name=title]", "سبد حصیری مرواریدی")
    page.fill("input[name=price_toman]", "")
    page.type("input[name=price_toman]", "۱۲۰٬۰۰۰")
    page.fill("input[name=stock]", "")
    page.type("input[name=stock]", "۳")
    assert visit.js("document.querySelector('input[name=price_toman]').value") == "۱۲۰٬۰۰۰"
    with page.expect_navigation():
        page.click("main form.listing-form button[data-save-listing]")
    # Saved: the server redirected to the new listing's edit page, which reads it back.
    assert re.search(r"/seller/listings/\d+/edit$", page.url), page.url
    price = visit.js("document.querySelector('input[name=price_toman]').value")
    stock = visit.js("document.querySelector('input[name=stock]').value")
    assert (as_int(price), as_int(stock)) == (120_000, 3)
    assert "قیمت" not in visit.js("document.querySelector('.notice-info')?.innerText || ''")
    # The form shows the saved numbers in the page's digits.
    assert not re.search(r"[0-9]", price + stock), (price, stock)


def test_quick_edit_keeps_a_price_and_stock_typed_in_persian_digits(visit):
    page = visit.page
    log_in(visit)
    visit.go("/seller/listings")
    form = page.locator("main form.quick").first
    action = form.get_attribute("action") or ""
    product_id = int(re.search(r"/listings/(\d+)/quick", action).group(1))  # type: ignore[union-attr]
    form.locator("input[name=price_toman]").fill("")
    form.locator("input[name=price_toman]").type("۸۵٬۵۰۰")
    form.locator("input[name=stock]").fill("")
    form.locator("input[name=stock]").type("۱۲")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert visit.js("document.querySelectorAll('.flash-error').length") == 0
    price = visit.js(f"document.querySelector('#price-{product_id}').value")
    stock = visit.js(f"document.querySelector('#stock-{product_id}').value")
    assert (as_int(price), as_int(stock)) == (85_500, 12)
    assert not re.search(r"[0-9]", price + stock), (price, stock)
