"""Fair-price hints: summary rows of the asking prices per category (in a county and in the whole
market) on a hand-built market whose quartiles are known, and the hint the listing form shows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import ProductStatus, SellerStatus
from app.core.extensions import db
from app.program import price_hints
from app.program.models import PriceHint
from tests import factories
from tests.helpers import client_for


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    pots = factories.category("pots")
    mats = factories.category("mats")
    here, there = factories.county("zahedan"), factories.county("chabahar")
    a = factories.seller(county_row=here)
    b = factories.seller(county_row=here)
    c = factories.seller(county_row=there)
    away = factories.seller(county_row=here, status=SellerStatus.SUSPENDED)
    for shop, price in [(a, 1000), (a, 2000), (b, 3000), (b, 4000), (c, 10_000), (c, 20_000)]:
        factories.product(shop, category_row=pots, price_amount=price)
    factories.product(a, category_row=pots, price_amount=99_000, status=ProductStatus.DRAFT)
    factories.product(away, category_row=pots, price_amount=1)
    factories.product(a, category_row=mats, price_amount=5000)
    return {"pots": pots, "mats": mats, "here": here, "there": there, "a": a, "c": c}


def test_rows_hold_the_quartiles_of_published_listings(market) -> None:  # type: ignore[no-untyped-def]
    assert price_hints.refresh() == 2  # pots here and market-wide; too few elsewhere
    found = price_hints.hints(market["pots"].id, market["here"].id)
    # Here: 1000, 2000, 3000, 4000 (the draft and the suspended shop's listing left out).
    assert found["county"] == price_hints.Hint(4, 1000, 1750, 2500, 3250, 4000)
    # Market: 1000 ... 20000; the quartile between neighbours: 2000 + 0.25 × 1000 and so on.
    assert found["market"] == price_hints.Hint(6, 1000, 2250, 3500, 8500, 20_000)
    there = price_hints.hints(market["pots"].id, market["there"].id)
    assert there["county"] is None  # two listings: too few to show
    assert price_hints.hints(market["mats"].id, market["here"].id) == {
        "county": None, "market": None
    }  # fmt: skip
    # A rebuild replaces the rows rather than adding to them.
    assert price_hints.refresh() == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PriceHint)) == 2


def test_where_a_price_falls() -> None:
    hint = price_hints.summarise([1000, 2000, 3000, 4000])
    assert [hint.position(p) for p in (999, 1500, 2500, 3500, 4001)] == [
        "below", "low", "typical", "high", "above"
    ]  # fmt: skip


def test_the_form_and_the_hint_view(app, market) -> None:  # type: ignore[no-untyped-def]
    price_hints.refresh()
    owner = db.session.get(factories.User, market["a"].user_id)
    seller = client_for(app, owner)
    pots = market["pots"].id
    answer = seller.get(f"/seller/price-hint?category={pots}&price=۲۰۰")  # 200 toman, 2000 rials
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert html.count("price-hint-typical") == 1  # usual here; in the market it is "low"
    assert "price-hint-low" in html
    # Nothing to compare, a price being typed, hostile values: a hint or nothing, never a 500.
    assert "price-hint-line muted" in seller.get(
        f"/seller/price-hint?category={market['mats'].id}"
    ).get_data(as_text=True)
    for query in ("category=999999", f"category={pots}&price=abc", f"category={pots}&price=-5",
                  "category=", f"category={pots}&price=" + "9" * 40):  # fmt: skip
        assert seller.get(f"/seller/price-hint?{query}").status_code == 200, query
    assert seller.get("/seller/price-hint?category=abc").status_code == 400
    # The edit form shows the hint of the listing's category when it opens.
    product = factories.product(market["a"], category_row=market["pots"], price_amount=2500)
    form = seller.get(f"/seller/listings/{product.id}/edit").get_data(as_text=True)
    assert "data-price-hint-url" in form and "price-hint-typical" in form


def test_form_values_out_of_range_show_no_hint(app) -> None:  # type: ignore[no-untyped-def]
    shown = price_hints.shown(10**30, 1, 10**30)
    assert shown["hint_category"] is None and shown["hint_county"] is None
    assert price_hints.shown("3", 1, "12")["hint_category"] is None  # not read from a form


def test_staff_helping_a_seller_see_the_hint_of_the_sellers_county(app, market) -> None:  # type: ignore[no-untyped-def]
    from app.catalog import scope as scopes

    price_hints.refresh()
    province = factories.user(factories.Role.STAFF, email="hint-staff@example.com")
    officer = factories.user(factories.Role.STAFF, email="hint-officer@example.com")
    scopes.set_scope(officer, county_slug="chabahar")  # not seller a's county
    url = f"/admin/sellers/{market['a'].id}/price-hint?category={market['pots'].id}&price=۲۰۰"
    staff = client_for(app, province)
    staff.set_cookie("locale", "en")
    html = staff.get(url).get_data(as_text=True)
    assert "price-hint-typical" in html and "In the seller’s county:" in html
    assert client_for(app, officer).get(url).status_code == 404
