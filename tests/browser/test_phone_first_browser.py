"""Every public page kind at 390 x 844 (a common phone): results come first, nothing is too small
to tap, nothing scrolls sideways.

A tap target is measured as the user can tap it: a check box or radio button by its label (the
label is part of its target), anything else by its own box. Exempt, per WCAG 2.5.8's inline
exception: a link inside a sentence (its parent holds text of its own around it), whose size is set
by the line of text it sits in. The allow-list below names the few other things that cannot be.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit

pytestmark = pytest.mark.browser

CUSTOMER = "customer@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
WIDTH, HEIGHT = 390, 844
MIN_TARGET = 44

# Selectors of elements allowed to be smaller than 44 x 44 CSS px, with the reason.
ALLOWED_SMALL: dict[str, str] = {}

# The page's visible interactive elements smaller than MIN_TARGET, as "tag.class 'text' WxH".
SMALL_TARGETS = """
(([minimum, allowed]) => {
  const visible = (r, el) => r.width > 2 && r.height > 2 && r.bottom > 0 &&
    getComputedStyle(el).visibility !== 'hidden';
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const parent = el.parentElement;
    const own = [...parent.childNodes]
      .filter((n) => n !== el && n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join('').replace(/[\\s()·،|:؟?!.\\u200c]/g, '');
    return own.length > 0;
  };
  const found = [];
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(selector)) {
    if (allowed.some((s) => el.matches(s))) continue;
    let rect = el.getBoundingClientRect();
    if (!visible(rect, el) || el.closest('.visually-hidden')) continue;
    if (el.classList.contains('skip-link')) continue;  // off screen until focused; measured below
    if (inSentence(el)) continue;
    if (el.type === 'checkbox' || el.type === 'radio') {
      for (const label of el.labels || []) {
        const r = label.getBoundingClientRect();
        if (r.width * r.height > rect.width * rect.height) rect = r;
      }
    }
    if (rect.width + 0.5 < minimum || rect.height + 0.5 < minimum) {
      const text = (el.innerText || el.value || el.name || '').trim().slice(0, 30);
      found.push(`${el.tagName.toLowerCase()}.${el.className} '${text}' ` +
                 `${Math.round(rect.width)}x${Math.round(rect.height)}`);
    }
  }
  return found;
})
"""


def first_href(visit: Visit, prefix: str) -> str:
    href = visit.js(
        f"[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
        f".find(h => h && h.startsWith('{prefix}'))"
    )
    assert href, f"the page links to some {prefix}…"
    return str(href)


def check_page(visit: Visit, path: str) -> None:
    """The page at ``path`` (already loaded) has no small target and no sideways scroll."""
    small = visit.page.evaluate(SMALL_TARGETS, [MIN_TARGET, list(ALLOWED_SMALL)])  # type: ignore[attr-defined]
    assert not small, f"{path}: targets under {MIN_TARGET}px: {small}"
    scroll_width = visit.js("document.documentElement.scrollWidth")
    assert int(str(scroll_width)) <= WIDTH, f"{path}: scrolls sideways ({scroll_width}px)"
    # The skip link, once focused, is as large as the rest.
    height = visit.js("document.querySelector('.skip-link').getBoundingClientRect().height")
    assert float(str(height)) >= MIN_TARGET - 0.5


def first_card_on_first_screen(visit: Visit, path: str) -> None:
    top = visit.js("document.querySelector('main .card').getBoundingClientRect().top")
    assert float(str(top)) < HEIGHT - 100, f"{path}: the first product starts at {top}px"


def log_in(visit: Visit) -> None:
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", CUSTOMER)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("main form button[type=submit]")  # type: ignore[attr-defined]


def test_every_public_page_kind_fits_a_phone(phone390):
    visit = phone390
    visit.go("/")
    check_page(visit, "/")
    category = first_href(visit, "/c/")
    product = first_href(visit, "/p/")
    county = (
        first_href(visit, "/county/")
        if visit.js("!!document.querySelector(\"main a[href^='/county/']\")")
        else None
    )

    visit.go(category)
    check_page(visit, category)
    first_card_on_first_screen(visit, category)

    visit.go(product)
    check_page(visit, product)
    shop = first_href(visit, "/s/")
    visit.go(shop)
    check_page(visit, shop)
    if county:
        visit.go(county)
        check_page(visit, county)

    for path in ["/search?q=", "/search?q=&in_stock=1&min_price=1&sort=price_asc"]:
        visit.go(path)
        first_card_on_first_screen(visit, path)
        check_page(visit, path)
        # The filters sit behind one button; opened, they are as easy to tap.
        assert visit.js("document.querySelector('details.filter-panel').open") is False
        visit.page.click("details.filter-panel > summary")  # type: ignore[attr-defined]
        assert visit.js("document.querySelector('details.filter-panel').open") is True
        check_page(visit, path + " (filters open)")
    category_filter = first_href(visit, "/search?")
    visit.go(category_filter)
    check_page(visit, category_filter)

    for path in [
        "/auth/login",
        "/auth/register",
        "/auth/mobile",
        "/cart",
        "/favourites",
        "/about",
        "/returns",
        "/programme",
        f"{product}/reviews",
    ]:
        visit.go(path)
        check_page(visit, path)


def test_cart_and_checkout_fit_a_phone_when_signed_in(phone390):
    visit = phone390
    log_in(visit)
    visit.go("/")
    check_page(visit, "/ (signed in)")
    visit.go(first_href(visit, "/p/"))
    with visit.page.expect_navigation():  # type: ignore[attr-defined]
        visit.page.click("form.add-to-cart button[type=submit]")  # type: ignore[attr-defined]
    visit.go("/cart")
    check_page(visit, "/cart")
    visit.go("/checkout")
    check_page(visit, "/checkout")
    visit.go("/orders")
    check_page(visit, "/orders")
    for path in ["/notifications", "/following", "/auth/account"]:
        visit.go(path)
        check_page(visit, path)


def test_filters_are_open_on_a_wide_screen(visit):
    visit.go("/search?q=")
    assert visit.js("getComputedStyle(document.querySelector('#min_price')).display") != "none"
    box = visit.js("document.querySelector('#min_price').getBoundingClientRect().height")
    assert float(str(box)) > 0
    # ...and the results sit beside them, not below.
    card = visit.js("document.querySelector('main .card').getBoundingClientRect().top")
    assert float(str(card)) < 900


def test_persian_font_is_loaded_from_the_site(visit):
    visit.go("/")
    visit.page.wait_for_function("document.fonts.status === 'loaded'")  # type: ignore[attr-defined]
    assert visit.js("document.fonts.check('16px Vazirmatn', 'بازارچه ۱۲۳')") is True
    fonts = [url for url in visit.requests if url.endswith(".woff2")]
    assert fonts and all(url.startswith(visit.base_url + "/static/fonts/") for url in fonts)


def test_the_english_pages_fit_a_phone_too(phone390):
    visit = phone390
    visit.go("/lang/en?next=/")
    for path in ["/", "/search?q=", "/auth/login", "/auth/register", "/cart"]:
        visit.go(path)
        check_page(visit, path + " (en)")
    visit.go("/search?q=")
    first_card_on_first_screen(visit, "/search?q= (en)")
