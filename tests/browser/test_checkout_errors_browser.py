"""A checkout sent back with mistakes moves focus to the error summary at the top of the page, in
a real browser under the site's script policy (no inline script)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CUSTOMER = "customer@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)


def test_the_checkout_error_summary_takes_focus_and_is_in_view(phone):
    page = phone.page
    phone.go("/auth/login")
    page.fill("input[name=email]", CUSTOMER)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    phone.go("/")
    product = phone.js("document.querySelector(\"main a[href^='/p/']\").getAttribute('href')")
    phone.go(str(product))
    with page.expect_navigation():
        page.click("form.add-to-cart button[type=submit]")
    phone.go("/checkout")
    page.fill("input[name=mobile]", "12")
    page.fill("input[name=postal_code]", "")
    with page.expect_navigation():
        page.click("form.checkout-form button[data-place-order]")

    assert phone.js("document.activeElement.id") == "error-summary"
    top = phone.js("document.getElementById('error-summary').getBoundingClientRect().top")
    assert -2 < float(str(top)) < 740  # on screen, on a phone
    # Its links take the focus to the field they name.
    page.click("#error-summary a[href='#mobile']")
    assert phone.js("document.activeElement.name") == "mobile"
