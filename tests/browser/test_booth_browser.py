"""Booth mode in a real Chromium on a phone: a seller records two sales while the connection is
down, sees them waiting, and once it is back sees them sent; the server has exactly two offline
sales with the phone's keys, and sending them all again (a reload, a lost answer) adds none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from tests.browser.conftest import QuietHandler, Visit, serving
from tests.browser.test_listing_photos_browser import until
from tests.conftest import make_app

pytestmark = pytest.mark.browser

SELLER = "seller2@bazarche.example"
PASSWORD = "bazarche-demo-1234"  # noqa: S105  (the demo accounts' password)
APPS: list = []  # the live server's app, for checks of the database behind the pages
SERVED: list[str] = []  # the paths the live server answered, in order


class CountingHandler(QuietHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        SERVED.append(self.path)


QUEUE = "JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('bazarche-booth:'))) || '[]')"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo market (as the shared live server, its app kept for the checks)."""
    from app.demo.seed import seed_demo
    from app.shop import cache

    cache.clear()
    tmp_path: Path = tmp_path_factory.mktemp("booth-live")
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed_demo(None, sellers=2, products_per_seller=4)
        db.session.remove()
    APPS[:] = [app]
    with serving(app, "booth-live", CountingHandler) as url:
        yield url


def offline_sales() -> list[tuple[int, str | None, str | None]]:
    """(id, client key, payment method) of every offline sale on the server."""
    from app.program.sales_models import OfflineSale

    with APPS[0].app_context():
        rows = db.session.execute(
            sa.select(OfflineSale.id, OfflineSale.client_key, OfflineSale.payment_method).order_by(
                OfflineSale.id
            )
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def log_in(visit: Visit) -> None:
    page = visit.page
    visit.go("/auth/login")
    page.fill("input[name=email]", SELLER)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("main form button[type=submit]")  # type: ignore[attr-defined]


def test_booth_entries_made_offline_arrive_once(phone390):
    visit = phone390
    page = visit.page
    log_in(visit)
    visit.go("/seller/booth")
    assert visit.js("document.dir") == "rtl"
    until(visit, "!document.querySelector('[data-booth]').hidden")
    assert visit.js("document.querySelectorAll('.booth-product').length") >= 2
    # Big tap targets: every tile at least 44 CSS px each way.
    assert visit.js(
        "[...document.querySelectorAll('.booth-product')].every(b => {"
        " const r = b.getBoundingClientRect(); return r.width >= 44 && r.height >= 44; })"
    )
    assert visit.js("document.documentElement.scrollWidth <= window.innerWidth")
    page.fill("#booth-place", "نمایشگاه صنایع دستی تبریز")  # type: ignore[attr-defined]

    page.context.set_offline(True)  # type: ignore[attr-defined]
    # First sale: two of the first product, cash, its price typed in Persian digits.
    page.click(".booth-product >> nth=0")  # type: ignore[attr-defined]
    page.click(".booth-line [aria-label='یکی بیشتر']")  # type: ignore[attr-defined]
    assert page.inner_text(".booth-quantity output") == "۲"  # type: ignore[attr-defined]
    page.fill(".booth-price input", "۱۵۰٬۰۰۰")  # type: ignore[attr-defined]
    assert "۳۰۰٬۰۰۰" in page.inner_text("[data-booth-sale-total]")  # type: ignore[attr-defined]
    page.click("[data-booth-record]")  # type: ignore[attr-defined]
    # Second sale: one of the second product, card.
    page.click(".booth-product >> nth=1")  # type: ignore[attr-defined]
    page.check("input[name=booth-payment][value=card]")  # type: ignore[attr-defined]
    page.click("[data-booth-record]")  # type: ignore[attr-defined]

    until(visit, "document.querySelectorAll('.booth-entry[data-status=waiting]').length === 2")
    assert visit.js("document.querySelector('[data-booth-waiting]').dataset.boothWaiting") == "2"
    assert "۲" in page.inner_text("[data-booth-summary]")  # type: ignore[attr-defined]
    assert "منتظر اتصال" in page.inner_text(".booth-entry")  # type: ignore[attr-defined]
    assert offline_sales() == []

    page.context.set_offline(False)  # type: ignore[attr-defined]
    until(visit, "document.querySelectorAll('.booth-entry[data-status=sent]').length === 2", 25)
    keys = visit.js(f"{QUEUE}.map(e => e.client_key)")
    recorded = offline_sales()
    assert sorted(key for _id, key, _m in recorded) == sorted(keys)  # type: ignore[arg-type]
    assert sorted(method for _id, _k, method in recorded) == ["card", "cash"]
    amounts = visit.js(f"{QUEUE}.map(e => e.amount)")
    assert 3_000_000 in amounts  # type: ignore[operator]  (۳۰۰٬۰۰۰ toman in rials)
    assert visit.js(
        "Number(document.querySelector('[data-booth-day-total]').dataset.boothDayTotal)"
    ) == sum(
        amounts  # type: ignore[arg-type]
    )

    # The page opened again shows them sent and sends nothing.
    visit.go("/seller/booth")
    until(visit, "document.querySelectorAll('.booth-entry[data-status=sent]').length === 2")
    assert offline_sales() == recorded
    # Every entry sent again, as if the answers had been lost: still the same two sales.
    visit.js(
        "(() => { const k = Object.keys(localStorage).find(k => k.startsWith('bazarche-booth:'));"
        " const q = JSON.parse(localStorage.getItem(k));"
        " q.forEach(e => { e.status = 'waiting'; });"
        " localStorage.setItem(k, JSON.stringify(q)); })()"
    )
    visit.go("/seller/booth")
    until(visit, "document.querySelectorAll('.booth-entry[data-status=sent]').length === 2")
    assert offline_sales() == recorded
    assert visit.js("document.querySelector('[data-booth-waiting]').dataset.boothWaiting") == "0"
    # The place is remembered on the phone.
    assert page.input_value("#booth-place") == "نمایشگاه صنایع دستی تبریز"  # type: ignore[attr-defined]

    # The page itself opens again without a connection (its service worker kept a copy).
    until(visit, "navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)  # type: ignore[attr-defined]
    served = len(SERVED)
    assert "/seller/booth/entries" in SERVED and "/seller/booth/worker.js" in SERVED
    response = page.reload()  # type: ignore[attr-defined]
    assert response is not None and response.from_service_worker
    until(
        visit,
        "document.querySelector('[data-booth]') && !document.querySelector('[data-booth]').hidden",
    )
    assert visit.js("document.querySelectorAll('.booth-entry[data-status=sent]').length") == 2
    page.click(".booth-product >> nth=0")  # type: ignore[attr-defined]
    page.click("[data-booth-record]")  # type: ignore[attr-defined]
    until(visit, "document.querySelectorAll('.booth-entry[data-status=waiting]').length === 1")
    assert SERVED[served:] == []  # the page, its files and the entry: nothing reached the server
    page.context.set_offline(False)  # type: ignore[attr-defined]
    until(visit, "document.querySelectorAll('.booth-entry[data-status=sent]').length === 3", 25)
    assert len(offline_sales()) == 3
