"""The storefront in a real browser: direction, keyboard, language, phone width, accounts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def first_href(visit, prefix: str) -> str:  # type: ignore[no-untyped-def]
    href = visit.js(
        f"[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
        f".find(h => h && h.startsWith('{prefix}'))"
    )
    assert href, f"the page links to some {prefix}…"
    return str(href)


def test_home_page_is_persian_right_to_left(visit):
    visit.go("/")
    assert visit.js("document.dir") == "rtl"
    assert visit.js("document.documentElement.lang") == "fa"
    assert visit.js("getComputedStyle(document.body).direction") == "rtl"
    assert visit.js("document.querySelectorAll('main .card').length") > 0
    # Persian text is on the page, and the stylesheet loaded (a skip link hidden off screen).
    assert re.search(r"[\u0600-\u06FF]", visit.js("document.querySelector('main').innerText"))
    assert visit.js("getComputedStyle(document.querySelector('.skip-link')).position") == "absolute"


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(visit):
    visit.go("/")
    visit.page.keyboard.press("Tab")
    assert visit.js("document.activeElement.classList.contains('skip-link')")
    assert visit.js("document.activeElement.getAttribute('href')") == "#main"
    # Once focused, the link is on screen.
    assert visit.js("document.activeElement.getBoundingClientRect().top") >= 0
    visit.page.keyboard.press("Enter")
    visit.page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
    assert visit.js("location.hash") == "#main"


def switch_language(visit, code: str) -> None:  # type: ignore[no-untyped-def]
    """Click the language link and wait for the page it leads back to (the check must not run
    while the old document is being replaced: it has no root element then)."""
    with visit.page.expect_navigation(wait_until="load"):
        visit.page.click(f"a[hreflang={code}]")
    visit.page.wait_for_function(
        f"document.documentElement !== null && document.documentElement.lang === '{code}'"
    )


def test_language_switch_to_english_and_back(visit):
    visit.go("/")
    switch_language(visit, "en")
    assert visit.js("document.dir") == "ltr"
    assert visit.js("getComputedStyle(document.body).direction") == "ltr"
    header = visit.js("document.querySelector('header').innerText")
    assert "Log in" in header and "Register" in header
    assert visit.page.url.rstrip("/") == visit.base_url  # back on the same page

    switch_language(visit, "fa")
    assert visit.js("document.dir") == "rtl"
    assert "Log in" not in visit.js("document.querySelector('header').innerText")


def test_language_switch_keeps_the_page(visit):
    visit.go("/")
    product = first_href(visit, "/p/")
    visit.go(product)
    switch_language(visit, "en")
    assert visit.page.url == visit.base_url + product
    assert "toman" in visit.js("document.querySelector('.price').innerText")


def test_no_horizontal_scroll_at_phone_width(phone):
    phone.go("/")
    pages = ["/", first_href(phone, "/c/"), first_href(phone, "/p/"), first_href(phone, "/county/")]
    for path in pages:
        for locale in ("fa", "en"):
            phone.go(f"/lang/{locale}?next={path}")
            width = phone.js("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} ({locale}) is {width}px wide at a 375px viewport"


def test_register_log_out_and_log_in_through_the_forms(visit):
    email = "browser-user@example.com"
    password = "a long enough passphrase"
    page = visit.page

    visit.go("/auth/register")
    page.fill("input[name=name]", "نگار بلوچ")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.fill("input[name=confirm]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/") == visit.base_url
    assert "نگار بلوچ" in visit.js("document.querySelector('header').innerText")

    with page.expect_navigation():
        page.click("header form[action$='/auth/logout'] button")
    assert "نگار بلوچ" not in visit.js("document.querySelector('header').innerText")

    # A wrong password: the form comes back with an error, still logged out.
    visit.go("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert visit.js("document.querySelectorAll('main .error').length") == 1

    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "نگار بلوچ" in visit.js("document.querySelector('header').innerText")

    with page.expect_navigation():
        page.click("header form[action$='/auth/logout'] button")
    assert "نگار بلوچ" not in visit.js("document.querySelector('header').innerText")


def test_login_returns_to_the_page_it_was_asked_from(visit):
    visit.go("/")
    product = first_href(visit, "/p/")
    visit.go(product)
    page = visit.page
    with page.expect_navigation():
        page.click("header a[href^='/auth/login']")
    page.fill("input[name=email]", "customer@bazarche.example")
    page.fill("input[name=password]", "bazarche-demo-1234")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url == visit.base_url + product


def test_screenshot_for_the_readme(visit):
    if os.environ.get("SAVE_SCREENSHOT") != "1":
        pytest.skip("set SAVE_SCREENSHOT=1 to save docs/screenshot-storefront.png")
    visit.page.set_viewport_size({"width": 1280, "height": 900})
    visit.go("/")
    visit.page.wait_for_load_state("networkidle")
    target = ROOT / "docs" / "screenshot-storefront.png"
    target.parent.mkdir(exist_ok=True)
    visit.page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000
