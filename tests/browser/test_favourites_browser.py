"""The hearts in a real browser: a guest presses one on a shared page, the press is kept (with
the form token from /favourites/ids) and shown pressed on the next page and on /favourites."""

from __future__ import annotations

import pytest

from tests.browser.test_listing_photos_browser import until

pytestmark = pytest.mark.browser


def test_a_guest_presses_a_heart_and_finds_it_again(visit):
    visit.go("/")
    visit.page.wait_for_load_state("networkidle")
    assert visit.js("document.querySelectorAll('[data-favourite][aria-pressed=true]').length") == 0
    product_id = visit.js("document.querySelector('main [data-favourite]').dataset.favourite")
    heart = f"main [data-favourite='{product_id}']"
    visit.page.click(heart)
    until(visit, f"document.querySelector(\"{heart}\").getAttribute('aria-pressed') === 'true'")
    assert visit.js("location.pathname") == "/"  # pressed in place, no page change
    visit.go("/")
    until(visit, f"document.querySelector(\"{heart}\").getAttribute('aria-pressed') === 'true'")
    visit.go("/favourites")
    visit.page.wait_for_load_state("networkidle")
    assert visit.js(f'document.querySelectorAll("{heart}").length') == 1
    visit.page.click(heart)  # pressed again: removed
    until(visit, f"document.querySelector(\"{heart}\").getAttribute('aria-pressed') === 'false'")
