"""Persian typography: the bundled font is served from the site (right type, long cache) and named
by the stylesheet; no middle dot separates items (beside Persian digits it reads like «۰»);
numbers in right-to-left text are isolated runs that keep the line's alignment."""

from __future__ import annotations

import re
from pathlib import Path

from app.orders import cart as carts
from app.payments import checkout as payment_checkout
from app.payments.models import Provider
from tests import factories
from tests.test_order_flow import ADDRESS

ROOT = Path(__file__).resolve().parents[1]
CSS = ROOT / "static" / "css" / "bazarche.css"
FONTS = ROOT / "static" / "fonts"


def test_the_font_is_bundled_with_its_licence():
    files = sorted(path.name for path in FONTS.glob("*.woff2"))
    assert files, "a WOFF2 file under static/fonts"
    for name in files:
        assert (FONTS / name).read_bytes()[:4] == b"wOF2"
    assert "SIL OPEN FONT LICENSE" in (FONTS / "OFL.txt").read_text(encoding="utf-8").upper()


def test_the_stylesheet_names_the_bundled_font_and_nothing_outside():
    css = CSS.read_text(encoding="utf-8")
    face = re.search(r"@font-face\s*{([^}]*)}", css)
    assert face, "an @font-face rule"
    body = face.group(1)
    assert re.search(r"font-family:\s*Vazirmatn", body)
    assert "font-display: swap" in body
    urls = re.findall(r"url\(\"?([^\")]+)\"?\)", body)
    assert urls and all(url.startswith("../fonts/") for url in urls)
    for url in urls:
        assert (CSS.parent / url).resolve().is_file()
    assert re.search(r"font-family:\s*Vazirmatn,", css), "the page's text uses it first"
    assert "http://" not in css and "https://" not in css and "@import" not in css


def test_the_font_is_served_with_its_type_and_a_long_cache(app, client):  # type: ignore[no-untyped-def]
    name = next(FONTS.glob("*.woff2")).name
    response = client.get(f"/static/fonts/{name}")
    assert response.status_code == 200
    assert response.mimetype == "font/woff2"
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    response.close()
    # ...also to a logged-in visitor (static files are never made private).
    factories.login(client, factories.user(email="font@example.com").email)
    response = client.get(f"/static/fonts/{name}")
    assert "no-store" not in response.headers["Cache-Control"]
    response.close()
    # Other static files keep the framework's default.
    response = client.get("/static/css/bazarche.css")
    assert "immutable" not in response.headers.get("Cache-Control", "")
    response.close()


def test_no_middle_dot_separates_items_in_templates():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "·" in line
    ]
    assert not offenders, offenders
    assert "·" not in (ROOT / "app" / "web" / "cards.py").read_text(encoding="utf-8")


def test_product_card_separator_is_a_muted_bar_screen_readers_skip(app, client):  # type: ignore[no-untyped-def]
    factories.product(title="گلدان", stock=2)
    html = client.get("/").get_data(as_text=True)
    assert '<span class="card-meta">' in html
    assert '<span class="sep" aria-hidden="true">|</span>' in html


def test_order_page_numbers_are_isolated_runs_in_a_right_to_left_line(app, client):  # type: ignore[no-untyped-def]
    customer = factories.user(email="bidi@example.com")
    product = factories.product(stock=3)
    carts.add(customer, None, product.id, 1)
    payment = payment_checkout.place_checkout(
        customer,
        ADDRESS,
        Provider.CASH,
        "test-token-00000bd1",
        currency="IRR",
        expiry_minutes=60,
        max_open_cash_orders=100,
    ).payment
    order_id = payment.orders[0].id
    factories.login(client, customer.email)
    html = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert '<dd><bdi dir="ltr">۰۹۱۲۱۲۳۴۵۶۷</bdi></dd>' in html
    assert '<dd><bdi dir="ltr">۹۸۱۶۷۴۵۶۳۹</bdi></dd>' in html
    assert '<dd dir="ltr">' not in html  # a whole left-to-right cell sits at the far left
